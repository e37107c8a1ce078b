"""What a torn-down stack must look like: nothing of it answers any more (e2e checks)."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.names import names_for
from sqsidem.stack.kms_scan import TaggedKey, stack_keys


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


def live_stack_keys(aws: Aws, stack: str) -> list[TaggedKey]:
    """Keys tagged for the stack that are not scheduled for deletion (they cost money)."""
    return [key for key in stack_keys(aws, stack) if not key.scheduled]


def leftovers(aws: Aws, stack: str) -> dict[str, int]:
    """What a torn-down stack still has, per kind (every count must be 0)."""
    names = names_for(stack)
    queues = [
        url
        for url in aws.sqs.list_queues(QueueNamePrefix=f"{stack}-").get("QueueUrls", [])
        if url.rsplit("/", 1)[-1] in (names.queue, names.dlq)
    ]
    pages = aws.lambda_.get_paginator("list_event_source_mappings").paginate()
    mappings = [
        m
        for page in pages
        for m in page.get("EventSourceMappings", [])
        if m.get("FunctionArn", "").endswith(f":{names.function}")
    ]
    return {
        "keys": len(live_stack_keys(aws, stack)),
        "queues": len(queues),
        "tables": int(not gone(lambda: aws.dynamodb.describe_table(TableName=names.table))),
        "roles": int(not gone(lambda: aws.iam.get_role(RoleName=names.role))),
        "functions": int(not gone(lambda: aws.lambda_.get_function(FunctionName=names.function))),
        "mappings": len(mappings),
    }
