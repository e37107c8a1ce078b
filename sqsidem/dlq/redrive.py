"""The stack's dead-letter queue: list without consuming, redrive to the source, purge.

The DLQ's source is the stack's main queue, confirmed through the main queue's RedrivePolicy
(ministack has no ListDeadLetterSourceQueues). Redrive uses StartMessageMoveTask where the
backend has it and otherwise copies: receive -> send to the source (same group id, the
``sqsidem-key`` attribute kept, a new dedup id) -> delete from the DLQ only after the copy
was accepted, so an interruption or a failed send can duplicate but never lose a message.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqsidem.consumer.keys import KEY_ATTRIBUTE
from sqsidem.consumer.lock import wall_clock_ms
from sqsidem.dlq_locks import BLOCKING_STATES, LockLookup, read_locks, release_lock
from sqsidem.dlq_peek import (
    DEFAULT_PEEK_LIMIT,
    Peek,
    QueueMessage,
    approximate_total,
    parse_message,
    peek,
    receive_batch,
    release,
)
from sqsidem.errors import NotFoundError, SqsidemError, error_code
from sqsidem.locks import Lock
from sqsidem.resolve import dlq_url, main_queue_url, queue_arn

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from sqsidem.aws import Aws
    from sqsidem.names import StackNames

# The move-task calls are missing on ministack (InvalidAction) and moto (NotImplementedError).
_NO_MOVE_TASK_CODES = {
    "InvalidAction",
    "UnsupportedOperation",
    "NotImplemented",
    "NotImplementedException",
}
_PURGE_IN_PROGRESS = {"AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueueInProgress"}
_MAX_BATCH_BYTES = 256 * 1024  # the older, smaller SendMessageBatch payload limit: safe everywhere
REDRIVE_VISIBILITY_S = 120
MAX_MOVE_RATE = 500


@dataclass(frozen=True)
class DlqLink:
    dlq_url: str
    dlq_arn: str
    source_url: str
    source_arn: str
    max_receive_count: int | None


def find_link(aws: Aws, names: StackNames) -> DlqLink:
    """The DLQ and its source queue, checked through the source's RedrivePolicy."""
    dlq = dlq_url(aws, names)
    source = main_queue_url(aws, names)
    dlq_arn = queue_arn(aws, dlq)
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=source, AttributeNames=["QueueArn", "RedrivePolicy"]
    )["Attributes"]
    policy: dict[str, Any] = json.loads(attributes.get("RedrivePolicy") or "{}")
    if policy.get("deadLetterTargetArn") != dlq_arn:
        raise NotFoundError(
            f"queue {names.queue} does not dead-letter into {names.dlq}",
            f"run `sqsidem --stack {names.stack} setup` to restore its RedrivePolicy",
        )
    count = policy.get("maxReceiveCount")
    return DlqLink(dlq, dlq_arn, source, attributes["QueueArn"], int(count) if count else None)


# -- list ---------------------------------------------------------------------------------


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


# -- redrive ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedrivePlan:
    """What a redrive would move, and the keys whose locks would get in the way."""

    listing: DlqListing
    blocking: list[Lock]

    @property
    def count(self) -> int:
        return max(self.listing.peek.approximate_total, len(self.listing.peek.messages))


def plan_redrive(aws: Aws, names: StackNames) -> RedrivePlan:
    listing = list_dlq(aws, names)
    blocking = [
        lock
        for lock in listing.locks.locks.values()
        if lock is not None and lock.state in BLOCKING_STATES
    ]
    return RedrivePlan(listing, blocking)


def clear_locks(aws: Aws, names: StackNames, locks: list[Lock]) -> tuple[int, int]:
    """Release the given locks if unchanged since read; (released, changed meanwhile)."""
    released = sum(1 for lock in locks if release_lock(aws.dynamodb, names.table, lock))
    return released, len(locks) - released


@dataclass
class RedriveResult:
    method: Literal["move-task", "copy"]
    moved: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (message id, reason)
    held_back: int = 0  # later messages of a group whose earlier send failed (order kept)
    not_deleted: list[str] = field(default_factory=list)  # copied, but still in the DLQ too
    left_in_dlq: int | None = None  # approximate, read after the run
    task_status: str | None = None
    failure_reason: str | None = None

    @property
    def ok(self) -> bool:
        return (
            not self.failed
            and not self.held_back
            and not self.not_deleted
            and (self.task_status in (None, "COMPLETED"))
            # A copy run that leaves messages behind did not finish the job, even when no
            # single send failed (e.g. a receive lost to a dropped connection hid them).
            and not (self.method == "copy" and self.left_in_dlq)
        )


ProgressFn = Callable[[int, int | None], None]  # (messages moved so far, total if known)


def move_task_unsupported(exc: BaseException) -> bool:
    if isinstance(exc, NotImplementedError):
        return True
    return error_code(exc) in _NO_MOVE_TASK_CODES


def redrive(
    aws: Aws,
    link: DlqLink,
    *,
    rate: int | None = None,
    on_progress: ProgressFn | None = None,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = 2.0,
) -> RedriveResult:
    """Move every DLQ message back to the source: a move task if possible, else by copying."""
    from botocore.exceptions import ClientError

    request: dict[str, Any] = {"SourceArn": link.dlq_arn, "DestinationArn": link.source_arn}
    if rate is not None:
        request["MaxNumberOfMessagesPerSecond"] = rate
    # No retries: an emulator without the call answers 500 on some setups, and retrying
    # that only delays the fallback.
    probe = aws.with_options(max_attempts=1).sqs
    try:
        probe.start_message_move_task(**request)
    except (ClientError, NotImplementedError) as exc:
        if not move_task_unsupported(exc):
            raise
        return copy_redrive(aws, link, on_progress=on_progress)
    return wait_for_move_task(
        aws.sqs, link.dlq_arn, on_progress=on_progress, sleep=sleep, poll_s=poll_s
    )


def wait_for_move_task(
    sqs: SQSClient,
    dlq_arn: str,
    *,
    on_progress: ProgressFn | None,
    sleep: Callable[[float], None],
    poll_s: float,
) -> RedriveResult:
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1)
        results = tasks.get("Results", [])
        if not results:
            return RedriveResult("move-task", task_status="COMPLETED")
        task = results[0]
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        total = task.get("ApproximateNumberOfMessagesToMove")
        if on_progress is not None:
            on_progress(moved, int(total) if total is not None else None)
        status = str(task.get("Status", ""))
        if status not in ("RUNNING", "CANCELLING"):
            return RedriveResult(
                "move-task",
                moved=moved,
                task_status=status,
                failure_reason=task.get("FailureReason"),
            )
        sleep(poll_s)


def cancel_move_task(sqs: SQSClient, dlq_arn: str) -> int | None:
    """Cancel the DLQ's running move task; the number moved so far, or None if none ran."""
    from botocore.exceptions import ClientError

    try:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1)
    except (ClientError, NotImplementedError) as exc:
        if move_task_unsupported(exc):
            raise SqsidemError(
                "this backend has no message move tasks, so there is nothing to cancel",
                "a copying redrive stops with Ctrl-C and loses nothing",
            ) from exc
        raise
    running = [t for t in tasks.get("Results", []) if t.get("Status") == "RUNNING"]
    if not running:
        return None
    response = sqs.cancel_message_move_task(TaskHandle=running[0]["TaskHandle"])
    return int(response.get("ApproximateNumberOfMessagesMoved", 0))


def _copy_entry(message: QueueMessage) -> dict[str, Any]:
    attributes = {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in message.message_attributes.items()
    }
    if KEY_ATTRIBUTE not in attributes and message.key:
        # Pin the key the consumer used (its dedup id) before the new dedup id replaces it.
        attributes[KEY_ATTRIBUTE] = {"DataType": "String", "StringValue": message.key}
    entry: dict[str, Any] = {"Id": "", "MessageBody": message.body}
    if attributes:
        entry["MessageAttributes"] = attributes
    if message.group_id is not None:
        entry["MessageGroupId"] = message.group_id
        entry["MessageDeduplicationId"] = uuid.uuid4().hex
    return entry


def _entry_size(entry: dict[str, Any]) -> int:
    size = len(entry["MessageBody"].encode("utf-8"))
    for name, value in entry.get("MessageAttributes", {}).items():
        payload = value.get("StringValue") or value.get("BinaryValue") or ""
        size += len(name) + len(value.get("DataType", "")) + len(payload)
    return size


def _chunks(
    entries: list[tuple[QueueMessage, dict[str, Any]]],
) -> list[list[tuple[QueueMessage, dict[str, Any]]]]:
    chunks: list[list[tuple[QueueMessage, dict[str, Any]]]] = [[]]
    size = 0
    for pair in entries:
        entry_size = _entry_size(pair[1])
        if chunks[-1] and (len(chunks[-1]) == 10 or size + entry_size > _MAX_BATCH_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(pair)
        size += entry_size
    return [chunk for chunk in chunks if chunk]


def copy_redrive(
    aws: Aws,
    link: DlqLink,
    *,
    on_progress: ProgressFn | None = None,
    visibility_s: int = REDRIVE_VISIBILITY_S,
) -> RedriveResult:
    """Receive -> SendMessageBatch to the source -> delete what was accepted, until empty.

    A message whose send failed stays in the DLQ (made visible again at the end), and so do
    the later messages of its FIFO group: sending those would break the group's order.
    """
    sqs = aws.sqs
    result = RedriveResult("copy")
    total = approximate_total(sqs, link.dlq_url)
    blocked_groups: set[str] = set()
    # Received but not deleted: made visible again at the end, also on Ctrl-C.
    pending: dict[str, str] = {}
    empty_rounds = 0
    try:
        while empty_rounds < 2:
            raws = receive_batch(sqs, link.dlq_url, max_messages=10, visibility_s=visibility_s)
            batch = [parse_message(raw, peeked=False) for raw in raws]
            if not batch:
                empty_rounds += 1
                continue
            empty_rounds = 0
            for message in batch:
                pending[message.message_id] = message.receipt_handle
            for chunk in _chunks([(m, _copy_entry(m)) for m in batch]):
                sendable = []
                for message, entry in chunk:
                    if message.group_id is not None and message.group_id in blocked_groups:
                        result.held_back += 1
                    else:
                        sendable.append((message, entry))
                accepted = _send(aws, link, sendable, result, blocked_groups)
                _delete(aws, link, accepted, result)
                for message in accepted:
                    pending.pop(message.message_id, None)
                if on_progress is not None:
                    on_progress(result.moved, total)
    finally:
        release(sqs, link.dlq_url, list(pending.values()))
    result.left_in_dlq = approximate_total(sqs, link.dlq_url)
    return result


def _send(
    aws: Aws,
    link: DlqLink,
    chunk: list[tuple[QueueMessage, dict[str, Any]]],
    result: RedriveResult,
    blocked_groups: set[str],
) -> list[QueueMessage]:
    """One SendMessageBatch; the messages the source accepted."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not chunk:
        return []
    entries = []
    for index, (_, entry) in enumerate(chunk):
        entries.append({**entry, "Id": str(index)})
    try:
        response = aws.sqs.send_message_batch(QueueUrl=link.source_url, Entries=entries)  # type: ignore[arg-type]
        failed = {
            f["Id"]: f"{f.get('Code')}: {f.get('Message', '')}".strip()
            for f in response.get("Failed", [])
        }
    except (ClientError, BotoCoreError) as exc:
        failed = {entry["Id"]: f"{type(exc).__name__}: {exc}" for entry in entries}
    accepted = []
    for index, (message, _) in enumerate(chunk):
        reason = failed.get(str(index))
        if reason is None:
            accepted.append(message)
            continue
        result.failed.append((message.message_id, reason))
        if message.group_id is not None:
            blocked_groups.add(message.group_id)
    return accepted


def _delete(aws: Aws, link: DlqLink, accepted: list[QueueMessage], result: RedriveResult) -> None:
    if not accepted:
        return
    response = aws.sqs.delete_message_batch(
        QueueUrl=link.dlq_url,
        Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(accepted)],
    )
    undeleted = {int(f["Id"]) for f in response.get("Failed", [])}
    for index, message in enumerate(accepted):
        if index in undeleted:
            result.not_deleted.append(message.message_id)
        result.moved += 1


# -- purge --------------------------------------------------------------------------------


def count_dlq(aws: Aws, names: StackNames) -> tuple[str, int]:
    url = dlq_url(aws, names)
    return url, approximate_total(aws.sqs, url)


def purge_dlq(aws: Aws, url: str, names: StackNames) -> None:
    """PurgeQueue; AWS allows one purge per queue per 60 s."""
    from botocore.exceptions import ClientError

    try:
        aws.sqs.purge_queue(QueueUrl=url)
    except ClientError as exc:
        if error_code(exc) in _PURGE_IN_PROGRESS:
            raise SqsidemError(
                f"a purge of {names.dlq} is already in progress (AWS allows one purge per 60 s)",
                "wait a minute, then run `sqsidem dlq list` to see what is left",
            ) from exc
        raise
