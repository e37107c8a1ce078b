"""`sqsidem worker` and a transactional processor, from a file as `--processor` loads it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqsidem.aws import Aws
from sqsidem.worker.config import load_processor_spec
from tests.functional.support_consumer import Lines, get_lock
from tests.functional.support_worker import make_queue, send, work

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


def test_worker_commits_a_file_processors_effects_once_per_key(
    moto_aws: Aws, tmp_path: Path
) -> None:
    ddb: Any = moto_aws.dynamodb
    url = make_queue(moto_aws)
    ddb.create_table(
        TableName="totals",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for n, (body, key) in enumerate(
        [("a", "k1"), ("b", "k2"), ("a-again", "k1"), ("poison", "kp")]
    ):
        send(moto_aws, url, body, group=f"g{n}", key=key)
    source = tmp_path / "totals.py"
    source.write_text(PROCESSOR, encoding="utf-8")
    lines = Lines()
    processor = load_processor_spec(f"{source}:process")
    stats = work(moto_aws, url, processor, emit=lines, visibility_timeout_s=30)
    assert (stats.received, stats.processed, stats.duplicates, stats.failed) == (4, 2, 1, 1)
    total = ddb.get_item(TableName="totals", Key={"id": {"S": "all"}})["Item"]
    assert Decimal(total["amount"]["N"]) == Decimal("5") and total["seen"] == {"N": "2"}
    for key in ("k1", "k2"):
        lock = get_lock(ddb, key)
        assert lock is not None and lock["status"] == "COMPLETED"
    decisions = lines.kinds()
    assert decisions.count("completed") == 2 and decisions.count("duplicate") == 1
