"""Before the first receive: what the queue is, and that no event source mapping competes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqsidem.errors import SqsidemError, UsageError
from sqsidem.worker.model import WorkerClients, WorkerOptions

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

ACTIVE_MAPPING_STATES = frozenset({"Enabled", "Enabling", "Creating"})


@dataclass(frozen=True)
class QueueFacts:
    arn: str
    visibility_s: int  # what every receive asks for (the flag, else the queue's own)


def check_no_active_mapping(lambda_client: LambdaClient, queue_arn: str) -> None:
    """Refuse when the event source mapping would compete with us for the same messages."""
    paginator = lambda_client.get_paginator("list_event_source_mappings")
    for page in paginator.paginate(EventSourceArn=queue_arn):
        for mapping in page.get("EventSourceMappings", []):
            if mapping.get("State") in ACTIVE_MAPPING_STATES:
                function = str(mapping.get("FunctionArn", "?")).rsplit(":", 1)[-1]
                raise SqsidemError(
                    f"an enabled event source mapping ({mapping.get('UUID')}, function "
                    f"{function}) already consumes {queue_arn}",
                    "disable it first, or pass --force to poll alongside it",
                )


def preflight(clients: WorkerClients, options: WorkerOptions) -> QueueFacts:
    """The queue's ARN and visibility timeout; refuses next to an enabled mapping."""
    attributes = clients.sqs.get_queue_attributes(
        QueueUrl=options.queue_url, AttributeNames=["QueueArn", "VisibilityTimeout"]
    )["Attributes"]
    queue_arn = attributes["QueueArn"]
    if not options.force:
        if clients.lambda_ is None:
            raise UsageError("cannot check for an event source mapping without a Lambda client")
        check_no_active_mapping(clients.lambda_, queue_arn)
    visibility_s = options.visibility_timeout_s
    if visibility_s is None:
        visibility_s = int(attributes.get("VisibilityTimeout", "30"))
    return QueueFacts(queue_arn, visibility_s)
