"""The FIFO main queue and its FIFO dead-letter queue (same module: same API, same rules)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.errors import GONE
from sqsidem.names import StackNames
from sqsidem.stack.calls import Call, Calls, Now
from sqsidem.stack.eventual import QUEUE_GONE_TIMEOUT_S, queue_name_reuse, wait_gone
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import TaggedKind, TeardownOptions, Where, unless_gone
from sqsidem.stack.model import Change

if TYPE_CHECKING:
    from sqsidem.aws import Aws

# Set only at creation; SetQueueAttributes rejects them.
_IMMUTABLE = {"FifoQueue"}
DLQ_RETENTION_S = 14 * 24 * 3600  # the maximum: dead letters must outlive the source's copy
# No AWS API tells a later process that a queue is being deleted (it may answer for 60 s):
# teardown tags it with the epoch first, and observation treats a fresh marker as "gone".
DELETING_TAG = "sqsidem:deleting"
# A marker older than this on a queue that still answers means the delete never happened.
DELETING_WINDOW_S = 300


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


def being_deleted(tags: dict[str, str], now: float) -> bool:
    """Tagged for deletion by a teardown less than :data:`DELETING_WINDOW_S` ago."""
    try:
        return now - float(tags[DELETING_TAG]) < DELETING_WINDOW_S
    except (KeyError, ValueError):
        return False


def _queue_gone(name: str) -> Callable[[Aws], bool]:
    def gone(aws: Aws) -> bool:
        return unless_gone(lambda: aws.sqs.get_queue_url(QueueName=name)) is None

    return gone


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

        found = unless_gone(read)
        if found is not None and not where.dying and being_deleted(found.tags, time.time()):
            return None  # a teardown deleted it moments ago: it only still answers
        return found

    def diff(self, desired: DesiredQueue, observed: ObservedQueue) -> tuple[Change, ...]:
        changes = tuple(
            Change(name, observed.attributes.get(name), want)
            for name, want in changed_attributes(desired, observed).items()
        )
        stale = observed.tags.get(DELETING_TAG)
        return changes if stale is None else (*changes, Change(f"tag {DELETING_TAG}", stale, None))

    def blocked(self, desired: DesiredQueue, observed: ObservedQueue) -> str | None:
        return "not a FIFO queue; delete it first" if needs_replace(observed) else None

    def create(self, desired: DesiredQueue) -> Calls:
        params = {"QueueName": desired.name, "Attributes": desired.attributes, "tags": desired.tags}
        return (Call("sqs", "CreateQueue", params, retry=queue_name_reuse(desired.name)),)

    def update(self, desired: DesiredQueue, observed: ObservedQueue) -> Calls:
        changes = changed_attributes(desired, observed)
        calls = []
        if changes:
            params = {"QueueUrl": observed.url, "Attributes": changes}
            calls.append(Call("sqs", "SetQueueAttributes", params))
        if DELETING_TAG in observed.tags:  # left by a teardown whose delete failed
            params = {"QueueUrl": observed.url, "TagKeys": [DELETING_TAG]}
            calls.append(Call("sqs", "UntagQueue", params))
        return tuple(calls)

    def tag(self, desired: DesiredQueue, observed: ObservedQueue) -> Calls:
        return (Call("sqs", "TagQueue", {"QueueUrl": observed.url, "Tags": desired.tags}),)

    def delete(self, observed: ObservedQueue, how: TeardownOptions) -> Calls:
        """Mark, delete, and wait until its URL no longer resolves (bounded)."""
        url, name = observed.url, _last(observed.url)
        mark = {"QueueUrl": url, "Tags": {DELETING_TAG: Now()}}
        gone = wait_gone(f"queue {name} to be gone", _queue_gone(name), QUEUE_GONE_TIMEOUT_S)
        return (
            Call("sqs", "TagQueue", mark, tolerate=GONE),
            Call("sqs", "DeleteQueue", {"QueueUrl": url}, tolerate=GONE, after=gone),
        )


def _last(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


DLQ = QueueKind("dlq", lambda names: names.dlq, dlq_wanted)
QUEUE = QueueKind("queue", lambda names: names.queue, main_wanted)
