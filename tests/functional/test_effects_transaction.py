"""Transactional effects against moto's DynamoDB: the effects and COMPLETED commit together."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sqsidem.consumer.effects import Effects, commit_token
from sqsidem.consumer.failpoints import MID_PROCESS, Failpoints
from sqsidem.consumer.lock import LockTable
from tests.functional import support_consumer as kit

EFFECTS = "effects"


class Crash(BaseException):
    """A simulated SIGKILL: not an Exception, so nothing in the consumer catches it."""


def crash() -> None:
    raise Crash


@pytest.fixture(autouse=True)
def effects_table(ddb: Any) -> None:
    """The table the processors' effects go to, beside the lock table."""
    ddb.create_table(
        TableName=EFFECTS,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@dataclass
class Calls:
    """DynamoDB operations made through the client, by name."""

    counts: Counter[str] = field(default_factory=Counter)
    params: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, event_name: str, params: dict[str, Any], **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        self.counts[operation] += 1
        self.params.append((operation, params))

    def writes(self) -> Counter[str]:
        reads = {"GetItem", "Scan", "Query", "DescribeTable"}
        return Counter({k: v for k, v in self.counts.items() if k not in reads})


def count_calls(client: Any) -> Calls:
    calls = Calls()
    client.meta.events.register("before-parameter-build.dynamodb.*", calls)
    return calls


@dataclass
class EffectWriter:
    """A transactional processor: one effect row per record; raises for chosen bodies."""

    fail_bodies: set[str] = field(default_factory=set)
    runs: list[str] = field(default_factory=list)
    extra: int = 0

    def __call__(self, record: dict[str, Any], effects: Effects) -> None:
        self.runs.append(record["body"])
        if record["body"] in self.fail_bodies:
            raise RuntimeError(f"poison {record['body']}")
        effects.put(
            EFFECTS,
            {"id": record["messageId"], "body": record["body"], "amount": 1.5},
            condition="attribute_not_exists(id)",
        )
        for n in range(self.extra):
            effects.put(EFFECTS, {"id": f"{record['messageId']}-{n}"})


def effect_ids(ddb: Any) -> list[str]:
    items = ddb.scan(TableName=EFFECTS, ConsistentRead=True)["Items"]
    return sorted(item["id"]["S"] for item in items)


def errors(lines: kit.Lines) -> list[str | None]:
    return [json.loads(line)["error"] for line in lines.lines]


def test_effects_commit_with_completed_in_one_transaction(ddb: Any) -> None:
    """Exactly two writes per new message: the acquiring PutItem and one transaction."""
    clock, lines, processor = kit.FakeClock(), kit.Lines(), EffectWriter()
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    calls = count_calls(ddb)
    records = [kit.sqs_record(f"m{n}", key=f"k{n}", group=f"g{n}") for n in range(3)]
    result = consumer.handle_event({"Records": records}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": []}
    # moto refuses the INSERT batch (no PartiQL parameters there): PutItem takes each lock.
    expected = {"BatchExecuteStatement": 1, "PutItem": 3, "TransactWriteItems": 3}
    assert calls.writes() == Counter(expected)
    assert effect_ids(ddb) == ["m0", "m1", "m2"]
    item = ddb.get_item(TableName=EFFECTS, Key={"id": {"S": "m0"}})["Item"]
    assert item["amount"] == {"N": "1.5"}
    for n in range(3):
        lock = kit.get_lock(ddb, f"k{n}")
        assert lock is not None and lock["status"] == "COMPLETED"
        assert lock["completed_ms"] == clock.ms
    assert lines.per_message() == {f"m{n}": ["acquired", "completed"] for n in range(3)}
    transaction = next(p for op, p in calls.params if op == "TransactWriteItems")
    assert [next(iter(a)) for a in transaction["TransactItems"]] == ["Update", "Put"]
    assert transaction["TransactItems"][0]["Update"]["ConditionExpression"] == "#o = :owner"


def test_the_client_request_token_is_the_attempts_hash(ddb: Any) -> None:
    clock, lines = kit.FakeClock(), kit.Lines()
    consumer = kit.make_consumer(ddb, EffectWriter(), clock, lines)
    calls = count_calls(ddb)
    consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    lock = kit.get_lock(ddb, "k1")
    assert lock is not None
    transaction = next(p for op, p in calls.params if op == "TransactWriteItems")
    assert transaction["ClientRequestToken"] == commit_token(str(lock["owner"]), "k1")


def test_a_one_parameter_processor_still_uses_the_update(ddb: Any) -> None:
    clock, lines, processor = kit.FakeClock(), kit.Lines(), kit.Recorder()
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    calls = count_calls(ddb)
    consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert processor.calls == ["m1"]
    assert calls.writes() == Counter({"PutItem": 1, "UpdateItem": 1})


def test_a_transactional_processor_with_no_effects_uses_the_update(ddb: Any) -> None:
    def nothing(record: dict[str, Any], effects: Effects) -> None:
        assert len(effects) == 0

    clock, lines = kit.FakeClock(), kit.Lines()
    consumer = kit.make_consumer(ddb, nothing, clock, lines)
    calls = count_calls(ddb)
    consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert calls.writes() == Counter({"PutItem": 1, "UpdateItem": 1})
    assert lines.kinds() == ["acquired", "completed"]


def test_a_crash_before_the_commit_leaves_no_effect_and_the_redelivery_commits_once(
    ddb: Any,
) -> None:
    clock, lines, processor = kit.FakeClock(), kit.Lines(), EffectWriter()
    dying = kit.make_consumer(
        ddb, processor, clock, lines, failpoints=Failpoints({MID_PROCESS: 1.0}, kill=crash)
    )
    with pytest.raises(Crash):
        dying.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext(3000))
    assert processor.runs == ["m1"]
    assert effect_ids(ddb) == []  # the processor ran, its effect did not happen
    lock = kit.get_lock(ddb, "k1")
    assert lock is not None and lock["status"] == "IN_PROGRESS"

    consumer = kit.make_consumer(ddb, processor, clock, lines)
    early = kit.sqs_record("m1", key="k1", receive_count=2)
    assert consumer.handle_event({"Records": [early]}, kit.FakeContext()).failed_ids == ["m1"]
    clock.advance(3001)  # past the dead attempt's deadline
    late = kit.sqs_record("m1", key="k1", receive_count=3)
    assert consumer.handle_event({"Records": [late]}, kit.FakeContext()).failed_ids == []
    again = kit.sqs_record("m1", key="k1", receive_count=4)
    assert consumer.handle_event({"Records": [again]}, kit.FakeContext()).failed_ids == []
    assert processor.runs == ["m1", "m1"]
    assert effect_ids(ddb) == ["m1"]
    assert lines.kinds() == ["acquired", "busy", "taken-over", "completed", "duplicate"]


def test_a_lock_taken_over_meanwhile_writes_nothing_and_acknowledges(ddb: Any) -> None:
    clock, lines = kit.FakeClock(), kit.Lines()
    runs: list[str] = []

    def stolen_while_running(record: dict[str, Any], effects: Effects) -> None:
        runs.append(record["messageId"])
        # Another attempt took the lock over (our deadline passed while we were slow).
        LockTable(ddb, kit.TABLE, ttl_s=60, now_ms=clock).client.update_item(
            TableName=kit.TABLE,
            Key={"transaction_id": {"S": "k1"}},
            UpdateExpression="SET #o = :thief",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":thief": {"S": "thief"}},
        )
        effects.put(EFFECTS, {"id": record["messageId"]})

    consumer = kit.make_consumer(ddb, stolen_while_running, clock, lines)
    result = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert result.failed_ids == []  # acknowledged: the thief does the work
    assert lines.kinds() == ["acquired", "lost-ownership"]
    assert effect_ids(ddb) == []
    lock = kit.get_lock(ddb, "k1")
    assert lock is not None and lock["owner"] == "thief" and lock["status"] == "IN_PROGRESS"


def test_an_effect_condition_failing_fails_the_record_and_releases_the_lock(ddb: Any) -> None:
    ddb.put_item(TableName=EFFECTS, Item={"id": {"S": "m1"}, "body": {"S": "earlier"}})
    clock, lines, processor = kit.FakeClock(), kit.Lines(), EffectWriter()
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    result = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert result.failed_ids == ["m1"]
    assert lines.kinds() == ["acquired", "failed", "released"]
    error = errors(lines)[1]
    assert error is not None
    assert "effects not committed" in error
    assert "effect 1 (put on effects): ConditionalCheckFailed" in error
    assert kit.get_lock(ddb, "k1") is None
    item = ddb.get_item(TableName=EFFECTS, Key={"id": {"S": "m1"}})["Item"]
    assert item["body"] == {"S": "earlier"}  # untouched


def test_a_processor_error_writes_no_effect(ddb: Any) -> None:
    clock, lines, processor = kit.FakeClock(), kit.Lines(), EffectWriter(fail_bodies={"bad"})
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    result = consumer.handle_event(
        {"Records": [kit.sqs_record("m1", "bad", key="k1")]}, kit.FakeContext()
    )
    assert result.failed_ids == ["m1"]
    assert lines.kinds() == ["acquired", "failed", "released"]
    assert effect_ids(ddb) == []


def test_more_than_99_effects_fail_the_record(ddb: Any) -> None:
    clock, lines, processor = kit.FakeClock(), kit.Lines(), EffectWriter(extra=99)
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    calls = count_calls(ddb)
    result = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert result.failed_ids == ["m1"]
    assert lines.kinds() == ["acquired", "failed", "released"]
    error = errors(lines)[1]
    assert error is not None and "at most 99 effects" in error
    assert "TransactWriteItems" not in calls.counts
    assert effect_ids(ddb) == []


def test_a_swallowed_refusal_still_fails_the_record(ddb: Any) -> None:
    def swallowing(record: dict[str, Any], effects: Effects) -> None:
        for n in range(120):
            with contextlib.suppress(ValueError):
                effects.put(EFFECTS, {"id": str(n)})

    clock, lines = kit.FakeClock(), kit.Lines()
    consumer = kit.make_consumer(ddb, swallowing, clock, lines)
    result = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert result.failed_ids == ["m1"]
    error = errors(lines)[1]
    assert error is not None and error.startswith("effect refused: effect 100")
    assert effect_ids(ddb) == []


def test_exactly_99_effects_commit(ddb: Any) -> None:
    clock, lines, processor = kit.FakeClock(), kit.Lines(), EffectWriter(extra=98)
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    result = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert result.failed_ids == []
    assert len(effect_ids(ddb)) == 99


def _server_error() -> ClientError:
    return ClientError(
        {"Error": {"Code": "InternalServerError", "Message": "injected"}}, "TransactWriteItems"
    )


def test_a_commit_that_fails_outright_releases_and_retries(ddb: Any) -> None:
    clock, lines, processor = kit.FakeClock(), kit.Lines(), EffectWriter()
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    failures = [1]

    def refuse(**_: Any) -> None:
        if failures:
            failures.pop()
            raise _server_error()

    ddb.meta.events.register("before-call.dynamodb.TransactWriteItems", refuse)
    first = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert first.failed_ids == ["m1"]
    assert lines.kinds() == ["acquired", "failed", "released"]
    assert effect_ids(ddb) == []
    retry = kit.sqs_record("m1", key="k1", receive_count=2)
    assert consumer.handle_event({"Records": [retry]}, kit.FakeContext()).failed_ids == []
    assert effect_ids(ddb) == ["m1"]


def test_a_commit_whose_response_is_lost_is_not_run_again(ddb: Any) -> None:
    """Committed, but the caller saw an error: the record fails, the lock says COMPLETED,
    so the redelivery is a duplicate and the effect stays single."""
    clock, lines, processor = kit.FakeClock(), kit.Lines(), EffectWriter()
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    failures = [1]

    def lose_response(**_: Any) -> None:
        if failures:
            failures.pop()
            raise _server_error()

    ddb.meta.events.register("after-call.dynamodb.TransactWriteItems", lose_response)
    first = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert first.failed_ids == ["m1"]
    assert lines.kinds() == ["acquired", "failed"]
    error = errors(lines)[1]
    assert error is not None and "the lock is no longer ours" in error
    retry = kit.sqs_record("m1", key="k1", receive_count=2)
    assert consumer.handle_event({"Records": [retry]}, kit.FakeContext()).failed_ids == []
    assert lines.kinds()[-1] == "duplicate"
    assert processor.runs == ["m1"]
    assert effect_ids(ddb) == ["m1"]
