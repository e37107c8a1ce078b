"""Each resource kind on moto, through the one protocol: observe, diff, create, update, delete."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from sqsidem.aws import Aws
from sqsidem.build.package import build_function_zip
from sqsidem.names import names_for
from sqsidem.retry import instant
from sqsidem.stack.alarm import ALARM
from sqsidem.stack.calls import Calls, numbered
from sqsidem.stack.desired import build
from sqsidem.stack.executor import run_calls
from sqsidem.stack.function import FUNCTION
from sqsidem.stack.inputs import Refs
from sqsidem.stack.kind import AnyKind, DesiredStack, ObservedStack, TeardownOptions, Where
from sqsidem.stack.kms_key import KEY
from sqsidem.stack.log_group import LOG_GROUP
from sqsidem.stack.mapping import MAPPING
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.queues import DLQ, QUEUE
from sqsidem.stack.role import ROLE
from sqsidem.stack.subscription import SUBSCRIPTION, find_email
from sqsidem.stack.table import TABLE
from sqsidem.stack.topic import TOPIC

NAMES = names_for("r1")
HOW = TeardownOptions()


def desired(aws: Aws, options: SetupOptions | None = None, **refs: str) -> DesiredStack:
    base = Refs(aws.account_id(), aws.region, aws.partition(), **refs)
    return build(NAMES, options or SetupOptions(), base, build_function_zip())


def want(kind: AnyKind, stack: DesiredStack) -> Any:
    found = kind.wanted_in(stack)
    assert found is not None
    return found


def observe(aws: Aws, kind: AnyKind, seen: ObservedStack | None = None) -> Any:
    where = Where(NAMES, aws.account_id(), aws.region, seen or ObservedStack(), aws.partition())
    return kind.observe(aws, where)


def run(aws: Aws, calls: Calls) -> dict[str, Any]:
    """The calls as apply makes them (numbered, references filled in); their answers."""
    answers: dict[str, Any] = {}
    run_calls(aws, numbered([calls])[0], instant(), answers)
    return answers


KEY_ARN = "arn:aws:kms:ap-northeast-1:123456789012:key/k"


@pytest.mark.parametrize(
    "kind",
    [KEY, DLQ, TABLE, LOG_GROUP, ROLE, TOPIC, ALARM],
    ids=lambda kind: kind.key,
)
def test_life_cycle(moto_aws: Aws, kind: AnyKind) -> None:
    """Absent -> created with our tags -> no diff, nothing to update -> deleted, twice."""
    wanted = want(kind, desired(moto_aws, key_arn=KEY_ARN))
    assert observe(moto_aws, kind) is None
    run(moto_aws, kind.create(wanted))
    seen = observe(moto_aws, kind)
    assert seen is not None and kind.tags(seen) == NAMES.tags
    assert kind.diff(wanted, seen) == () and kind.update(wanted, seen) == ()
    run(moto_aws, kind.delete(seen, HOW))
    run(moto_aws, kind.delete(seen, HOW))  # already gone: tolerated
    assert observe(moto_aws, kind) is None


def test_key_policy_is_repaired(moto_aws: Aws) -> None:
    """A changed key policy is drift; PutKeyPolicy brings it back; the alias finds the key."""
    wanted = want(KEY, desired(moto_aws))
    answers = run(moto_aws, KEY.create(wanted))
    seen = observe(moto_aws, KEY)
    assert seen.arn == answers["kms.CreateKey#1"]["KeyMetadata"]["Arn"]
    assert seen.alias == wanted.alias
    moto_aws.kms.put_key_policy(KeyId=seen.key_id, PolicyName="default", Policy='{"Statement": []}')
    seen = observe(moto_aws, KEY)
    assert [c.attribute for c in KEY.diff(wanted, seen)] == ["Policy"]
    run(moto_aws, KEY.update(wanted, seen))
    assert KEY.diff(wanted, observe(moto_aws, KEY)) == ()


def test_queue_visibility_is_updated(moto_aws: Aws) -> None:
    """The main queue redrives to the DLQ; a wider visibility timeout is set in place."""
    run(moto_aws, DLQ.create(want(DLQ, desired(moto_aws))))
    dlq = observe(moto_aws, DLQ)
    stack = desired(moto_aws, dlq_arn=dlq.arn)
    run(moto_aws, QUEUE.create(want(QUEUE, stack)))
    seen = observe(moto_aws, QUEUE)
    assert seen is not None and QUEUE.diff(want(QUEUE, stack), seen) == ()
    wider = want(QUEUE, desired(moto_aws, SetupOptions(visibility_timeout_s=40), dlq_arn=dlq.arn))
    assert [c.attribute for c in QUEUE.diff(wider, seen)] == ["VisibilityTimeout"]
    run(moto_aws, QUEUE.update(wider, seen))
    seen = observe(moto_aws, QUEUE)
    assert seen is not None and seen.attributes["VisibilityTimeout"] == "40"


def test_table_ttl_and_key_schema(moto_aws: Aws) -> None:
    """TTL on expiration; a table without TTL gets it; a table with another key is blocked."""
    wanted = want(TABLE, desired(moto_aws))
    run(moto_aws, TABLE.create(wanted))
    seen = observe(moto_aws, TABLE)
    assert seen.ttl_attribute == "expiration" and TABLE.blocked(wanted, seen) is None
    no_ttl = replace(seen, ttl_attribute=None)
    assert [c.attribute for c in TABLE.diff(wanted, no_ttl)] == ["TTL"]
    assert [c.operation for c in TABLE.update(wanted, no_ttl)] == ["UpdateTimeToLive"]
    other_key = replace(seen, key_schema=(("id", "HASH"),))
    assert "transaction_id" in str(TABLE.blocked(wanted, other_key))


def test_log_group_retention_is_updated(moto_aws: Aws) -> None:
    """Retention set at creation and updated in place."""
    wanted = want(LOG_GROUP, desired(moto_aws))
    run(moto_aws, LOG_GROUP.create(wanted))
    seen = observe(moto_aws, LOG_GROUP)
    assert seen.retention_days == 14
    longer = replace(wanted, retention_days=30)
    run(moto_aws, LOG_GROUP.update(longer, seen))
    assert LOG_GROUP.diff(longer, observe(moto_aws, LOG_GROUP)) == ()


def test_role_extra_permissions_are_removed(moto_aws: Aws) -> None:
    """Four inline policies; an extra one is removed by update (least privilege)."""
    wanted = want(ROLE, desired(moto_aws, key_arn=KEY_ARN))
    run(moto_aws, ROLE.create(wanted))
    moto_aws.iam.put_role_policy(
        RoleName=wanted.name,
        PolicyName="too-much",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",'
        '"Resource":"*"}]}',
    )
    seen = observe(moto_aws, ROLE)
    assert [c.attribute for c in ROLE.diff(wanted, seen)] == ["policy too-much"]
    run(moto_aws, ROLE.update(wanted, seen))
    assert ROLE.diff(wanted, observe(moto_aws, ROLE)) == ()


def _function_ready(aws: Aws) -> DesiredStack:
    stack = desired(aws, key_arn=KEY_ARN)
    run(aws, ROLE.create(want(ROLE, stack)))
    run(aws, LOG_GROUP.create(want(LOG_GROUP, stack)))
    return stack


def test_function(moto_aws: Aws) -> None:
    """Create (waits active), code and configuration updates, delete."""
    wanted = want(FUNCTION, _function_ready(moto_aws))
    assert observe(moto_aws, FUNCTION) is None
    run(moto_aws, FUNCTION.create(wanted))
    seen = observe(moto_aws, FUNCTION)
    assert seen is not None and FUNCTION.diff(wanted, seen) == ()
    assert {k: v for k, v in seen.tags.items() if not k.startswith("sqsidem:setup:")} == NAMES.tags
    assert seen.handler == "sqsidem_consumer.handler.lambda_handler"
    assert seen.environment["SQSIDEM_TABLE"] == NAMES.table
    bigger = replace(wanted, memory_mb=256, timeout_s=5)
    run(moto_aws, FUNCTION.update(bigger, seen))
    seen = observe(moto_aws, FUNCTION)
    assert seen is not None and FUNCTION.diff(bigger, seen) == ()
    run(moto_aws, FUNCTION.delete(seen, HOW))
    run(moto_aws, FUNCTION.delete(seen, HOW))
    assert observe(moto_aws, FUNCTION) is None


def test_mapping(moto_aws: Aws) -> None:
    """ReportBatchItemFailures, batch size and concurrency; delete waits until gone."""
    stack = _function_ready(moto_aws)
    run(moto_aws, DLQ.create(want(DLQ, stack)))
    dlq = observe(moto_aws, DLQ)
    stack = desired(moto_aws, SetupOptions(max_concurrency=3), dlq_arn=dlq.arn)
    run(moto_aws, QUEUE.create(want(QUEUE, stack)))
    queue = observe(moto_aws, QUEUE)
    run(moto_aws, FUNCTION.create(want(FUNCTION, stack)))
    wanted = want(MAPPING, stack)
    assert wanted.queue_arn == queue.arn
    function_seen = ObservedStack().with_(FUNCTION.key, observe(moto_aws, FUNCTION))
    assert observe(moto_aws, MAPPING, function_seen) == ()
    run(moto_aws, MAPPING.create(wanted))
    (seen,) = observe(moto_aws, MAPPING, function_seen)
    assert seen.response_types == ("ReportBatchItemFailures",)
    assert MAPPING.diff(wanted, (seen,)) == ()
    larger = replace(wanted, batch_size=9)
    run(moto_aws, MAPPING.update(larger, (seen,)))
    (seen,) = observe(moto_aws, MAPPING, function_seen)
    assert seen.batch_size == 9
    run(moto_aws, MAPPING.delete((seen,), HOW))
    run(moto_aws, MAPPING.delete((seen,), HOW))
    assert observe(moto_aws, MAPPING, function_seen) == ()


def test_topic_key_and_subscription(moto_aws: Aws) -> None:
    """Email subscription read with the topic; a changed key is repaired; delete unsubscribes."""
    stack = desired(moto_aws, SetupOptions(notify_email="ops@example.com"))
    wanted = want(TOPIC, stack)
    answers = run(moto_aws, TOPIC.create(wanted))
    assert answers["sns.CreateTopic#1"]["TopicArn"] == wanted.arn
    run(moto_aws, SUBSCRIPTION.create(want(SUBSCRIPTION, stack)))
    topic_seen = ObservedStack().with_(TOPIC.key, observe(moto_aws, TOPIC))
    assert find_email(observe(moto_aws, SUBSCRIPTION, topic_seen), "OPS@example.com") is not None
    moto_aws.sns.set_topic_attributes(
        TopicArn=wanted.arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/other"
    )
    seen = observe(moto_aws, TOPIC)
    assert [c.attribute for c in TOPIC.diff(wanted, seen)] == ["KmsMasterKeyId"]
    run(moto_aws, TOPIC.update(wanted, seen))
    assert TOPIC.diff(wanted, observe(moto_aws, TOPIC)) == ()
    assert [c.operation for c in TOPIC.delete(seen, HOW)] == ["Unsubscribe", "DeleteTopic"]


def test_alarm_threshold_is_re_put(moto_aws: Aws) -> None:
    """A changed threshold is drift and is re-put, without tags (tags only at birth)."""
    wanted = want(ALARM, desired(moto_aws))
    run(moto_aws, ALARM.create(wanted))
    moto_aws.cloudwatch.put_metric_alarm(
        AlarmName=wanted.name,
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    seen = observe(moto_aws, ALARM)
    assert "Threshold" in {c.attribute for c in ALARM.diff(wanted, seen)}
    assert "Tags" not in ALARM.update(wanted, seen)[0].params
    run(moto_aws, ALARM.update(wanted, seen))
    assert ALARM.diff(wanted, observe(moto_aws, ALARM)) == ()
