"""apply makes exactly the calls the plan lists (and --dry-run shows): fresh, drifted, converged."""

from __future__ import annotations

import json

import pytest

from sqsidem.aws import Aws
from sqsidem.names import names_for
from sqsidem.retry import instant
from sqsidem.stack.model import Plan
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.setup import plan_setup, prepare, run_setup
from tests.functional.stack_recorder import (
    Made,
    assert_made_as_planned,
    planned_calls,
    recording,
)

STACK = "k1"
OPTIONS = SetupOptions(notify_email="ops@example.com", max_concurrency=5)


def plan_and_apply(aws: Aws, options: SetupOptions = OPTIONS) -> tuple[Plan, list[Made]]:
    """Plan (reads only), then apply; the mutating calls each made, in order."""
    hooked, recorder = recording(aws)
    planned = plan_setup(hooked, prepare(names_for(STACK), options))
    assert recorder.made == [], "planning must not mutate"
    run_setup(hooked, planned, pacing=instant())
    return planned.plan, recorder.made


def test_fresh_stack_makes_exactly_the_planned_calls(moto_aws: Aws) -> None:
    """Every kind is created, call for call as listed; the new key's id fills the reference."""
    plan, made = plan_and_apply(moto_aws)
    assert_made_as_planned(plan, made)
    assert [(s.kind, s.action) for s in plan.steps if s.calls] == [
        (s.kind, "create") for s in plan.steps
    ]
    create_key, create_alias = made[0], made[1]
    assert (create_key.operation, create_alias.operation) == ("CreateKey", "CreateAlias")
    assert create_alias.params["TargetKeyId"] == create_key.answer["KeyMetadata"]["KeyId"]
    key_policy = next(
        m
        for m in made
        if m.operation == "PutRolePolicy" and m.params["PolicyName"] == "sqsidem-key"
    )
    granted = json.loads(key_policy.params["PolicyDocument"])["Statement"][0]["Resource"]
    assert granted == create_key.answer["KeyMetadata"]["Arn"]


def test_converged_stack_plans_and_makes_no_call(moto_aws: Aws) -> None:
    """A second run lists no call and makes none."""
    plan_and_apply(moto_aws)
    plan, made = plan_and_apply(moto_aws)
    assert plan.converged and planned_calls(plan) == []
    assert made == []


@pytest.mark.parametrize("trigger", [True, False], ids=["trigger", "no-trigger"])
def test_drifted_stack_makes_exactly_the_planned_calls(moto_aws: Aws, trigger: bool) -> None:
    """Hand-made drift in six kinds (and a key gone bad) is repaired by the listed calls only."""
    options = SetupOptions(notify_email="ops@example.com", trigger=trigger)
    plan_and_apply(moto_aws, options)
    names = names_for(STACK)
    url = moto_aws.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    moto_aws.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "40"})
    moto_aws.iam.delete_role_policy(RoleName=names.role, PolicyName="sqsidem-table")
    moto_aws.logs.put_retention_policy(logGroupName=names.log_group, retentionInDays=30)
    moto_aws.sns.set_topic_attributes(
        TopicArn=moto_aws.sns.list_topics()["Topics"][0]["TopicArn"],
        AttributeName="KmsMasterKeyId",
        AttributeValue="alias/other",
    )
    moto_aws.lambda_.update_function_configuration(FunctionName=names.function, MemorySize=512)
    key_id = moto_aws.kms.describe_key(KeyId=names.key_alias)["KeyMetadata"]["KeyId"]
    moto_aws.kms.disable_key(KeyId=key_id)

    plan, made = plan_and_apply(moto_aws, options)
    assert_made_as_planned(plan, made)
    changed = {s.kind: s.action for s in plan.steps if s.calls}
    assert changed == {
        "key": "replace",
        "queue": "update",
        "log_group": "update",
        "role": "update",
        "function": "update",
        "topic": "update",
    }
    assert [m.operation for m in made][:2] == ["CreateKey", "UpdateAlias"]
    assert made[1].params["TargetKeyId"] == made[0].answer["KeyMetadata"]["KeyId"]
    again, made_again = plan_and_apply(moto_aws, options)
    assert again.converged and made_again == []


def test_drift_in_the_trigger_and_a_missing_function(moto_aws: Aws) -> None:
    """A deleted function and its trigger come back, as listed, nothing else is touched."""
    plan_and_apply(moto_aws)
    names = names_for(STACK)
    moto_aws.lambda_.delete_function(FunctionName=names.function)
    plan, made = plan_and_apply(moto_aws)
    assert_made_as_planned(plan, made)
    assert [m.operation for m in made] == ["CreateFunction", "CreateEventSourceMapping"]
