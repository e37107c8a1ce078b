"""`sqsidem locks` as a person sees it: tables, JSON Lines, confirmations, exit codes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import names_for
from tests.functional.test_locks import completed, in_progress, make_table, put_all

runner = CliRunner()
STACK = "clilocks"
TABLE = names_for(STACK).table


@pytest.fixture
def calls(moto_aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """A table with 5 completed, 1 live and 1 stale lock; counts the CLI's API calls."""
    from botocore import handlers

    counted: dict[str, int] = {}

    def count(model: Any, **_: Any) -> None:
        counted[model.name] = counted.get(model.name, 0) + 1

    monkeypatch.setattr(
        handlers, "BUILTIN_HANDLERS", [*handlers.BUILTIN_HANDLERS, ("before-call", count)]
    )
    make_table(moto_aws, TABLE)
    put_all(
        moto_aws,
        [completed(f"c{i}") for i in range(5)]
        + [in_progress("live", 60), in_progress("stale", -60)],
        TABLE,
    )
    counted.clear()  # seeding used a client built after the patch too
    yield counted


def _run(*args: str) -> Any:
    return runner.invoke(app, ["--stack", STACK, "locks", *args])


def test_list_human_streams_rows_and_counts(calls: dict[str, int]) -> None:
    """Columns with state, age, deadline/STALE; the counts line goes to stderr."""
    result = _run("list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["TRANSACTION", "ID", "STATE"]
    assert len(lines) == 8
    stale_row = next(line for line in lines if line.startswith("stale "))
    assert "STALE" in stale_row
    live_row = next(line for line in lines if line.startswith("live "))
    assert "in-progress" in live_row and re.search(r"in (59|60) s", live_row)
    assert "7 lock(s) of 7 scanned: 1 in-progress, 1 stale, 5 completed, 0 expired" in (
        result.stderr
    )


def test_list_json_lines_with_filters(calls: dict[str, int]) -> None:
    """--output json: one object per lock; --status and --limit filter."""
    result = _run("list", "--status", "completed", "--limit", "2", "-o", "json", "--segments", "2")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2 and {r["state"] for r in rows} == {"completed"}
    assert rows[0]["receive_count"] == 1 and rows[0]["group_id"] == "g"
    assert json.loads(result.stderr)["matched"] == 2


def test_show_human_and_json(calls: dict[str, int]) -> None:
    """show explains the record in a sentence, then lists its attributes."""
    result = _run("show", "live")
    assert result.exit_code == 0, result.output
    assert re.match(r"live: in progress, owner deadline in (59|60) s\n", result.stdout)
    assert "owner" in result.stdout
    data = json.loads(_run("show", "c1", "-o", "json").stdout)
    assert data["state"] == "completed" and data["meaning"].startswith("completed 10 s ago")


def test_show_unknown_id_exits_1(calls: dict[str, int]) -> None:
    """An unknown lock id is learned from AWS: exit 1, one line."""
    result = _run("show", "nope")
    assert result.exit_code == 1
    assert "no lock 'nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_clear_dry_run_lists_and_deletes_nothing(calls: dict[str, int], moto_aws: Aws) -> None:
    """--dry-run previews the count, lists the locks, changes nothing."""
    result = _run("clear", "--all", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.output
    assert "6 lock(s) to clear" in result.stderr and "1 live in-progress skipped" in result.stderr
    assert len(result.stdout.splitlines()) == 6
    assert "BatchWriteItem" not in calls and "DeleteItem" not in calls
    assert moto_aws.dynamodb.scan(TableName=TABLE)["Count"] == 7


def test_clear_all_yes(calls: dict[str, int], moto_aws: Aws) -> None:
    """--all --yes deletes completed in a batch, the stale one conditionally, skips live."""
    result = _run("clear", "--all", "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["deleted"] == 6 and summary["skipped_live"] == 1
    assert calls["BatchWriteItem"] == 1 and calls["DeleteItem"] == 1
    assert moto_aws.dynamodb.scan(TableName=TABLE)["Count"] == 1


def test_clear_ids_with_force(calls: dict[str, int]) -> None:
    """Clearing a live lock by id needs --force."""
    skipped = _run("clear", "live", "--yes")
    assert skipped.exit_code == 0 and "deleted 0; skipped 1 live" in skipped.stderr
    forced = _run("clear", "live", "--yes", "--force")
    assert forced.exit_code == 0 and "deleted 1" in forced.stderr


def test_clear_unknown_id_exits_1(calls: dict[str, int]) -> None:
    """An id that is not in the table: exit 1."""
    result = _run("clear", "c1", "nope", "--yes")
    assert result.exit_code == 1
    assert "no lock 'nope'" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["clear"], "nothing selected"),
        (["clear", "--all"], "refusing without --yes"),
        (["clear", "a", "--all", "--yes"], "conflict"),
        (["clear", "--all", "--stale", "--yes"], "conflicts"),
        (["clear", "--status", "bogus", "--yes"], "invalid --status 'bogus'"),
        (["clear", "--older-than", "soon", "--yes"], "invalid --older-than"),
        (["list", "--status", "done"], "invalid --status"),
        (["list", "--segments", "0"], "invalid --segments"),
        (["list", "--limit", "0"], "invalid --limit"),
        (["list", "--older-than", "x"], "invalid --older-than"),
    ],
)
def test_usage_errors_exit_2_before_any_call(
    calls: dict[str, int], args: list[str], fragment: str
) -> None:
    """Decidable mistakes: exit 2, one stderr line, no API call."""
    calls.clear()
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert calls == {}


def test_missing_table_exits_1(calls: dict[str, int]) -> None:
    """A stack without a table: exit 1 with the setup hint."""
    result = runner.invoke(app, ["--stack", "nosuch", "locks", "list"])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "setup" in result.stderr


def test_clear_all_on_1000_locks_is_about_40_batch_writes(
    calls: dict[str, int], moto_aws: Aws
) -> None:
    """The done-when figure through the CLI: 1,000 completed locks, ~40 BatchWriteItem."""
    put_all(moto_aws, [completed(f"t{i:04d}") for i in range(995)], TABLE)
    assert _run("clear", "live", "stale", "--yes", "--force").exit_code == 0
    calls.clear()
    result = _run("clear", "--all", "--yes", "--segments", "4")
    assert result.exit_code == 0, result.output
    assert "deleted 1000" in result.stderr
    assert calls["BatchWriteItem"] == 40
    assert "DeleteItem" not in calls


@pytest.mark.parametrize(("answer", "left"), [("y\n", 1), ("n\n", 7)])
def test_interactive_clear_counts_then_asks(
    calls: dict[str, int], moto_aws: Aws, monkeypatch: pytest.MonkeyPatch, answer: str, left: int
) -> None:
    """A person without --yes: a Select=COUNT preview and a question before any delete;
    "y" streams the deletes, "n" deletes nothing."""
    import io

    from sqsidem.cli.locks_cmd import _clear_streamed
    from sqsidem.errors import SqsidemError
    from sqsidem.locks import ClearSelection
    from sqsidem.render import Renderer

    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    render = Renderer(stdout=out, stderr=err, interactive=True)
    try:
        _clear_streamed(render, moto_aws, TABLE, ClearSelection(all=True), False, False, None)
    except SqsidemError as exc:
        assert answer == "n\n" and "not confirmed" in str(exc)
    assert "delete up to 7 lock(s)" in err.getvalue()
    assert calls["Scan"] == 2 if answer == "y\n" else calls["Scan"] == 1
    assert moto_aws.dynamodb.scan(TableName=TABLE)["Count"] == left
    if answer == "y\n":
        assert "deleted 6; skipped 1 live, 0 changed meanwhile; 0 failed" in err.getvalue()


def test_clear_stops_and_exits_1_when_batch_writes_fail(
    calls: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused BatchWriteItem: exit 1, one stderr line naming the error."""
    from botocore import handlers

    from tests.functional.test_locks import _refuse_batch_writes

    monkeypatch.setattr(
        handlers,
        "BUILTIN_HANDLERS",
        [*handlers.BUILTIN_HANDLERS, ("before-call.dynamodb.BatchWriteItem", _refuse_batch_writes)],
    )
    result = _run("clear", "--all", "--yes")
    assert result.exit_code == 1
    assert "AccessDeniedException" in result.stderr and "deleted 1, but 5 lock(s)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("after_bytes", [2_000, 5_000])
def test_clear_survives_a_connection_reset_on_ministack(
    local_aws: Aws,
    ministack: Any,
    stack_name: str,
    monkeypatch: pytest.MonkeyPatch,
    after_bytes: int,
) -> None:
    """The pipelined clear spreads its calls over several connections: a reset on the first
    one (describe, scan, or a batch) is retried by the client; all 120 go, counts exact."""
    from tests.netdelay import DelayProxy, Fault

    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")):
        monkeypatch.setenv(name, value)
    stack = f"{stack_name}-{after_bytes}"
    table = names_for(stack).table
    make_table(local_aws, table)
    put_all(local_aws, [completed(f"tx-{n:03d}") for n in range(120)], table)
    with DelayProxy.to_url(
        ministack.endpoint, round_trip_s=0.0, faults=(Fault(connection=1, after_bytes=after_bytes),)
    ) as proxy:
        result = runner.invoke(
            app,
            [
                "--endpoint-url",
                proxy.url,
                "--region",
                local_aws.region,
                "--stack",
                stack,
                "-o",
                "json",
                "locks",
                "clear",
                "--all",
                "--yes",
            ],
        )
    assert proxy.stats.resets == 1, "the fault did not fire"
    assert result.exit_code == 0, result.stderr
    assert (json.loads(result.stdout)["deleted"], json.loads(result.stdout)["failed"]) == (120, 0)
    assert local_aws.dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 0
