"""Everything known about one transaction id: its lock, where its message is, what the consumer did.

The log side reads the function's decision lines (DESIGN 6.5) through the shared log reader
(:mod:`sqsidem.logtail`), from the log group the function's LoggingConfig names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqsidem.consumer.lock import wall_clock_ms
from sqsidem.dlq.peek import (
    DEPTH_ATTRIBUTES,
    QueueMessage,
    depth_of,
    peek,
)
from sqsidem.dlq.peek import max_receive_count as policy_max_receive_count
from sqsidem.errors import NotFoundError, UsageError, is_gone
from sqsidem.jsondata import fields
from sqsidem.locks.model import Lock
from sqsidem.locks.read import find_lock
from sqsidem.logtail import EventFilter, iso_ms, log_group_for, read_events, start_ms_for
from sqsidem.resolve import queue_url

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.names import StackNames

DEFAULT_SINCE_S = 24 * 3600
_RECEIPTS = {"acquired", "taken-over", "duplicate", "busy"}


@dataclass(frozen=True)
class LogDecision:
    timestamp_ms: int
    decision: str
    message_id: str | None
    group_id: str | None
    receive_count: int | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "timestamp_ms": self.timestamp_ms,
            "time": iso(self.timestamp_ms),
            **fields(self, "decision", "message_id", "group_id", "receive_count", "error"),
        }


def iso(ms: int | None) -> str | None:
    """An epoch-ms time as ISO; a number no calendar holds (foreign data) as "unreadable"."""
    if ms is None:
        return None
    try:
        return iso_ms(ms)
    except (OverflowError, ValueError, OSError):
        return "unreadable"


def fetch_decisions(
    aws: Aws, log_group: str, transaction_id: str, start_ms: int, end_ms: int
) -> list[LogDecision] | None:
    """The decision lines about one transaction in time order; None if the log group is missing."""
    where = EventFilter(transaction=transaction_id)
    try:
        events = list(
            read_events(aws.logs, log_group, start_ms=start_ms, end_ms=end_ms, where=where)
        )
    except NotFoundError:
        return None
    # Several lines of one invocation share a timestamp: sorted() is stable, so they keep
    # their order within it.
    events.sort(key=lambda event: event.timestamp)
    return [_decision(event.timestamp, event.decision) for event in events if event.decision]


def _decision(timestamp: int, value: dict[str, Any]) -> LogDecision:
    count = value.get("receive_count")
    return LogDecision(
        timestamp_ms=timestamp,
        decision=str(value.get("decision")),
        message_id=value.get("message_id"),
        group_id=value.get("group_id"),
        receive_count=int(count) if isinstance(count, int | str) and str(count).isdigit() else None,
        error=value.get("error"),
    )


@dataclass
class Trace:
    transaction_id: str
    lock: Lock | None
    table_missing: bool
    in_queue: list[QueueMessage]
    in_dlq: list[QueueMessage]
    queue_peeked: bool
    queue_depth: dict[str, int] | None  # from the queue's attributes; None: no queue
    decisions: list[LogDecision] | None  # None: the log group does not exist
    log_group: str
    now_ms: int
    notes: list[str] = field(default_factory=list)

    @property
    def found_anything(self) -> bool:
        return bool(self.lock or self.in_queue or self.in_dlq or self.decisions)

    def lock_dict(self) -> dict[str, Any] | None:
        if self.lock is None:
            return None
        item = self.lock.item
        ms = self.lock.number

        return {
            "state": self.lock.state,
            "status": self.lock.status,
            "owner": item.get("owner"),
            "message_id": item.get("message_id"),
            "group_id": item.get("group_id"),
            "receive_count": ms("receive_count"),
            "first_seen": iso(ms("first_seen_ms")),
            "in_progress_deadline": iso(ms("in_progress_expiration")),
            "completed": iso(ms("completed_ms")),
            "expires": iso(expires * 1000) if (expires := ms("expiration")) is not None else None,
        }

    def story(self) -> list[str]:
        """A few sentences, oldest first."""
        lines: list[str] = []
        decisions = self.decisions or []
        receipts = [d for d in decisions if d.decision in _RECEIPTS]
        if receipts:
            messages = sorted({d.message_id for d in receipts if d.message_id})
            lines.append(
                f"received {len(receipts)}x between {_clock(receipts[0].timestamp_ms)} and "
                f"{_clock(receipts[-1].timestamp_ms)} ({len(messages)} message id(s))"
            )
        for kind, text in (
            ("duplicate", "skipped as a duplicate"),
            ("busy", "left for retry while another attempt held the lock"),
            ("taken-over", "took over a stale or expired lock"),
            ("lost-ownership", "lost its lock to another attempt"),
        ):
            count = sum(1 for d in decisions if d.decision == kind)
            if count:
                lines.append(f"{text} {count}x")
        failures = [d for d in decisions if d.decision == "failed"]
        if failures:
            last = failures[-1]
            lines.append(
                f"failed {len(failures)}x, last at {_clock(last.timestamp_ms)}: "
                f"{last.error or 'no error text'}"
            )
        completed = [d for d in decisions if d.decision == "completed"]
        if completed:
            lines.append(f"completed at {_clock(completed[-1].timestamp_ms)}")
        if self.in_dlq:
            message = self.in_dlq[0]
            after = f" after the failure at {_clock(failures[-1].timestamp_ms)}" if failures else ""
            lines.append(f"dead-lettered{after}: message {message.message_id} is in the DLQ now")
        if self.in_queue:
            lines.append(f"waiting in the queue: message {self.in_queue[0].message_id}")
        elif not self.queue_peeked and self.queue_depth and any(self.queue_depth.values()):
            depth = self.queue_depth
            lines.append(
                f"the queue holds {depth['visible']} message(s), {depth['in_flight']} in flight "
                "(not looked into: --peek-queue receives them)"
            )
        if self.lock is not None:
            lines.append(f"lock is {self.lock.state}")
        elif not self.table_missing:
            lines.append("no lock record")
        if self.decisions is None:
            lines.append(f"no log group {self.log_group}")
        elif not decisions:
            lines.append("no decision lines in the logs for it in the searched window")
        return lines

    def as_dict(self) -> dict[str, Any]:
        def message(m: QueueMessage) -> dict[str, Any]:
            ids = fields(m, "message_id", "group_id", "dedup_id", "key_source", "receive_count")
            return {**ids, "sent": iso(m.sent_ms), "body": m.body}

        return {
            "transaction_id": self.transaction_id,
            "lock": self.lock_dict(),
            "lock_table_missing": self.table_missing,
            "in_queue": [message(m) for m in self.in_queue],
            "queue_peeked": self.queue_peeked,
            "queue_depth": self.queue_depth,
            "in_dlq": [message(m) for m in self.in_dlq],
            "log_group": self.log_group,
            "decisions": [d.as_dict() for d in self.decisions or []],
            "story": self.story(),
            "notes": self.notes,
        }


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M:%S")


def _matches(message: QueueMessage, transaction_id: str) -> bool:
    # The attribute or the dedup id: a message without sqsidem-key is keyed by its dedup id.
    return transaction_id in (message.key, message.dedup_id)


def _matching(aws: Aws, url: str | None, transaction_id: str) -> tuple[list[QueueMessage], int]:
    """The DLQ's messages for the id (receiving there changes no message's fate)."""
    if url is None:
        return [], 0
    seen = peek(aws.sqs, url)
    return [m for m in seen.messages if _matches(m, transaction_id)], seen.not_shown


def queue_state(aws: Aws, url: str) -> tuple[dict[str, int], int | None]:
    """The queue's depth and its maxReceiveCount (None: no redrive policy), receiving nothing."""
    answer = aws.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=[*DEPTH_ATTRIBUTES.values(), "RedrivePolicy"]
    )
    attributes = answer["Attributes"]
    return depth_of(attributes), policy_max_receive_count(attributes.get("RedrivePolicy"))


@dataclass
class QueuePeek:
    """What an explicit look into the main queue saw, and where it stopped."""

    matching: list[QueueMessage] = field(default_factory=list)
    seen: int = 0
    stopped_at: QueueMessage | None = None  # near its maxReceiveCount: receiving no further


def peek_main_queue(
    aws: Aws, url: str, transaction_id: str, max_receive_count: int | None, total: int
) -> QueuePeek:
    """:func:`~sqsidem.dlq.peek.peek` (``total``: the depth just read), stopping at the first
    message whose receive count reached ``max_receive_count - 1`` (one more receive of it
    could dead-letter it without a real attempt); everything received is made visible again
    before returning."""
    limit = max_receive_count or 0

    def near_limit(message: QueueMessage) -> bool:
        return bool(limit) and message.receive_count >= limit - 1

    # peeked=False: the counts include our receive.
    looked = peek(aws.sqs, url, total=total, peeked=False, stop_at=near_limit)
    matching = [m for m in looked.messages if _matches(m, transaction_id)]
    return QueuePeek(matching, len(looked.messages), looked.stopped_at)


def _optional_queue(aws: Aws, name: str, stack: str) -> str | None:
    try:
        return queue_url(aws, name, stack=stack)
    except NotFoundError:
        return None


def trace(
    aws: Aws,
    names: StackNames,
    transaction_id: str,
    *,
    since_s: float = DEFAULT_SINCE_S,
    peek_queue: bool = False,
    now_ms: Callable[[], int] = wall_clock_ms,
    fetch: Callable[[Aws, str, str, int, int], list[LogDecision] | None] = fetch_decisions,
) -> Trace:
    """Gather the lock, the queues and the logs for one transaction id."""
    from botocore.exceptions import ClientError

    if not transaction_id.strip():
        raise UsageError("the transaction id is empty")
    now = now_ms()
    notes: list[str] = []
    table_missing = False
    lock = None
    try:
        lock = find_lock(aws.dynamodb, names.table, transaction_id, now_ms=now)
    except ClientError as exc:
        if not is_gone(exc):
            raise
        table_missing = True
        notes.append(f"lock table {names.table} does not exist")
    dlq = _optional_queue(aws, names.dlq, names.stack)
    in_dlq, dlq_hidden = _matching(aws, dlq, transaction_id)
    in_queue: list[QueueMessage] = []
    main = _optional_queue(aws, names.queue, names.stack)
    depth = None
    if main is not None:
        depth, max_receive_count = queue_state(aws, main)
        if peek_queue:
            total = sum(depth.values())
            looked = peek_main_queue(aws, main, transaction_id, max_receive_count, total)
            in_queue = looked.matching
            notes.extend(_peek_notes(looked, depth, max_receive_count))
    if dlq_hidden:
        notes.append(f"{dlq_hidden} DLQ message(s) were in flight or hidden, not searched")
    log_group = log_group_for(aws.lambda_, names.function)
    decisions = fetch(aws, log_group, transaction_id, now - int(since_s * 1000), now)
    return Trace(
        transaction_id=transaction_id,
        lock=lock,
        table_missing=table_missing,
        in_queue=in_queue,
        in_dlq=in_dlq,
        queue_peeked=peek_queue,
        queue_depth=depth,
        decisions=decisions,
        log_group=log_group,
        now_ms=now,
        notes=notes,
    )


def _peek_notes(looked: QueuePeek, depth: dict[str, int], limit: int | None) -> list[str]:
    notes = [f"looking into the queue counted as one receive of each of {looked.seen} message(s)"]
    if looked.stopped_at is not None:
        notes.append(
            f"stopped at message {looked.stopped_at.message_id}: its receive count reached "
            f"{looked.stopped_at.receive_count} of maxReceiveCount {limit}; "
            "no later message was received"
        )
    hidden = sum(depth.values()) - looked.seen
    if hidden > 0:
        notes.append(f"{hidden} queue message(s) were not searched (in flight, hidden or later)")
    return notes


def trace_known(
    aws: Callable[[], Aws],
    names: StackNames,
    transaction_id: str,
    *,
    since: str,
    peek_queue: bool = False,
) -> Trace:
    """:func:`trace`, or NotFoundError (exit 1) when nothing anywhere knows the id.

    ``aws`` is a factory, called only once ``since`` is known to be valid (exit 2 first).
    """
    import time

    now_s = time.time()
    start_ms = start_ms_for(since, now_s)  # between 1970 and now, else exit 2
    since_s = now_s - start_ms / 1000
    result = trace(aws(), names, transaction_id, since_s=since_s, peek_queue=peek_queue)
    if not result.found_anything:
        raise NotFoundError(
            f"nothing known about transaction {transaction_id!r} in stack {names.stack!r}",
            f"check the id, or search further back with --since (searched {since})",
        )
    return result
