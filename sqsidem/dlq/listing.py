"""`dlq list`: the DLQ's messages with their keys' lock states, all left in the DLQ."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.consumer.lock import wall_clock_ms
from sqsidem.dlq.link import DlqLink, find_link
from sqsidem.dlq.peek import DEFAULT_PEEK_LIMIT, Peek, QueueMessage, peek
from sqsidem.locks.read import LockLookup, read_locks

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.names import StackNames


@dataclass(frozen=True)
class DlqListing:
    link: DlqLink
    peek: Peek
    locks: LockLookup
    now_ms: int

    def rows(self, *, full: bool = False, width: int = 60) -> list[dict[str, Any]]:
        """One snake_case record per message (the JSON Lines of `dlq list`)."""
        return [message_record(m, self, full=full, width=width) for m in self.peek.messages]


def truncate(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(1, width - 1)] + "…"


def message_record(
    message: QueueMessage, listing: DlqListing, *, full: bool, width: int
) -> dict[str, Any]:
    lock = listing.locks.locks.get(message.key) if message.key else None
    return {
        "message_id": message.message_id,
        "body": message.body if full else truncate(message.body, width),
        "group_id": message.group_id,
        # A FIFO DLQ replaces the dedup id with the original message id: the original is lost.
        "original_dedup_id": None if message.dedup_replaced else message.dedup_id,
        "dedup_id_replaced": message.dedup_replaced,
        "key": message.key,
        "key_source": message.key_source,
        "receive_count": message.receive_count,
        "source_queue": message.source_arn or listing.link.source_arn,
        "sent_ms": message.sent_ms,
        # SQS does not record when a message was dead-lettered: time since it was sent
        # is an upper bound for its time in the DLQ.
        "age_s": None if message.sent_ms is None else (listing.now_ms - message.sent_ms) / 1000,
        "lock_state": listing.locks.state_of(message.key),
        "lock_status": lock.status if lock is not None else None,
    }


def list_dlq(
    aws: Aws,
    names: StackNames,
    *,
    limit: int = DEFAULT_PEEK_LIMIT,
    now_ms: Callable[[], int] = wall_clock_ms,
) -> DlqListing:
    """The DLQ's messages with their keys' lock states; every message stays in the DLQ."""
    link = find_link(aws, names)
    seen = peek(aws.sqs, link.dlq_url, limit=limit)
    locks = read_locks(aws.dynamodb, names.table, (m.key for m in seen.messages))
    return DlqListing(link, seen, locks, now_ms())
