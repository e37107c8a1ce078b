"""notify test / subscribe / list against moto, and the 'pending confirmation' answer (Stubber)."""

from __future__ import annotations

import pytest
from botocore.stub import ANY, Stubber

from sqsidem import notify
from sqsidem.aws import Aws
from sqsidem.errors import NotFoundError, UsageError
from sqsidem.names import names_for


def test_publish_subscribe_and_list(moto_aws: Aws) -> None:
    """A test notification is published; an email subscription shows up in the list."""
    names = names_for("t1")
    arn = moto_aws.sns.create_topic(Name=names.topic)["TopicArn"]

    sent = notify.publish_test(moto_aws, names)
    subscription = notify.subscribe_email(moto_aws, names, "ops@example.com")
    topic, subscriptions = notify.list_subscriptions(moto_aws, names)

    assert sent["topic_arn"] == arn == topic and sent["message_id"]
    assert subscription.endpoint == "ops@example.com"
    assert [(s.protocol, s.endpoint) for s in subscriptions] == [("email", "ops@example.com")]


def test_pending_confirmation_is_not_an_arn(moto_aws: Aws) -> None:
    """AWS answers 'pending confirmation' until the address owner confirms."""
    names = names_for("t1")
    moto_aws.sns.create_topic(Name=names.topic)
    moto_aws.sts.get_caller_identity()  # real call before stubbing sns only
    with Stubber(moto_aws.sns) as stub:
        stub.add_response("get_topic_attributes", {"Attributes": {}}, {"TopicArn": ANY})
        stub.add_response("subscribe", {"SubscriptionArn": "pending confirmation"})
        subscription = notify.subscribe_email(moto_aws, names, "ops@example.com")
    assert subscription.pending and subscription.arn is None


def test_missing_topic_and_bad_email(moto_aws: Aws) -> None:
    """No topic: NotFoundError (exit 1); a bad address: UsageError before any call."""
    names = names_for("t1")
    with pytest.raises(UsageError):
        notify.subscribe_email(moto_aws, names, "not-an-address")
    with pytest.raises(NotFoundError) as caught:
        notify.publish_test(moto_aws, names)
    assert "sqsidem --stack t1 setup" in caught.value.one_line()
