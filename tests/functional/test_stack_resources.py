"""Each resource module on moto: observe (absent) -> create -> observe -> update -> delete."""

from __future__ import annotations

from dataclasses import replace

from sqsidem.aws import Aws
from sqsidem.names import names_for
from sqsidem.packaging import build_function_zip
from sqsidem.stack import alarm, function, kms_key, log_group, mapping, queues, role, table, topic
from sqsidem.stack.desired import DesiredStack, Refs, build
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.retry import instant

NAMES = names_for("r1")


def desired(aws: Aws, options: SetupOptions | None = None, **refs: str) -> DesiredStack:
    base = Refs(aws.account_id(), aws.region, **refs)
    return build(NAMES, options or SetupOptions(), base, build_function_zip())


def test_key(moto_aws: Aws) -> None:
    """Create with alias and tags, repair the policy, schedule deletion."""
    want = desired(moto_aws).key
    assert kms_key.observe(moto_aws, want.alias) is None
    arn = kms_key.create(moto_aws, want)
    seen = kms_key.observe(moto_aws, want.alias)
    assert seen is not None and seen.arn == arn and seen.tags == NAMES.tags
    assert kms_key.diff(want, seen) == ()
    moto_aws.kms.put_key_policy(KeyId=seen.key_id, PolicyName="default", Policy='{"Statement": []}')
    seen = kms_key.observe(moto_aws, want.alias)
    assert seen is not None and [c.attribute for c in kms_key.diff(want, seen)] == ["Policy"]
    kms_key.update(moto_aws, want, seen)
    seen = kms_key.observe(moto_aws, want.alias)
    assert seen is not None and kms_key.diff(want, seen) == ()
    kms_key.delete(moto_aws, want.alias, seen, 7)
    kms_key.delete(moto_aws, want.alias, seen, 7)  # already gone: tolerated
    assert kms_key.observe(moto_aws, want.alias) is None


def test_queues(moto_aws: Aws) -> None:
    """DLQ and main queue: attributes as set, visibility update, delete twice."""
    stack = desired(moto_aws)
    assert queues.observe(moto_aws, NAMES.dlq) is None
    dlq = queues.create(moto_aws, stack.dlq, instant())
    stack = desired(moto_aws, dlq_arn=dlq.arn)
    main = queues.create(moto_aws, stack.queue, instant())
    seen = queues.observe(moto_aws, NAMES.queue)
    assert seen is not None and seen.arn == main.arn and seen.tags == NAMES.tags
    assert queues.diff(stack.queue, seen) == ()
    wider = desired(moto_aws, SetupOptions(visibility_timeout_s=40), dlq_arn=dlq.arn).queue
    assert [c.attribute for c in queues.diff(wider, seen)] == ["VisibilityTimeout"]
    queues.update(moto_aws, wider, seen)
    seen = queues.observe(moto_aws, NAMES.queue)
    assert seen is not None and seen.attributes["VisibilityTimeout"] == "40"
    queues.delete(moto_aws, seen)
    queues.delete(moto_aws, seen)
    assert queues.observe(moto_aws, NAMES.queue) is None


def test_table(moto_aws: Aws) -> None:
    """On-demand, encrypted, TTL on expiration; a table without TTL gets it."""
    want = desired(moto_aws).table
    assert table.observe(moto_aws, want.name) is None
    table.create(moto_aws, want, instant())
    seen = table.observe(moto_aws, want.name)
    assert seen is not None and table.diff(want, seen) == ()
    assert seen.ttl_attribute == "expiration" and seen.tags == NAMES.tags
    assert table.incompatible(want, seen) is None
    no_ttl = replace(seen, ttl_attribute=None)
    assert [c.attribute for c in table.diff(want, no_ttl)] == ["TTL"]
    table.delete(moto_aws, want.name)
    table.delete(moto_aws, want.name)
    assert table.observe(moto_aws, want.name) is None


def test_log_group(moto_aws: Aws) -> None:
    """Retention set at creation and updated in place."""
    want = desired(moto_aws).log_group
    assert log_group.observe(moto_aws, want.name) is None
    log_group.create(moto_aws, want)
    seen = log_group.observe(moto_aws, want.name)
    assert seen is not None and seen.retention_days == 14 and seen.tags == NAMES.tags
    longer = replace(want, retention_days=30)
    log_group.update(moto_aws, longer, seen)
    seen = log_group.observe(moto_aws, want.name)
    assert seen is not None and log_group.diff(longer, seen) == ()
    log_group.delete(moto_aws, want.name)
    log_group.delete(moto_aws, want.name)
    assert log_group.observe(moto_aws, want.name) is None


def test_role(moto_aws: Aws) -> None:
    """Four inline policies; an extra one and an attached one are removed by update."""
    want = desired(moto_aws, key_arn="arn:aws:kms:ap-northeast-1:123456789012:key/k").role
    assert role.observe(moto_aws, want.name) is None
    role.create(moto_aws, want)
    seen = role.observe(moto_aws, want.name)
    assert seen is not None and role.diff(want, seen) == () and seen.tags == NAMES.tags
    moto_aws.iam.put_role_policy(
        RoleName=want.name,
        PolicyName="too-much",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",'
        '"Resource":"*"}]}',
    )
    seen = role.observe(moto_aws, want.name)
    assert seen is not None and role.diff(want, seen)
    role.update(moto_aws, want, seen)
    seen = role.observe(moto_aws, want.name)
    assert seen is not None and role.diff(want, seen) == ()
    role.delete(moto_aws, want.name, seen)
    role.delete(moto_aws, want.name, seen)
    assert role.observe(moto_aws, want.name) is None


def _function_ready(aws: Aws) -> DesiredStack:
    stack = desired(aws)
    role.create(aws, stack.role)
    log_group.create(aws, stack.log_group)
    return stack


def test_function(moto_aws: Aws) -> None:
    """Create (waits active), code and configuration updates, delete."""
    stack = _function_ready(moto_aws)
    want = stack.function
    assert function.observe(moto_aws, want.name) is None
    function.create(moto_aws, want, instant())
    seen = function.observe(moto_aws, want.name)
    assert seen is not None and function.diff(want, seen) == ()
    assert seen.tags == NAMES.tags and seen.handler == "sqsidem_consumer.handler.lambda_handler"
    assert seen.environment["SQSIDEM_TABLE"] == NAMES.table
    bigger = replace(want, memory_mb=256, timeout_s=5)
    function.update(moto_aws, bigger, seen, instant())
    seen = function.observe(moto_aws, want.name)
    assert seen is not None and function.diff(bigger, seen) == ()
    function.delete(moto_aws, want.name)
    function.delete(moto_aws, want.name)
    assert function.observe(moto_aws, want.name) is None


def test_mapping(moto_aws: Aws) -> None:
    """ReportBatchItemFailures, batch size and concurrency; delete waits until gone."""
    stack = desired(moto_aws)
    dlq = queues.create(moto_aws, stack.dlq, instant())
    stack = desired(moto_aws, SetupOptions(max_concurrency=3), dlq_arn=dlq.arn)
    queue = queues.create(moto_aws, stack.queue, instant())
    role.create(moto_aws, stack.role)
    function.create(moto_aws, stack.function, instant())
    assert stack.mapping is not None and stack.mapping.queue_arn == queue.arn
    assert mapping.observe_all(moto_aws, NAMES.function) == []
    mapping.create(moto_aws, stack.mapping, instant())
    (seen,) = mapping.observe_all(moto_aws, NAMES.function)
    assert seen.response_types == ("ReportBatchItemFailures",)
    assert mapping.diff(stack.mapping, seen) == ()
    larger = replace(stack.mapping, batch_size=9)
    mapping.update(moto_aws, larger, seen, instant())
    (seen,) = mapping.observe_all(moto_aws, NAMES.function)
    assert seen.batch_size == 9
    mapping.delete(moto_aws, seen, instant())
    mapping.delete(moto_aws, seen, instant())
    assert mapping.observe_all(moto_aws, NAMES.function) == []


def test_topic_and_subscription(moto_aws: Aws) -> None:
    """Encrypted topic, email subscription, key repair, delete with its subscriptions."""
    want = desired(moto_aws).topic
    assert topic.observe(moto_aws, want.arn) is None
    assert topic.create(moto_aws, want) == want.arn
    topic.subscribe_email(moto_aws, want.arn, "ops@example.com")
    seen = topic.observe(moto_aws, want.arn)
    assert seen is not None and topic.diff(want, seen) == () and seen.tags == NAMES.tags
    assert topic.find_email(seen, "OPS@example.com") is not None
    moto_aws.sns.set_topic_attributes(
        TopicArn=want.arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/other"
    )
    seen = topic.observe(moto_aws, want.arn)
    assert seen is not None and [c.attribute for c in topic.diff(want, seen)] == ["KmsMasterKeyId"]
    topic.update(moto_aws, want, seen)
    topic.delete(moto_aws, seen)
    topic.delete(moto_aws, seen)
    assert topic.observe(moto_aws, want.arn) is None


def test_alarm(moto_aws: Aws) -> None:
    """DLQ depth >= 1 notifies the topic; a changed threshold is drift and is re-put."""
    want = desired(moto_aws).alarm
    assert alarm.observe(moto_aws, want.name) is None
    alarm.put(moto_aws, want, with_tags=True)
    seen = alarm.observe(moto_aws, want.name)
    assert seen is not None and alarm.diff(want, seen) == () and seen.tags == NAMES.tags
    moto_aws.cloudwatch.put_metric_alarm(
        AlarmName=want.name,
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    seen = alarm.observe(moto_aws, want.name)
    assert seen is not None and "Threshold" in {c.attribute for c in alarm.diff(want, seen)}
    alarm.put(moto_aws, want, with_tags=False)
    seen = alarm.observe(moto_aws, want.name)
    assert seen is not None and alarm.diff(want, seen) == ()
    alarm.delete(moto_aws, want.name)
    alarm.delete(moto_aws, want.name)
    assert alarm.observe(moto_aws, want.name) is None
