"""Shared helpers of the proofs: polling with a deadline, resource snapshots, CLI runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner

from sqsidem.aws import Aws, ClientHook
from sqsidem.settings import Settings

# `setup` flags that keep a stack fast (DESIGN 6.8): a poison message is dead-lettered after
# two receives, each hidden for 2x the function timeout.
FAST_SETUP = (
    "--timeout",
    "2",
    "--visibility-timeout",
    "4",
    "--max-receive-count",
    "2",
    "--batch-size",
    "3",
)

# Figures printed in the terminal summary (see conftest.py), as (title, text).
FIGURES: list[tuple[str, str]] = []


def report(title: str, text: str) -> None:
    """Keep a block of figures for the terminal summary (shown with or without -s)."""
    FIGURES.append((title, text))
    print(f"\n== {title}\n{text}")


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def with_handlers(*handlers: tuple[str, Callable[..., Any]]) -> ClientHook:
    """A client hook that puts botocore event handlers on every client the CLI builds,
    ahead of moto's, so a `before-send` handler can answer in its stead."""

    def attach(_service: str, client: Any) -> None:
        for event, handler in handlers:
            client.meta.events.register_first(event, handler)

    return attach


def run_cli(
    args: Sequence[str], *, stdin: str | None = None, on_client: ClientHook | None = None
) -> CliResult:
    """The CLI in this process (so it sees moto when a moto mock is active); ``on_client``
    sees each client the CLI builds (through the context's seam)."""
    from sqsidem.cli.app import app
    from sqsidem.cli.context import Seam

    def factory(settings: Settings, *, endpoint_url: str | None = None) -> Aws:
        return Aws(settings, endpoint_url=endpoint_url, on_client=on_client)

    seam = Seam(aws_factory=factory if on_client is not None else None)
    result = CliRunner().invoke(app, list(args), input=stdin, obj=seam)
    exception = result.exception
    if isinstance(exception, SystemExit):
        exception = None
    return CliResult(result.exit_code, result.stdout, result.stderr, exception)


def _queue_depth(aws: Aws, url: str) -> tuple[int, int, int]:
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return (
        int(attributes.get("ApproximateNumberOfMessages", 0)),
        int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
    )


def count_items(aws: Aws, table: str) -> int:
    total = 0
    for page in aws.dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT"):
        total += int(page.get("Count", 0))
    return total


def resource_snapshot(aws: Aws) -> dict[str, Any]:
    """Every resource kind sqsidem touches, with queue depths and table sizes (data, too)."""
    queues = sorted(aws.sqs.list_queues().get("QueueUrls", []))
    tables = sorted(aws.dynamodb.list_tables()["TableNames"])
    keys = sorted(
        (key["KeyId"], aws.kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"])
        for key in aws.kms.list_keys()["Keys"]
    )
    return {
        "queues": {url: _queue_depth(aws, url) for url in queues},
        "tables": {name: count_items(aws, name) for name in tables},
        "functions": sorted(f["FunctionName"] for f in aws.lambda_.list_functions()["Functions"]),
        "mappings": sorted(
            (m["UUID"], m.get("State", ""))
            for m in aws.lambda_.list_event_source_mappings()["EventSourceMappings"]
        ),
        "roles": sorted(r["RoleName"] for r in aws.iam.list_roles()["Roles"]),
        "keys": keys,
        "aliases": sorted(a["AliasName"] for a in aws.kms.list_aliases()["Aliases"]),
        "topics": sorted(t["TopicArn"] for t in aws.sns.list_topics()["Topics"]),
        "subscriptions": sorted(
            s["SubscriptionArn"] for s in aws.sns.list_subscriptions()["Subscriptions"]
        ),
        "log_groups": sorted(
            g["logGroupName"] for g in aws.logs.describe_log_groups()["logGroups"]
        ),
        "alarms": sorted(a["AlarmName"] for a in aws.cloudwatch.describe_alarms()["MetricAlarms"]),
    }


# -- the effect-recording processor ---------------------------------------------------------

POISON_MARKER = "poison"

_PROCESSOR_TEMPLATE = '''"""Test processor: one row per execution, so double runs are visible."""

import os
import time
import uuid

import boto3
from botocore.config import Config

_client = boto3.client(
    "dynamodb",
    endpoint_url={endpoint!r},
    region_name="ap-northeast-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=Config(retries={{"mode": "standard", "max_attempts": 10}}),
)


def process(record):
    key = record["messageAttributes"]["sqsidem-key"]["stringValue"]
    if {poison!r} in record["body"]:
        raise RuntimeError("poison message " + key)
    _client.put_item(
        TableName={table!r},
        Item={{
            "effect_id": {{"S": uuid.uuid4().hex}},
            "key": {{"S": key}},
            "message_id": {{"S": record["messageId"]}},
            "receive_count": {{"N": record["attributes"]["ApproximateReceiveCount"]}},
            "pid": {{"N": str(os.getpid())}},
            "at_ms": {{"N": str(int(time.time() * 1000))}},
        }},
    )
'''


# The transactional form: the effect row is committed with COMPLETED (sqsidem.consumer.effects),
# so a crash between the processor and the commit leaves no row at all. Each execution also
# writes one `chaos-execution` line to stderr (the worker's log) before anything else, so the
# test can count executions that died mid-way: executions without an effect row.
_TRANSACTIONAL_TEMPLATE = '''"""Test processor: one row per execution, committed with COMPLETED."""

import json
import os
import sys
import time
import uuid


def process(record, effects):
    key = record["messageAttributes"]["sqsidem-key"]["stringValue"]
    execution = uuid.uuid4().hex
    # One write call: the worker's threads share stderr with the decision lines.
    sys.stderr.write(json.dumps({{"chaos-execution": execution, "key": key}}) + "\\n")
    sys.stderr.flush()
    if {poison!r} in record["body"]:
        raise RuntimeError("poison message " + key)
    effects.put(
        {table!r},
        {{
            "effect_id": execution,
            "key": key,
            "message_id": record["messageId"],
            "receive_count": int(record["attributes"]["ApproximateReceiveCount"]),
            "pid": os.getpid(),
            "at_ms": int(time.time() * 1000),
        }},
        condition="attribute_not_exists(effect_id)",
    )
'''
EXECUTION_MARKER = "chaos-execution"


def write_effects_processor(
    path: Any, endpoint: str, table: str, *, transactional: bool = False
) -> str:
    """Write the processor file; returns its ``path:function`` spec.

    Plain (default): the processor writes its row itself, through its own client. With
    ``transactional``: it takes ``effects`` and the row commits with COMPLETED.
    """
    from pathlib import Path

    template = _TRANSACTIONAL_TEMPLATE if transactional else _PROCESSOR_TEMPLATE
    target = Path(path)
    target.write_text(
        template.format(endpoint=endpoint, table=table, poison=POISON_MARKER),
        encoding="utf-8",
    )
    return f"{target}:process"


def executions_by_key(lines: Any) -> dict[str, int]:
    """How many times the transactional processor started, per key, from worker log lines."""
    import json

    counts: dict[str, int] = {}
    for line in lines:
        start = line.find('{"' + EXECUTION_MARKER + '"')
        if start < 0:
            continue
        try:
            value, _ = json.JSONDecoder().raw_decode(line, start)
        except ValueError:
            continue  # a line cut short by a SIGKILL
        key = str(value.get("key"))
        counts[key] = counts.get(key, 0) + 1
    return counts


def create_effects_table(aws: Aws, table: str) -> None:
    aws.dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "effect_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "effect_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def effects_by_key(aws: Aws, table: str) -> dict[str, int]:
    """How many times each key's effect happened."""
    counts: dict[str, int] = {}
    for page in aws.dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page.get("Items", []):
            key = item["key"]["S"]
            counts[key] = counts.get(key, 0) + 1
    return counts


def effect_rows(aws: Aws, table: str) -> list[dict[str, Any]]:
    """Every effect row as plain values (key, message_id, receive_count, pid, at_ms)."""
    rows: list[dict[str, Any]] = []
    for page in aws.dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page.get("Items", []):
            rows.append(
                {
                    name: (int(value["N"]) if "N" in value else value["S"])
                    for name, value in item.items()
                }
            )
    return rows


def lock_items(aws: Aws, table: str) -> dict[str, dict[str, Any]]:
    """transaction_id -> the lock record as plain values."""
    items: dict[str, dict[str, Any]] = {}
    for page in aws.dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page.get("Items", []):
            items[item["transaction_id"]["S"]] = {
                name: (int(value["N"]) if "N" in value else value.get("S"))
                for name, value in item.items()
            }
    return items


def lock_states(aws: Aws, table: str) -> dict[str, str]:
    """transaction_id -> status of every lock record (tutorial items read as COMPLETED)."""
    states: dict[str, str] = {}
    for page in aws.dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page.get("Items", []):
            states[item["transaction_id"]["S"]] = item.get("status", {}).get("S", "COMPLETED")
    return states


def queue_total(aws: Aws, url: str) -> int:
    """Visible + in flight + delayed."""
    return sum(_queue_depth(aws, url))


def drain_keys(aws: Aws, url: str) -> list[str]:
    """Receive and delete everything a queue holds: the messages' sqsidem-keys.

    Deleting as we go matters on FIFO queues: a group's later messages are not delivered
    while an earlier one is in flight.
    """
    keys: list[str] = []
    empty = 0
    while empty < 2:
        messages = aws.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=60,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            empty += 1
            continue
        empty = 0
        keys.extend(m["MessageAttributes"]["sqsidem-key"]["StringValue"] for m in messages)
        aws.sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
    return keys


def key_attribute(key: str) -> dict[str, Any]:
    return {"sqsidem-key": {"DataType": "String", "StringValue": key}}


def error_response(request: Any, status: int, code: str, message: str) -> Any:
    """An HTTP answer as AWS's JSON protocols spell an error."""
    import json

    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    body = json.dumps({"__type": code, "message": message}).encode()
    headers = {"x-amzn-RequestId": "fault-injected", "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]
