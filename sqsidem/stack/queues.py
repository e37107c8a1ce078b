"""The FIFO main queue and its FIFO dead-letter queue (same module: same API, same rules)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.errors import GONE
from sqsidem.names import StackNames
from sqsidem.stack.calls import Call, Calls
from sqsidem.stack.eventual import queue_name_reuse
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import TaggedKind, TeardownOptions, Where, unless_gone
from sqsidem.stack.model import Change

if TYPE_CHECKING:
    from sqsidem.aws import Aws

# Set only at creation; SetQueueAttributes rejects them.
_IMMUTABLE = {"FifoQueue"}
DLQ_RETENTION_S = 14 * 24 * 3600  # the maximum: dead letters must outlive the source's copy


@dataclass(frozen=True)
class DesiredQueue:
    name: str
    attributes: dict[str, str]
    tags: dict[str, str]


@dataclass(frozen=True)
class ObservedQueue:
    url: str
    arn: str
    attributes: dict[str, str]
    tags: dict[str, str]


def redrive_policy(dlq_arn: str, max_receive_count: int) -> str:
    return json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})


def main_attributes(
    *, key_alias: str, visibility_s: int, content_dedup: bool, dlq_arn: str, max_receive_count: int
) -> dict[str, str]:
    return {
        "FifoQueue": "true",
        "KmsMasterKeyId": key_alias,
        "VisibilityTimeout": str(visibility_s),
        "ContentBasedDeduplication": "true" if content_dedup else "false",
        "RedrivePolicy": redrive_policy(dlq_arn, max_receive_count),
    }


def dlq_attributes(*, key_alias: str) -> dict[str, str]:
    return {
        "FifoQueue": "true",
        "KmsMasterKeyId": key_alias,
        "MessageRetentionPeriod": str(DLQ_RETENTION_S),
    }


def _same(attribute: str, have: str | None, want: str) -> bool:
    if have is None:
        return False
    if attribute == "RedrivePolicy":
        # AWS gives maxReceiveCount as a string, emulators as a number.
        return _redrive(have) == _redrive(want)
    return have.lower() == want.lower() if want in ("true", "false") else have == want


def _redrive(text: str) -> tuple[str, int] | None:
    try:
        policy: dict[str, Any] = json.loads(text)
        return str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"])
    except (ValueError, KeyError, TypeError):
        return None


def changed_attributes(desired: DesiredQueue, observed: ObservedQueue) -> dict[str, str]:
    """Only attributes we set, and only those that differ (emulators return other sets)."""
    return {
        name: want
        for name, want in desired.attributes.items()
        if name not in _IMMUTABLE and not _same(name, observed.attributes.get(name), want)
    }


def needs_replace(observed: ObservedQueue) -> bool:
    return observed.attributes.get("FifoQueue", "true").lower() != "true"


def main_wanted(inputs: Inputs) -> DesiredQueue:
    options = inputs.options
    attributes = main_attributes(
        key_alias=inputs.names.key_alias,
        visibility_s=options.visibility,
        content_dedup=options.content_dedup,
        dlq_arn=inputs.dlq_arn,
        max_receive_count=options.max_receive_count,
    )
    return DesiredQueue(inputs.names.queue, attributes, inputs.names.tags)


def dlq_wanted(inputs: Inputs) -> DesiredQueue:
    attributes = dlq_attributes(key_alias=inputs.names.key_alias)
    return DesiredQueue(inputs.names.dlq, attributes, inputs.names.tags)


class QueueKind(TaggedKind[DesiredQueue, ObservedQueue]):
    """A FIFO queue; the main queue and the DLQ differ only in name and attributes."""

    def __init__(
        self,
        key: str,
        name_of: Callable[[StackNames], str],
        wanted_of: Callable[[Inputs], DesiredQueue],
    ) -> None:
        super().__init__(key, name_of)
        self._wanted_of = wanted_of

    def wanted(self, inputs: Inputs) -> DesiredQueue:
        return self._wanted_of(inputs)

    def observe(self, aws: Aws, where: Where) -> ObservedQueue | None:
        name = self.name(where.names)

        def read() -> ObservedQueue:
            url = aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attributes = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
            tags = aws.sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
            values = {str(k): v for k, v in attributes.get("Attributes", {}).items()}
            return ObservedQueue(url, values.get("QueueArn", ""), values, dict(tags))

        return unless_gone(read)

    def diff(self, desired: DesiredQueue, observed: ObservedQueue) -> tuple[Change, ...]:
        return tuple(
            Change(name, observed.attributes.get(name), want)
            for name, want in changed_attributes(desired, observed).items()
        )

    def blocked(self, desired: DesiredQueue, observed: ObservedQueue) -> str | None:
        return "not a FIFO queue; delete it first" if needs_replace(observed) else None

    def create(self, desired: DesiredQueue) -> Calls:
        params = {"QueueName": desired.name, "Attributes": desired.attributes, "tags": desired.tags}
        return (Call("sqs", "CreateQueue", params, retry=queue_name_reuse(desired.name)),)

    def update(self, desired: DesiredQueue, observed: ObservedQueue) -> Calls:
        changes = changed_attributes(desired, observed)
        if not changes:
            return ()
        return (
            Call("sqs", "SetQueueAttributes", {"QueueUrl": observed.url, "Attributes": changes}),
        )

    def tag(self, desired: DesiredQueue, observed: ObservedQueue) -> Calls:
        return (Call("sqs", "TagQueue", {"QueueUrl": observed.url, "Tags": desired.tags}),)

    def delete(self, observed: ObservedQueue, how: TeardownOptions) -> Calls:
        return (Call("sqs", "DeleteQueue", {"QueueUrl": observed.url}, tolerate=GONE),)


DLQ = QueueKind("dlq", lambda names: names.dlq, dlq_wanted)
QUEUE = QueueKind("queue", lambda names: names.queue, main_wanted)
