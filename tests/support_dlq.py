"""A stack's queues and lock table on moto or ministack, and dead letters in its DLQ.

Shared by the dlq and trace tests (functional and CLI); plain helpers, not fixtures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqsidem.aws import Aws
from sqsidem.names import StackNames, names_for


@dataclass(frozen=True)
class Stack:
    names: StackNames
    queue_url: str
    dlq_url: str


def build_stack(aws: Aws, stack: str = "t1") -> Stack:
    """The pieces of a stack these commands touch: FIFO DLQ, source queue, lock table."""
    names = names_for(stack)
    dlq_url = aws.sqs.create_queue(QueueName=names.dlq, Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    dlq_arn = aws.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    queue_url = aws.sqs.create_queue(
        QueueName=names.queue, Attributes={"FifoQueue": "true", "RedrivePolicy": policy}
    )["QueueUrl"]
    aws.dynamodb.create_table(
        TableName=names.table,
        KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return Stack(names, queue_url, dlq_url)


def dead_letter(
    aws: Aws, stack: Stack, body: str, group: str, dedup: str, key: str | None = None
) -> str:
    """Put one message straight into the DLQ; its message id."""
    attributes: dict[str, Any] = {}
    if key is not None:
        attributes["sqsidem-key"] = {"DataType": "String", "StringValue": key}
    return aws.sqs.send_message(
        QueueUrl=stack.dlq_url,
        MessageBody=body,
        MessageGroupId=group,
        MessageDeduplicationId=dedup,
        MessageAttributes=attributes,
    )["MessageId"]


def drain(aws: Aws, url: str) -> list[dict[str, Any]]:
    """Receive (and delete) everything; FIFO order within a group is kept."""
    found: list[dict[str, Any]] = []
    for _ in range(50):
        batch = aws.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        found.extend(dict(message) for message in batch)
        for message in batch:
            aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def put_lock(
    aws: Aws,
    stack: Stack,
    key: str,
    status: str,
    owner: str = "o1",
    message_id: str | None = None,
) -> None:
    """A lock as the consumer writes it; ``message_id``: the message that took it."""
    item = {
        "transaction_id": {"S": key},
        "status": {"S": status},
        "owner": {"S": owner},
        "in_progress_expiration": {"N": str(4_102_444_800_000)},
        "expiration": {"N": str(4_102_444_800)},
    }
    if message_id is not None:
        item["message_id"] = {"S": message_id}
    aws.dynamodb.put_item(TableName=stack.names.table, Item=item)


def visible(aws: Aws, url: str) -> int:
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])
