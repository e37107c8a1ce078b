"""The stack's alert topic: publish a test notification, subscribe an email, list subscribers."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqsidem.errors import NotFoundError, UsageError, is_gone
from sqsidem.jsondata import fields

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.names import StackNames

# AWS answers this instead of an ARN until the address owner confirms (emulators confirm at once).
PENDING = "pending confirmation"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str
    arn: str | None  # None while the subscription waits for confirmation

    @property
    def pending(self) -> bool:
        return self.arn is None

    def as_dict(self) -> dict[str, object]:
        return fields(
            self, "protocol", "endpoint", subscription_arn="arn", pending_confirmation="pending"
        )


def _is_pending(arn: str | None) -> bool:
    return not arn or arn.strip().lower().replace(" ", "") == "pendingconfirmation"


def topic_arn(aws: Aws, names: StackNames) -> str:
    """The stack topic's ARN (built from the caller's partition and account, then checked)."""
    from botocore.exceptions import ClientError

    from sqsidem.stack.topic import topic_arn as stack_topic_arn

    arn = stack_topic_arn(names, aws.account_id(), aws.region, aws.partition())
    try:
        aws.sns.get_topic_attributes(TopicArn=arn)
    except ClientError as exc:
        if is_gone(exc):
            raise NotFoundError(
                f"topic {names.topic} of stack {names.stack!r} does not exist",
                f"run `sqsidem --stack {names.stack} setup` first",
            ) from exc
        raise
    return arn


def publish_test(aws: Aws, names: StackNames, *, now_s: float | None = None) -> dict[str, str]:
    """Publish a clearly labelled test notification; the topic ARN and the message id."""
    arn = topic_arn(aws, names)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now_s is None else now_s))
    response = aws.sns.publish(
        TopicArn=arn,
        Subject=f"sqsidem test notification (stack {names.stack})",
        Message=(
            f"This is a test notification from sqsidem for stack {names.stack!r}, sent {when}.\n"
            f"Real alerts on this topic mean messages arrived in {names.dlq}; "
            f"see them with `sqsidem --stack {names.stack} dlq list`."
        ),
    )
    return {"topic_arn": arn, "message_id": response["MessageId"]}


def validate_email(address: str) -> str:
    if not _EMAIL.fullmatch(address.strip()):
        raise UsageError(f"invalid email address {address!r}", "give it as name@example.com")
    return address.strip()


def subscribe_email(aws: Aws, names: StackNames, address: str) -> Subscription:
    """Subscribe an email address; on AWS it stays pending until the owner confirms."""
    address = validate_email(address)
    arn = topic_arn(aws, names)
    response = aws.sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
    value = response.get("SubscriptionArn")
    return Subscription("email", address, None if _is_pending(value) else value)


def list_subscriptions(aws: Aws, names: StackNames) -> tuple[str, list[Subscription]]:
    arn = topic_arn(aws, names)
    found: list[Subscription] = []
    paginator = aws.sns.get_paginator("list_subscriptions_by_topic")
    for page in paginator.paginate(TopicArn=arn):
        for item in page.get("Subscriptions", []):
            value = item.get("SubscriptionArn")
            found.append(
                Subscription(
                    str(item.get("Protocol", "")),
                    str(item.get("Endpoint", "")),
                    None if _is_pending(value) else value,
                )
            )
    return arn, found
