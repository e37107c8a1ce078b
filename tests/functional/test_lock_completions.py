"""A batch's COMPLETED writes sent together (consumer/completions.py), on ministack.

The writes wait for the batch's last turn (or at most the linger time), then go out as one
BatchExecuteStatement of PartiQL UPDATEs, each on the owner condition of the UpdateItem; a
single write, a failed statement and a refusal go through the UpdateItem.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.consumer.completions import Answer, Completions
from sqsidem.consumer.lock import COMPLETED, IN_PROGRESS, LockAttempt, LockTable
from sqsidem.consumer.pipeline import Pipeline
from tests.functional import support_consumer as kit

LONG_S = 60.0  # a linger no test waits for: only the batch's last turn sends


@pytest.fixture
def pipeline() -> Iterator[Pipeline]:
    running = Pipeline()
    yield running
    running.shutdown()


def _locks(aws: Aws, table: str, keys: list[str]) -> LockTable:
    lock = LockTable(aws.dynamodb, table, ttl_s=3600)
    deadline = lock.now_ms() + 60_000
    results = lock.acquire_new([(k, LockAttempt(f"owner-{k}")) for k in keys], deadline)
    assert all(r is not None and r.kind == "acquired" for r in results)
    return lock


def _answer(answer: Answer) -> Any:
    return answer  # the record's outcome stands for what the write answered


def test_the_last_turn_sends_every_write_in_one_call(
    local_aws: Aws, racing_lock_table: str, pipeline: Pipeline
) -> None:
    keys = [f"k{i}" for i in range(5)]
    lock = _locks(local_aws, racing_lock_table, keys)
    # k4 was taken over by another attempt: its condition fails, the others are written.
    local_aws.dynamodb.update_item(
        TableName=racing_lock_table,
        Key={"transaction_id": {"S": "k4"}},
        UpdateExpression="SET #o = :other",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":other": {"S": "someone-else"}},
    )
    calls = kit.DynamoCalls(local_aws.dynamodb)
    writes = Completions(lock, pipeline, turns=len(keys), linger_s=LONG_S)
    outcomes = [writes.add(k, f"owner-{k}", _answer) for k in keys]
    for _ in keys[:-1]:
        writes.turn_ended()
    assert not any(o.done() for o in outcomes)  # waiting for the last turn
    assert calls.calls == {}
    writes.turn_ended()
    assert [o.result(timeout=10) for o in outcomes] == [True, True, True, True, False]
    assert calls.calls == {"BatchExecuteStatement": 1}
    assert calls.statements == {"UPDATE": 5}
    for key in keys[:-1]:
        item = kit.get_lock(local_aws.dynamodb, key, racing_lock_table)
        assert item is not None and item["status"] == COMPLETED and "completed_ms" in item
    taken = kit.get_lock(local_aws.dynamodb, "k4", racing_lock_table)
    assert taken is not None and taken["status"] == IN_PROGRESS


def test_a_write_waits_no_longer_than_the_linger(
    local_aws: Aws, racing_lock_table: str, pipeline: Pipeline
) -> None:
    """A slow record keeps its turn: the write before it goes out alone after the linger."""
    lock = _locks(local_aws, racing_lock_table, ["k0"])
    calls = kit.DynamoCalls(local_aws.dynamodb)
    writes = Completions(lock, pipeline, turns=2, linger_s=0.05)
    outcome = writes.add("k0", "owner-k0", _answer)
    writes.turn_ended()  # k0's turn; the other record is still running
    assert outcome.result(timeout=10) is True
    assert calls.calls == {"UpdateItem": 1}  # a single write: the UpdateItem


def test_refused_updates_fall_back_to_updateitem(
    local_aws: Aws, racing_lock_table: str, pipeline: Pipeline
) -> None:
    keys = [f"k{i}" for i in range(3)]
    lock = _locks(local_aws, racing_lock_table, keys)
    calls = kit.DynamoCalls(local_aws.dynamodb)

    def refuse(**_kwargs: Any) -> None:
        error = {"Code": "AccessDeniedException", "Message": "no dynamodb:PartiQLUpdate"}
        raise ClientError({"Error": error}, "BatchExecuteStatement")

    local_aws.dynamodb.meta.events.register("before-call.dynamodb.BatchExecuteStatement", refuse)
    # The second round finds them COMPLETED already: the owner still matches, so True.
    for _ in range(2):
        writes = Completions(lock, pipeline, turns=1, linger_s=LONG_S)
        outcomes = [writes.add(k, f"owner-{k}", _answer) for k in keys]
        writes.turn_ended()
        assert [o.result(timeout=10) for o in outcomes] == [True, True, True]
    assert lock.updates is False
    assert calls.calls == {"BatchExecuteStatement": 1, "UpdateItem": 6}


def test_each_unit_sends_at_the_end_of_its_unit(
    local_aws: Aws, racing_lock_table: str, pipeline: Pipeline
) -> None:
    """The worker with several batches deletes a group as its unit ends: the unit's writes
    go out then, not when the batch's other groups are done."""
    keys = ["a1", "a2", "b1"]
    lock = _locks(local_aws, racing_lock_table, keys)
    calls = kit.DynamoCalls(local_aws.dynamodb)
    writes = Completions(lock, pipeline, turns=3, each_unit=True, linger_s=LONG_S)
    unit_a = [writes.add(k, f"owner-{k}", _answer) for k in ("a1", "a2")]
    writes.turn_ended()
    writes.turn_ended()
    assert not any(o.done() for o in unit_a)
    writes.unit_ended()  # group a is over; b1 still runs
    assert [o.result(timeout=10) for o in unit_a] == [True, True]
    assert calls.statements == {"UPDATE": 2}
    last = writes.add("b1", "owner-b1", _answer)
    writes.turn_ended()
    assert last.result(timeout=10) is True


def test_a_failing_batch_call_still_answers_every_write(
    local_aws: Aws, racing_lock_table: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug of ours in the batch (anything complete_many raises): each write still gets its
    UpdateItem, so no record waits forever for its outcome."""
    keys = [f"k{i}" for i in range(3)]
    lock = _locks(local_aws, racing_lock_table, keys)

    def broken(_requests: Any) -> Any:
        raise RuntimeError("a bug in the batch")

    monkeypatch.setattr(lock, "complete_many", broken)
    writes = Completions(lock, pipeline, turns=1, linger_s=LONG_S)
    outcomes = [writes.add(k, f"owner-{k}", _answer) for k in keys]
    writes.turn_ended()
    assert [o.result(timeout=10) for o in outcomes] == [True, True, True]
