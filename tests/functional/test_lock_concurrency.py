"""Racing deliveries of the same keys from many threads: each key is processed once.

Runs on ministack, not moto: moto's conditional PutItem is not atomic across threads (two
winners now and then), so on moto this test could fail for a reason other than our lock.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqsidem.aws import Aws
from sqsidem.consumer.batch import Consumer
from sqsidem.consumer.keys import parse_key_spec
from sqsidem.consumer.lock import LockTable
from tests.functional.support_consumer import FakeContext, Lines, get_lock, sqs_record

KEYS = [f"k{i}" for i in range(12)]
COPIES = 6
THREADS = 8


def test_each_key_runs_exactly_once_under_racing_duplicates(
    local_aws: Aws, racing_lock_table: str
) -> None:
    """8 threads, 12 keys x 6 deliveries; busy ones are retried until acked."""
    client = local_aws.dynamodb
    runs: Counter[str] = Counter()
    mutex = threading.Lock()
    start = threading.Barrier(THREADS)

    def process(record: dict[str, Any]) -> None:
        with mutex:
            runs[record["messageAttributes"]["sqsidem-key"]["stringValue"]] += 1

    # The real clock: every lock lives far longer than this test, so nothing is taken over.
    consumer = Consumer(
        LockTable(client, racing_lock_table, ttl_s=3600),
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
        item = get_lock(client, key, racing_lock_table)
        assert item is not None and item["status"] == "COMPLETED"
