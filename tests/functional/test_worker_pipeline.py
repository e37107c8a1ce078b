"""The worker overlaps its round trips (issue 14): a whole batch's locks are acquired
together even at concurrency 1, and the next batch is received while the current one runs.

As in test_lock_pipeline.py, a client hook holds a call (with a deadline) until something
only the overlapping worker does has happened; the sequential worker fails the record.
"""

from __future__ import annotations

import threading
from typing import Any

from sqsidem.aws import Aws
from sqsidem.worker.model import batches_held, io_threads, pool_connections
from tests.functional.support_worker import make_queue, send, work

HOLD_S = 5.0


def test_a_batchs_locks_are_acquired_together_at_concurrency_1(moto_aws: Aws) -> None:
    """10 messages in 10 groups, one processing thread: all 10 PutItems are in flight
    before any is answered (one round trip for the batch's locks, not ten)."""
    url = make_queue(moto_aws)
    for i in range(10):
        send(moto_aws, url, f"m{i}", group=f"g{i}")
    issued = [0]
    mutex = threading.Lock()
    all_issued = threading.Event()

    def hold(**_kwargs: Any) -> None:
        with mutex:
            issued[0] += 1
            if issued[0] >= 10:
                all_issued.set()
        if not all_issued.wait(HOLD_S):
            raise TimeoutError("the batch's locks were acquired one by one")

    moto_aws.dynamodb.meta.events.register("before-call.dynamodb.PutItem", hold)
    stats = work(moto_aws, url, lambda _record: None, batch_size=10, concurrency=1)
    assert (stats.received, stats.processed, stats.failed) == (10, 10, 0)


def test_the_next_batch_is_received_while_the_current_one_runs(moto_aws: Aws) -> None:
    """Concurrency 1, batches of 1: the first record's processor waits for a second
    ReceiveMessage, which only a prefetching worker issues while a batch runs."""
    url = make_queue(moto_aws)
    send(moto_aws, url, "m0", group="g0")
    send(moto_aws, url, "m1", group="g1")
    waits: list[int] = []
    second_receive = threading.Event()

    def count(params: dict[str, Any], **_kwargs: Any) -> None:
        waits.append(int(params.get("WaitTimeSeconds", -1)))
        if len(waits) >= 2:
            second_receive.set()

    moto_aws.sqs.meta.events.register("provide-client-params.sqs.ReceiveMessage", count)

    def process(record: dict[str, Any]) -> None:
        if record["body"] == "m0" and not second_receive.wait(HOLD_S):
            raise TimeoutError("no receive while the first batch ran")

    stats = work(
        moto_aws,
        url,
        process,
        batch_size=1,
        concurrency=1,
        max_messages=2,
        idle_exit_s=None,
        wait_time_s=1,
    )
    assert (stats.received, stats.processed, stats.failed) == (2, 2, 0)
    # The first receive long-polls; the one ahead does not sit in a long poll.
    assert waits[:2] == [1, 0]


def test_pools_are_sized_for_the_concurrency() -> None:
    """A connection for every thread that may call at once (no queueing on the pool)."""
    for concurrency in (1, 4, 16):
        held = batches_held(concurrency)
        assert held == concurrency + (1 if concurrency == 1 else 0)  # one poller reads ahead
        assert io_threads(concurrency) == 10 * held
        # lock writes + processing threads + pollers + heartbeats + the deleter
        assert pool_connections(concurrency) >= io_threads(concurrency) + 3 * concurrency + 1
