"""SQS ReceiveMessage output -> the event record the Lambda service would build.

Field names, nesting and casing follow the Lambda SQS event exactly, so a processor written
for a plain Lambda handler sees the same dict under ``sqsidem worker``.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Mapping
from typing import Any

# The system attributes Lambda copies into a record, in the order it writes them.
LAMBDA_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "AWSTraceHeader",
    "SentTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "SenderId",
    "MessageDeduplicationId",
    "ApproximateFirstReceiveTimestamp",
    "DeadLetterQueueSourceArn",
)


def region_of_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def lambda_record(message: Mapping[str, Any], *, queue_arn: str) -> dict[str, Any]:
    """One received message as a Lambda SQS event record."""
    attributes = message.get("Attributes") or {}
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": {
            name: str(attributes[name]) for name in LAMBDA_RECORD_ATTRIBUTES if name in attributes
        },
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record["eventSource"] = "aws:sqs"
    record["eventSourceARN"] = queue_arn
    record["awsRegion"] = region_of_arn(queue_arn)
    return record


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    # Lambda spells these in lower camel case and base64-encodes binary values.
    out: dict[str, Any] = {}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = _b64(value["BinaryValue"])
    out["stringListValues"] = list(value.get("StringListValues") or [])
    out["binaryListValues"] = [_b64(item) for item in value.get("BinaryListValues") or []]
    out["dataType"] = value.get("DataType", "String")
    return out


def _b64(value: bytes | str) -> str:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return base64.b64encode(raw).decode("ascii")


def lambda_event(messages: list[Mapping[str, Any]], *, queue_arn: str) -> dict[str, Any]:
    return {"Records": [lambda_record(m, queue_arn=queue_arn) for m in messages]}


class WorkerContext:
    """A Lambda-like context whose remaining time follows the batch's visibility deadline.

    The heartbeat moves the deadline, so the time left grows when visibility is extended.
    """

    function_name = "sqsidem-worker"
    function_version = "$LATEST"
    memory_limit_in_mb = 0

    def __init__(self, deadline_ms: int, now_ms: Callable[[], int]) -> None:
        self.deadline_ms = deadline_ms
        self._now_ms = now_ms
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - self._now_ms())
