"""What a teardown would destroy besides the resources: messages and in-progress locks.

Queue depths come from the attributes the observation already read (visible + in flight
+ delayed; approximate, as SQS says). In-progress locks are counted with a capped scan of
the lock table, by the consumer's own rules (DESIGN 6.3): past the cap, "at least N".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.errors import SqsidemError
from sqsidem.names import StackNames
from sqsidem.stack.kind import ObservedStack
from sqsidem.stack.model import owner_of
from sqsidem.stack.queues import DLQ, QUEUE
from sqsidem.stack.table import TABLE

if TYPE_CHECKING:
    from sqsidem.aws import Aws

DEPTH_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
LOCK_SCAN_LIMIT = 100_000  # records read at most (a big table's teardown stays quick)
IN_PROGRESS = "IN_PROGRESS"


@dataclass(frozen=True)
class Contents:
    """Messages in the stack's queues and live locks in its table (None: not there / not ours)."""

    queue: str
    dlq: str
    queue_messages: int | None = None
    dlq_messages: int | None = None
    live_locks: int | None = None
    locks_capped: bool = False  # the scan stopped at LOCK_SCAN_LIMIT: live_locks is a floor

    @property
    def messages(self) -> int:
        return (self.queue_messages or 0) + (self.dlq_messages or 0)

    @property
    def at_risk(self) -> bool:
        return self.messages > 0 or bool(self.live_locks)

    def locks_text(self) -> str:
        floor = "at least " if self.locks_capped else ""
        return f"{floor}{self.live_locks or 0:,} in-progress lock(s)"

    def parts(self) -> list[str]:
        """One phrase per thing that would be destroyed (only what is there)."""
        parts = []
        if self.queue_messages is not None:
            parts.append(f"{self.queue_messages:,} message(s) in {self.queue}")
        if self.dlq_messages is not None:
            parts.append(f"{self.dlq_messages:,} message(s) in {self.dlq}")
        if self.live_locks is not None:
            parts.append(self.locks_text())
        return parts

    def held(self) -> str:
        """Only what is there, e.g. "3 message(s) in q.fifo, 1 in-progress lock(s)"."""
        return ", ".join(p for p in self.parts() if not p.startswith(("0 ", "at least 0 ")))

    def refusal(self, stack: str) -> SqsidemError:
        return SqsidemError(
            f"stack {stack!r} still holds {self.held()}: teardown would destroy them",
            "pass --force to delete them anyway (or let the work finish, or drain the queues)",
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "queue_messages": self.queue_messages,
            "dlq_messages": self.dlq_messages,
            "in_progress_locks": self.live_locks,
            "in_progress_locks_at_least": self.locks_capped,
        }


def queue_counts(attributes: dict[str, str]) -> dict[str, int]:
    """The depth attributes the observation read: visible, in flight, delayed (0: unreadable)."""
    counts = {}
    for part, name in zip(("visible", "in_flight", "delayed"), DEPTH_ATTRIBUTES, strict=True):
        try:
            counts[part] = max(0, int(attributes.get(name, "0")))
        except ValueError:
            counts[part] = 0
    return counts


def _depth(attributes: dict[str, str]) -> int:
    return sum(queue_counts(attributes).values())


def lock_states(
    aws: Aws, table: str, now_ms: int, *, only: str | None = None, limit: int = LOCK_SCAN_LIMIT
) -> tuple[Counter[str], bool]:
    """(lock records by derived state, capped): the consumer's own rules (DESIGN 6.3), at
    most ``limit`` records scanned; ``only`` reads just the records with that status."""
    from sqsidem.consumer.lock import derive_state, deserialize_item

    request: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": "#s, in_progress_expiration, expiration",
        "ExpressionAttributeNames": {"#s": "status"},
    }
    if only is not None:
        request["FilterExpression"] = "#s = :only"
        request["ExpressionAttributeValues"] = {":only": {"S": only}}
    states: Counter[str] = Counter()
    scanned = 0
    for page in aws.dynamodb.get_paginator("scan").paginate(**request):
        items = page.get("Items", [])
        states.update(derive_state(deserialize_item(item), now_ms) for item in items)
        scanned += int(page.get("ScannedCount", len(items)))
        if scanned >= limit:
            return states, True
    return states, False


def count_live_locks(
    aws: Aws, table: str, now_ms: int, limit: int = LOCK_SCAN_LIMIT
) -> tuple[int, bool]:
    """(in-progress locks, capped): reads only IN_PROGRESS records, at most ``limit`` scanned."""
    states, capped = lock_states(aws, table, now_ms, only=IN_PROGRESS, limit=limit)
    return states["in-progress"], capped


def contents_of(
    aws: Aws, names: StackNames, seen: ObservedStack, now_ms: int, *, keep_table: bool = False
) -> Contents:
    """Count only in what is this stack's and goes (teardown leaves the rest alone; a kept
    table keeps its locks, and the messages they stand for are counted in the queue)."""
    stack = names.stack
    queue, dlq, table = QUEUE.seen_in(seen), DLQ.seen_in(seen), TABLE.seen_in(seen)
    main = _depth(queue.attributes) if queue and owner_of(queue.tags) == stack else None
    dead = _depth(dlq.attributes) if dlq and owner_of(dlq.tags) == stack else None
    live, capped = None, False
    if table is not None and owner_of(table.tags) == stack and not keep_table:
        live, capped = count_live_locks(aws, names.table, now_ms)
    return Contents(names.queue, names.dlq, main, dead, live, capped)
