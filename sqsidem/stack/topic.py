"""The SNS topic the DLQ alarm notifies (encrypted with the key) and its email subscription."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import error_code
from sqsidem.stack.model import Change, tag_list

_GONE = {"NotFound", "NotFoundException", "ResourceNotFoundException"}
PENDING = "PendingConfirmation"


@dataclass(frozen=True)
class DesiredTopic:
    name: str
    arn: str  # deterministic: arn:<partition>:sns:<region>:<account>:<name>
    key_alias: str
    tags: dict[str, str]


@dataclass(frozen=True)
class Subscription:
    arn: str  # "PendingConfirmation" until the person clicks the link (on AWS)
    protocol: str
    endpoint: str

    @property
    def pending(self) -> bool:
        return not self.arn.startswith("arn:")


@dataclass(frozen=True)
class ObservedTopic:
    arn: str
    key_id: str | None
    subscriptions: tuple[Subscription, ...]
    tags: dict[str, str]


def observe(aws: Aws, arn: str) -> ObservedTopic | None:
    # CreateTopic would find it too, but it is a mutating call: observing must not mutate.
    try:
        attributes = aws.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        subscriptions = tuple(
            Subscription(s["SubscriptionArn"], s["Protocol"], s["Endpoint"])
            for page in aws.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
            for s in page.get("Subscriptions", [])
        )
        tags = aws.sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
    except ClientError as exc:
        if error_code(exc) in _GONE:
            return None
        raise
    return ObservedTopic(
        arn,
        attributes.get("KmsMasterKeyId"),
        subscriptions,
        {tag["Key"]: tag["Value"] for tag in tags},
    )


def diff(desired: DesiredTopic, observed: ObservedTopic) -> tuple[Change, ...]:
    if observed.key_id != desired.key_alias:
        return (Change("KmsMasterKeyId", observed.key_id, desired.key_alias),)
    return ()


def create(aws: Aws, desired: DesiredTopic) -> str:
    return aws.sns.create_topic(
        Name=desired.name,
        Attributes={"KmsMasterKeyId": desired.key_alias},
        Tags=tag_list(desired.tags),
    )["TopicArn"]


def update(aws: Aws, desired: DesiredTopic, observed: ObservedTopic) -> None:
    if observed.key_id != desired.key_alias:
        aws.sns.set_topic_attributes(
            TopicArn=observed.arn, AttributeName="KmsMasterKeyId", AttributeValue=desired.key_alias
        )


def tag(aws: Aws, observed: ObservedTopic, tags: dict[str, str]) -> None:
    aws.sns.tag_resource(ResourceArn=observed.arn, Tags=tag_list(tags))


def find_email(observed: ObservedTopic | None, email: str) -> Subscription | None:
    if observed is None:
        return None
    return next(
        (
            s
            for s in observed.subscriptions
            if s.protocol == "email" and s.endpoint.lower() == email.lower()
        ),
        None,
    )


def subscribe_email(aws: Aws, topic_arn: str, email: str) -> str:
    """Returns the subscription ARN, or "pending confirmation" as AWS says before the click."""
    return aws.sns.subscribe(
        TopicArn=topic_arn, Protocol="email", Endpoint=email, ReturnSubscriptionArn=True
    ).get("SubscriptionArn", PENDING)


def delete(aws: Aws, observed: ObservedTopic) -> None:
    """Unsubscribe what can be (pending ones have no ARN yet and go with the topic)."""
    for subscription in observed.subscriptions:
        if subscription.pending:
            continue
        try:
            aws.sns.unsubscribe(SubscriptionArn=subscription.arn)
        except ClientError as exc:
            if error_code(exc) not in _GONE:
                raise
    try:
        aws.sns.delete_topic(TopicArn=observed.arn)
    except ClientError as exc:
        if error_code(exc) not in _GONE:
            raise
