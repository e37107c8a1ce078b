"""A snapshot of `watch`: plain data, one part per panel, each part either its figures or
:class:`Unavailable` (the "n/a: <why>" of that panel alone)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqsidem.jsondata import fields

# The decisions the flow panel counts (DESIGN 6.5), in the order it shows them.
FLOW_KINDS = ("completed", "duplicate", "busy", "failed", "taken-over", "lost-ownership")


@dataclass(frozen=True)
class Unavailable:
    """A panel (or part of one) whose source could not be read this time, and why."""

    why: str

    def as_dict(self) -> dict[str, Any]:
        return {"na": self.why}


@dataclass(frozen=True)
class QueueFigures:
    visible: int
    in_flight: int
    delayed: int
    history: tuple[int, ...]  # visible + in flight, one value per refresh, oldest first
    oldest_age_s: float | Unavailable

    def as_dict(self) -> dict[str, Any]:
        age = self.oldest_age_s
        return {
            "na": None,
            **fields(self, "visible", "in_flight", "delayed"),
            "oldest_age_s": None if isinstance(age, Unavailable) else age,
            "oldest_age_na": age.why if isinstance(age, Unavailable) else None,
            "history": list(self.history),
        }


@dataclass(frozen=True)
class FlowFigures:
    window_s: float
    counts: dict[str, int]

    def per_second(self, kind: str) -> float:
        return self.counts.get(kind, 0) / self.window_s if self.window_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "na": None,
            "window_s": self.window_s,
            "counts": {k: self.counts.get(k, 0) for k in FLOW_KINDS},
            "per_second": {k: round(self.per_second(k), 3) for k in FLOW_KINDS},
        }


@dataclass(frozen=True)
class TriggerFigures:
    state: str | None  # None: no trigger on the queue
    last_processing_result: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "na": None,
            "state": self.state,
            "last_processing_result": self.last_processing_result,
        }


@dataclass(frozen=True)
class DlqFigures:
    depth: int
    change_since_start: int

    def as_dict(self) -> dict[str, Any]:
        return {"na": None, "depth": self.depth, "change_since_start": self.change_since_start}


@dataclass(frozen=True)
class AlarmFigures:
    state: str

    def as_dict(self) -> dict[str, Any]:
        return {"na": None, "state": self.state}


@dataclass(frozen=True)
class LockAge:
    transaction_id: str
    age_s: float

    def as_dict(self) -> dict[str, Any]:
        return {"transaction_id": self.transaction_id, "age_s": round(self.age_s, 1)}


@dataclass(frozen=True)
class LockFigures:
    by_state: dict[str, int]
    scanned: int
    capped: bool  # the scan budget ran out: every count is a lower bound ("≥ N")
    oldest_in_progress: LockAge | None
    oldest_stale: LockAge | None
    scanned_s_ago: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "na": None,
            "by_state": dict(self.by_state),
            **fields(self, "scanned", "capped"),
            "oldest_in_progress": _age(self.oldest_in_progress),
            "oldest_stale": _age(self.oldest_stale),
            "scanned_s_ago": round(self.scanned_s_ago, 1),
        }


def _age(age: LockAge | None) -> dict[str, Any] | None:
    return None if age is None else age.as_dict()


@dataclass(frozen=True)
class BlockedGroup:
    group_id: str
    message_id: str
    receive_count: int | None
    blocked_s: float
    last_error: str | None
    not_attempted: int

    def as_dict(self) -> dict[str, Any]:
        return {
            **fields(self, "group_id", "message_id", "receive_count"),
            "blocked_s": round(self.blocked_s, 1),
            **fields(self, "last_error", "not_attempted"),
        }


@dataclass(frozen=True)
class Decision:
    timestamp_ms: int
    decision: str
    transaction_id: str | None
    group_id: str | None
    message_id: str | None
    receive_count: int | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        from sqsidem.logtail import iso_ms

        names = ("decision", "transaction_id", "group_id", "message_id", "receive_count", "error")
        return {"time": iso_ms(self.timestamp_ms), **fields(self, *names)}


@dataclass(frozen=True)
class Snapshot:
    stack: str
    sequence: int
    at_ms: int
    interval_s: float
    api_calls: int  # calls this refresh made (the stated budget; see sampler.COST)
    queue: QueueFigures | Unavailable
    flow: FlowFigures | Unavailable
    trigger: TriggerFigures | Unavailable
    dlq: DlqFigures | Unavailable
    alarm: AlarmFigures | Unavailable
    locks: LockFigures | Unavailable
    blocked_groups: tuple[BlockedGroup, ...] | Unavailable
    recent_decisions: tuple[Decision, ...] | Unavailable

    def unread(self) -> str | None:
        """Why nothing at all could be read (credentials, endpoint), else None."""
        parts = (self.queue, self.flow, self.trigger, self.dlq, self.alarm, self.locks)
        if all(isinstance(part, Unavailable) for part in parts):
            first = parts[0]
            return first.why if isinstance(first, Unavailable) else None
        return None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of `watch -o json` (keys documented in the README)."""
        from sqsidem.logtail import iso_ms

        return {
            "stack": self.stack,
            "sequence": self.sequence,
            "time": iso_ms(self.at_ms),
            "interval_s": self.interval_s,
            "api_calls": self.api_calls,
            "queue": self.queue.as_dict(),
            "flow": self.flow.as_dict(),
            "trigger": self.trigger.as_dict(),
            "dlq": self.dlq.as_dict(),
            "alarm": self.alarm.as_dict(),
            "locks": self.locks.as_dict(),
            "blocked_groups": _listed(self.blocked_groups, "groups"),
            "recent_decisions": _listed(self.recent_decisions, "decisions"),
        }


def _listed(
    part: tuple[BlockedGroup, ...] | tuple[Decision, ...] | Unavailable, key: str
) -> dict[str, Any]:
    if isinstance(part, Unavailable):
        return part.as_dict()
    return {"na": None, key: [item.as_dict() for item in part]}
