"""`trace` reads; it does not change what happens to a message (issue 13, item 3).

On the emulator, whose queues really dead-letter after maxReceiveCount receives.
"""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import StackNames, names_for
from tests.support_locks import create_lock_table, in_progress

MAX_RECEIVE_COUNT = 3


def _stack(aws: Aws, names: StackNames) -> tuple[str, str]:
    dlq = aws.sqs.create_queue(QueueName=names.dlq, Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]
    policy = {"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": MAX_RECEIVE_COUNT}
    url = aws.sqs.create_queue(
        QueueName=names.queue,
        Attributes={
            "FifoQueue": "true",
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps(policy),
        },
    )["QueueUrl"]
    create_lock_table(aws.dynamodb, names.table)
    return url, dlq


def _send(aws: Aws, url: str, key: str, group: str) -> None:
    aws.sqs.send_message(
        QueueUrl=url,
        MessageBody=key,
        MessageGroupId=group,
        MessageDeduplicationId=key,
        MessageAttributes={"sqsidem-key": {"DataType": "String", "StringValue": key}},
    )


def _depth(aws: Aws, url: str) -> dict[str, str]:
    return aws.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]


def _receive_counts(aws: Aws, url: str) -> dict[str, int]:
    """Each message's receive count, as the next real consumer would see it (it is one of)."""
    got: dict[str, int] = {}
    for message in aws.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    ).get("Messages", []):
        got[message["Body"]] = int(message["Attributes"]["ApproximateReceiveCount"])
    return got


def _trace(stack: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["--local", "--stack", stack, "trace", *args])


def test_trace_by_default_receives_nothing_from_the_queue(local_aws: Aws, stack_name: str) -> None:
    """More traces than maxReceiveCount: the message is never received, nothing dead-letters."""
    names = names_for(stack_name)
    url, dlq = _stack(local_aws, names)
    local_aws.dynamodb.put_item(TableName=names.table, Item=in_progress("k1", 60))
    _send(local_aws, url, "k1", "g1")
    for _ in range(MAX_RECEIVE_COUNT + 1):
        result = _trace(stack_name, "k1", "-o", "json")
        assert result.exit_code == 0, result.output
    assert _depth(local_aws, dlq)["ApproximateNumberOfMessages"] == "0"
    assert _receive_counts(local_aws, url) == {"k1": 1}  # this receive is its first
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["queue_depth"] == {"visible": 1, "in_flight": 0, "delayed": 0}
    assert data["queue_peeked"] is False


def test_peek_queue_warns_stops_short_of_dead_lettering_and_restores(
    local_aws: Aws, stack_name: str
) -> None:
    """--peek-queue warns, stops at a message one receive short of maxReceiveCount, and
    leaves every message it received visible again; nothing reaches the DLQ."""
    names = names_for(stack_name)
    url, dlq = _stack(local_aws, names)
    local_aws.dynamodb.put_item(TableName=names.table, Item=in_progress("k1", 60))
    _send(local_aws, url, "k1", "g1")
    # k1 was received once already (a failed attempt); our peek makes it 2 = 3 - 1: stop.
    first = local_aws.sqs.receive_message(QueueUrl=url)["Messages"][0]
    local_aws.sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )
    result = _trace(stack_name, "k1", "--peek-queue")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: --peek-queue receives from the main queue")
    assert "stopped at message" in result.stderr and "reached 2 of maxReceiveCount 3" in (
        result.stderr
    )
    assert "waiting in the queue" in result.stdout
    assert _depth(local_aws, url) == {
        "ApproximateNumberOfMessages": "1",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }
    assert _depth(local_aws, dlq)["ApproximateNumberOfMessages"] == "0"
    assert _receive_counts(local_aws, url) == {"k1": 3}  # the consumer still gets its try
