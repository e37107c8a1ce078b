"""5. worker throughput: sqsidem's worker at --concurrency 1 and 4, directly and through the
10 ms link, next to a bare receive + delete drain; DynamoDB writes per message.

The worker runs in this process through the library function `sqsidem worker` calls
(:func:`sqsidem.worker.poller.run_worker`) with a no-op processor, so its clients can count every
DynamoDB call (botocore events) and the figure is the worker's own overhead.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.bench.core import (
    ROUND_TRIP_S,
    CountingAws,
    Report,
    Unavailable,
    counting_aws,
    link_to,
    local_backend,
    make_aws,
    unique,
    writes_in,
)
from tests.bench.locks_bench import create_table

GROUPS = 10
VISIBILITY_S = 30


def keyed_entries(seqs: range, key_of: Callable[[int], str]) -> list[Any]:
    """SendMessageBatch entries: message ``seq`` in group ``g<seq % 10>``, keyed (and
    deduplicated) by ``key_of(seq)``."""
    entries: list[Any] = []
    for index, seq in enumerate(seqs):
        key = key_of(seq)
        entries.append(
            {
                "Id": str(index),
                "MessageBody": f'{{"transaction_id": "{key}", "seq": {seq}}}',
                "MessageGroupId": f"g{seq % GROUPS}",
                "MessageDeduplicationId": key,
                "MessageAttributes": {"sqsidem-key": {"DataType": "String", "StringValue": key}},
            }
        )
    return entries


def fill_queue(endpoint: str, count: int) -> str:
    """A fresh FIFO queue holding ``count`` messages over 10 groups, each with its key."""
    aws = make_aws(endpoint)
    url = aws.sqs.create_queue(
        QueueName=f"{unique('bw')}.fifo",
        Attributes={"FifoQueue": "true", "VisibilityTimeout": str(VISIBILITY_S)},
    )["QueueUrl"]
    for start in range(0, count, 10):
        entries = keyed_entries(range(start, min(count, start + 10)), lambda _: uuid.uuid4().hex)
        aws.sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return url


def bare_drain(endpoint: str, url: str, count: int, threads: int) -> float:
    """ReceiveMessage + DeleteMessageBatch and nothing else: the floor of any consumer."""
    sqs = make_aws(endpoint).sqs
    done = [0]
    mutex = threading.Lock()
    deadline = time.monotonic() + 300

    def run() -> None:
        while time.monotonic() < deadline:
            with mutex:
                if done[0] >= count:
                    return
            got = receive_batch(sqs, url)
            if got:
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(got)
                    ],
                )
                with mutex:
                    done[0] += len(got)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for running in [pool.submit(run) for _ in range(threads)]:
            running.result()
    if done[0] < count:
        raise RuntimeError(f"bare drain got {done[0]} of {count}")
    return time.perf_counter() - started


def run_sqsidem_worker(
    aws: CountingAws, url: str, table: str, count: int, concurrency: int
) -> tuple[float, int, int, int, str]:
    """(seconds, received, processed, decision lines, stop reason) of one worker run."""
    try:
        from sqsidem.consumer.config import ConsumerConfig
        from sqsidem.worker.model import WorkerClients, WorkerOptions
        from sqsidem.worker.poller import run_worker
    except ImportError as exc:
        raise Unavailable(f"worker library not importable: {exc}") from exc
    decisions: list[str] = []
    options = WorkerOptions(
        queue_url=url,
        concurrency=concurrency,
        max_messages=count,
        idle_exit_s=5,
        wait_time_s=1,
        force=True,  # no event source mapping exists: skip the Lambda check
    )
    try:
        from sqsidem.worker.model import pool_connections

        sized = aws.with_options(max_pool_connections=pool_connections(concurrency))
    except ImportError:  # before issue 14: the pool `sqsidem worker` sized
        sized = aws.with_options(max_pool_connections=max(10, 2 * concurrency))
    clients = WorkerClients(sized.sqs, sized.dynamodb, None)
    started = time.perf_counter()
    stats = run_worker(
        clients,
        ConsumerConfig(table=table),
        options,
        processor=lambda _record: None,
        emit=decisions.append,
    )
    elapsed = time.perf_counter() - started
    return elapsed, stats.received, stats.processed, len(decisions), str(stats.stop_reason)


def run(report: Report) -> None:
    count = 400 if report.quick else 2000

    # Seconds per message of each run, for the sequential round trips of a batch.
    per_msg: dict[tuple[str, str, int], float] = {}
    with (
        local_backend() as endpoint,
        link_to(endpoint) as proxy,
    ):
        rates: dict[tuple[str, int], float] = {}
        # Loopback and link runs alternate, so a change of the machine's load between them
        # weighs less on the round-trip figures, which subtract one from the other.
        for concurrency in (1, 4):
            for link, url in (("loopback", endpoint), ("link10ms", proxy.url)):
                prefix = f"worker.{link}.c{concurrency}"
                drain_s = bare_drain(url, fill_queue(endpoint, count), count, concurrency)
                drain = count / drain_s
                per_msg[("drain", link, concurrency)] = drain_s / count
                report.add(f"{prefix}.bare_drain", drain, "msgs/s")
                queue_url = fill_queue(endpoint, count)
                table = create_table(endpoint, unique("bw"))
                aws = counting_aws(url)
                try:
                    elapsed, received, processed, lines, reason = run_sqsidem_worker(
                        aws, queue_url, table, count, concurrency
                    )
                except Unavailable as exc:
                    report.na(f"{prefix}.sqsidem", str(exc))
                    continue
                except Exception as exc:
                    report.na(f"{prefix}.sqsidem", f"{type(exc).__name__}: {exc}"[:200])
                    continue
                calls = aws.reset()
                writes = writes_in(calls)
                rate = processed / elapsed
                rates[(link, concurrency)] = rate
                per_msg[("sqsidem", link, concurrency)] = elapsed / max(1, processed)
                report.add(
                    f"{prefix}.sqsidem",
                    rate,
                    "msgs/s",
                    baseline=("bare drain", drain),
                    note=f"{processed} processed of {received} received, {count} sent; "
                    f"stop: {reason}",
                )
                report.add(
                    f"{prefix}.dynamodb_writes_per_msg",
                    writes / max(1, processed),
                    "writes",
                    note=f"target exactly 2; {lines} decision lines",
                )
        for link in ("loopback", "link10ms"):
            if (link, 1) in rates and (link, 4) in rates:
                target = "target >= 3 through the link" if link == "link10ms" else None
                ratio = rates[(link, 4)] / rates[(link, 1)]
                report.add(f"worker.{link}.c4_vs_c1", ratio, "ratio", note=target)
    round_trips(report, per_msg)


def round_trips(report: Report, per_msg: dict[tuple[str, str, int], float]) -> None:
    """Sequential round trips per 10-message batch: (time through the link - time on
    loopback) / 10 ms, the figure robust to the machine's noise (issue 14)."""
    for who in ("drain", "sqsidem"):
        for concurrency in (1, 4):
            link = per_msg.get((who, "link10ms", concurrency))
            loop = per_msg.get((who, "loopback", concurrency))
            if link is None or loop is None:
                continue
            trips = (link - loop) * 10 / ROUND_TRIP_S
            target = "target <= 5" if who == "sqsidem" and concurrency == 1 else None
            report.add(
                f"worker.round_trips_per_batch.{who}.c{concurrency}",
                trips,
                "round trips",
                note=target,
            )


def receive_batch(sqs: Any, url: str) -> list[Any]:
    """Up to 10 messages with every attribute, long-polling 1 s (what a consumer receives)."""
    return list(
        sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
    )
