"""The DLQ and its source queue, confirmed through the source's RedrivePolicy.

ministack has no ListDeadLetterSourceQueues, so the source is the stack's main queue and the
link is checked from its side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.errors import NotFoundError
from sqsidem.resolve import dlq_url, main_queue_url, queue_arn

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.names import StackNames


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
