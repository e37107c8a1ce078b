"""What a torn-down stack must look like: nothing of it answers any more (e2e checks)."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.names import names_for


def gone(call: Callable[[], object]) -> bool:
    try:
        call()
    except ClientError:
        return True
    return False


def assert_nothing_left(aws: Aws, stack: str) -> None:
    names = names_for(stack)
    assert gone(lambda: aws.sqs.get_queue_url(QueueName=names.queue))
    assert gone(lambda: aws.sqs.get_queue_url(QueueName=names.dlq))
    assert gone(lambda: aws.dynamodb.describe_table(TableName=names.table))
    assert gone(lambda: aws.lambda_.get_function(FunctionName=names.function))
    assert gone(lambda: aws.iam.get_role(RoleName=names.role))
    assert gone(lambda: aws.kms.describe_key(KeyId=names.key_alias))
    groups = aws.logs.describe_log_groups(logGroupNamePrefix=names.log_group)["logGroups"]
    assert [g for g in groups if g["logGroupName"] == names.log_group] == []
    assert aws.cloudwatch.describe_alarms(AlarmNames=[names.alarm])["MetricAlarms"] == []
    topics = [t["TopicArn"] for t in aws.sns.list_topics()["Topics"]]
    assert not [t for t in topics if t.endswith(f":{names.topic}")]
