"""FIFO partial batches (DESIGN 6.4) and the crash proof, against moto's DynamoDB."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sqsidem.consumer.failpoints import Failpoints
from tests.functional import support_consumer as kit


def failures(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def test_failure_stops_the_rest_of_its_group_and_is_not_rerun(ddb: Any) -> None:
    """Batch of 3 in one group, record 2 fails: 2 and 3 reported, 1 is a duplicate later."""
    clock, lines = kit.FakeClock(), kit.Lines()
    processor = kit.Recorder(fail_bodies={"m2"})
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    batch = [kit.sqs_record(m) for m in ("m1", "m2", "m3")]
    first = consumer.handle_event({"Records": batch}, kit.FakeContext())
    assert failures(first.response()) == ["m2", "m3"]
    assert processor.calls == ["m1", "m2"]  # m3 was not executed
    m3 = [json.loads(line) for line in lines.lines if '"m3"' in line]
    assert [line["decision"] for line in m3] == ["failed"]
    assert "not attempted" in m3[0]["error"] and m3[0]["blocked_by"] == "m2"

    # The mapping redelivers the whole batch (m1 was not deleted yet in a real retry path,
    # or was redelivered): m1 must be a duplicate, not run again.
    processor.fail_bodies.clear()
    again = [kit.sqs_record(m, receive_count=2) for m in ("m1", "m2", "m3")]
    mark = len(lines.lines)
    second = consumer.handle_event({"Records": again}, kit.FakeContext())
    assert failures(second.response()) == []
    assert processor.calls == ["m1", "m2", "m2", "m3"]
    assert lines.per_message(mark) == {
        "m1": ["duplicate"],
        "m2": ["acquired", "completed"],
        "m3": ["acquired", "completed"],
    }
    # The turns (the lines printed before a record runs) keep the group's order.
    turns = [(k, m) for k, m in lines.decisions[mark:] if k != "completed"]
    assert turns == [("duplicate", "m1"), ("acquired", "m2"), ("acquired", "m3")]


def test_other_groups_go_on_after_a_failure(ddb: Any) -> None:
    """Interleaved groups: a failure in group a stops only group a."""
    clock, lines = kit.FakeClock(), kit.Lines()
    processor = kit.Recorder(fail_bodies={"a1"})
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    batch = [
        kit.sqs_record("a1", group="a"),
        kit.sqs_record("b1", group="b"),
        kit.sqs_record("a2", group="a"),
        kit.sqs_record("b2", group="b"),
    ]
    result = consumer.handle_event({"Records": batch}, kit.FakeContext())
    assert failures(result.response()) == ["a1", "a2"]
    # The groups run in parallel: only each group's own order is fixed.
    assert sorted(processor.calls) == ["a1", "b1", "b2"]
    assert [c for c in processor.calls if c.startswith("b")] == ["b1", "b2"]


def test_busy_record_also_stops_its_group(ddb: Any) -> None:
    """A busy (unacknowledged) record must keep order too: the rest of its group waits."""
    clock, lines = kit.FakeClock(), kit.Lines()
    processor = kit.Recorder()
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    crashing = kit.make_consumer(
        ddb, kit.Recorder(), clock, kit.Lines(), failpoints=_crash_after_lock()
    )
    with pytest.raises(Crash):
        crashing.handle_event({"Records": [kit.sqs_record("m1")]}, kit.FakeContext())
    result = consumer.handle_event(
        {"Records": [kit.sqs_record("m1"), kit.sqs_record("m2")]}, kit.FakeContext()
    )
    assert failures(result.response()) == ["m1", "m2"]
    assert processor.calls == []


def test_standard_queue_reports_only_the_failed_record(ddb: Any) -> None:
    """Without FIFO order, later records of the same group still run."""
    clock, lines = kit.FakeClock(), kit.Lines()
    processor = kit.Recorder(fail_bodies={"m1"})
    consumer = kit.make_consumer(ddb, processor, clock, lines, key="message-id")
    arn = "arn:aws:sqs:ap-northeast-1:123456789012:plain"
    batch = [kit.sqs_record("m1", arn=arn), kit.sqs_record("m2", arn=arn)]
    result = consumer.handle_event({"Records": batch}, kit.FakeContext())
    assert failures(result.response()) == ["m1"]
    # Each record of a standard queue is a unit of its own: they run in parallel.
    assert sorted(processor.calls) == ["m1", "m2"]


class Crash(BaseException):
    """Stands for SIGKILL: not an Exception, so no handler of ours can catch it."""


def _crash_after_lock() -> Failpoints:
    def die() -> None:
        raise Crash

    return Failpoints({"after-lock": 1.0}, kill=die)


def test_crash_after_lock_is_recovered_exactly_once_after_the_deadline(ddb: Any) -> None:
    """Dies after taking the lock: busy before the deadline, taken over once after it."""
    clock = kit.FakeClock()
    processor = kit.Recorder()
    dying = kit.make_consumer(ddb, processor, clock, kit.Lines(), failpoints=_crash_after_lock())
    with pytest.raises(Crash):
        dying.handle_event({"Records": [kit.sqs_record("m1")]}, kit.FakeContext(3000))
    assert processor.calls == []

    lines = kit.Lines()
    healthy = kit.make_consumer(ddb, processor, clock, lines)
    clock.advance(2999)  # a redelivery before the deadline must not be acknowledged
    early = healthy.handle_event(
        {"Records": [kit.sqs_record("m1", receive_count=2)]}, kit.FakeContext()
    )
    assert failures(early.response()) == ["m1"]
    assert processor.calls == []

    clock.advance(2)  # past the deadline
    late = healthy.handle_event(
        {"Records": [kit.sqs_record("m1", receive_count=3)]}, kit.FakeContext()
    )
    assert failures(late.response()) == []
    again = healthy.handle_event(
        {"Records": [kit.sqs_record("m1", receive_count=4)]}, kit.FakeContext()
    )
    assert failures(again.response()) == []
    assert processor.calls == ["m1"]
    assert lines.kinds() == ["busy", "taken-over", "completed", "duplicate"]
    item = kit.get_lock(ddb, "dedup-m1")
    assert item is not None and item["status"] == "COMPLETED" and item["receive_count"] == 3


def test_crash_after_complete_is_a_duplicate_on_redelivery(ddb: Any) -> None:
    """Dies after COMPLETED but before the ack: the redelivery is skipped."""
    clock, processor = kit.FakeClock(), kit.Recorder()

    def die() -> None:
        raise Crash

    dying = kit.make_consumer(
        ddb, processor, clock, kit.Lines(), failpoints=Failpoints({"after-complete": 1.0}, kill=die)
    )
    with pytest.raises(Crash):
        dying.handle_event({"Records": [kit.sqs_record("m1")]}, kit.FakeContext())
    lines = kit.Lines()
    kit.make_consumer(ddb, processor, clock, lines).handle_event(
        {"Records": [kit.sqs_record("m1", receive_count=2)]}, kit.FakeContext()
    )
    assert processor.calls == ["m1"]
    assert lines.kinds() == ["duplicate"]
