"""The poison path on ministack: dead-lettered, listed, and redriven with its key."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import names_for
from tests.waiting import wait_until


def test_poison_message_dead_lettered_listed_and_redriven(local_aws: Aws, stack_name: str) -> None:
    """maxReceiveCount 2 -> DLQ; `dlq list` shows it; `dlq redrive --yes` puts it back, key kept."""
    names = names_for(stack_name)
    sqs = local_aws.sqs
    dlq_url = sqs.create_queue(QueueName=names.dlq, Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    queue_url = sqs.create_queue(
        QueueName=names.queue,
        Attributes={"FifoQueue": "true", "VisibilityTimeout": "1", "RedrivePolicy": policy},
    )["QueueUrl"]
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody='{"amount": "poison"}',
        MessageGroupId="poison",
        MessageDeduplicationId="dedup-1",
        MessageAttributes={"sqsidem-key": {"DataType": "String", "StringValue": "tx-poison"}},
    )

    def in_dlq() -> bool:
        # Receive without deleting: each receive counts; the third moves it to the DLQ.
        sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0, WaitTimeSeconds=0)
        count = sqs.get_queue_attributes(
            QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        return int(count) == 1

    wait_until(in_dlq, 20, "the poison message in the DLQ")

    runner = CliRunner()
    listed = runner.invoke(app, ["--local", "--stack", stack_name, "dlq", "list", "-o", "json"])
    assert listed.exit_code == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["key"], r["group_id"]) for r in rows] == [("tx-poison", "poison")]
    assert rows[0]["lock_state"] == "unknown"  # this minimal stack has no lock table
    assert rows[0]["source_queue"].endswith(names.queue)

    redriven = runner.invoke(app, ["--local", "--stack", stack_name, "dlq", "redrive", "--yes"])
    assert redriven.exit_code == 0, redriven.stderr
    assert "1 message(s) moved back" in redriven.stderr

    back = sqs.receive_message(
        QueueUrl=queue_url,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
        VisibilityTimeout=30,
    )["Messages"]
    assert [m["MessageAttributes"]["sqsidem-key"]["StringValue"] for m in back] == ["tx-poison"]
    assert back[0]["Attributes"]["MessageGroupId"] == "poison"
    assert back[0]["Attributes"]["MessageDeduplicationId"] != "dedup-1"
    left = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
    assert (
        left["ApproximateNumberOfMessages"] == left["ApproximateNumberOfMessagesNotVisible"] == "0"
    )
