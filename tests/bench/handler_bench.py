"""8. the handler alone (issue 14): one invocation of the consumer with 10 records of one
group, and with 10 records over 5 groups, each timed against the same event processed with
no idempotency (the processor called per record, in order); on loopback and through the
10 ms link. The primary figure is the sequential round trips the locks add:
((sqsidem - plain) through the link - (sqsidem - plain) on loopback) / 10 ms.

Runs the consumer in this process exactly as the Lambda handler builds it (the same
:class:`~sqsidem.consumer.batch.Consumer`, a warm one reused across invocations), with its
DynamoDB client counting the calls it makes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.bench.core import (
    ROUND_TRIP_S,
    CountingAws,
    Report,
    counting_aws,
    link_to,
    local_backend,
    median,
    unique,
    writes_in,
)
from tests.bench.locks_bench import create_table

RECORDS = 10
# The processor's own work per record: a little, so parallel groups have something to overlap.
WORK_S = 0.005
ARN = "arn:aws:sqs:ap-northeast-1:000000000000:bench.fifo"


def event(groups: int) -> dict[str, Any]:
    """A Lambda SQS event of RECORDS fresh records over ``groups`` groups (round-robin)."""
    records = []
    for i in range(RECORDS):
        key = uuid.uuid4().hex
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"rh-{i}",
                "body": f'{{"seq": {i}}}',
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1800000000000",
                    "SequenceNumber": str(18880000000000000000 + i),
                    "MessageGroupId": f"g{i % groups}",
                    "MessageDeduplicationId": key,
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": ARN,
                "awsRegion": "ap-northeast-1",
            }
        )
    return {"Records": records}


def work(_record: dict[str, Any]) -> None:
    time.sleep(WORK_S)  # stands for the processor's own work


def plain(payload: dict[str, Any]) -> None:
    for record in payload["Records"]:
        work(record)


def consumer_for(aws: CountingAws, table: str) -> Callable[[dict[str, Any]], Any]:
    from sqsidem.consumer.batch import Consumer
    from sqsidem.consumer.keys import parse_key_spec
    from sqsidem.consumer.lock import LockTable

    try:
        from sqsidem.consumer.pipeline import IO_THREADS, UNIT_THREADS

        pool = IO_THREADS + UNIT_THREADS
    except ImportError:  # the sequential consumer
        pool = 10
    client = aws.with_options(max_pool_connections=pool).dynamodb
    consumer = Consumer(
        LockTable(client, table, ttl_s=3600),
        work,
        key_spec=parse_key_spec("dedup"),
        emit=lambda _line: None,
    )
    return lambda payload: consumer.handle_event(payload, None)


def timed(runs: int, action: Callable[[dict[str, Any]], Any], make: Callable[[], Any]) -> float:
    """Median seconds of ``action`` on a fresh event per run."""
    times = []
    for _ in range(runs):
        payload = make()
        started = time.perf_counter()
        action(payload)
        times.append(time.perf_counter() - started)
    return median(times)


def run(report: Report) -> None:
    runs = 5 if report.quick else 15
    with (
        local_backend() as endpoint,
        link_to(endpoint) as proxy,
    ):
        table = create_table(endpoint, unique("bh"))
        seconds: dict[tuple[str, str, str], float] = {}
        for link, url in (("loopback", endpoint), ("link10ms", proxy.url)):
            aws = counting_aws(url)
            handle = consumer_for(aws, table)
            handle(event(1))  # warm: clients, connections, threads
            aws.reset()
            for shape, groups in (("one_group", 1), ("five_groups", 5)):
                prefix = f"handler.{link}.{shape}"
                base = timed(runs, plain, lambda groups=groups: event(groups))
                aws.reset()
                took = timed(runs, handle, lambda groups=groups: event(groups))
                calls = aws.reset()
                writes = writes_in(calls)
                seconds[(link, shape, "plain")] = base
                seconds[(link, shape, "sqsidem")] = took
                report.add(f"{prefix}.plain", base, "s", note=f"{RECORDS} records, median")
                report.add(f"{prefix}.sqsidem", took, "s", baseline=("plain", base))
                report.add(
                    f"{prefix}.dynamodb_writes_per_msg",
                    writes / (runs * RECORDS),
                    "writes",
                    note="counted",
                )
            # The slowest group of the five-group event, alone (2 records of one group).
            slowest = timed(runs, handle, lambda: {"Records": event(5)["Records"][0::5]})
            seconds[(link, "slowest_group", "sqsidem")] = slowest
            five = seconds[(link, "five_groups", "sqsidem")]
            report.add(
                f"handler.{link}.five_groups_vs_slowest_group",
                five / slowest,
                "ratio",
                note=f"slowest group alone {slowest:.4f} s; target <= 1.5",
            )
        for shape in ("one_group", "five_groups"):
            extra = {
                link: seconds[(link, shape, "sqsidem")] - seconds[(link, shape, "plain")]
                for link in ("loopback", "link10ms")
            }
            trips = (extra["link10ms"] - extra["loopback"]) / ROUND_TRIP_S
            target = "target <= 4 (about 20 sequentially)" if shape == "one_group" else None
            report.add(f"handler.round_trips.{shape}", trips, "round trips", note=target)
