"""Look at a queue's messages without consuming them (`dlq list`, `dlq redrive`, `trace`).

We receive with a short visibility timeout and hold everything we received until the look is
over (releasing early would hand the same messages back on the next receive), then make each
one visible again at once (ChangeMessageVisibilityBatch, 0 s). A FIFO queue hides a group's later
messages while an earlier one is in flight, and other consumers may hold some: the queue's
approximate counts say how many we could not show.

Every look is a receive: ApproximateReceiveCount goes up by one. On a queue with a redrive
policy that spends one of the message's attempts, so callers say so.

Receives long-poll (:data:`LONG_POLL_S`): a short poll asks only a sample of SQS's servers
and can come back empty while messages exist, so "empty" means something only after a
long poll.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqsidem.consumer.keys import KEY_ATTRIBUTE
from sqsidem.sqsbatch import change_visibility

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

PEEK_VISIBILITY_S = 30
# One empty long poll of this length ends a look (it asks every server, unlike a short poll).
LONG_POLL_S = 1
DEFAULT_PEEK_LIMIT = 100
KeySource = Literal["attribute", "dedup-id"]


@dataclass(frozen=True)
class QueueMessage:
    """One message as seen by a peek; ``receive_count`` excludes the peek's own receive."""

    message_id: str
    body: str
    group_id: str | None
    dedup_id: str | None
    key: str | None
    key_source: KeySource | None
    receive_count: int
    sent_ms: int | None
    first_receive_ms: int | None
    source_arn: str | None
    message_attributes: dict[str, dict[str, Any]] = field(repr=False)
    receipt_handle: str = field(repr=False, compare=False)

    @property
    def dedup_replaced(self) -> bool:
        """AWS replaces a FIFO dead letter's dedup id by the original message id."""
        return self.dedup_id is not None and self.dedup_id == self.message_id


@dataclass(frozen=True)
class Peek:
    messages: list[QueueMessage]
    approximate_total: int  # visible + in flight + delayed, read before the look
    not_shown: int
    fifo: bool = False
    stopped_at: QueueMessage | None = None  # the first message ``stop_at`` accepted

    @property
    def held_groups(self) -> list[str]:
        """FIFO groups whose later messages may be hidden: SQS shows none of a group's
        messages while earlier ones are in flight, and the look holds the earlier ones."""
        if not self.fifo or not self.not_shown:
            return []
        return sorted({m.group_id for m in self.messages if m.group_id is not None})


def message_key(
    message_attributes: Mapping[str, Any], dedup_id: str | None
) -> tuple[str | None, KeySource | None]:
    """The message's idempotency key (DESIGN 6.3): the sqsidem-key attribute, else its dedup id."""
    value = message_attributes.get(KEY_ATTRIBUTE)
    if isinstance(value, Mapping):
        text = value.get("StringValue")
        if isinstance(text, str) and text:
            return text, "attribute"
    if dedup_id:
        return dedup_id, "dedup-id"
    return None, None


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def parse_message(raw: Mapping[str, Any], *, peeked: bool = True) -> QueueMessage:
    """A received SQS message as a :class:`QueueMessage`."""
    system = raw.get("Attributes") or {}
    attributes: dict[str, dict[str, Any]] = dict(raw.get("MessageAttributes") or {})
    dedup_id = system.get("MessageDeduplicationId")
    key, source = message_key(attributes, dedup_id)
    count = _int(system.get("ApproximateReceiveCount")) or 0
    return QueueMessage(
        message_id=str(raw["MessageId"]),
        body=str(raw.get("Body", "")),
        group_id=system.get("MessageGroupId"),
        dedup_id=dedup_id,
        key=key,
        key_source=source,
        receive_count=max(0, count - 1) if peeked else count,
        sent_ms=_int(system.get("SentTimestamp")),
        first_receive_ms=_int(system.get("ApproximateFirstReceiveTimestamp")),
        source_arn=system.get("DeadLetterQueueSourceArn"),
        message_attributes=attributes,
        receipt_handle=str(raw["ReceiptHandle"]),
    )


# A queue's depth, as SQS counts it (approximately): our name -> the queue attribute.
DEPTH_ATTRIBUTES: dict[str, QueueAttributeNameType] = {
    "visible": "ApproximateNumberOfMessages",
    "in_flight": "ApproximateNumberOfMessagesNotVisible",
    "delayed": "ApproximateNumberOfMessagesDelayed",
}


def depth_of(attributes: Mapping[Any, object]) -> dict[str, int]:
    """The depth in a GetQueueAttributes answer that asked for :data:`DEPTH_ATTRIBUTES`."""
    return {name: _int(attributes.get(key, 0)) or 0 for name, key in DEPTH_ATTRIBUTES.items()}


def queue_depth(sqs: SQSClient, url: str) -> dict[str, int]:
    """Visible, in flight and delayed messages (one GetQueueAttributes)."""
    response = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[*DEPTH_ATTRIBUTES.values()])
    return depth_of(response["Attributes"])


def approximate_total(sqs: SQSClient, url: str) -> int:
    """Visible + in flight + delayed messages (approximate, as SQS counts them)."""
    return sum(queue_depth(sqs, url).values())


def max_receive_count(policy_text: str | None) -> int | None:
    """A RedrivePolicy's maxReceiveCount; None without a policy (or one we cannot read)."""
    import json

    try:
        return int(json.loads(policy_text or "")["maxReceiveCount"])
    except (ValueError, KeyError, TypeError):
        return None


def receive_batch(
    sqs: SQSClient, url: str, *, max_messages: int, visibility_s: int, wait_s: int = LONG_POLL_S
) -> list[dict[str, Any]]:
    """One long-polling ReceiveMessage with every system and message attribute."""
    response = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=max(1, min(10, max_messages)),
        VisibilityTimeout=visibility_s,
        WaitTimeSeconds=wait_s,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return [dict(message) for message in response.get("Messages", [])]


def release(sqs: SQSClient, url: str, receipt_handles: list[str]) -> None:
    """Make held messages visible again at once, ten per call. A handle that expired is
    visible anyway, so a failed entry (or call) is left alone."""
    from botocore.exceptions import ClientError

    change_visibility(sqs, url, receipt_handles, 0, tolerate=ClientError)


def peek(
    sqs: SQSClient,
    url: str,
    *,
    limit: int = DEFAULT_PEEK_LIMIT,
    visibility_s: int = PEEK_VISIBILITY_S,
    clock: Callable[[], float] = time.monotonic,
    total: int | None = None,
    peeked: bool = True,
    stop_at: Callable[[QueueMessage], bool] | None = None,
) -> Peek:
    """Up to ``limit`` messages of the queue, all left in it and visible again on return.

    ``total``: the queue's approximate count, when the caller has read it already.
    ``peeked`` False: receive counts include this look's own receive. ``stop_at``: no
    receive follows the batch holding a message it accepts (``Peek.stopped_at``).
    """
    if total is None:
        total = approximate_total(sqs, url)
    seen: dict[str, QueueMessage] = {}
    handles: list[str] = []
    stopped_at: QueueMessage | None = None
    started = clock()
    try:
        # Stop well before our hold expires: past it, the same messages would come back.
        while len(seen) < limit and stopped_at is None and clock() - started < visibility_s / 2:
            if seen and len(seen) >= total:
                break  # everything the queue counted is in hand: no need to wait for more
            batch = receive_batch(
                sqs, url, max_messages=limit - len(seen), visibility_s=visibility_s
            )
            if not batch:
                break  # an empty long poll: nothing more can be seen now
            for raw in batch:
                handles.append(str(raw["ReceiptHandle"]))
                message = parse_message(raw, peeked=peeked)
                seen.setdefault(message.message_id, message)
                if stopped_at is None and stop_at is not None and stop_at(message):
                    stopped_at = message
    finally:
        release(sqs, url, handles)
    messages = list(seen.values())
    fifo = url.endswith(".fifo")
    return Peek(messages, total, max(0, total - len(messages)), fifo=fifo, stopped_at=stopped_at)
