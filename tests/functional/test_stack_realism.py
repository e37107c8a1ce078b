"""setup and teardown meet AWS's slowness (issue 12, items 1, 2, 4, 6, 7): on moto, under
the realism layer, on a fake clock shared by the layer and the code's waits."""

from __future__ import annotations

import json
import time as wall

import pytest
from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import SqsidemError
from sqsidem.names import StackNames, names_for
from sqsidem.stack.mapping import DELETE_TIMEOUT_S
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.setup import converge, plan_setup, prepare
from sqsidem.stack.teardown import plan_teardown, run_teardown
from tests.realism import Behaviours, FakeTime, Realism

NAMES = names_for("real")
DELETING_TAG = "sqsidem:deleting"  # the marker teardown puts on a queue before deleting it
OPTIONS = SetupOptions(timeout_s=2, visibility_timeout_s=4, max_receive_count=2)


def layer(moto_aws: Aws, behaviours: Behaviours) -> tuple[Aws, Realism, FakeTime]:
    time = FakeTime()
    realism = Realism(behaviours, clock=time.clock)
    return realism.wrap(moto_aws), realism, time


def setup(aws: Aws, time: FakeTime, options: SetupOptions = OPTIONS) -> dict[str, str]:
    """One setup run on the fake clock; each resource's action."""
    planned, _ = converge(aws, prepare(NAMES, options), pacing=time.pacing())
    return {step.kind: step.action for step in planned.plan.steps}


def teardown(aws: Aws, time: FakeTime, names: StackNames = NAMES) -> None:
    run_teardown(aws, names, plan_teardown(aws, names), pacing=time.pacing())


def resolves(call: object) -> bool:
    try:
        call()  # type: ignore[operator]
    except ClientError:
        return False
    return True


def test_teardown_returns_only_when_queues_and_table_are_gone(moto_aws: Aws) -> None:
    """Item 1: a deleted queue answers for a while and a table stays DELETING; teardown waits
    (by time, saying so) until neither answers any more."""
    behaviours = Behaviours(queue_ghost_s=40, queue_reuse_s=60, table_deleting_s=25)
    aws, realism, time = layer(moto_aws, behaviours)
    setup(aws, time)
    started = time.now
    teardown(aws, time)
    assert not resolves(lambda: aws.sqs.get_queue_url(QueueName=NAMES.queue))
    assert not resolves(lambda: aws.sqs.get_queue_url(QueueName=NAMES.dlq))
    assert not resolves(lambda: aws.dynamodb.describe_table(TableName=NAMES.table))
    assert time.now - started >= 40
    assert any(f"queue {NAMES.queue} to be gone" in note for note in time.notes)
    assert any(f"table {NAMES.table} to be deleted" in note for note in time.notes)
    assert realism.fired("queue-ghost") and realism.fired("table-deleting")


def test_setup_right_after_a_delete_builds_new_resources(moto_aws: Aws) -> None:
    """Item 1: a queue tagged sqsidem:deleting that still answers, and a DELETING table, read
    as missing; setup waits for their names and builds anew (not on the dying ones)."""
    behaviours = Behaviours(queue_ghost_s=40, queue_reuse_s=60, table_deleting_s=25)
    aws, realism, time = layer(moto_aws, behaviours)
    setup(aws, time)
    for name in (NAMES.queue, NAMES.dlq):  # what an interrupted teardown leaves behind
        url = aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        aws.sqs.tag_queue(QueueUrl=url, Tags={DELETING_TAG: str(int(wall.time()))})
        aws.sqs.delete_queue(QueueUrl=url)
    aws.dynamodb.delete_table(TableName=NAMES.table)
    planned = plan_setup(aws, prepare(NAMES, OPTIONS)).plan
    actions = {step.kind: step.action for step in planned.steps}
    assert actions["queue"] == actions["dlq"] == actions["table"] == "create", actions
    assert setup(aws, time)["queue"] == "create"
    assert realism.fired("queue-reuse") and realism.fired("table-deleting")
    assert plan_setup(aws, prepare(NAMES, OPTIONS)).plan.converged
    queue_url = aws.sqs.get_queue_url(QueueName=NAMES.queue)["QueueUrl"]
    assert DELETING_TAG not in aws.sqs.list_queue_tags(QueueUrl=queue_url).get("Tags", {})


def test_an_old_deletion_marker_on_a_live_queue_is_removed(moto_aws: Aws) -> None:
    """A marker left by a teardown whose delete failed does not hide a live queue for ever."""
    aws, _, time = layer(moto_aws, Behaviours())
    setup(aws, time)
    url = aws.sqs.get_queue_url(QueueName=NAMES.queue)["QueueUrl"]
    aws.sqs.tag_queue(QueueUrl=url, Tags={DELETING_TAG: str(int(wall.time()) - 3600)})
    assert setup(aws, time)["queue"] == "update"
    assert DELETING_TAG not in aws.sqs.list_queue_tags(QueueUrl=url).get("Tags", {})


def test_teardown_again_finishes_a_queue_whose_delete_failed_after_the_mark(
    moto_aws: Aws,
) -> None:
    """A teardown marked the queues, then its DeleteQueue failed (denied, interrupted): the
    next teardown must still see them and delete them, not take them for already gone."""
    aws, _, time = layer(moto_aws, Behaviours())
    setup(aws, time)
    for name in (NAMES.queue, NAMES.dlq):
        url = aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        aws.sqs.tag_queue(QueueUrl=url, Tags={DELETING_TAG: str(int(wall.time()))})
    teardown(aws, time)
    assert not resolves(lambda: aws.sqs.get_queue_url(QueueName=NAMES.queue))
    assert not resolves(lambda: aws.sqs.get_queue_url(QueueName=NAMES.dlq))


def test_iam_propagation_is_waited_for_by_time(moto_aws: Aws) -> None:
    """Item 2: a role usable only after 90 s (past the old ~55 s of attempts) is waited for,
    with a progress line that says how long at most."""
    aws, realism, time = layer(moto_aws, Behaviours(iam_delay_s=90))
    actions = setup(aws, time)
    assert actions["function"] == "create" and actions["mapping"] == "create"
    assert realism.fired("iam") >= 2
    assert any("IAM propagation); waiting up to 2 min" in note for note in time.notes)


def test_trigger_waits_minutes_for_a_changed_role_policy(moto_aws: Aws) -> None:
    """Item 2: after a role policy change, the trigger is retried for up to 5 minutes."""
    aws, realism, time = layer(moto_aws, Behaviours(iam_delay_s=100))
    setup(aws, time, SetupOptions(timeout_s=2, visibility_timeout_s=4, trigger=False))
    policies = aws.iam.list_role_policies(RoleName=NAMES.role)["PolicyNames"]
    document = aws.iam.get_role_policy(RoleName=NAMES.role, PolicyName=policies[0])
    body = json.dumps(document["PolicyDocument"])
    aws.iam.put_role_policy(RoleName=NAMES.role, PolicyName=policies[0], PolicyDocument=body)
    started = time.now
    assert setup(aws, time)["mapping"] == "create"
    assert time.now - started >= 100
    assert any("IAM propagation); waiting up to 5 min" in note for note in time.notes)
    assert realism.fired("iam") >= 2


def test_teardown_right_after_setup_waits_for_a_creating_trigger(moto_aws: Aws) -> None:
    """Item 4: a trigger still Creating refuses deletion; teardown retries, bounded."""
    aws, realism, time = layer(moto_aws, Behaviours(mapping_transition_s=30))
    setup(aws, time)
    teardown(aws, time)
    assert realism.fired("mapping-in-use") >= 1
    assert realism.fired("mapping-deleting") >= 1
    assert not resolves(lambda: aws.lambda_.get_function(FunctionName=NAMES.function))


def test_a_trigger_stuck_deleting_ends_teardown_with_a_clear_error(moto_aws: Aws) -> None:
    """The wait for a deleted trigger is bounded by time and names what it waited for."""
    aws, _, time = layer(moto_aws, Behaviours(mapping_transition_s=10_000))
    setup(aws, time)
    time.sleep(10_000)
    with pytest.raises(SqsidemError, match=r"trigger .* to be deleted"):
        teardown(aws, time)
    assert time.now - 10_000 < DELETE_TIMEOUT_S + 30


def test_a_trigger_created_right_after_a_visibility_change_is_retried(moto_aws: Aws) -> None:
    """Item 6: the queue's new visibility timeout reaches Lambda late; the rejection
    ("less than function timeout") is retried until it has propagated."""
    aws, realism, time = layer(moto_aws, Behaviours(attribute_lag_s=45))
    setup(aws, time, SetupOptions(timeout_s=2, visibility_timeout_s=4, trigger=False))
    longer = SetupOptions(timeout_s=10, visibility_timeout_s=20, max_receive_count=2)
    actions = setup(aws, time, longer)
    assert actions["queue"] == "update" and actions["mapping"] == "create"
    assert realism.fired("attribute-lag") >= 1
    assert any("visibility timeout has not reached Lambda" in note for note in time.notes)


def test_switching_an_adopted_tables_ttl_is_refused_up_front(moto_aws: Aws) -> None:
    """Item 7: a table whose TTL is on another attribute would need two UpdateTimeToLive
    calls within the hour: setup refuses before any change, and says what to do."""
    aws, realism, time = layer(moto_aws, Behaviours(ttl_interval_s=3600))
    aws.dynamodb.create_table(
        TableName=NAMES.table,
        KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    spec = {"Enabled": True, "AttributeName": "valid_until"}
    aws.dynamodb.update_time_to_live(TableName=NAMES.table, TimeToLiveSpecification=spec)
    adopt = SetupOptions(timeout_s=2, visibility_timeout_s=4, adopt=True)
    with pytest.raises(SqsidemError) as refused:
        setup(aws, time, adopt)
    line = refused.value.one_line()
    assert "valid_until" in line and "update-time-to-live" in line and "hour" in line
    assert "not stack" not in line  # it is not about ownership
    ttl = aws.dynamodb.describe_time_to_live(TableName=NAMES.table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "valid_until"
    assert realism.fired("ttl-once-per-hour") == 0
    assert not resolves(lambda: aws.sqs.get_queue_url(QueueName=NAMES.queue))  # nothing built


def test_a_table_without_ttl_still_gets_it(moto_aws: Aws) -> None:
    """A table without TTL still just gets it (one call, allowed)."""
    aws, _, time = layer(moto_aws, Behaviours(ttl_interval_s=3600))
    setup(aws, time)
    spec = {"Enabled": False, "AttributeName": "expiration"}
    time.sleep(3600)
    aws.dynamodb.update_time_to_live(TableName=NAMES.table, TimeToLiveSpecification=spec)
    time.sleep(3600)
    assert setup(aws, time)["table"] == "update"
    described = aws.dynamodb.describe_time_to_live(TableName=NAMES.table)
    assert described["TimeToLiveDescription"]["AttributeName"] == "expiration"
