"""The locks of a batch taken by one BatchExecuteStatement of PartiQL INSERTs (lock.py).

On ministack, which runs PartiQL with parameters (moto does not: there the batch is refused
once and the PutItem path of test_lock_pipeline.py runs). An INSERT decides only "new":
every key it finds taken goes through the PutItem, so the decisions are the sequential
consumer's; a refused batch falls back and is not sent again; a batch whose answer was lost
finds its own locks and keeps them.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError

from sqsidem.aws import Aws
from sqsidem.consumer.batch import Consumer
from sqsidem.consumer.lock import COMPLETED, IN_PROGRESS, LockAttempt, LockTable
from tests.functional import support_consumer as kit

NOW_MS = kit.START_MS
NOW_S = NOW_MS // 1000


def _consumer(aws: Aws, table: str, processor: kit.Recorder, lines: kit.Lines) -> Consumer:
    consumer = kit.make_consumer(aws.dynamodb, processor, kit.FakeClock(NOW_MS), lines)
    consumer.lock.table = table
    return consumer


def _one_batch(aws: Aws, table: str, count: int) -> tuple[Consumer, kit.Recorder, kit.Lines]:
    """``count`` records, a group each, through a fresh consumer: every one acknowledged."""
    processor, lines = kit.Recorder(), kit.Lines()
    consumer = _consumer(aws, table, processor, lines)
    records = [kit.sqs_record(f"m{i}", group=f"g{i}") for i in range(count)]
    result = consumer.handle_event({"Records": records}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": []}
    return consumer, processor, lines


def _put(aws: Aws, table: str, key: str, **attributes: Any) -> None:
    item: dict[str, Any] = {"transaction_id": {"S": key}}
    for name, value in attributes.items():
        item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    aws.dynamodb.put_item(TableName=table, Item=item)


def test_new_keys_in_one_call_and_taken_keys_decided_by_putitem(
    local_aws: Aws, racing_lock_table: str
) -> None:
    table = racing_lock_table
    far = NOW_S + 3600
    _put(local_aws, table, "done", status=COMPLETED, owner="o", expiration=far)
    _put(local_aws, table, "live", status=IN_PROGRESS, owner="o", expiration=far,
         in_progress_expiration=NOW_MS + 60_000)  # fmt: skip
    _put(local_aws, table, "stale", status=IN_PROGRESS, owner="o", expiration=far,
         in_progress_expiration=NOW_MS - 1)  # fmt: skip
    _put(local_aws, table, "expired", status=COMPLETED, owner="o", expiration=NOW_S - 1)
    calls = kit.DynamoCalls(local_aws.dynamodb)
    processor, lines = kit.Recorder(), kit.Lines()
    consumer = _consumer(local_aws, table, processor, lines)
    keys = [f"new{i}" for i in range(6)] + ["done", "live", "stale", "expired"]
    records = [kit.sqs_record(key, key=key, group=key) for key in keys]

    result = consumer.handle_event({"Records": records}, kit.FakeContext())

    decided = {key: lines.per_message()[key] for key in keys}
    assert decided == {
        **{f"new{i}": ["acquired", "completed"] for i in range(6)},
        "done": ["duplicate"],
        "live": ["busy"],
        "stale": ["taken-over", "completed"],
        "expired": ["taken-over", "completed"],
    }
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "live"}]}
    assert sorted(processor.calls) == sorted([f"new{i}" for i in range(6)] + ["expired", "stale"])
    # One call for the ten locks; a PutItem for each of the four it found taken; the 8
    # COMPLETED writes as UPDATE statements (grouped as the records ended).
    assert calls.batches["INSERT"] == 1
    assert calls.calls["PutItem"] == 4
    assert calls.inserted == 6
    assert calls.written["UPDATE"] == calls.statements["UPDATE"] == 8
    assert "UpdateItem" not in calls.calls
    for i in range(6):
        lock = kit.get_lock(local_aws.dynamodb, f"new{i}", table)
        assert lock is not None
        assert lock["status"] == COMPLETED
        assert lock["message_id"] == f"new{i}"
        assert lock["group_id"] == f"new{i}"
        assert lock["receive_count"] == 1
        assert lock["first_seen_ms"] == NOW_MS


def test_a_refused_batch_falls_back_and_is_not_sent_again(
    local_aws: Aws, racing_lock_table: str
) -> None:
    """No dynamodb:PartiQLInsert (a stack set up before the INSERT path): each lock is
    taken by its PutItem, and the next batches go straight to PutItem."""
    client = local_aws.dynamodb

    def refuse(**_kwargs: Any) -> None:
        error = {"Code": "AccessDeniedException", "Message": "no dynamodb:PartiQLInsert"}
        raise ClientError({"Error": error}, "BatchExecuteStatement")

    calls = kit.DynamoCalls(client)
    client.meta.events.register("before-call.dynamodb.BatchExecuteStatement", refuse)
    processor, lines = kit.Recorder(), kit.Lines()
    consumer = _consumer(local_aws, racing_lock_table, processor, lines)
    for batch in ("a", "b"):
        records = [kit.sqs_record(f"{batch}{i}", group=f"g{i}") for i in range(5)]
        result = consumer.handle_event({"Records": records}, kit.FakeContext())
        assert result.response() == {"batchItemFailures": []}
    assert consumer.lock.inserts is False
    assert consumer.lock.updates is False  # refused too (the same fault)
    assert calls.calls == {"BatchExecuteStatement": 2, "PutItem": 10, "UpdateItem": 10}
    assert calls.batches == {"INSERT": 1, "UPDATE": 1}
    assert sorted(processor.calls) == sorted(f"{b}{i}" for b in "ab" for i in range(5))


def test_throttling_falls_back_for_that_batch_only(local_aws: Aws, racing_lock_table: str) -> None:
    client = local_aws.dynamodb
    throttled = [True]

    def throttle(**_kwargs: Any) -> None:
        if throttled[0]:
            throttled[0] = False
            error = {"Code": "ThrottlingException", "Message": "slow down"}
            raise ClientError({"Error": error}, "BatchExecuteStatement")

    calls = kit.DynamoCalls(client)
    client.meta.events.register("before-call.dynamodb.BatchExecuteStatement", throttle)
    consumer = _consumer(local_aws, racing_lock_table, kit.Recorder(), kit.Lines())
    for batch in ("a", "b"):
        records = [kit.sqs_record(f"{batch}{i}", group=f"g{i}") for i in range(4)]
        consumer.handle_event({"Records": records}, kit.FakeContext())
    assert consumer.lock.inserts is True
    assert calls.batches["INSERT"] == 2
    assert calls.calls["PutItem"] == 4
    assert calls.inserted == 4
    assert calls.written["UPDATE"] + calls.calls["UpdateItem"] == 8


def test_a_lost_answer_finds_its_own_locks(local_aws: Aws, racing_lock_table: str) -> None:
    """The INSERTs were written but the answer never came: the PutItem of each record finds
    the lock of this very attempt (its owner token) and keeps it: acquired, run once."""
    client = local_aws.dynamodb
    lost = [True]

    def lose(**_kwargs: Any) -> None:
        if lost[0]:
            lost[0] = False
            raise ConnectionClosedError(endpoint_url="http://127.0.0.1")

    client.meta.events.register("after-call.dynamodb.BatchExecuteStatement", lose)
    consumer, processor, lines = _one_batch(local_aws, racing_lock_table, 4)
    assert sorted(processor.calls) == [f"m{i}" for i in range(4)]
    assert all(kinds == ["acquired", "completed"] for kinds in lines.per_message().values())
    assert consumer.lock.inserts is True


def test_more_than_25_locks_take_one_call_per_25(local_aws: Aws, racing_lock_table: str) -> None:
    lock = LockTable(local_aws.dynamodb, racing_lock_table, ttl_s=3600)
    calls = kit.DynamoCalls(local_aws.dynamodb)
    requests = [(f"k{i}", LockAttempt(f"owner{i}")) for i in range(30)]
    results = lock.acquire_new(requests, deadline_ms=NOW_MS + 60_000)
    assert [r.kind if r else None for r in results] == ["acquired"] * 30
    assert calls.calls == {"BatchExecuteStatement": 2}
    assert calls.statements == {"INSERT": 30}
    again = lock.acquire_new(requests[:3], deadline_ms=NOW_MS + 60_000)
    assert again == [None, None, None]  # taken: the PutItem decides


def test_every_statement_refused_turns_inserts_off(local_aws: Aws, racing_lock_table: str) -> None:
    """No PartiQLInsert can also come back per statement (the call itself succeeds): when
    every statement of a call says AccessDenied, the table is not asked again."""
    client = local_aws.dynamodb

    def deny(parsed: dict[str, Any], **_kwargs: Any) -> None:
        error = {"Code": "AccessDenied", "Message": "no dynamodb:PartiQLInsert"}
        parsed["Responses"] = [{"Error": error} for _ in parsed.get("Responses", [])]

    client.meta.events.register("after-call.dynamodb.BatchExecuteStatement", deny)
    consumer, processor, lines = _one_batch(local_aws, racing_lock_table, 3)
    assert consumer.lock.inserts is False
    # The INSERTs had been written: each PutItem finds its own attempt's lock and keeps it.
    assert all(kinds == ["acquired", "completed"] for kinds in lines.per_message().values())
    assert sorted(processor.calls) == ["m0", "m1", "m2"]


def test_an_expired_token_is_not_a_refusal(local_aws: Aws, racing_lock_table: str) -> None:
    client = local_aws.dynamodb

    def expire(**_kwargs: Any) -> None:
        error = {"Code": "ExpiredTokenException", "Message": "the security token expired"}
        raise ClientError({"Error": error}, "BatchExecuteStatement")

    client.meta.events.register("before-call.dynamodb.BatchExecuteStatement", expire)
    consumer, _, _ = _one_batch(local_aws, racing_lock_table, 3)
    assert consumer.lock.inserts is True
    assert consumer.lock.updates is True
