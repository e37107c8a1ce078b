"""The records `invoke` feeds the consumer: exactly the Lambda SQS event's shape.

From a body, a body file or a `send --file` JSON Lines file (built by :mod:`sqsidem.messages`
as `send` would send them, then shaped by :mod:`sqsidem.worker.event` as Lambda delivers
them), or from a captured event: a Lambda event, one record, or `dlq list --full -o json`.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqsidem.errors import UsageError
from sqsidem.messages.build import MessageSpec, build_messages
from sqsidem.messages.model import KEY_ATTRIBUTE, OutgoingMessage
from sqsidem.worker.event import lambda_record


@dataclass(frozen=True)
class RecordSource:
    body: str | None = None
    body_file_text: str | None = None
    jsonl_text: str | None = None
    event_text: str | None = None


def _received(message: OutgoingMessage, *, sent_ms: int, sequence: int) -> dict[str, Any]:
    """What ReceiveMessage would return for ``message`` on its first delivery."""
    attributes = {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": str(sent_ms),
        "SequenceNumber": f"{sequence:020d}",
        "SenderId": "SQSIDEM-INVOKE",
        "ApproximateFirstReceiveTimestamp": str(sent_ms),
    }
    if message.group_id is not None:
        attributes["MessageGroupId"] = message.group_id
    if message.dedup_id is not None:
        attributes["MessageDeduplicationId"] = message.dedup_id
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": f"invoke-{uuid.uuid4()}",
        "Body": message.body,
        "Attributes": attributes,
        "MessageAttributes": {name: a.wire() for name, a in message.attributes.items()},
        "MD5OfBody": hashlib.md5(message.body.encode("utf-8")).hexdigest(),  # noqa: S324 (SQS's)
    }


def _from_dlq_line(line: Mapping[str, Any], sent_ms: int) -> dict[str, Any]:
    """A `dlq list --full -o json` line back into a received message."""
    attributes = {"ApproximateReceiveCount": str(line.get("receive_count") or 1)}
    attributes["SentTimestamp"] = str(line.get("sent_ms") or sent_ms)
    if line.get("group_id"):
        attributes["MessageGroupId"] = str(line["group_id"])
    if line.get("original_dedup_id"):
        attributes["MessageDeduplicationId"] = str(line["original_dedup_id"])
    message_attributes = {}
    if line.get("key") and line.get("key_source") == "attribute":
        message_attributes[KEY_ATTRIBUTE] = {"DataType": "String", "StringValue": line["key"]}
    body = str(line.get("body", ""))
    return {
        "MessageId": str(line["message_id"]),
        "ReceiptHandle": f"invoke-{uuid.uuid4()}",
        "Body": body,
        "Attributes": attributes,
        "MessageAttributes": message_attributes,
        "MD5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(),  # noqa: S324 (SQS's)
    }


def _event_documents(text: str) -> list[Any]:
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        pass
    documents = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                documents.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise UsageError(f"--event line {number} is not JSON: {exc.msg}") from exc
    return documents


def _event_records(text: str, queue_arn: str, sent_ms: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for document in _event_documents(text):
        items: Iterable[Any] = document if isinstance(document, list) else [document]
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get("Records"), list):
                records.extend(dict(r) for r in item["Records"])
            elif isinstance(item, Mapping) and "messageId" in item:
                records.append(dict(item))
            elif isinstance(item, Mapping) and "message_id" in item:
                records.append(lambda_record(_from_dlq_line(item, sent_ms), queue_arn=queue_arn))
            else:
                raise UsageError(
                    "--event holds neither a Lambda SQS event, a record, "
                    "nor `dlq list -o json` lines"
                )
    return records


def build_records(source: RecordSource, *, queue_arn: str) -> list[dict[str, Any]]:
    """The Lambda records for ``source`` (UsageError for anything unusable; no AWS call)."""
    given = (source.body, source.body_file_text, source.jsonl_text, source.event_text)
    if sum(v is not None for v in given) != 1:
        raise UsageError("give exactly one of: a body, --body-file, --file, --event")
    sent_ms = int(time.time() * 1000)
    if source.event_text is not None:
        records = _event_records(source.event_text, queue_arn, sent_ms)
        if not records:
            raise UsageError("--event holds no records")
        return records
    spec = MessageSpec(
        body=source.body, body_file_text=source.body_file_text, jsonl_text=source.jsonl_text
    )
    messages = build_messages(spec, fifo=True)
    return [
        lambda_record(_received(m, sent_ms=sent_ms, sequence=i), queue_arn=queue_arn)
        for i, m in enumerate(messages, 1)
    ]
