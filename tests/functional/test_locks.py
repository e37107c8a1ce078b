"""Locks against moto: streaming scans, show, and careful clearing."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from sqsidem.aws import Aws
from sqsidem.errors import NotFoundError
from sqsidem.locks.clear import clear_locks
from sqsidem.locks.delete import execute_clear
from sqsidem.locks.model import make_lock
from sqsidem.locks.plan import (
    CLEAR_ATTRIBUTES,
    ClearCount,
    ClearPlan,
    ClearSelection,
    count_clear,
    plan_clear,
)
from sqsidem.locks.read import get_lock
from sqsidem.locks.scan import LockFilter, LockScan
from tests.support_locks import (
    TABLE,
    CallLog,
    completed,
    create_lock_table,
    in_progress,
    put_all,
    refuse_batch_writes,
)


def seed_mixed(aws: Aws) -> None:
    create_lock_table(aws.dynamodb, TABLE)
    put_all(
        aws,
        [completed(f"c{i}") for i in range(5)]
        + [in_progress("live", 60), in_progress("stale", -60)]
        + [{"transaction_id": {"S": "tutorial"}}],
    )


def test_scan_streams_with_counts_and_filters(moto_aws: Aws) -> None:
    """A filtered scan yields matching locks and counts them by state."""
    seed_mixed(moto_aws)
    scan = LockScan(moto_aws.dynamodb, TABLE, page_size=3)
    assert len(list(scan)) == 8
    assert scan.counts.by_state == {"completed": 6, "in-progress": 1, "stale": 1}
    stale = LockScan(moto_aws.dynamodb, TABLE, where=LockFilter(frozenset({"stale"})))
    assert [x.transaction_id for x in stale] == ["stale"]
    prefixed = LockScan(moto_aws.dynamodb, TABLE, where=LockFilter(prefix="c"), limit=2)
    assert len(list(prefixed)) == 2


def test_parallel_segments_find_every_lock_once(moto_aws: Aws) -> None:
    """--segments 4: the union of the segments is the table, without repeats."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, [completed(f"t{i:03d}") for i in range(120)])
    ids = [x.transaction_id for x in LockScan(moto_aws.dynamodb, TABLE, segments=4)]
    assert sorted(ids) == [f"t{i:03d}" for i in range(120)]


def test_parallel_scan_stops_early_at_limit(moto_aws: Aws) -> None:
    """Stopping at --limit with parallel segments stops the segment threads too."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, [completed(f"t{i:03d}") for i in range(60)])
    scan = LockScan(moto_aws.dynamodb, TABLE, segments=3, limit=5, page_size=2)
    assert len(list(scan)) == 5


def test_get_lock_and_missing(moto_aws: Aws) -> None:
    """show reads one record; an unknown id is NotFoundError."""
    seed_mixed(moto_aws)
    lock = get_lock(moto_aws.dynamodb, TABLE, "live")
    assert lock.state == "in-progress" and lock.owner == "o1"
    with pytest.raises(NotFoundError):
        get_lock(moto_aws.dynamodb, TABLE, "nope")


def test_clear_all_1000_uses_40_batch_writes_and_no_delete_item(moto_aws: Aws) -> None:
    """`clear --all` on 1,000 completed locks: 40 BatchWriteItem calls, no DeleteItem."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, [completed(f"t{i:04d}") for i in range(1000)])
    log = CallLog()
    moto_aws.dynamodb.meta.events.register("before-call.dynamodb.*", log)
    plan = plan_clear(moto_aws.dynamodb, TABLE, ClearSelection(all=True), segments=4)
    result = execute_clear(moto_aws.dynamodb, TABLE, plan, sleep=lambda _: None)
    assert result.deleted == 1000 and result.failed == 0
    assert log.count("BatchWriteItem") == 40
    assert "DeleteItem" not in log.names()
    assert moto_aws.dynamodb.scan(TableName=TABLE)["Count"] == 0


def test_live_locks_are_skipped_unless_forced(moto_aws: Aws) -> None:
    """A live in-progress lock is counted as skipped; --force deletes it conditionally."""
    seed_mixed(moto_aws)
    plan = plan_clear(moto_aws.dynamodb, TABLE, ClearSelection(all=True))
    assert [x.transaction_id for x in plan.skipped_live] == ["live"]
    assert [x.transaction_id for x in plan.conditional] == ["stale"]
    result = execute_clear(moto_aws.dynamodb, TABLE, plan)
    assert (result.deleted, result.skipped_live, result.delete_calls) == (7, 1, 1)
    forced = plan_clear(moto_aws.dynamodb, TABLE, ClearSelection(ids=["live", "gone"]), force=True)
    assert forced.not_found == ["gone"]
    assert execute_clear(moto_aws.dynamodb, TABLE, forced).deleted == 1
    assert moto_aws.dynamodb.scan(TableName=TABLE)["Count"] == 0


def test_lock_reacquired_after_the_scan_is_not_removed(moto_aws: Aws) -> None:
    """The conditional delete checks the owner seen: a new owner's lock survives."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, [in_progress("k", -30, owner="old")])
    plan = plan_clear(moto_aws.dynamodb, TABLE, ClearSelection(stale=True))
    assert len(plan.conditional) == 1
    moto_aws.dynamodb.put_item(TableName=TABLE, Item=in_progress("k", 60, owner="new"))
    result = execute_clear(moto_aws.dynamodb, TABLE, plan)
    assert (result.deleted, result.changed) == (0, 1)
    assert get_lock(moto_aws.dynamodb, TABLE, "k").owner == "new"


def test_clear_by_age_and_status(moto_aws: Aws) -> None:
    """--older-than picks only older locks; --status picks by derived state."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, [completed("old", age_s=7200), completed("new", age_s=5)])
    plan = plan_clear(moto_aws.dynamodb, TABLE, ClearSelection(older_than_s=3600))
    assert [x.transaction_id for x in plan.to_delete] == ["old"]
    plan = plan_clear(moto_aws.dynamodb, TABLE, ClearSelection(states=frozenset({"stale"})))
    assert plan.to_delete == []


def test_unprocessed_items_are_resent_with_backoff(moto_aws: Aws) -> None:
    """UnprocessedItems go back in the next call after an injected sleep."""
    client = moto_aws.dynamodb
    locks = [make_lock({"transaction_id": f"t{i}", "status": "COMPLETED"}, 0) for i in range(3)]
    left: Any = [{"DeleteRequest": {"Key": {"transaction_id": {"S": "t2"}}}}]
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_response("batch_write_item", {"UnprocessedItems": {TABLE: left}})
        stub.add_response("batch_write_item", {"UnprocessedItems": {TABLE: left}})
        stub.add_response("batch_write_item", {"UnprocessedItems": {}})
        result = execute_clear(client, TABLE, ClearPlan(batch=locks), sleep=sleeps.append)
    assert (result.deleted, result.batch_calls, result.failed) == (3, 3, 0)
    assert sleeps == [0.05, 0.1]


def test_unprocessed_items_give_up_and_count_failed(moto_aws: Aws) -> None:
    """After the last attempt the rest is counted as failed, not raised."""
    client = moto_aws.dynamodb
    locks = [make_lock({"transaction_id": "t0", "status": "COMPLETED"}, 0)]
    left: Any = [{"DeleteRequest": {"Key": {"transaction_id": {"S": "t0"}}}}]
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_response("batch_write_item", {"UnprocessedItems": {TABLE: left}})
        result = execute_clear(
            client, TABLE, ClearPlan(batch=locks), sleep=lambda _: None, max_attempts=2
        )
    assert (result.deleted, result.failed) == (0, 1)


# -- the pipelined clear (scan pages feed concurrent deletes) -------------------------------


def test_pipelined_clear_all_1000_is_40_batch_writes_of_projected_scans(moto_aws: Aws) -> None:
    """clear_locks --all: 40 BatchWriteItem, no DeleteItem, and the scan reads only the
    attributes that decide the state (status through a placeholder: a reserved word)."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, [completed(f"t{i:04d}") for i in range(1000)])
    log = CallLog()
    moto_aws.dynamodb.meta.events.register("before-parameter-build.dynamodb.*", log)
    result = clear_locks(moto_aws.dynamodb, TABLE, ClearSelection(all=True), segments=4)
    assert (result.deleted, result.failed, result.scanned) == (1000, 0, 1000)
    assert log.names().count("BatchWriteItem") == 40 == result.batch_calls
    assert "DeleteItem" not in log.names()
    scans = [params for name, params in log.calls if name == "Scan"]
    assert {s["Segment"] for s in scans} == {0, 1, 2, 3}
    projected = {
        scans[0]["ExpressionAttributeNames"][p.strip()]
        for p in scans[0]["ProjectionExpression"].split(",")
    }
    assert projected == set(CLEAR_ATTRIBUTES)
    assert moto_aws.dynamodb.scan(TableName=TABLE)["Count"] == 0


def test_deletes_start_while_the_scan_goes_on(moto_aws: Aws) -> None:
    """With one worker, the scan may run at most two calls ahead of the deletes: the first
    BatchWriteItem starts before the second Scan page is asked for (bounded memory)."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, [completed(f"t{i:04d}") for i in range(1000)])
    log = CallLog()
    moto_aws.dynamodb.meta.events.register("before-parameter-build.dynamodb.*", log)
    result = clear_locks(
        moto_aws.dynamodb,
        TABLE,
        ClearSelection(all=True),
        segments=1,
        concurrency=1,
        page_size=100,
    )
    assert result.deleted == 1000
    names = log.names()
    assert names.index("BatchWriteItem") < [i for i, n in enumerate(names) if n == "Scan"][1]


def test_pipelined_clear_counts_exactly_and_skips_live(moto_aws: Aws) -> None:
    """Same rules as the planned clear: live skipped, stale conditional, counts exact;
    a table this small gets one scan segment (DescribeTable's item count)."""
    seed_mixed(moto_aws)
    log = CallLog()
    moto_aws.dynamodb.meta.events.register("before-parameter-build.dynamodb.*", log)
    result = clear_locks(moto_aws.dynamodb, TABLE, ClearSelection(all=True))
    assert (result.deleted, result.skipped_live, result.changed, result.failed) == (7, 1, 0, 0)
    assert (result.batch_calls, result.delete_calls, result.scanned) == (1, 1, 8)
    scans = [params for name, params in log.calls if name == "Scan"]
    assert len(scans) == 1 and "Segment" not in scans[0]
    assert get_lock(moto_aws.dynamodb, TABLE, "live").state == "in-progress"
    forced = clear_locks(moto_aws.dynamodb, TABLE, ClearSelection(all=True), force=True)
    assert (forced.deleted, forced.skipped_live, forced.delete_calls) == (1, 0, 1)


def test_pipelined_clear_leaves_a_lock_reacquired_meanwhile(moto_aws: Aws) -> None:
    """A stale lock taken over between the scan and its delete survives (counted changed)."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, [in_progress("k", -30, owner="old"), completed("done")])
    client = moto_aws.dynamodb

    def take_over(params: dict[str, Any], **_: Any) -> None:
        if params["Key"]["transaction_id"]["S"] == "k":
            client.put_item(TableName=TABLE, Item=in_progress("k", 60, owner="new"))

    client.meta.events.register("before-parameter-build.dynamodb.DeleteItem", take_over)
    result = clear_locks(client, TABLE, ClearSelection(all=True), segments=1)
    assert (result.deleted, result.changed, result.failed) == (1, 1, 0)
    assert get_lock(client, TABLE, "k").owner == "new"


def test_pipelined_clear_by_age_reads_first_seen(moto_aws: Aws) -> None:
    """--older-than needs first_seen_ms: the projection includes it, only the old goes."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, [completed("old", age_s=7200), completed("new", age_s=5)])
    result = clear_locks(moto_aws.dynamodb, TABLE, ClearSelection(older_than_s=3600))
    assert (result.deleted, result.scanned) == (1, 2)
    assert [x.transaction_id for x in LockScan(moto_aws.dynamodb, TABLE)] == ["new"]


def test_a_failing_batch_call_stops_the_scan_and_is_counted(moto_aws: Aws) -> None:
    """A BatchWriteItem that fails outright: its locks are counted failed, the scan stops
    instead of repeating the failure, nothing is raised."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, [completed(f"t{i:04d}") for i in range(1000)])
    log = CallLog()
    client = moto_aws.dynamodb
    client.meta.events.register("before-parameter-build.dynamodb.*", log)
    client.meta.events.register("before-call.dynamodb.BatchWriteItem", refuse_batch_writes)
    result = clear_locks(
        client, TABLE, ClearSelection(all=True), segments=1, concurrency=1, page_size=100
    )
    assert result.deleted == 0 and result.failed in (25, 50, 75)
    assert "AccessDeniedException" in result.errors[0]
    assert log.names().count("Scan") < 10
    assert client.scan(TableName=TABLE, Select="COUNT")["Count"] == 1000


def test_count_clear_previews_cheaply(moto_aws: Aws) -> None:
    """--all is a Select=COUNT scan (an upper bound unless --force); a filter is exact."""
    seed_mixed(moto_aws)
    log = CallLog()
    moto_aws.dynamodb.meta.events.register("before-parameter-build.dynamodb.*", log)
    everything = count_clear(moto_aws.dynamodb, TABLE, ClearSelection(all=True))
    assert everything == ClearCount(8, at_most=True)
    assert log.calls[-1][1]["Select"] == "COUNT"
    assert count_clear(moto_aws.dynamodb, TABLE, ClearSelection(all=True), force=True) == (
        ClearCount(8)
    )
    stale = count_clear(moto_aws.dynamodb, TABLE, ClearSelection(states=frozenset({"stale"})))
    assert stale == ClearCount(1)
    assert "ProjectionExpression" in log.calls[-1][1]
