"""Racing deliveries of the same keys from many threads: each key is processed once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conftest_consumer import FakeContext, Lines, create_lock_table, get_lock, sqs_record

from sqsidem.aws import Aws
from sqsidem.consumer.batch import Consumer
from sqsidem.consumer.keys import parse_key_spec
from sqsidem.consumer.lock import LockTable

KEYS = [f"k{i}" for i in range(12)]
COPIES = 6
THREADS = 8


def test_each_key_runs_exactly_once_under_racing_duplicates(moto_aws: Aws) -> None:
    """8 threads, 12 keys x 6 deliveries; busy ones are retried until acked."""
    client = moto_aws.dynamodb
    create_lock_table(client)
    runs: Counter[str] = Counter()
    mutex = threading.Lock()
    start = threading.Barrier(THREADS)

    def process(record: dict[str, Any]) -> None:
        with mutex:
            runs[record["messageAttributes"]["sqsidem-key"]["stringValue"]] += 1

    # The real clock: every lock lives far longer than this test, so nothing is taken over.
    consumer = Consumer(
        LockTable(client, "Idempotent-test", ttl_s=3600),
        process,
        key_spec=parse_key_spec("dedup"),
        emit=Lines(),
    )
    deliveries = [
        sqs_record(f"{key}-{copy}", key=key, group=f"{key}-{copy}")
        for copy in range(COPIES)
        for key in KEYS
    ]
    shards = [deliveries[i::THREADS] for i in range(THREADS)]

    def worker(shard: list[dict[str, Any]]) -> Counter[str]:
        start.wait()
        decisions: Counter[str] = Counter()
        pending = list(shard)
        # Busy means "someone else is on it": retry like SQS would, until acknowledged.
        for _ in range(1000):
            if not pending:
                break
            result = consumer.handle_event({"Records": pending}, FakeContext(60_000))
            decisions.update(o.decision for o in result.outcomes)
            failed = set(result.failed_ids)
            pending = [r for r in pending if r["messageId"] in failed]
        assert not pending
        return decisions

    with ThreadPoolExecutor(THREADS) as pool:
        totals = sum((f for f in pool.map(worker, shards)), Counter())

    assert runs == Counter(dict.fromkeys(KEYS, 1))
    assert totals["completed"] == len(KEYS)
    assert totals["duplicate"] == len(KEYS) * (COPIES - 1)
    assert totals["failed"] == 0
    for key in KEYS:
        item = get_lock(client, key)
        assert item is not None and item["status"] == "COMPLETED"
