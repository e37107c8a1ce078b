"""Lock states, sentences and filters: pure logic on deserialized items."""

from __future__ import annotations

import pytest

from sqsidem.consumer.lock import deserialize_item
from sqsidem.errors import UsageError
from sqsidem.locks.model import explain, make_lock
from sqsidem.locks.plan import ClearSelection, clear_action
from sqsidem.locks.scan import LockFilter

NOW_MS = 1_800_000_000_000
NOW_S = NOW_MS // 1000


def lock_item(**fields: object) -> dict[str, object]:
    return {"transaction_id": "t1", **fields}


def test_states_follow_design_6_3() -> None:
    """in-progress / stale / completed / expired, expired winning; tutorial items completed."""
    live = lock_item(status="IN_PROGRESS", in_progress_expiration=NOW_MS + 12_000)
    stale = lock_item(status="IN_PROGRESS", in_progress_expiration=NOW_MS - 1)
    expired = lock_item(
        status="IN_PROGRESS", in_progress_expiration=NOW_MS + 5000, expiration=NOW_S - 1
    )
    done = lock_item(status="COMPLETED", expiration=NOW_S + 100)
    tutorial = lock_item()
    states = [make_lock(i, NOW_MS).state for i in (live, stale, expired, done, tutorial)]
    assert states == ["in-progress", "stale", "expired", "completed", "completed"]


@pytest.mark.parametrize(
    ("item", "sentence"),
    [
        (
            lock_item(status="IN_PROGRESS", in_progress_expiration=NOW_MS + 12_000),
            "in progress, owner deadline in 12 s",
        ),
        (
            lock_item(
                status="COMPLETED", completed_ms=NOW_MS - 180_000, expiration=NOW_S + 7 * 86400
            ),
            "completed 3 min ago, expires in 7 d",
        ),
        (lock_item(), "completed, never expires"),
        (
            lock_item(status="IN_PROGRESS", in_progress_expiration=NOW_MS - 40_000),
            "stale: in progress, but the owner's deadline passed 40 s ago; "
            "the next delivery takes it over",
        ),
        (
            lock_item(status="COMPLETED", expiration=NOW_S - 7200),
            "expired 2 h ago (TTL deletion pending): the next message with this key runs again",
        ),
    ],
)
def test_explain_says_what_the_record_means(item: dict[str, object], sentence: str) -> None:
    """`locks show` sentences."""
    assert explain(make_lock(item, NOW_MS)) == sentence


def test_deserialize_numbers_as_int() -> None:
    """Low-level items become plain values with integral numbers as int."""
    item = deserialize_item({"transaction_id": {"S": "a"}, "receive_count": {"N": "2"}})
    assert item == {"transaction_id": "a", "receive_count": 2}
    assert type(item["receive_count"]) is int


def test_foreign_number_types_are_unreadable_not_numbers() -> None:
    """A time stored as a string is no number to the consumer's conditions (DynamoDB compares
    across types as false): it decides nothing, is listed unreadable, and nothing crashes."""
    lock = make_lock(lock_item(status="COMPLETED", expiration=str(NOW_S - 7200)), NOW_MS)
    assert (lock.state, lock.expiration_s, lock.unreadable) == ("completed", None, ["expiration"])
    odd = make_lock(lock_item(expiration="NaN", receive_count=True), NOW_MS)
    assert (odd.state, odd.expiration_s, odd.as_dict()["receive_count"]) == (
        "completed",
        None,
        None,
    )
    assert odd.unreadable == ["expiration", "receive_count"]


def test_filters_combine() -> None:
    """State, prefix and age must all hold; unknown age never matches --older-than."""
    old = make_lock(lock_item(status="COMPLETED", first_seen_ms=NOW_MS - 3_600_000), NOW_MS)
    young = make_lock(lock_item(status="COMPLETED", first_seen_ms=NOW_MS - 1000), NOW_MS)
    tutorial = make_lock(lock_item(), NOW_MS)
    where = LockFilter(frozenset({"completed"}), older_than_s=600, prefix="t")
    assert [where.matches(x) for x in (old, young, tutorial)] == [True, False, False]
    assert not LockFilter(prefix="x").matches(old)
    assert not LockFilter(frozenset({"stale"})).matches(old)


@pytest.mark.parametrize(
    "selection",
    [
        ClearSelection(),
        ClearSelection(ids=["a"], all=True),
        ClearSelection(ids=["a"], stale=True),
        ClearSelection(all=True, states=frozenset({"stale"})),
        ClearSelection(states=frozenset({"bogus"})),
    ],
)
def test_bad_clear_selection_is_usage_error(selection: ClearSelection) -> None:
    """No selection, conflicting selections, unknown states: exit 2."""
    with pytest.raises(UsageError):
        selection.check()


def test_deserialize_other_types() -> None:
    """Non-integral numbers become float; sets, maps and booleans go through boto3."""
    item = deserialize_item(
        {"a": {"N": "1.5"}, "b": {"N": "2.0"}, "c": {"BOOL": True}, "d": {"M": {"x": {"S": "y"}}}}
    )
    assert item == {"a": 1.5, "b": 2, "c": True, "d": {"x": "y"}}
    assert type(item["b"]) is int


@pytest.mark.parametrize(
    ("fields", "force", "action"),
    [
        ({"status": "COMPLETED", "expiration": NOW_S + 86400}, False, "batch"),
        ({}, False, "batch"),  # a tutorial item never expires
        # Expiring within the margin: it could be re-acquired before the delete lands.
        ({"status": "COMPLETED", "expiration": NOW_S + 60}, False, "conditional"),
        ({"status": "IN_PROGRESS", "in_progress_expiration": NOW_MS + 9000}, False, "skip"),
        ({"status": "IN_PROGRESS", "in_progress_expiration": NOW_MS + 9000}, True, "conditional"),
        ({"status": "IN_PROGRESS", "in_progress_expiration": NOW_MS - 1}, False, "conditional"),
        ({"status": "COMPLETED", "expiration": NOW_S - 1}, False, "conditional"),
    ],
)
def test_clear_action_per_state(fields: dict[str, object], force: bool, action: str) -> None:
    """Only final records go unconditionally in batches; live ones need --force."""
    assert clear_action(make_lock(lock_item(**fields), NOW_MS), force=force) == action
