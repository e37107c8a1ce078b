"""The FIFO main queue and its FIFO dead-letter queue (same module: same API, same rules)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import error_code
from sqsidem.stack.model import Change
from sqsidem.stack.retry import QUEUE_NAME_REUSE, Pacing, is_queue_deleted_recently, retrying

_GONE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
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


def observe(aws: Aws, name: str) -> ObservedQueue | None:
    try:
        url = aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        tags = aws.sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
    except ClientError as exc:
        if error_code(exc) in _GONE:
            return None
        raise
    values: dict[str, str] = {str(k): v for k, v in attributes.get("Attributes", {}).items()}
    return ObservedQueue(url, values.get("QueueArn", ""), values, dict(tags))


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


def diff(desired: DesiredQueue, observed: ObservedQueue) -> tuple[Change, ...]:
    return tuple(
        Change(name, observed.attributes.get(name), want)
        for name, want in changed_attributes(desired, observed).items()
    )


def needs_replace(observed: ObservedQueue) -> bool:
    return observed.attributes.get("FifoQueue", "true").lower() != "true"


def create(aws: Aws, desired: DesiredQueue, pacing: Pacing) -> ObservedQueue:
    def call() -> str:
        return aws.sqs.create_queue(
            QueueName=desired.name,
            Attributes=desired.attributes,  # type: ignore[arg-type]
            tags=desired.tags,
        )["QueueUrl"]

    url = retrying(
        call,
        retryable=is_queue_deleted_recently,
        backoff=QUEUE_NAME_REUSE,
        sleep=pacing.sleep,
        notify=pacing.notify,
        what=f"queue {desired.name} was deleted less than 60 s ago and AWS forbids reusing "
        "its name until then",
    )
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return ObservedQueue(url, arn, dict(desired.attributes), dict(desired.tags))


def update(aws: Aws, desired: DesiredQueue, observed: ObservedQueue) -> None:
    changes = changed_attributes(desired, observed)
    if changes:
        aws.sqs.set_queue_attributes(QueueUrl=observed.url, Attributes=changes)  # type: ignore[arg-type]


def tag(aws: Aws, observed: ObservedQueue, tags: dict[str, str]) -> None:
    aws.sqs.tag_queue(QueueUrl=observed.url, Tags=tags)


def delete(aws: Aws, observed: ObservedQueue) -> None:
    try:
        aws.sqs.delete_queue(QueueUrl=observed.url)
    except ClientError as exc:
        if error_code(exc) not in _GONE:
            raise
