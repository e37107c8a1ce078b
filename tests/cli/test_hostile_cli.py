"""Hostile input (issue 13): degenerate option values, foreign lock items, escape sequences.

Bad values are refused with one line and exit 2 before any client exists; lock items that
someone else wrote (any attribute type, terminal escape sequences in keys) are shown
escaped and never crash a reader; JSON stays exact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.cli.context import Seam
from sqsidem.errors import UsageError
from sqsidem.local import LocalBackend, free_port
from sqsidem.names import names_for
from sqsidem.settings import Settings
from tests.support_locks import create_lock_table, in_progress, now_ms, put_all
from tests.support_seam import ClientSpy

STACK = "hostile"
TABLE = names_for(STACK).table
# A key that retitles the window and clears the screen when printed raw.
EVIL = "evil\x1b]0;pwned\x07\x1b[2J\x9b31m"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--stack", "", "locks", "list"], "--stack is empty"),
        (["--stack", "  ", "send", "x"], "--stack is empty"),
        (["--region", "", "locks", "list"], "--region is empty"),
        (["--profile", "", "locks", "list"], "--profile is empty"),
        (["--region", "mars", "locks", "list"], "invalid region 'mars'"),
        (["--endpoint-url", "http://", "locks", "list"], "invalid endpoint URL"),
        (["--endpoint-url", "http://h:99999", "locks", "list"], "invalid endpoint URL"),
        (["--endpoint-url", "http://a b", "locks", "list"], "invalid endpoint URL"),
        (["send", "x", "--group-id", ""], "--group-id is empty"),
        (["send", "x", "--dedup-id", ""], "--dedup-id is empty"),
        (["send", "x", "--repeat-key", ""], "--repeat-key is empty"),
        (["send", "x", "--queue", ""], "--queue is empty"),
        (["send", "--body-file", ""], "--body-file is empty"),
        (["send", "x", "--repeat-key", "k" * 2049], "2049 bytes, longer than the 2048-byte"),
        (["locks", "list", "--prefix", ""], "--prefix is empty"),
        (["locks", "list", "--older-than", ""], "--older-than is empty"),
        (["locks", "show", ""], "a lock id is empty"),
        (["locks", "clear", "", "--yes"], "a lock id is empty"),
        (["send", "--count", "99999999999"], "invalid --count 99999999999"),
        (["trace", "x", "--since", "9999-12-31"], "between 1970 and now"),
        (["trace", "x", "--since", "0001-01-01"], "between 1970 and now"),
    ],
)
def test_degenerate_values_exit_2_before_any_call(
    fake_credentials: None, args: list[str], says: str
) -> None:
    """One line, exit 2, and not even a client was made."""
    spy = ClientSpy()
    endpoint = [] if "--endpoint-url" in args else ["--endpoint-url", "http://127.0.0.1:9"]
    result = spy.invoke([*endpoint, *args])
    assert result.exit_code == 2, result.output
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert spy.clients == []


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -1.0, 0.0])
def test_local_up_refuses_a_degenerate_timeout(tmp_path: Path, timeout: float) -> None:
    """`local up --timeout nan` is exit 2 before anything starts."""
    backend = LocalBackend(tmp_path)
    try:
        with pytest.raises(UsageError, match="invalid --timeout"):
            backend.up(free_port(), timeout_s=timeout)
        assert not backend.files.record_path.exists()
    finally:
        backend.down()


def test_ctrl_c_reaches_the_error_table(fake_credentials: None) -> None:
    """A KeyboardInterrupt in any command ends as the "interrupted" line, exit 130."""

    def interrupted(settings: Settings, *, endpoint_url: str | None = None) -> Aws:
        raise KeyboardInterrupt

    result = CliRunner().invoke(
        app, ["--stack", STACK, "locks", "list"], obj=Seam(aws_factory=interrupted)
    )
    assert result.exit_code == 130
    assert result.stderr == "error: interrupted\n"


def _foreign_items() -> list[dict[str, Any]]:
    t = now_ms()
    return [
        {  # every attribute of an unexpected type
            "transaction_id": {"S": "odd"},
            "status": {"N": "7"},
            "owner": {"B": b"\x00\xff"},
            "message_id": {"L": [{"S": "a"}, {"N": "1"}]},
            "group_id": {"M": {"k": {"BOOL": True}}},
            "receive_count": {"SS": ["x", "y"]},
            "first_seen_ms": {"NS": ["1", "2"]},
            "in_progress_expiration": {"NULL": True},
            "expiration": {"BS": [b"a"]},
        },
        {  # in progress, deadline written as a string: no consumer can ever take it over
            **in_progress("strdeadline", 60),
            "in_progress_expiration": {"S": str(t - 60_000)},
        },
        {  # stale, with an owner someone wrote as binary
            **in_progress("binowner", -60),
            "owner": {"B": b"owner-bytes"},
        },
        {  # escape sequences in the key and the group id
            **in_progress(EVIL, 60),
            "group_id": {"S": "g\x1b[31m\nfake row"},
            "message_id": {"S": "m\x07"},
        },
        {  # huge and fractional numbers
            **in_progress("huge", 60),
            "first_seen_ms": {"N": "1e30"},
            "in_progress_expiration": {"N": str(t + 60_000.5)},
            "expiration": {"N": "1e30"},
        },
    ]


@pytest.fixture
def spy(moto_aws: Aws) -> ClientSpy:
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(moto_aws, _foreign_items(), TABLE)
    return ClientSpy()


def _locks(spy: ClientSpy, *args: str) -> Result:
    return spy.invoke(["--stack", STACK, "locks", *args])


def test_locks_list_shows_foreign_items_escaped(spy: ClientSpy) -> None:
    """Every item listed, nothing raw reaches the terminal, the bad deadline reads "unreadable"."""
    result = _locks(spy, "list")
    assert result.exit_code == 0, result.output
    assert not any(c in result.stdout for c in "\x1b\x07\x9b"), result.stdout
    rows = result.stdout.splitlines()[1:]
    assert len(rows) == 5, rows  # the group id's newline did not add a row
    by_id = {row.split()[0]: row for row in rows}
    assert "unreadable" in by_id["strdeadline"] and "in-progress" in by_id["strdeadline"]
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m" in result.stdout
    assert "g\\x1b[31m\\nfak" in result.stdout  # the column's width cuts it there


def test_locks_list_json_is_exact(spy: ClientSpy) -> None:
    """JSON Lines keep the outside strings exactly (escaped by JSON itself, not altered)."""
    result = _locks(spy, "list", "-o", "json")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout
    rows = {row["transaction_id"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {"odd", "strdeadline", "binowner", EVIL, "huge"}
    assert rows[EVIL]["group_id"] == "g\x1b[31m\nfake row"
    assert rows["odd"]["unreadable"] == [
        "in_progress_expiration",
        "expiration",
        "receive_count",
        "first_seen_ms",
        "status",
        "owner",
        "message_id",
        "group_id",
    ]
    assert rows["strdeadline"]["state"] == "in-progress"


@pytest.mark.parametrize("tid", ["odd", "strdeadline", "binowner", EVIL, "huge"])
def test_locks_show_any_foreign_item(spy: ClientSpy, tid: str) -> None:
    """`locks show` explains every foreign item, human and JSON."""
    human = _locks(spy, "show", tid)
    assert human.exit_code == 0, human.output
    assert not any(c in human.stdout for c in "\x1b\x07\x9b")
    data = _locks(spy, "show", tid, "-o", "json")
    assert data.exit_code == 0, data.output
    assert json.loads(data.stdout)["transaction_id"] == tid


def test_clear_stale_deletes_a_lock_with_a_binary_owner(spy: ClientSpy, moto_aws: Aws) -> None:
    """The conditional delete compares the owner as read (binary): no false "changed"."""
    result = _locks(spy, "clear", "--stale", "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["deleted"], report["changed"]) == (1, 0)
    assert "Item" not in moto_aws.dynamodb.get_item(
        TableName=TABLE, Key={"transaction_id": {"S": "binowner"}}
    )


def test_unreadable_deadline_is_cleared_only_with_force(spy: ClientSpy, moto_aws: Aws) -> None:
    """A lock that can never go stale is skipped as live, and deleted with --force."""
    skipped = _locks(spy, "clear", "strdeadline", "--yes", "-o", "json")
    assert skipped.exit_code == 0, skipped.output
    assert json.loads(skipped.stdout)["skipped_live"] == 1
    forced = _locks(spy, "clear", "strdeadline", "--force", "--yes", "-o", "json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["deleted"] == 1
    assert "Item" not in moto_aws.dynamodb.get_item(
        TableName=TABLE, Key={"transaction_id": {"S": "strdeadline"}}
    )


@pytest.mark.parametrize("tid", ["odd", "strdeadline", EVIL, "huge"])
def test_trace_any_foreign_lock(spy: ClientSpy, tid: str) -> None:
    """`trace` shows a foreign lock (escaped, times it cannot read as "unreadable")."""
    human = spy.invoke(["--stack", STACK, "trace", tid])
    assert human.exit_code == 0, human.output
    assert not any(c in human.stdout for c in "\x1b\x07\x9b")
    data = spy.invoke(["--stack", STACK, "trace", tid, "-o", "json"])
    assert data.exit_code == 0, data.output
    assert json.loads(data.stdout)["transaction_id"] == tid
