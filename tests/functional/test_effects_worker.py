"""`sqsidem worker` and a transactional processor, from a file as `--processor` loads it."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from conftest_consumer import TABLE, create_lock_table, get_lock

from sqsidem.aws import Aws
from sqsidem.consumer.config import ConsumerConfig
from sqsidem.worker import WorkerClients, WorkerOptions, load_processor_spec, run_worker

PROCESSOR = """
def process(record, effects):
    if record["body"] == "poison":
        raise RuntimeError("poison")
    effects.update(
        "totals",
        {"id": "all"},
        "ADD amount :n, seen :one",
        values={":n": 2.5, ":one": 1},
    )
"""


class TickClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_worker_commits_a_file_processors_effects_once_per_key(
    moto_aws: Aws, tmp_path: Path
) -> None:
    ddb: Any = moto_aws.dynamodb
    create_lock_table(ddb)
    ddb.create_table(
        TableName="totals",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    url = moto_aws.sqs.create_queue(
        QueueName="test-queue.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"}
    )["QueueUrl"]
    for n, (body, key) in enumerate(
        [("a", "k1"), ("b", "k2"), ("a-again", "k1"), ("poison", "kp")]
    ):
        moto_aws.sqs.send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageGroupId=f"g{n}",
            MessageDeduplicationId=f"d{n}",
            MessageAttributes={"sqsidem-key": {"DataType": "String", "StringValue": key}},
        )
    source = tmp_path / "totals.py"
    source.write_text(PROCESSOR, encoding="utf-8")
    stream = io.StringIO()
    stats = run_worker(
        WorkerClients.from_aws(moto_aws),
        ConsumerConfig(table=TABLE),
        WorkerOptions(url, wait_time_s=0, idle_exit_s=0, force=True, visibility_timeout_s=30),
        processor=load_processor_spec(f"{source}:process"),
        decision_stream=stream,
        clock=TickClock(),
    )
    assert (stats.received, stats.processed, stats.duplicates, stats.failed) == (4, 2, 1, 1)
    total = ddb.get_item(TableName="totals", Key={"id": {"S": "all"}})["Item"]
    assert Decimal(total["amount"]["N"]) == Decimal("5") and total["seen"] == {"N": "2"}
    for key in ("k1", "k2"):
        lock = get_lock(ddb, key)
        assert lock is not None and lock["status"] == "COMPLETED"
    decisions = [json.loads(line)["decision"] for line in stream.getvalue().splitlines()]
    assert decisions.count("completed") == 2 and decisions.count("duplicate") == 1
