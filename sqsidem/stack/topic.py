"""The SNS topic the DLQ alarm notifies, encrypted with the stack's key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqsidem.errors import GONE
from sqsidem.names import StackNames
from sqsidem.stack.calls import Call, Calls
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import TaggedKind, TeardownOptions, Where, unless_gone
from sqsidem.stack.model import Change, tag_dict, tag_list

if TYPE_CHECKING:
    from sqsidem.aws import Aws

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


def topic_arn(names: StackNames, account: str, region: str, partition: str) -> str:
    from sqsidem.stack.inputs import Refs

    return Refs(account, region, partition).arn("sns", names.topic)


def _read(aws: Aws, arn: str) -> ObservedTopic | None:
    # CreateTopic would find it too, but it is a mutating call: observing must not mutate.
    def read() -> ObservedTopic:
        attributes = aws.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        pages = aws.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
        subscriptions = tuple(
            Subscription(s["SubscriptionArn"], s["Protocol"], s["Endpoint"])
            for page in pages
            for s in page.get("Subscriptions", [])
        )
        tags = aws.sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
        return ObservedTopic(arn, attributes.get("KmsMasterKeyId"), subscriptions, tag_dict(tags))

    return unless_gone(read)


class TopicKind(TaggedKind[DesiredTopic, ObservedTopic]):
    def wanted(self, inputs: Inputs) -> DesiredTopic:
        names = inputs.names
        return DesiredTopic(names.topic, inputs.topic_arn, names.key_alias, names.tags)

    def observe(self, aws: Aws, where: Where) -> ObservedTopic | None:
        return _read(aws, topic_arn(where.names, where.account, where.region, where.partition))

    def diff(self, desired: DesiredTopic, observed: ObservedTopic) -> tuple[Change, ...]:
        if observed.key_id != desired.key_alias:
            return (Change("KmsMasterKeyId", observed.key_id, desired.key_alias),)
        return ()

    def create(self, desired: DesiredTopic) -> Calls:
        params = {
            "Name": desired.name,
            "Attributes": {"KmsMasterKeyId": desired.key_alias},
            "Tags": tag_list(desired.tags),
        }
        return (Call("sns", "CreateTopic", params),)

    def update(self, desired: DesiredTopic, observed: ObservedTopic) -> Calls:
        if not self.diff(desired, observed):
            return ()
        params = {
            "TopicArn": observed.arn,
            "AttributeName": "KmsMasterKeyId",
            "AttributeValue": desired.key_alias,
        }
        return (Call("sns", "SetTopicAttributes", params),)

    def tag(self, desired: DesiredTopic, observed: ObservedTopic) -> Calls:
        params = {"ResourceArn": observed.arn, "Tags": tag_list(desired.tags)}
        return (Call("sns", "TagResource", params),)

    def teardown_note(self, observed: ObservedTopic) -> str:
        count = len(observed.subscriptions)
        return f"with {count} subscription(s)" if count else ""

    def delete(self, observed: ObservedTopic, how: TeardownOptions) -> Calls:
        """Unsubscribe what can be (pending ones have no ARN yet and go with the topic)."""
        unsubscribe = [
            Call("sns", "Unsubscribe", {"SubscriptionArn": s.arn}, tolerate=GONE)
            for s in observed.subscriptions
            if not s.pending
        ]
        return (*unsubscribe, Call("sns", "DeleteTopic", {"TopicArn": observed.arn}, tolerate=GONE))


TOPIC = TopicKind("topic", lambda names: names.topic)
