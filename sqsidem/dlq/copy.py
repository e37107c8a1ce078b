"""The redrive where there is no move task: receive, copy to the source, then delete.

Receive -> send to the source (same group id, the ``sqsidem-key`` attribute kept) -> delete
from the DLQ only after the copy was accepted, so a failed send never loses a message.

Each copy's dedup id is derived from the dead letter (:func:`copy_dedup_id`): a copy re-sent
after an interrupt or a crash between send and delete is dropped by a FIFO source queue for
SQS's 5-minute deduplication window, so a re-run converges to one copy per dead letter.
Past the window (and always on a standard queue, which has no deduplication) SQS accepts the
second copy, and the consumer's lock makes it a duplicate: acknowledged, not run again.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Any

from sqsidem.consumer.keys import KEY_ATTRIBUTE
from sqsidem.dlq.link import DlqLink
from sqsidem.dlq.peek import QueueMessage, approximate_total, parse_message, receive_batch, release
from sqsidem.dlq.result import ProgressFn, RedriveResult
from sqsidem.messages.model import MAX_BATCH_ENTRIES, MAX_PAYLOAD_BYTES

if TYPE_CHECKING:
    from sqsidem.aws import Aws

REDRIVE_VISIBILITY_S = 120
_DEDUP_PREFIX = "sqsidem-redrive-"


def copy_dedup_id(dlq_arn: str, message_id: str) -> str:
    """The same for every copy of one dead letter (80 characters of [a-z0-9-], SQS allows 128).

    The ARN, not the URL: one queue has several URLs (endpoints, proxies, legacy hosts).
    """
    digest = hashlib.sha256(f"{dlq_arn}\n{message_id}".encode()).hexdigest()
    return _DEDUP_PREFIX + digest


def _copy_entry(message: QueueMessage, dlq_arn: str) -> dict[str, Any]:
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
        entry["MessageDeduplicationId"] = copy_dedup_id(dlq_arn, message.message_id)
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
        if chunks[-1] and (
            len(chunks[-1]) == MAX_BATCH_ENTRIES or size + entry_size > MAX_PAYLOAD_BYTES
        ):
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
    stop: threading.Event | None = None,
) -> RedriveResult:
    """Receive -> SendMessageBatch to the source -> delete what was accepted, until empty.

    A message whose send failed stays in the DLQ (made visible again at the end), and so do
    the later messages of its FIFO group: sending those would break the group's order.
    Once ``stop`` is set (the first Ctrl-C) nothing new is received or sent; a send that was
    in flight still gets its delete, and what was received but not sent is released.
    """
    sqs = aws.sqs
    stop = stop or threading.Event()
    result = RedriveResult("copy")
    total = approximate_total(sqs, link.dlq_url)
    # Received but not deleted: made visible again at the end, also on the first Ctrl-C.
    pending: dict[str, str] = {}
    aborted = False
    try:
        _copy_until_empty(aws, link, result, pending, stop, visibility_s, on_progress, total)
    except KeyboardInterrupt:
        # The second Ctrl-C leaves at once: what we hold reappears after ``visibility_s``,
        # and a copy already sent is dropped by its dedup id when a re-run sends it again.
        aborted = True
        raise
    finally:
        if not aborted:
            release(sqs, link.dlq_url, list(pending.values()))
    result.interrupted = stop.is_set()
    result.left_in_dlq = approximate_total(sqs, link.dlq_url)
    return result


def _copy_until_empty(
    aws: Aws,
    link: DlqLink,
    result: RedriveResult,
    pending: dict[str, str],
    stop: threading.Event,
    visibility_s: int,
    on_progress: ProgressFn | None,
    total: int,
) -> None:
    blocked_groups: set[str] = set()
    while not stop.is_set():
        raws = receive_batch(aws.sqs, link.dlq_url, max_messages=10, visibility_s=visibility_s)
        batch = [parse_message(raw, peeked=False) for raw in raws]
        for message in batch:
            pending[message.message_id] = message.receipt_handle
        if not batch or stop.is_set():
            return  # an empty long poll (nothing more to give now), or Ctrl-C: release it
        for chunk in _chunks([(m, _copy_entry(m, link.dlq_arn)) for m in batch]):
            if stop.is_set():
                return
            sendable = []
            for message, entry in chunk:
                if message.group_id is not None and message.group_id in blocked_groups:
                    result.held_back += 1
                else:
                    sendable.append((message, entry))
            # No stop check between the two: a confirmed send is always followed by its delete.
            accepted = _send(aws, link, sendable, result, blocked_groups)
            _delete(aws, link, accepted, result)
            for message in accepted:
                pending.pop(message.message_id, None)
            if on_progress is not None:
                on_progress(result.moved, total)


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
