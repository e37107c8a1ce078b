"""Helpers shared by the consumer, lock and worker tests (plain functions, not fixtures)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqsidem.consumer.batch import Consumer
from sqsidem.consumer.failpoints import NO_FAILPOINTS, Failpoints
from sqsidem.consumer.keys import parse_key_spec
from sqsidem.consumer.lock import LockTable
from sqsidem.consumer.processor import Processor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "Idempotent-test"
QUEUE_ARN = "arn:aws:sqs:ap-northeast-1:123456789012:test-queue.fifo"
START_MS = 1_800_000_000_000


class FakeClock:
    """Epoch milliseconds that move only when a test says so."""

    def __init__(self, ms: int = START_MS) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, ms: int) -> None:
        self.ms += ms


@dataclass
class FakeContext:
    remaining_ms: int = 3_000
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Recorder:
    """A processor that remembers what it ran and fails on chosen bodies."""

    fail_bodies: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def __call__(self, record: dict[str, Any]) -> None:
        self.calls.append(record["body"])
        if record["body"] in self.fail_bodies:
            raise RuntimeError(f"poison {record['body']}")


@dataclass
class Lines:
    lines: list[str] = field(default_factory=list)

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def decisions(self) -> list[tuple[str, str | None]]:
        parsed = [json.loads(line) for line in self.lines]
        return [(p["decision"], p["message_id"]) for p in parsed]

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.decisions]

    def per_message(self, start: int = 0) -> dict[str | None, list[str]]:
        """Each message's decisions in order, from line ``start`` on. COMPLETED is written
        behind the next record and groups run in parallel, so only this order is fixed."""
        out: dict[str | None, list[str]] = {}
        for kind, message_id in self.decisions[start:]:
            out.setdefault(message_id, []).append(kind)
        return out


def make_consumer(
    client: DynamoDBClient,
    processor: Processor,
    clock: FakeClock,
    emit: Lines,
    *,
    key: str = "dedup",
    failpoints: Failpoints = NO_FAILPOINTS,
    ttl_s: int = 3600,
) -> Consumer:
    return Consumer(
        LockTable(client, TABLE, ttl_s=ttl_s, now_ms=clock),
        processor,
        key_spec=parse_key_spec(key),
        emit=emit,
        failpoints=failpoints,
    )


def sqs_record(
    message_id: str,
    body: str = "",
    *,
    group: str = "g1",
    dedup: str | None = None,
    key: str | None = None,
    receive_count: int = 1,
    arn: str = QUEUE_ARN,
) -> dict[str, Any]:
    """A record shaped exactly like Lambda's SQS event record."""
    attributes = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": "1800000000000",
        "SequenceNumber": "18880000000000000001",
        "MessageGroupId": group,
        "SenderId": "AIDAEXAMPLE",
        "MessageDeduplicationId": dedup if dedup is not None else f"dedup-{message_id}",
        "ApproximateFirstReceiveTimestamp": "1800000000001",
    }
    message_attributes: dict[str, Any] = {}
    if key is not None:
        message_attributes["sqsidem-key"] = {
            "stringValue": key,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body or message_id,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "ap-northeast-1",
    }


def get_lock(client: DynamoDBClient, key: str, table: str = TABLE) -> dict[str, Any] | None:
    from sqsidem.consumer.lock import deserialize_item

    item = client.get_item(
        TableName=table, Key={"transaction_id": {"S": key}}, ConsistentRead=True
    ).get("Item")
    return deserialize_item(item) if item else None


class DynamoCalls:
    """Counts a client's DynamoDB calls by operation; for PartiQL batches, the calls and the
    statements by kind (``INSERT`` / ``UPDATE``) and how many each kind wrote (statements
    answered without an error)."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.calls: Counter[str] = Counter()
        self.batches: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()
        self.written: Counter[str] = Counter()
        self._mutex = threading.Lock()
        self._sent = threading.local()  # the kinds of this thread's batch call in flight
        client.meta.events.register("provide-client-params.dynamodb", self._call)
        client.meta.events.register("after-call.dynamodb.BatchExecuteStatement", self._answer)

    @property
    def inserted(self) -> int:
        return self.written["INSERT"]

    def _call(self, event_name: str, params: dict[str, Any], **_kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        kinds = [s["Statement"].split(None, 1)[0] for s in params.get("Statements", [])]
        self._sent.kinds = kinds
        with self._mutex:
            self.calls[operation] += 1
            for kind in set(kinds):
                self.batches[kind] += 1
            self.statements.update(kinds)

    def _answer(self, parsed: dict[str, Any], **_kwargs: Any) -> None:
        answers = parsed.get("Responses", [])
        kinds = getattr(self._sent, "kinds", [])
        with self._mutex:
            for kind, answer in zip(kinds, answers, strict=False):
                if "Error" not in answer:
                    self.written[kind] += 1
