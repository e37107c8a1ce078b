"""Pipelined locks (issue 14): a batch's locks are acquired together, COMPLETED is written
behind the next record, a batch's groups run in parallel, and what never runs is released.

Each test makes the old sequential shape impossible to pass: a client hook (the seam's own
botocore event hooks, registered on the test's client) holds a lock write until something
only the pipelined consumer does has happened, with a deadline; the sequential consumer
would wait for that hold and fail the record instead.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from sqsidem.consumer.batch import Consumer
from sqsidem.consumer.keys import parse_key_spec
from sqsidem.consumer.lock import LockTable
from tests.functional import support_consumer as kit

HOLD_S = 5.0


def hold_calls(client: Any, operation: str, release: threading.Event) -> None:
    """Every ``operation`` call waits (at most HOLD_S) until ``release`` is set; a call that
    times out raises, so the record it belongs to fails."""

    def hold(**_kwargs: Any) -> None:
        if not release.wait(HOLD_S):
            raise TimeoutError(f"{operation} held for {HOLD_S} s")

    client.meta.events.register(f"before-call.dynamodb.{operation}", hold)


def count_calls(client: Any, operation: str, reached: int, event: threading.Event) -> None:
    """Sets ``event`` once ``reached`` ``operation`` calls have been issued."""
    seen = [0]
    mutex = threading.Lock()

    def count(**_kwargs: Any) -> None:
        with mutex:
            seen[0] += 1
            if seen[0] >= reached:
                event.set()

    client.meta.events.register(f"before-call.dynamodb.{operation}", count)


def test_a_groups_locks_are_acquired_together_before_its_first_record_runs(ddb: Any) -> None:
    """10 records of one group: every PutItem is in flight at once (none answered before
    all 10 were issued), so the batch spends one round trip on acquiring, not ten."""
    all_issued = threading.Event()
    count_calls(ddb, "PutItem", 10, all_issued)
    hold_calls(ddb, "PutItem", all_issued)
    processor, lines = kit.Recorder(), kit.Lines()
    consumer = kit.make_consumer(ddb, processor, kit.FakeClock(), lines)
    records = [kit.sqs_record(f"m{i}") for i in range(10)]
    result = consumer.handle_event({"Records": records}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": []}
    assert processor.calls == [f"m{i}" for i in range(10)]  # still in order
    turns = [m for kind, m in lines.decisions if kind == "acquired"]
    assert turns == [f"m{i}" for i in range(10)]


def test_completed_is_written_behind_the_next_record(ddb: Any) -> None:
    """m1's UpdateItem is held until m2's processor has run: the sequential consumer
    would wait for it; the pipelined one starts m2 and still answers completed for m1."""
    second_ran = threading.Event()
    hold_calls(ddb, "UpdateItem", second_ran)

    def process(record: dict[str, Any]) -> None:
        if record["body"] == "m2":
            second_ran.set()

    lines = kit.Lines()
    consumer = kit.make_consumer(ddb, process, kit.FakeClock(), lines)
    result = consumer.handle_event(
        {"Records": [kit.sqs_record("m1"), kit.sqs_record("m2")]}, kit.FakeContext()
    )
    assert result.response() == {"batchItemFailures": []}
    assert [o.decision for o in result.outcomes] == ["completed", "completed"]
    # The handler returned only after every COMPLETED write was answered.
    for key in ("dedup-m1", "dedup-m2"):
        lock = kit.get_lock(ddb, key)
        assert lock is not None and lock["status"] == "COMPLETED"


def test_a_batchs_groups_run_in_parallel_in_the_function(ddb: Any) -> None:
    """Group a's processor waits for group b's to start: run one after the other, a would
    time out; in parallel, both complete."""
    b_started = threading.Event()

    def process(record: dict[str, Any]) -> None:
        if record["body"] == "a1" and not b_started.wait(HOLD_S):
            raise TimeoutError("group b never started while group a ran")
        if record["body"] == "b1":
            b_started.set()

    consumer = kit.make_consumer(ddb, process, kit.FakeClock(), kit.Lines())
    records = [kit.sqs_record("a1", group="a"), kit.sqs_record("b1", group="b")]
    result = consumer.handle_event({"Records": records}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": []}


class PartsSink:
    """A sink that writes a line in two parts (as ``print`` does: text, then newline). The
    first line waits between its parts for another line to start (at most HOLD_S / 10):
    if lines of parallel units are not serialised, they interleave."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.overlapped = threading.Event()
        self._mutex = threading.Lock()
        self._active = 0
        self._first = True

    def __call__(self, line: str) -> None:
        with self._mutex:
            self._active += 1
            if self._active > 1:
                self.overlapped.set()
            first, self._first = self._first, False
        self.parts.append(line)
        if first:
            self.overlapped.wait(HOLD_S / 10)
        self.parts.append("\n")
        with self._mutex:
            self._active -= 1


def test_parallel_groups_emit_whole_lines_to_a_sink_that_writes_in_parts(ddb: Any) -> None:
    """Issue: the handler locked its own print, the invoke child's print did not, and lines
    of parallel groups interleaved. The consumer emits one whole line at a time."""
    sink = PartsSink()
    consumer = Consumer(
        LockTable(ddb, kit.TABLE, ttl_s=3600, now_ms=kit.FakeClock()),
        kit.Recorder(),
        key_spec=parse_key_spec("dedup"),
        emit=sink,
    )
    records = [kit.sqs_record(f"{g}{i}", group=g) for g in "abcd" for i in range(3)]
    result = consumer.handle_event({"Records": records}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": []}
    assert not sink.overlapped.is_set()
    lines = "".join(sink.parts).splitlines()
    assert len(lines) == 2 * len(records)
    assert {json.loads(line)["decision"] for line in lines} == {"acquired", "completed"}


def test_locks_taken_ahead_for_records_that_never_run_are_released(ddb: Any) -> None:
    """m2 fails: m3 and m4 never run. Their locks, acquired ahead, are released (a retry
    acquires at once), each gets exactly one failed line with blocked_by, and nothing else."""
    processor, lines = kit.Recorder(fail_bodies={"m2"}), kit.Lines()
    consumer = kit.make_consumer(ddb, processor, kit.FakeClock(), lines)
    records = [kit.sqs_record(f"m{i}") for i in range(1, 5)]
    result = consumer.handle_event({"Records": records}, kit.FakeContext())
    assert result.failed_ids == ["m2", "m3", "m4"]
    assert processor.calls == ["m1", "m2"]
    for key in ("dedup-m2", "dedup-m3", "dedup-m4"):
        assert kit.get_lock(ddb, key) is None
    per_message = lines.per_message()
    assert per_message["m3"] == ["failed"] and per_message["m4"] == ["failed"]
    parsed = [json.loads(line) for line in lines.lines]
    blocked = [p for p in parsed if p["message_id"] in ("m3", "m4")]
    assert [b["blocked_by"] for b in blocked] == ["m2", "m2"]
    assert all(b["transaction_id"] for b in blocked)
    # Only the not-attempted lines carry the field.
    ran = [p for p in parsed if p["message_id"] in ("m1", "m2")]
    assert ran and not any("blocked_by" in p for p in ran)


def test_a_repeated_key_in_one_group_is_a_duplicate_not_busy(ddb: Any) -> None:
    """Same key twice in a group: not raced ahead; the second waits for the first's
    COMPLETED and is acknowledged as a duplicate, exactly as in the sequential order."""
    processor, lines = kit.Recorder(), kit.Lines()
    consumer = kit.make_consumer(ddb, processor, kit.FakeClock(), lines)
    records = [kit.sqs_record("m1", key="k"), kit.sqs_record("m2"), kit.sqs_record("m3", key="k")]
    result = consumer.handle_event({"Records": records}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": []}
    assert [o.decision for o in result.outcomes] == ["completed", "completed", "duplicate"]
    assert processor.calls == ["m1", "m2"]


def test_two_writes_per_new_message_with_pipelining(ddb: Any) -> None:
    """The pipeline changes when writes happen, not how many: 1 acquiring write + 1
    UpdateItem. moto runs no PartiQL INSERT with parameters: the batch is refused once and
    every lock is taken by its PutItem (the INSERT path: test_lock_inserts.py, ministack)."""
    calls = kit.DynamoCalls(ddb)
    consumer = kit.make_consumer(ddb, kit.Recorder(), kit.FakeClock(), kit.Lines())
    records = [kit.sqs_record(f"m{i}", group=f"g{i % 3}") for i in range(9)]
    consumer.handle_event({"Records": records}, kit.FakeContext())
    assert calls.written == {}
    assert calls.calls["PutItem"] == 9
    # The COMPLETED writes: UPDATE statements if any went as a batch (moto refuses them
    # too), else UpdateItems; 9 in all either way.
    assert calls.calls["UpdateItem"] == 9
    assert calls.batches["INSERT"] == 1
    assert not consumer.lock.inserts  # refused: not asked again
    consumer.handle_event({"Records": [kit.sqs_record(f"n{i}") for i in range(3)]}, None)
    assert calls.calls["PutItem"] == 12
    assert calls.calls["UpdateItem"] == 12
    assert calls.batches["INSERT"] == 1
