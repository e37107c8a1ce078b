"""What the decision lines say, read incrementally: rates per kind over a window, the last
few decisions, and the FIFO groups stuck behind a failing head message (ours alone)."""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqsidem.watch.model import FLOW_KINDS, BlockedGroup, Decision, FlowFigures

# Until the consumer writes `blocked_by` (DESIGN 6.5), the skip line says it in words.
_NOT_ATTEMPTED = re.compile(r"not attempted: message (\S+) of group")
_DONE = frozenset({"completed", "duplicate"})  # any message of the group: it moved on
_STARTED = frozenset({"acquired", "taken-over"})  # a later message started: the head is gone


def blocked_by(decision: Mapping[str, Any]) -> str | None:
    """The message id that stopped this record's group, if the record was not attempted."""
    value = decision.get("blocked_by")
    if isinstance(value, str) and value:
        return value
    error = decision.get("error")
    if isinstance(error, str):
        found = _NOT_ATTEMPTED.search(error)
        if found:
            return found.group(1)
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def as_decision(timestamp_ms: int, line: Mapping[str, Any]) -> Decision:
    return Decision(
        timestamp_ms=timestamp_ms,
        decision=str(line.get("decision")),
        transaction_id=_str(line.get("transaction_id")),
        group_id=_str(line.get("group_id")),
        message_id=_str(line.get("message_id")),
        receive_count=_int(line.get("receive_count")),
        error=_str(line.get("error")),
    )


@dataclass
class _Head:
    message_id: str
    since_ms: int
    last_ms: int
    receive_count: int | None = None
    last_error: str | None = None
    not_attempted: set[str] = field(default_factory=set)


@dataclass
class FlowTracker:
    """Fed decision lines in time order; answers for the window ending at ``now_ms``.

    A group is blocked from the first failure of its head message until the head goes
    through (any later decision that moves the group on: the head done, or, after a
    dead-letter, a later message of the group attempted), or until ``recent_s`` passes
    without a new failure.
    """

    window_s: float = 60.0
    recent: int = 8
    recent_s: float = 300.0
    _window: deque[tuple[int, str]] = field(default_factory=deque)
    _recent: deque[Decision] = field(default_factory=deque)
    _heads: dict[str, _Head] = field(default_factory=dict)

    def feed_line(self, timestamp_ms: int, line: Mapping[str, Any]) -> None:
        """One parsed decision line (DESIGN 6.5), in time order."""
        decision = as_decision(timestamp_ms, line)
        self._window.append((decision.timestamp_ms, decision.decision))
        self._recent.append(decision)
        while len(self._recent) > self.recent:
            self._recent.popleft()
        stopper = blocked_by(line)
        if stopper is not None and decision.group_id is not None:
            self._skipped(decision, stopper)
        else:
            self._track(decision)

    def _track(self, decision: Decision) -> None:
        group, message = decision.group_id, decision.message_id
        if group is None or message is None:
            return
        head = self._heads.get(group)
        if decision.decision == "failed":
            if head is None or head.message_id != message:
                head = _Head(message, decision.timestamp_ms, decision.timestamp_ms)
                self._heads[group] = head
            head.last_ms = decision.timestamp_ms
            head.receive_count = decision.receive_count
            head.last_error = decision.error
        elif head is not None and (
            decision.decision in _DONE
            or (decision.decision in _STARTED and head.message_id != message)
        ):
            del self._heads[group]

    def _skipped(self, decision: Decision, stopper: str) -> None:
        assert decision.group_id is not None
        head = self._heads.get(decision.group_id)
        if head is None or head.message_id != stopper:
            head = _Head(stopper, decision.timestamp_ms, decision.timestamp_ms)
            self._heads[decision.group_id] = head
        head.last_ms = max(head.last_ms, decision.timestamp_ms)
        if decision.message_id is not None:
            head.not_attempted.add(decision.message_id)

    def figures(self, now_ms: int) -> FlowFigures:
        horizon = now_ms - int(self.window_s * 1000)
        while self._window and self._window[0][0] < horizon:
            self._window.popleft()
        counts = Counter(kind for _, kind in self._window if kind in FLOW_KINDS)
        return FlowFigures(self.window_s, dict(counts))

    def last_decisions(self) -> tuple[Decision, ...]:
        return tuple(self._recent)

    def blocked(
        self, now_ms: int, *, max_receive: int | None = None, visibility_s: float | None = None
    ) -> tuple[BlockedGroup, ...]:
        """The blocked groups, longest first. A head that failed its last allowed receive and
        has not failed again within a visibility timeout (+5 s) was dead-lettered: its group
        moved on, even though no decision line says so."""
        horizon = now_ms - int(self.recent_s * 1000)
        dead_after = None if visibility_s is None else int((visibility_s + 5) * 1000)

        def gone(head: _Head) -> bool:
            if head.last_ms < horizon:
                return True
            last_try = (
                max_receive is not None
                and head.receive_count is not None
                and head.receive_count >= max_receive
            )
            return last_try and dead_after is not None and now_ms - head.last_ms > dead_after

        for group in [g for g, h in self._heads.items() if gone(h)]:
            del self._heads[group]
        rows = [
            BlockedGroup(
                group_id=group,
                message_id=head.message_id,
                receive_count=head.receive_count,
                blocked_s=max(0.0, (now_ms - head.since_ms) / 1000),
                last_error=head.last_error,
                not_attempted=len(head.not_attempted),
            )
            for group, head in self._heads.items()
        ]
        return tuple(sorted(rows, key=lambda row: -row.blocked_s))
