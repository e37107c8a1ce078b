"""The worker runs a batch's message groups in parallel (each group in order, DESIGN 6.4),
deletes a group's successes as the group ends, and the Lambda path keeps its behaviour."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from sqsidem.aws import Aws
from sqsidem.consumer.batch import independent_units
from sqsidem.consumer.lock import LockTable
from sqsidem.worker.event import WorkerContext
from sqsidem.worker.heartbeat import Heartbeat
from tests.functional.support_consumer import (
    TABLE,
    FakeClock,
    Lines,
    Recorder,
    get_lock,
    make_consumer,
    sqs_record,
)
from tests.functional.support_worker import in_flight, make_queue, send, work
from tests.support_locks import create_lock_table
from tests.waiting import poll

STANDARD_ARN = "arn:aws:sqs:ap-northeast-1:123456789012:plain"


class Overlap:
    """A processor that records how many records ran at the same time."""

    def __init__(self, want: int) -> None:
        self.want = want
        self.mutex = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls: list[str] = []

    def __call__(self, record: dict[str, Any]) -> None:
        with self.mutex:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.calls.append(record["body"])
        try:
            # Hold this record until enough others run alongside it (or give up).
            poll(lambda: self.peak >= self.want, 5.0, interval_s=0.01)
        finally:
            with self.mutex:
                self.running -= 1


def test_groups_of_one_batch_run_in_parallel_in_order(moto_aws: Aws) -> None:
    """Three groups in one batch, concurrency 3: they overlap; each group keeps its order."""
    url = make_queue(moto_aws)
    for n in range(2):
        for group in ("a", "b", "c"):
            send(moto_aws, url, f"{group}{n}", group=group, key=f"k-{group}{n}")
    processor = Overlap(want=3)
    stats = work(moto_aws, url, processor, concurrency=3, max_messages=6, idle_exit_s=None)
    assert processor.peak == 3
    assert (stats.received, stats.processed, stats.stop_reason) == (6, 6, "max-messages")
    for group in ("a", "b", "c"):
        assert [c for c in processor.calls if c[0] == group] == [f"{group}0", f"{group}1"]
    assert in_flight(moto_aws, url) == 0


def test_standard_queue_records_all_run_in_parallel(moto_aws: Aws) -> None:
    """No groups on a standard queue: every record of the batch is independent."""
    url = make_queue(moto_aws, fifo=False)
    for n in range(3):
        send(moto_aws, url, f"m{n}", group=None, key=f"k-m{n}")
    processor = Overlap(want=3)
    stats = work(moto_aws, url, processor, concurrency=3, max_messages=3, idle_exit_s=None)
    assert processor.peak == 3
    assert stats.processed == 3


def test_failure_stops_only_the_rest_of_its_group(moto_aws: Aws) -> None:
    """a1 ok, a2 fails -> a3 not attempted; group b goes on; only a2 and a3 stay."""
    url = make_queue(moto_aws)
    for body, group in (("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b"), ("a3", "a")):
        send(moto_aws, url, body, group=group, key=f"k-{body}")
    processor = Recorder(fail_bodies={"a2"})
    stats = work(moto_aws, url, processor, concurrency=2, max_messages=5, idle_exit_s=None)
    assert sorted(processor.calls) == ["a1", "a2", "b1", "b2"]
    assert [c for c in processor.calls if c[0] == "a"] == ["a1", "a2"]
    assert (stats.processed, stats.failed) == (3, 2)
    assert in_flight(moto_aws, url) == 2


def test_a_finished_group_is_deleted_while_another_still_runs(moto_aws: Aws) -> None:
    """FIFO: group a's message leaves the queue before slow group b ends, so a's next
    message could be received meanwhile."""
    url = make_queue(moto_aws)
    send(moto_aws, url, "a1", group="a", key="k-a1")
    send(moto_aws, url, "b1", group="b", key="k-b1")
    seen_alone: list[bool] = []

    def process(record: dict[str, Any]) -> None:
        if record["body"] == "b1":
            seen_alone.append(poll(lambda: in_flight(moto_aws, url) == 1, 10.0, interval_s=0.01))

    stats = work(moto_aws, url, process, concurrency=2, max_messages=2, idle_exit_s=None)
    assert seen_alone == [True]
    assert stats.processed == 2 and stats.delete_calls >= 2
    assert in_flight(moto_aws, url) == 0


def test_one_slot_deletes_a_batch_in_one_call(moto_aws: Aws) -> None:
    """Concurrency 1: nothing could use an early delete, so one DeleteMessageBatch."""
    url = make_queue(moto_aws)
    for group in ("a", "b", "c"):
        send(moto_aws, url, f"{group}1", group=group, key=f"k-{group}1")
    stats = work(moto_aws, url, Recorder(), concurrency=1, max_messages=3, idle_exit_s=None)
    assert (stats.processed, stats.batches, stats.delete_calls) == (3, 1, 1)


def test_heartbeat_extends_a_slow_record_while_others_finish(moto_aws: Aws) -> None:
    """Visibility 1 s: a record running longer has its lock deadline extended."""
    url = make_queue(moto_aws, visibility_s=1)
    send(moto_aws, url, "slow", group="a", key="k-slow")
    send(moto_aws, url, "fast", group="b", key="k-fast")
    extended: list[bool] = []

    def process(record: dict[str, Any]) -> None:
        if record["body"] != "slow":
            return
        first = get_lock(moto_aws.dynamodb, "k-slow")
        assert first is not None

        def moved() -> bool:
            item = get_lock(moto_aws.dynamodb, "k-slow")
            assert item is not None
            return bool(item["in_progress_expiration"] > first["in_progress_expiration"])

        extended.append(poll(moved, 10.0, interval_s=0.01))

    stats = work(moto_aws, url, process, concurrency=2, max_messages=2, idle_exit_s=None)
    assert extended == [True]
    assert stats.heartbeats >= 1 and stats.processed == 2
    assert in_flight(moto_aws, url) == 0


def test_heartbeat_forgets_messages_that_left(moto_aws: Aws) -> None:
    """A forgotten receipt handle is not extended any more; the beat still works."""
    url = make_queue(moto_aws)
    send(moto_aws, url, "m1", group="a", key="k-m1")
    send(moto_aws, url, "m2", group="b", key="k-m2")
    handles = [
        m["ReceiptHandle"]
        for m in moto_aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    ]
    clock = FakeClock()
    heartbeat = Heartbeat(
        moto_aws.sqs,
        url,
        handles,
        LockTable(moto_aws.dynamodb, TABLE, ttl_s=60, now_ms=clock),
        WorkerContext(clock.ms + 30_000, clock),
        visibility_timeout_s=30,
        now_ms=clock,
    )
    moto_aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[0])
    heartbeat.forget([handles[0]])
    heartbeat.beat()
    assert heartbeat.receipt_handles == [handles[1]] and heartbeat.errors == 0


def test_independent_units_split_fifo_by_group_and_standard_by_record() -> None:
    records = [
        sqs_record("1", group="a"),
        sqs_record("2", group="b"),
        sqs_record("3", group="a"),
        sqs_record("4", group="c"),
    ]
    assert independent_units(records, fifo=True) == [[0, 2], [1], [3]]
    assert independent_units(records, fifo=False) == [[0], [1], [2], [3]]
    assert independent_units([], fifo=True) == []


@pytest.mark.parametrize("fifo", [True, False])
def test_handle_event_is_handle_records_over_the_whole_batch(moto_aws: Aws, fifo: bool) -> None:
    """The Lambda path: same outcomes and decision lines, in batch order, as before."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    arn = "arn:aws:sqs:ap-northeast-1:123456789012:q.fifo" if fifo else STANDARD_ARN
    records = [
        sqs_record(i, group=g, key=f"k{i}", arn=arn)
        for i, g in (("1", "a"), ("2", "b"), ("3", "a"), ("4", "b"))
    ]
    lines = Lines()
    consumer = make_consumer(moto_aws.dynamodb, Recorder(fail_bodies={"1"}), FakeClock(), lines)
    result = consumer.handle_event({"Records": records}, None)
    expected_failed = ["1", "3"] if fifo else ["1"]
    assert result.failed_ids == expected_failed
    assert [o.message_id for o in result.outcomes] == ["1", "2", "3", "4"]
    if fifo:
        # Groups run in parallel and COMPLETED is written behind: each group keeps its order.
        group_a = [d for d in lines.decisions if d[1] in ("1", "3")]
        assert group_a == [("acquired", "1"), ("failed", "1"), ("released", "1"), ("failed", "3")]
        assert lines.per_message() == {
            "1": ["acquired", "failed", "released"],
            "2": ["acquired", "completed"],
            "3": ["failed"],
            "4": ["acquired", "completed"],
        }
        blocked = json.loads(next(line for line in lines.lines if '"3"' in line))
        assert blocked["blocked_by"] == "1"
