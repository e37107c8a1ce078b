"""What the worker's threads share: counters, the max-messages budget, and why the run ends."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqsidem.consumer import decisions as d
from sqsidem.consumer.batch import RecordOutcome
from sqsidem.worker.model import WorkerStats

# How long a waiting thread sleeps before it looks at the stop events again.
RECHECK_S = 0.2

_COUNTER_OF = {
    d.COMPLETED: "processed",
    d.LOST_OWNERSHIP: "processed",
    d.DUPLICATE: "duplicates",
    d.BUSY: "busy",
    d.FAILED: "failed",
}


@dataclass
class RunState:
    """State shared by the worker threads; every field is guarded by ``changed``."""

    started: float
    last_activity: float
    changed: threading.Condition = field(default_factory=threading.Condition)
    counts: dict[str, int] = field(default_factory=dict)
    reserved: int = 0  # asked for by receives still in progress
    received: int = 0
    in_flight: int = 0  # batches received and not ended
    stop_reason: str | None = None
    error: BaseException | None = None

    def add(self, name: str, amount: int = 1) -> None:
        with self.changed:
            self.counts[name] = self.counts.get(name, 0) + amount

    def count_outcomes(self, outcomes: Iterable[RecordOutcome]) -> None:
        """The counters of one ended batch."""
        for outcome in outcomes:
            self.add(_COUNTER_OF.get(outcome.decision, "failed"))
            if not outcome.acked and outcome.decision != d.FAILED:
                self.add("failed")
            if outcome.decision == d.LOST_OWNERSHIP:
                self.add("lost_ownership")
        self.add("batches")

    def finish(self, reason: str) -> None:
        """The first reason given is the run's."""
        with self.changed:
            if self.stop_reason is None:
                self.stop_reason = reason
            self.changed.notify_all()

    def fail(self, exc: BaseException) -> None:
        """The first error is kept, to be raised in the calling thread."""
        with self.changed:
            if self.error is None:
                self.error = exc
            self.changed.notify_all()

    def reserve(self, batch_size: int, limit: int | None, stopping: Callable[[], bool]) -> int:
        """How many messages a poller may ask for; 0 ends the poller.

        ``limit`` (max messages) is shared: messages asked for by receives still in progress
        are reserved, so the run never receives more than the limit. A poller left nothing
        waits until those receives are answered, because they may come back short; the run
        ends when the messages actually *received* reach the limit (in :meth:`settle`).
        """
        with self.changed:
            while not stopping():
                if limit is None:
                    return batch_size
                left = limit - self.received - self.reserved
                if left > 0:
                    wanted = min(batch_size, left)
                    self.reserved += wanted
                    return wanted
                if self.received >= limit:
                    return 0
                self.changed.wait(RECHECK_S)
            return 0

    def settle(self, reserved: int, got: int, limit: int | None, now: float) -> bool:
        """A receive was answered (``got`` messages, a batch in flight if any); True when
        the run has received its limit."""
        with self.changed:
            self.received += got
            if got:
                self.last_activity = now
                self.in_flight += 1
            if limit is None:
                return False
            self.reserved -= reserved
            self.changed.notify_all()
            return self.received >= limit

    def snapshot(self, now: float, stopped: bool) -> WorkerStats:
        with self.changed:
            c = dict(self.counts)
            reason = self.stop_reason
            received = self.received
        if reason is None and stopped:
            reason = "stopped"
        return WorkerStats(
            received=received,
            processed=c.get("processed", 0),
            duplicates=c.get("duplicates", 0),
            failed=c.get("failed", 0),
            busy=c.get("busy", 0),
            lost_ownership=c.get("lost_ownership", 0),
            delete_failures=c.get("delete_failures", 0),
            heartbeats=c.get("heartbeats", 0),
            batches=c.get("batches", 0),
            delete_calls=c.get("delete_calls", 0),
            elapsed_s=max(0.0, now - self.started),
            stop_reason=reason,
            released=c.get("released", 0),
            polls_left=c.get("polls_left", 0),
        )

    def batch_ended(self, now: float) -> None:
        with self.changed:
            self.in_flight -= 1
            self.last_activity = now
            self.changed.notify_all()

    def idle_s(self, clock: Callable[[], float], *, pause_s: float) -> float | None:
        """Seconds without activity; None while batches run (they are activity).

        With batches running, first waits up to ``pause_s`` (less if a batch ends), so a
        poller whose zero-wait receive returns at once does not spin.
        """
        with self.changed:
            if self.in_flight > 0:
                if pause_s > 0:
                    self.changed.wait(pause_s)
                return None
            return clock() - self.last_activity
