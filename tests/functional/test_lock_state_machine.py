"""Every branch of the lock state machine (DESIGN 2) against moto's DynamoDB."""

from __future__ import annotations

from typing import Any

from sqsidem.aws import Aws
from sqsidem.consumer.lock import LockAttempt, LockTable, derive_state
from tests.functional import support_consumer as kit


def put_raw(ddb: Any, item: dict[str, Any]) -> None:
    ddb.put_item(TableName=kit.TABLE, Item=item)


def test_new_message_is_acquired_then_completed_with_two_writes(ddb: Any) -> None:
    """A new key: acquired, processed once, COMPLETED with every 6.3 attribute."""
    clock, lines, processor = kit.FakeClock(), kit.Lines(), kit.Recorder()
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    result = consumer.handle_event(
        {"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext(3000)
    )
    assert result.response() == {"batchItemFailures": []}
    assert processor.calls == ["m1"]
    assert lines.kinds() == ["acquired", "completed"]
    item = kit.get_lock(ddb, "k1")
    assert item is not None
    assert item["status"] == "COMPLETED"
    assert item["in_progress_expiration"] == clock.ms + 3000
    assert item["expiration"] == clock.ms // 1000 + 3600
    assert item["message_id"] == "m1"
    assert item["group_id"] == "g1"
    assert item["receive_count"] == 1
    assert item["first_seen_ms"] == clock.ms
    assert item["completed_ms"] == clock.ms
    assert str(item["owner"]).startswith("req-1/")


def test_completed_duplicate_is_skipped_and_acknowledged(ddb: Any) -> None:
    """A second message with the same key does not run the processor and is acked."""
    clock, lines, processor = kit.FakeClock(), kit.Lines(), kit.Recorder()
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    result = consumer.handle_event({"Records": [kit.sqs_record("m2", key="k1")]}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": []}
    assert processor.calls == ["m1"]
    assert lines.decisions[-1] == ("duplicate", "m2")


def test_live_in_progress_is_busy_and_not_acknowledged(ddb: Any) -> None:
    """Another attempt holds a live lock: report failed so it is retried, never skip."""
    clock, lines, processor = kit.FakeClock(), kit.Lines(), kit.Recorder()
    lock = LockTable(ddb, kit.TABLE, ttl_s=3600, now_ms=clock)
    assert lock.acquire("k1", LockAttempt("other"), clock.ms + 5000).kind == "acquired"
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    result = consumer.handle_event({"Records": [kit.sqs_record("m2", key="k1")]}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert processor.calls == []
    assert lines.kinds() == ["busy"]
    item = kit.get_lock(ddb, "k1")
    assert item is not None and item["owner"] == "other"


def test_stale_in_progress_is_taken_over(ddb: Any) -> None:
    """An IN_PROGRESS lock past its deadline is taken over and completed by us."""
    clock, lines, processor = kit.FakeClock(), kit.Lines(), kit.Recorder()
    lock = LockTable(ddb, kit.TABLE, ttl_s=3600, now_ms=clock)
    lock.acquire("k1", LockAttempt("dead"), clock.ms + 1000)
    clock.advance(1001)
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    result = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": []}
    assert processor.calls == ["m1"]
    assert lines.kinds() == ["taken-over", "completed"]
    item = kit.get_lock(ddb, "k1")
    assert item is not None and item["status"] == "COMPLETED" and item["owner"] != "dead"


def test_deadline_equal_to_now_is_still_busy(ddb: Any) -> None:
    """The deadline itself still belongs to the holder (strict comparison)."""
    clock, lines = kit.FakeClock(), kit.Lines()
    LockTable(ddb, kit.TABLE, ttl_s=3600, now_ms=clock).acquire("k1", LockAttempt("o"), clock.ms)
    consumer = kit.make_consumer(ddb, kit.Recorder(), clock, lines)
    consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert lines.kinds() == ["busy"]


def test_expired_completed_record_is_taken_over(ddb: Any) -> None:
    """A COMPLETED record whose expiration passed counts as gone (TTL deletion lags)."""
    clock, lines, processor = kit.FakeClock(), kit.Lines(), kit.Recorder()
    put_raw(
        ddb,
        {
            "transaction_id": {"S": "k1"},
            "status": {"S": "COMPLETED"},
            "expiration": {"N": str(clock.ms // 1000 - 1)},
            "owner": {"S": "old"},
        },
    )
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert processor.calls == ["m1"]
    assert lines.kinds() == ["taken-over", "completed"]


def test_tutorial_item_reads_as_completed_duplicate(ddb: Any) -> None:
    """An item written by the tutorial's handler (only transaction_id) is a duplicate."""
    clock, lines, processor = kit.FakeClock(), kit.Lines(), kit.Recorder()
    put_raw(ddb, {"transaction_id": {"S": "dedup-m1"}})
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    result = consumer.handle_event({"Records": [kit.sqs_record("m1")]}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": []}
    assert processor.calls == []
    assert lines.kinds() == ["duplicate"]
    assert kit.get_lock(ddb, "dedup-m1") == {"transaction_id": "dedup-m1"}


def test_processing_error_releases_lock_and_reports_failure(ddb: Any) -> None:
    """The processor raises: our lock is deleted so the retry can run at once."""
    clock, lines = kit.FakeClock(), kit.Lines()
    processor = kit.Recorder(fail_bodies={"m1"})
    consumer = kit.make_consumer(ddb, processor, clock, lines)
    result = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert lines.kinds() == ["acquired", "failed", "released"]
    assert kit.get_lock(ddb, "k1") is None
    processor.fail_bodies.clear()
    consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert processor.calls == ["m1", "m1"]
    assert lines.kinds()[-2:] == ["acquired", "completed"]


def test_release_failing_because_lock_was_stolen_still_reports_failure(ddb: Any) -> None:
    """Someone took the lock meanwhile: the conditional delete fails, nothing crashes."""
    clock, lines = kit.FakeClock(), kit.Lines()
    lock = LockTable(ddb, kit.TABLE, ttl_s=3600, now_ms=clock)

    def steal_then_fail(record: dict[str, Any]) -> None:
        clock.advance(10_000)  # past our deadline: a redelivery takes over
        assert lock.acquire("k1", LockAttempt("thief"), clock.ms + 5000).kind == "taken-over"
        raise RuntimeError("boom")

    consumer = kit.make_consumer(ddb, steal_then_fail, clock, lines)
    result = consumer.handle_event(
        {"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext(3000)
    )
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert lines.kinds() == ["acquired", "failed"]
    assert "no longer ours" in lines.lines[-1]
    item = kit.get_lock(ddb, "k1")
    assert item is not None and item["owner"] == "thief"


def test_release_raising_leaves_lock_to_its_deadline(ddb: Any) -> None:
    """The delete itself errors (table gone): reported failed, the error says why."""
    clock, lines = kit.FakeClock(), kit.Lines()

    def drop_table_then_fail(record: dict[str, Any]) -> None:
        ddb.delete_table(TableName=kit.TABLE)
        raise RuntimeError("boom")

    consumer = kit.make_consumer(ddb, drop_table_then_fail, clock, lines)
    result = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert lines.kinds() == ["acquired", "failed"]
    assert "expires at its deadline" in lines.lines[-1]


def test_lost_ownership_on_complete_is_acknowledged(ddb: Any) -> None:
    """Our lock was taken over while we processed: log lost-ownership and ack."""
    clock, lines = kit.FakeClock(), kit.Lines()
    lock = LockTable(ddb, kit.TABLE, ttl_s=3600, now_ms=clock)

    def slow(record: dict[str, Any]) -> None:
        clock.advance(10_000)
        lock.acquire("k1", LockAttempt("thief"), clock.ms + 5000)

    consumer = kit.make_consumer(ddb, slow, clock, lines)
    result = consumer.handle_event(
        {"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext(3000)
    )
    assert result.response() == {"batchItemFailures": []}
    assert lines.kinds() == ["acquired", "lost-ownership"]
    item = kit.get_lock(ddb, "k1")
    assert item is not None and item["status"] == "IN_PROGRESS" and item["owner"] == "thief"


def test_record_without_key_fails_only_that_record(ddb: Any) -> None:
    """No key: that record fails with a reason, its batch-mates of other groups go on."""
    clock, lines, processor = kit.FakeClock(), kit.Lines(), kit.Recorder()
    consumer = kit.make_consumer(ddb, processor, clock, lines, key="body:order")
    records = [
        kit.sqs_record("m1", body="not json", group="a"),
        kit.sqs_record("m2", key="k2", group="b"),
    ]
    result = consumer.handle_event({"Records": records}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert processor.calls == ["m2"]
    assert "no idempotency key" in lines.lines[0]


def test_aws_error_in_our_code_fails_only_its_record(moto_aws: Aws) -> None:
    """The table does not exist: each record fails with an internal error, no exception."""
    clock, lines, processor = kit.FakeClock(), kit.Lines(), kit.Recorder()
    consumer = kit.make_consumer(moto_aws.dynamodb, processor, clock, lines)
    result = consumer.handle_event({"Records": [kit.sqs_record("m1", key="k1")]}, kit.FakeContext())
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert "internal error: ResourceNotFoundException" in lines.lines[0]


def test_extend_moves_only_our_own_deadline(ddb: Any) -> None:
    """The heartbeat's extend is owner-checked and refuses a completed lock."""
    clock = kit.FakeClock()
    lock = LockTable(ddb, kit.TABLE, ttl_s=3600, now_ms=clock)
    lock.acquire("k1", LockAttempt("me"), clock.ms + 1000)
    assert lock.extend("k1", "me", clock.ms + 9000)
    assert not lock.extend("k1", "you", clock.ms + 99000)
    item = kit.get_lock(ddb, "k1")
    assert item is not None and item["in_progress_expiration"] == clock.ms + 9000
    assert lock.complete("k1", "me")
    assert not lock.extend("k1", "me", clock.ms + 99000)
    assert derive_state(kit.get_lock(ddb, "k1") or {}, clock.ms) == "completed"
