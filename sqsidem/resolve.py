"""Find a stack's resources in AWS itself by their derived names (no local state file)."""

from __future__ import annotations

from sqsidem.aws import Aws
from sqsidem.errors import NotFoundError, is_gone
from sqsidem.names import StackNames


def queue_url(aws: Aws, queue_name: str, *, stack: str | None = None) -> str:
    """The URL of a queue by name; a clear error (exit 1) when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        return aws.sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    except ClientError as exc:
        if is_gone(exc):
            where = f" of stack {stack!r}" if stack else ""
            raise NotFoundError(
                f"queue {queue_name}{where} does not exist",
                f"run `sqsidem --stack {stack} setup` first" if stack else "check the name",
            ) from exc
        raise


def main_queue_url(aws: Aws, names: StackNames) -> str:
    return queue_url(aws, names.queue, stack=names.stack)


def dlq_url(aws: Aws, names: StackNames) -> str:
    return queue_url(aws, names.dlq, stack=names.stack)


def queue_arn(aws: Aws, url: str) -> str:
    attributes = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def require_table(aws: Aws, names: StackNames) -> str:
    """The lock table's name, after checking that it exists."""
    from botocore.exceptions import ClientError

    try:
        aws.dynamodb.describe_table(TableName=names.table)
    except ClientError as exc:
        if is_gone(exc):
            raise NotFoundError(
                f"lock table {names.table} of stack {names.stack!r} does not exist",
                f"run `sqsidem --stack {names.stack} setup` first",
            ) from exc
        raise
    return names.table
