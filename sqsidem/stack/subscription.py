"""The email subscription of the alarm topic (`setup --notify-email`).

It has no tags of its own: it belongs to the topic, is read with it, and goes with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqsidem.stack.calls import Call, Calls
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import (
    DesiredStack,
    Follower,
    ObservedStack,
    TeardownOptions,
    Where,
)
from sqsidem.stack.model import Change, Step
from sqsidem.stack.topic import TOPIC, ObservedTopic, Subscription

if TYPE_CHECKING:
    from sqsidem.aws import Aws

Subscriptions = tuple[Subscription, ...]


def find_email(observed: ObservedTopic | Subscriptions | None, email: str) -> Subscription | None:
    found = observed.subscriptions if isinstance(observed, ObservedTopic) else observed or ()
    wanted = email.lower()
    return next((s for s in found if s.protocol == "email" and s.endpoint.lower() == wanted), None)


@dataclass(frozen=True)
class EmailSubscription:
    """What the stack wants: this address subscribed to this topic."""

    topic_arn: str
    email: str


class SubscriptionKind(Follower[EmailSubscription, Subscriptions]):
    parent = TOPIC.key

    def wanted(self, inputs: Inputs) -> EmailSubscription | None:
        email = inputs.options.notify_email
        return EmailSubscription(inputs.topic_arn, email) if email else None

    def observe(self, aws: Aws, where: Where) -> Subscriptions:
        del aws  # read with the topic
        topic = TOPIC.seen_in(where.seen)
        return topic.subscriptions if topic is not None else ()

    def diff(self, desired: EmailSubscription, observed: Subscriptions) -> tuple[Change, ...]:
        del desired, observed
        return ()

    def create(self, desired: EmailSubscription) -> Calls:
        params = {
            "TopicArn": desired.topic_arn,
            "Protocol": "email",
            "Endpoint": desired.email,
            "ReturnSubscriptionArn": True,
        }
        return (Call("sns", "Subscribe", params),)

    def update(self, desired: EmailSubscription, observed: Subscriptions) -> Calls:
        del desired, observed
        return ()

    def delete(self, observed: Subscriptions, how: TeardownOptions) -> Calls:
        del observed, how
        return ()  # the topic's delete unsubscribes (and teardown lists it with the topic)

    def plan(
        self, stack: DesiredStack, seen: ObservedStack, *, adopt: bool, earlier: Mapping[str, Step]
    ) -> Step | None:
        del adopt
        wanted = self.wanted_in(stack)
        if wanted is None:
            return None
        orphaned = self.orphaned(wanted.email, "the topic", earlier)
        if orphaned is not None:
            return orphaned
        found = find_email(self.seen_in(seen), wanted.email)
        if found is None:
            note = "email: confirm the link AWS sends"
            return Step(self.key, wanted.email, "create", (), note, self.create(wanted))
        note = "pending confirmation" if found.pending else ""
        return Step(self.key, wanted.email, "unchanged", (), note)


SUBSCRIPTION = SubscriptionKind("subscription", lambda names: names.topic)
