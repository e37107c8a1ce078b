"""setup / dry run / re-run / adopt / teardown / status on moto, counting mutating calls."""

from __future__ import annotations

import json

import pytest

from sqsidem.aws import Aws
from sqsidem.errors import PartialFailure, SqsidemError
from sqsidem.names import names_for
from sqsidem.retry import instant
from sqsidem.stack.function import FUNCTION
from sqsidem.stack.log_group import LOG_GROUP
from sqsidem.stack.mapping import MAPPING
from sqsidem.stack.observe import observe_stack
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.queues import QUEUE
from sqsidem.stack.setup import converge, plan_setup, prepare, run_setup
from sqsidem.stack.status import stack_status
from sqsidem.stack.teardown import plan_teardown, run_teardown
from tests.functional.stack_recorder import recording

STACK = "s1"


def setup(aws: Aws, options: SetupOptions | None = None, stack: str = STACK) -> list[str]:
    planned = plan_setup(aws, prepare(names_for(stack), options or SetupOptions()))
    return [s.kind for s in run_setup(aws, planned, pacing=instant()).applied]


def test_dry_run_on_empty_account_is_all_create_and_mutates_nothing(moto_aws: Aws) -> None:
    """Planning reads only: every resource is create, no mutating call."""
    aws, recorder = recording(moto_aws)
    planned = plan_setup(aws, prepare(names_for(STACK), SetupOptions(notify_email="a@b.io")))
    assert {s.action for s in planned.plan.steps} == {"create"}
    assert len(planned.plan.steps) == 11
    assert recorder.made == []


@pytest.mark.parametrize("trigger", [True, False], ids=["trigger", "no-trigger"])
def test_second_setup_makes_no_mutating_call(moto_aws: Aws, trigger: bool) -> None:
    """Converged after one run; the second run calls nothing that changes AWS."""
    options = SetupOptions(notify_email="ops@example.com", max_concurrency=5, trigger=trigger)
    assert len(setup(moto_aws, options)) == (11 if trigger else 10)
    aws, recorder = recording(moto_aws)
    assert setup(aws, options) == []
    assert recorder.made == []


def test_changed_settings_update_in_place(moto_aws: Aws) -> None:
    """Batch size, timeout, memory, retention, max receive count: updated, then converged."""
    setup(moto_aws)
    changed = SetupOptions(
        batch_size=5, timeout_s=4, memory_mb=256, log_retention_days=30, max_receive_count=7
    )
    assert set(setup(moto_aws, changed)) == {"queue", "log_group", "function", "mapping"}
    seen = observe_stack(moto_aws, names_for(STACK))
    function, group, queue = FUNCTION.seen_in(seen), LOG_GROUP.seen_in(seen), QUEUE.seen_in(seen)
    assert function is not None and function.timeout_s == 4
    assert function.memory_mb == 256
    assert (MAPPING.seen_in(seen) or ())[0].batch_size == 5
    assert group is not None and group.retention_days == 30
    assert queue is not None
    assert json.loads(queue.attributes["RedrivePolicy"])["maxReceiveCount"] in (7, "7")
    assert setup(moto_aws, changed) == []


def test_half_done_setup_is_completed_by_a_rerun(moto_aws: Aws) -> None:
    """A missing resource (say, deleted function) is re-created; the rest stays."""
    setup(moto_aws)
    moto_aws.lambda_.delete_function(FunctionName=names_for(STACK).function)
    assert setup(moto_aws) == ["function", "mapping"]


def test_untagged_resources_refused_then_adopted(moto_aws: Aws) -> None:
    """A hand-built queue with our name blocks setup (one clear error) until --adopt."""
    names = names_for(STACK)
    moto_aws.sqs.create_queue(QueueName=names.dlq, Attributes={"FifoQueue": "true"})
    aws, recorder = recording(moto_aws)
    with pytest.raises(SqsidemError) as caught:
        setup(aws)
    assert recorder.made == []
    assert "dlq s1-queue-dlq.fifo" in caught.value.one_line()
    assert "--adopt" in caught.value.one_line()
    setup(moto_aws, SetupOptions(adopt=True))
    url = moto_aws.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]
    assert moto_aws.sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"sqsidem:stack": STACK}
    assert setup(moto_aws) == []


def test_status_converged_then_drifted_then_missing(moto_aws: Aws) -> None:
    """status: all exist; a removed permission is drift; a deleted alarm is missing."""
    setup(moto_aws)
    names = names_for(STACK)
    report = stack_status(moto_aws, names)
    assert report.ok, report.as_dict()
    assert report.queue == {"visible": 0, "in_flight": 0, "delayed": 0}
    assert report.dlq_depth == 0
    assert report.mapping_state == "Enabled"
    assert report.alarm_state is not None
    moto_aws.dynamodb.put_item(TableName=names.table, Item={"transaction_id": {"S": "old"}})
    moto_aws.iam.delete_role_policy(RoleName=names.role, PolicyName="sqsidem-table")
    moto_aws.cloudwatch.delete_alarms(AlarmNames=[names.alarm])
    report = stack_status(moto_aws, names)
    states = {r.kind: r.state for r in report.resources}
    assert states["role"] == "drifted" and states["alarm"] == "missing"
    assert not report.ok
    assert report.locks is not None and report.locks.by_state == {"completed": 1}


def test_status_keeps_tuned_settings_as_converged(moto_aws: Aws) -> None:
    """A stack set up with non-default values is not reported as drifted."""
    setup(moto_aws, SetupOptions(timeout_s=5, batch_size=7, log_retention_days=30))
    assert stack_status(moto_aws, names_for(STACK)).ok


def test_teardown_removes_everything_and_tolerates_reruns(moto_aws: Aws) -> None:
    """Everything goes (key scheduled); a second teardown finds nothing to delete."""
    setup(moto_aws, SetupOptions(notify_email="ops@example.com"))
    names = names_for(STACK)
    key_id = moto_aws.kms.describe_key(KeyId=names.key_alias)["KeyMetadata"]["KeyId"]
    plan = plan_teardown(moto_aws, names)
    assert {i.action for i in plan.items} == {"delete"}
    result = run_teardown(moto_aws, names, plan, pacing=instant())
    assert len(result.deleted) == 10  # the subscription goes with its topic
    assert observe_stack(moto_aws, names).empty
    state = moto_aws.kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]
    assert state == "PendingDeletion"
    again = plan_teardown(moto_aws, names)
    assert not again.to_delete
    assert setup(moto_aws)  # and it comes back with a new key


def test_teardown_keeps_what_is_not_ours(moto_aws: Aws) -> None:
    """Another stack's or an untagged resource with our name is reported and left alone."""
    setup(moto_aws)
    names = names_for(STACK)
    moto_aws.dynamodb.untag_resource(
        ResourceArn=moto_aws.dynamodb.describe_table(TableName=names.table)["Table"]["TableArn"],
        TagKeys=["sqsidem:stack"],
    )
    plan = plan_teardown(moto_aws, names, keep_logs=True)
    by_kind = {i.kind: i for i in plan.items}
    assert by_kind["table"].action == "not-ours"
    assert by_kind["log_group"].action == "keep"
    run_teardown(moto_aws, names, plan, pacing=instant())
    moto_aws.dynamodb.describe_table(TableName=names.table)
    assert moto_aws.logs.describe_log_groups(logGroupNamePrefix=names.log_group)["logGroups"]


def test_teardown_reports_partial_failure(moto_aws: Aws) -> None:
    """A failing delete is reported as a PartialFailure naming the resource."""
    setup(moto_aws)
    names = names_for(STACK)
    plan = plan_teardown(moto_aws, names)
    # A policy attached behind sqsidem's back after planning makes DeleteRole fail.
    arn = moto_aws.iam.create_policy(
        PolicyName="extra",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}
                ],
            }
        ),
    )["Policy"]["Arn"]
    moto_aws.iam.attach_role_policy(RoleName=names.role, PolicyArn=arn)
    with pytest.raises(PartialFailure, match="role"):
        run_teardown(moto_aws, names, plan, pacing=instant())
    moto_aws.iam.detach_role_policy(RoleName=names.role, PolicyArn=arn)
    run_teardown(moto_aws, names, plan_teardown(moto_aws, names), pacing=instant())
    assert not plan_teardown(moto_aws, names).to_delete


def test_no_trigger_and_processor(moto_aws: Aws, tmp_path: object) -> None:
    """--no-trigger: no mapping; --processor: env names sqsidem_processor:function."""
    from pathlib import Path

    from sqsidem.build.sources import parse_processor

    source = Path(str(tmp_path)) / "proc.py"
    source.write_text("def handle(record):\n    pass\n")
    options = SetupOptions(trigger=False, processor=parse_processor(f"{source}:handle"))
    kinds = setup(moto_aws, options)
    assert "mapping" not in kinds
    seen = observe_stack(moto_aws, names_for(STACK))
    function = FUNCTION.seen_in(seen)
    assert MAPPING.seen_in(seen) == ()
    assert function is not None
    assert function.environment["SQSIDEM_PROCESSOR"] == "sqsidem_processor:handle"
    assert setup(moto_aws, options) == []


def function_arn(aws: Aws, stack: str = STACK) -> str:
    config = aws.lambda_.get_function(FunctionName=names_for(stack).function)["Configuration"]
    return str(config["FunctionArn"])


def function_tags(aws: Aws, stack: str = STACK) -> dict[str, str]:
    """The function's tags but the recorded setup options (tested in test_recorded_options)."""
    tags = aws.lambda_.list_tags(Resource=function_arn(aws, stack))["Tags"]
    return {k: v for k, v in tags.items() if not k.startswith("sqsidem:setup:")}


def test_no_trigger_stack_is_healthy_in_status(moto_aws: Aws) -> None:
    """setup --no-trigger records the choice on the function; status: ok, mapping not wanted."""
    setup(moto_aws, SetupOptions(trigger=False))
    assert function_tags(moto_aws) == {"sqsidem:stack": STACK, "sqsidem:trigger": "off"}
    report = stack_status(moto_aws, names_for(STACK))
    assert report.ok, report.as_dict()
    rows = {r.kind: r for r in report.resources}
    assert rows["mapping"].state == "not-wanted" and "--no-trigger" in rows["mapping"].details
    assert [r.kind for r in report.resources].index("mapping") == 7  # right after the function
    assert report.trigger_wanted is False and report.mapping_state is None
    assert report.as_dict()["mapping"]["wanted"] is False


def test_toggling_the_trigger_updates_the_marker(moto_aws: Aws) -> None:
    """off -> on: untag + create; on -> off: tag, mapping kept with advice; status ok each time."""
    names = names_for(STACK)
    setup(moto_aws, SetupOptions(trigger=False))

    aws, recorder = recording(moto_aws)
    assert setup(aws) == ["function", "mapping"]
    assert recorder.operations == ["UntagResource", "CreateEventSourceMapping"]
    assert function_tags(moto_aws) == {"sqsidem:stack": STACK}
    report = stack_status(moto_aws, names)
    assert report.ok and report.trigger_wanted and report.mapping_state == "Enabled"

    recorder.made.clear()
    planned, result = converge(aws, prepare(names, SetupOptions(trigger=False)), pacing=instant())
    assert result is not None and [s.kind for s in result.applied] == ["function"]
    assert recorder.operations == ["TagResource"]
    step = planned.plan.step("mapping")
    assert step is not None and step.action == "unchanged" and "teardown" in step.note
    assert len(MAPPING.seen_in(observe_stack(moto_aws, names)) or ()) == 1  # kept, not deleted
    report = stack_status(moto_aws, names)
    assert report.ok and not report.trigger_wanted
    assert {r.kind: r.state for r in report.resources}["mapping"] == "exists"

    recorder.made.clear()
    assert setup(aws, SetupOptions(trigger=False)) == []
    assert recorder.made == []


def test_stack_without_the_marker_is_fixed_by_setup_no_trigger(moto_aws: Aws) -> None:
    """A no-trigger stack set up before the marker existed: status says how to fix it."""
    names = names_for(STACK)
    setup(moto_aws, SetupOptions(trigger=False))
    moto_aws.lambda_.untag_resource(Resource=function_arn(moto_aws), TagKeys=["sqsidem:trigger"])
    report = stack_status(moto_aws, names)
    mapping_row = {r.kind: r for r in report.resources}["mapping"]
    assert not report.ok and mapping_row.state == "missing"
    assert "setup --no-trigger" in mapping_row.details
    assert setup(moto_aws, SetupOptions(trigger=False)) == ["function"]
    assert stack_status(moto_aws, names).ok


def test_teardown_of_a_no_trigger_stack_still_goes_by_the_stack_tag(moto_aws: Aws) -> None:
    """The marker does not make a function ours: without the stack tag it is left alone."""
    names = names_for(STACK)
    setup(moto_aws, SetupOptions(trigger=False))
    moto_aws.lambda_.untag_resource(Resource=function_arn(moto_aws), TagKeys=["sqsidem:stack"])
    plan = plan_teardown(moto_aws, names)
    assert {i.kind: i.action for i in plan.items}["function"] == "not-ours"
    result = run_teardown(moto_aws, names, plan, pacing=instant())
    assert len(result.deleted) == 8  # 9 resources (no mapping), less the function
    assert function_tags(moto_aws) == {"sqsidem:trigger": "off"}


def test_converge_refuses_blocked_and_dry_run_does_not(moto_aws: Aws) -> None:
    """converge: a dry run returns the plan (no result); a real run raises for blocked steps."""
    names = names_for(STACK)
    moto_aws.sqs.create_queue(QueueName=names.dlq, Attributes={"FifoQueue": "true"})
    aws, recorder = recording(moto_aws)
    planned, result = converge(aws, prepare(names, SetupOptions()), dry_run=True)
    assert result is None and planned.plan.blocked
    with pytest.raises(SqsidemError) as caught:
        converge(aws, prepare(names, SetupOptions()), pacing=instant())
    assert "--adopt" in caught.value.one_line()
    assert recorder.made == []


def test_effects_tables_get_their_own_least_privilege_grant(moto_aws: Aws) -> None:
    """--effects-table grants the transaction actions on exactly those tables, then converges."""
    options = SetupOptions(effect_tables=("orders", "audit-log"))
    setup(moto_aws, options)
    names = names_for(STACK)
    document = moto_aws.iam.get_role_policy(RoleName=names.role, PolicyName="sqsidem-effects")
    statements = document["PolicyDocument"]["Statement"]
    assert sorted(s["Resource"].rsplit("/", 1)[1] for s in statements) == ["audit-log", "orders"]
    assert all(
        set(s["Action"])
        == {
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
        }
        for s in statements
    )
    aws, recorder = recording(moto_aws)
    assert setup(aws, options) == []
    assert recorder.made == []
    assert stack_status(moto_aws, names).ok
    setup(moto_aws, SetupOptions())  # dropping the option removes the grant
    policies = moto_aws.iam.list_role_policies(RoleName=names.role)["PolicyNames"]
    assert "sqsidem-effects" not in policies
