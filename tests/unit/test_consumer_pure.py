"""Pure consumer logic: keys, configuration, decision lines, failpoints, derived state."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from typing import Any

import pytest

from sqsidem.consumer.config import ConfigError, ConsumerConfig
from sqsidem.consumer.decisions import decision_line, parse_decision
from sqsidem.consumer.failpoints import Failpoints, parse_failpoints
from sqsidem.consumer.keys import KeySpec, NoKeyError, parse_key_spec, record_key
from sqsidem.consumer.lock import derive_state

NOW_MS = 1_800_000_000_500


def record(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "messageId": "mid-1",
        "body": json.dumps({"order": "o-7", "n": 42, "flag": True}),
        "attributes": {"MessageDeduplicationId": "d-1", "MessageGroupId": "g-1"},
        "messageAttributes": {},
    }
    base.update(overrides)
    return base


def with_key_attribute(value: str) -> dict[str, Any]:
    attribute = {"stringValue": value, "stringListValues": [], "binaryListValues": []}
    return record(messageAttributes={"sqsidem-key": {**attribute, "dataType": "String"}})


# --- keys -----------------------------------------------------------------------------


def test_key_attribute_wins_over_every_fallback() -> None:
    """sqsidem-key is used whatever the fallback says."""
    for spec in ("dedup", "message-id", "body:order"):
        assert record_key(with_key_attribute("K"), parse_key_spec(spec)) == "K"


@pytest.mark.parametrize(
    ("spec", "scope", "expected"),
    [
        ("dedup", "queue", "d-1"),
        ("dedup", "messageGroup", "g-1#d-1"),
        ("message-id", "queue", "mid-1"),
        ("body:order", "queue", "o-7"),
        ("body:n", "queue", "42"),
    ],
)
def test_fallback_keys(spec: str, scope: str, expected: str) -> None:
    """Each fallback source, including the high-throughput group scope."""
    assert record_key(record(), parse_key_spec(spec), scope) == expected


@pytest.mark.parametrize(
    ("rec", "spec", "reason"),
    [
        (record(attributes={}), "dedup", "MessageDeduplicationId"),
        (record(body="plain text"), "body:order", "not JSON"),
        (record(body="[1]"), "body:order", "not a JSON object"),
        (record(), "body:flag", "missing or not a string"),
        (record(), "body:absent", "missing or not a string"),
        (with_key_attribute("x" * 2049), "dedup", "longer than"),
    ],
)
def test_missing_or_bad_key_is_a_no_key_error(rec: dict[str, Any], spec: str, reason: str) -> None:
    """A record without a usable key raises NoKeyError with the reason."""
    with pytest.raises(NoKeyError, match=reason):
        record_key(rec, parse_key_spec(spec))


def test_empty_key_attribute_falls_back() -> None:
    """An empty sqsidem-key is treated as absent."""
    assert record_key(with_key_attribute(""), parse_key_spec("dedup")) == "d-1"


def test_key_spec_parsing() -> None:
    """Valid specs parse; anything else is rejected."""
    assert parse_key_spec("body: id ") == KeySpec("body", "id")
    for bad in ("", "body:", "messageid", "attr:x"):
        with pytest.raises(ValueError, match="unknown key source"):
            parse_key_spec(bad)


# --- config ---------------------------------------------------------------------------


def test_config_round_trips_through_the_environment() -> None:
    """to_env then from_env gives the same config."""
    config = ConsumerConfig(
        table="T",
        key="body:id",
        lock_ttl_s=60,
        processor="sqsidem_processor:handle",
        dedup_scope="messageGroup",
        failpoint="after-lock:0.5",
        failpoint_seed=7,
    )
    assert ConsumerConfig.from_env(config.to_env()) == config


def test_config_defaults_and_minimal_env() -> None:
    """Only the table is required; optional variables are omitted from to_env."""
    config = ConsumerConfig.from_env({"SQSIDEM_TABLE": "Idempotent-test"})
    assert config == ConsumerConfig(table="Idempotent-test")
    assert config.to_env() == {
        "SQSIDEM_TABLE": "Idempotent-test",
        "SQSIDEM_KEY": "dedup",
        "SQSIDEM_LOCK_TTL_S": "604800",
        "SQSIDEM_DEDUP_SCOPE": "queue",
    }


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "SQSIDEM_TABLE"),
        ({"SQSIDEM_TABLE": "T", "SQSIDEM_KEY": "nope"}, "SQSIDEM_KEY"),
        ({"SQSIDEM_TABLE": "T", "SQSIDEM_LOCK_TTL_S": "soon"}, "SQSIDEM_LOCK_TTL_S"),
        ({"SQSIDEM_TABLE": "T", "SQSIDEM_LOCK_TTL_S": "0"}, "SQSIDEM_LOCK_TTL_S"),
        ({"SQSIDEM_TABLE": "T", "SQSIDEM_PROCESSOR": "file.py"}, "SQSIDEM_PROCESSOR"),
        ({"SQSIDEM_TABLE": "T", "SQSIDEM_DEDUP_SCOPE": "group"}, "SQSIDEM_DEDUP_SCOPE"),
        ({"SQSIDEM_TABLE": "T", "SQSIDEM_FAILPOINT": "later"}, "SQSIDEM_FAILPOINT"),
    ],
)
def test_bad_config_names_the_variable(env: dict[str, str], variable: str) -> None:
    """Each invalid variable gives a ConfigError that names it."""
    with pytest.raises(ConfigError, match=variable):
        ConsumerConfig.from_env(env)


# --- decision lines -------------------------------------------------------------------


def test_decision_line_round_trip_and_shape() -> None:
    """The exact DESIGN 6.5 shape, parsed back even with a log prefix."""
    line = decision_line(
        "completed", transaction_id="k", message_id="m", group_id="g", receive_count=2
    )
    assert json.loads(line) == {
        "sqsidem": 1,
        "decision": "completed",
        "transaction_id": "k",
        "message_id": "m",
        "group_id": "g",
        "receive_count": 2,
        "error": None,
    }
    assert line.startswith('{"sqsidem": 1, "decision": "completed"')
    assert parse_decision(line) == json.loads(line)
    assert parse_decision(f"2026-01-01T00:00:00Z req-1 {line}\n") == json.loads(line)


@pytest.mark.parametrize(
    "line",
    [
        "START RequestId: x",
        '{"messageId": "m1"}',
        '{"sqsidem": 2, "decision": "completed"}',
        '{"sqsidem": 1, "decision": "exploded"}',
        '{"sqsidem": 1, "decision": ',
    ],
)
def test_parse_decision_ignores_other_lines(line: str) -> None:
    """Anything that is not one of our decisions parses to None."""
    assert parse_decision(line) is None


def test_decision_line_rejects_unknown_decisions() -> None:
    """A typo in our own code fails loudly in tests, not silently in logs."""
    with pytest.raises(ValueError, match="unknown decision"):
        decision_line(
            "done", transaction_id=None, message_id=None, group_id=None, receive_count=None
        )


# --- failpoints -----------------------------------------------------------------------


def test_failpoint_parsing() -> None:
    """Comma list of point[:probability]."""
    assert parse_failpoints("") == {}
    assert parse_failpoints("after-lock, mid-process:0.25,after-complete:0") == {
        "after-lock": 1.0,
        "mid-process": 0.25,
        "after-complete": 0.0,
    }
    for bad in ("before-lock", "after-lock:x", "after-lock:1.5"):
        with pytest.raises(ValueError, match="failpoint"):
            parse_failpoints(bad)


def test_failpoint_probability_is_seeded_and_unset_points_do_nothing() -> None:
    """Same seed, same hits; a point not named never fires."""

    def hits(seed: int) -> list[int]:
        fired: list[int] = []
        attempt = 0
        points = Failpoints({"mid-process": 0.5}, seed=seed, kill=lambda: fired.append(attempt))
        for attempt in range(40):  # noqa: B007 - read by the kill callback
            points.hit("after-lock")
            points.hit("mid-process")
        return fired

    assert hits(3) == hits(3)
    assert 0 < len(hits(3)) < 40


def test_seeded_failpoints_draw_per_attempt_not_per_process() -> None:
    """With a seed, a record's attempt fires or not whatever the process and whatever ran
    before it: cold starts of a function (one seed) do not all die at the same draw."""

    def fired(seed: int, attempts: list[str]) -> set[str]:
        hit: set[str] = set()
        current = [""]
        points = Failpoints({"after-lock": 0.3}, seed=seed, kill=lambda: hit.add(current[0]))
        for attempt in attempts:
            current[0] = attempt
            points.hit("after-lock", attempt)
        return hit

    attempts = [f"m{n}/1" for n in range(200)]
    first = fired(7, attempts)
    assert 20 < len(first) < 100  # about 30 %
    assert fired(7, list(reversed(attempts))) == first  # order and process do not matter
    assert fired(7, attempts[100:]) == {a for a in first if a in attempts[100:]}
    assert fired(8, attempts) != first  # the seed does
    redelivered = fired(7, [a.replace("/1", "/2") for a in attempts])
    assert redelivered != {a.replace("/1", "/2") for a in first}  # a redelivery draws anew


def test_failpoint_really_kills_its_process() -> None:
    """In a child process, a hit failpoint ends it with SIGKILL before the next line."""
    code = textwrap.dedent(
        """
        from sqsidem.consumer.failpoints import Failpoints
        Failpoints.from_spec("after-lock").hit("after-lock")
        print("survived")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == -signal.SIGKILL
    assert "survived" not in done.stdout


# --- derived state --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "state"),
    [
        ({"transaction_id": "k"}, "completed"),
        ({"transaction_id": "k", "status": "COMPLETED", "expiration": 1_800_000_001}, "completed"),
        ({"status": "IN_PROGRESS", "in_progress_expiration": NOW_MS}, "in-progress"),
        ({"status": "IN_PROGRESS", "in_progress_expiration": NOW_MS - 1}, "stale"),
        ({"status": "IN_PROGRESS", "in_progress_expiration": Decimal(NOW_MS - 1)}, "stale"),
        ({"status": "IN_PROGRESS", "in_progress_expiration": str(NOW_MS + 5)}, "in-progress"),
        ({"status": "COMPLETED", "expiration": 1_799_999_999}, "expired"),
        (
            {"status": "IN_PROGRESS", "in_progress_expiration": 0, "expiration": 1_700_000_000},
            "expired",
        ),
        ({"status": "COMPLETED", "expiration": 1_800_000_000}, "completed"),
    ],
)
def test_derive_state(item: dict[str, Any], state: str) -> None:
    """Same comparisons as the acquire condition; expired wins."""
    assert derive_state(item, NOW_MS) == state
