"""`sqsidem locks` as a person sees it: tables, JSON Lines, confirmations, exit codes."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from typing import Any

import pytest
from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import names_for
from tests.support_locks import (
    CountingAws,
    completed,
    create_lock_table,
    in_progress,
    put_all,
    refuse_batch_writes,
)

runner = CliRunner()
STACK = "clilocks"
TABLE = names_for(STACK).table
HEADER = (
    "TRANSACTION ID                          STATE        AGE       DEADLINE    "
    "MESSAGE ID                              GROUP           RC"
)
LOCK_KEYS = {
    "transaction_id",
    "unreadable",
    "state",
    "status",
    "owner",
    "message_id",
    "group_id",
    "receive_count",
    "first_seen_ms",
    "completed_ms",
    "in_progress_expiration",
    "expiration",
    "age_s",
}


@pytest.fixture
def factory(moto_aws: Aws) -> CountingAws:
    """A table with 5 completed, 1 live and 1 stale lock; the CLI's clients count calls."""
    create_lock_table(moto_aws.dynamodb, TABLE)
    put_all(
        moto_aws,
        [completed(f"c{i}") for i in range(5)]
        + [in_progress("live", 60), in_progress("stale", -60)],
        TABLE,
    )
    return CountingAws()


@pytest.fixture
def calls(factory: CountingAws) -> Counter[str]:
    """The API calls the CLI made, by operation name."""
    return factory.calls


def _run(factory: CountingAws, *args: str) -> Any:
    return runner.invoke(app, ["--stack", STACK, "locks", *args], obj=factory.seam())


def test_list_human_streams_rows_and_counts(factory: CountingAws) -> None:
    """Columns with state, age, deadline/STALE; the counts line goes to stderr."""
    result = _run(factory, "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    rows = sorted(re.sub(r"\s{2,}", " | ", line) for line in lines[1:])
    assert len(rows) == 7
    for n, row in enumerate(rows[:5]):
        assert re.fullmatch(rf"c{n} \| completed \| 1\d s \| - \| m-c{n} \| g \| 1", row), row
    assert re.fullmatch(r"live \| in-progress \| \d s \| in (59|60) s \| - \| - \| -", rows[5])
    assert re.fullmatch(r"stale \| stale \| \d s \| STALE \| - \| - \| -", rows[6])
    assert result.stderr.splitlines() == [
        "7 lock(s) of 7 scanned: 1 in-progress, 1 stale, 5 completed, 0 expired"
    ]


def test_list_json_lines_with_filters(factory: CountingAws) -> None:
    """--output json: one object per lock; --status and --limit filter."""
    result = _run(
        factory, "list", "--status", "completed", "--limit", "2", "-o", "json", "--segments", "2"
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert set(row) == LOCK_KEYS
        tid = row["transaction_id"]
        assert {k: row[k] for k in ("state", "status", "owner", "message_id")} == {
            "state": "completed",
            "status": "COMPLETED",
            "owner": f"o-{tid}",
            "message_id": f"m-{tid}",
        }
        assert (row["group_id"], row["receive_count"], row["in_progress_expiration"]) == (
            "g",
            1,
            None,
        )
    counts = json.loads(result.stderr)
    assert counts == {
        "scanned": counts["scanned"],
        "matched": 2,
        "in-progress": 0,
        "stale": 0,
        "completed": 2,
        "expired": 0,
    }


def test_show_human_and_json(factory: CountingAws) -> None:
    """show explains the record in a sentence, then lists its attributes."""
    result = _run(factory, "show", "live")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"live: in progress, owner deadline in (59|60) s", lines[0])
    assert [line.split()[0] for line in lines[1:]] == [
        "expiration",
        "first_seen_ms",
        "in_progress_expiration",
        "owner",
        "status",
        "transaction_id",
    ]
    assert lines[4] == f"  {'owner':<24} o1"
    data = json.loads(_run(factory, "show", "c1", "-o", "json").stdout)
    # Seeded 10 s in the past: a slow machine may take a few seconds more to get here.
    assert data["state"] == "completed"
    assert re.fullmatch(r"completed 1\d s ago, expires in 24 h", data["meaning"])
    assert set(data) == LOCK_KEYS | {"meaning", "item"}


def test_show_unknown_id_exits_1(factory: CountingAws) -> None:
    """An unknown lock id is learned from AWS: exit 1, one line."""
    result = _run(factory, "show", "nope")
    assert result.exit_code == 1
    assert "no lock 'nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_clear_dry_run_lists_and_deletes_nothing(
    factory: CountingAws, calls: Counter[str], moto_aws: Aws
) -> None:
    """--dry-run previews the count, lists the locks, changes nothing."""
    result = _run(factory, "clear", "--all", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"6 lock(s) to clear in {TABLE}; 1 live in-progress skipped (--force clears them)"
    ]
    listed = sorted(json.loads(line)["transaction_id"] for line in result.stdout.splitlines())
    assert listed == ["c0", "c1", "c2", "c3", "c4", "stale"]
    assert "BatchWriteItem" not in calls and "DeleteItem" not in calls
    assert moto_aws.dynamodb.scan(TableName=TABLE)["Count"] == 7


def test_clear_all_yes(factory: CountingAws, calls: Counter[str], moto_aws: Aws) -> None:
    """--all --yes deletes completed in a batch, the stale one conditionally, skips live."""
    result = _run(factory, "clear", "--all", "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "deleted": 6,
        "skipped_live": 1,
        "changed": 0,
        "failed": 0,
        "not_found": 0,
        "scanned": 7,
        "batch_write_calls": 1,
        "delete_item_calls": 1,
        "interrupted": False,
    }
    assert calls["BatchWriteItem"] == 1 and calls["DeleteItem"] == 1
    assert moto_aws.dynamodb.scan(TableName=TABLE)["Count"] == 1


def test_clear_ids_with_force(factory: CountingAws) -> None:
    """Clearing a live lock by id needs --force."""
    skipped = _run(factory, "clear", "live", "--yes")
    assert skipped.exit_code == 0
    assert skipped.stderr.splitlines() == [
        f"0 lock(s) to clear in {TABLE}; 1 live in-progress skipped (--force clears them)",
        "✓ deleted 0; skipped 1 live, 0 changed meanwhile; 0 failed",
    ]
    forced = _run(factory, "clear", "live", "--yes", "--force")
    assert forced.exit_code == 0
    assert forced.stderr.splitlines() == [
        f"1 lock(s) to clear in {TABLE}",
        "✓ deleted 1; skipped 0 live, 0 changed meanwhile; 0 failed",
    ]


def test_clear_unknown_id_exits_1(factory: CountingAws) -> None:
    """An id that is not in the table: exit 1."""
    result = _run(factory, "clear", "c1", "nope", "--yes")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: no lock 'nope' in {TABLE} (deleted 1): check the id"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["clear"], "nothing selected"),
        (["clear", "--all"], "refusing without --yes"),
        (["clear", "a", "--all", "--yes"], "conflict"),
        (["clear", "--all", "--stale", "--yes"], "conflicts"),
        (["clear", "--status", "bogus", "--yes"], "invalid --status 'bogus'"),
        (["clear", "--older-than", "soon", "--yes"], "invalid --older-than"),
        (["clear", "--all", "--segments", "0", "--yes"], "invalid --segments"),
        (["list", "--status", "done"], "invalid --status"),
        (["list", "--segments", "0"], "invalid --segments"),
        (["list", "--limit", "0"], "invalid --limit"),
        (["list", "--older-than", "x"], "invalid --older-than"),
    ],
)
def test_usage_errors_exit_2_before_any_call(
    factory: CountingAws, calls: Counter[str], args: list[str], fragment: str
) -> None:
    """Decidable mistakes: exit 2, one stderr line, no API call."""
    result = _run(factory, *args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert calls == Counter()


def test_clear_refusal_is_made_before_reaching_any_endpoint() -> None:
    """No --yes, no terminal: exit 2 at once, even with an endpoint that cannot answer."""
    result = runner.invoke(
        app,
        [
            *("--endpoint-url", "http://127.0.0.1:9", "--region", "ap-northeast-1"),
            *("--stack", STACK, "locks", "clear", "--stale"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "error: delete lock records: refusing without --yes in a non-interactive shell: "
        "pass --yes to confirm"
    ]


def test_missing_table_exits_1(factory: CountingAws) -> None:
    """A stack without a table: exit 1 with the setup hint."""
    result = runner.invoke(app, ["--stack", "nosuch", "locks", "list"], obj=factory.seam())
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "setup" in result.stderr


def test_clear_all_on_1000_locks_is_about_40_batch_writes(
    factory: CountingAws, calls: Counter[str], moto_aws: Aws
) -> None:
    """The done-when figure through the CLI: 1,000 completed locks, ~40 BatchWriteItem."""
    put_all(moto_aws, [completed(f"t{i:04d}") for i in range(995)], TABLE)
    assert _run(factory, "clear", "live", "stale", "--yes", "--force").exit_code == 0
    calls.clear()
    result = _run(factory, "clear", "--all", "--yes", "--segments", "4")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "✓ deleted 1000; skipped 0 live, 0 changed meanwhile; 0 failed"
    ]
    assert calls["BatchWriteItem"] == 40
    assert "DeleteItem" not in calls


@pytest.mark.parametrize(("answer", "left"), [("y\n", 1), ("n\n", 7)])
def test_interactive_clear_counts_then_asks(
    factory: CountingAws,
    calls: Counter[str],
    moto_aws: Aws,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    left: int,
) -> None:
    """A person without --yes: a Select=COUNT preview and a question before any delete;
    "y" streams the deletes, "n" deletes nothing."""
    from sqsidem.errors import SqsidemError
    from sqsidem.locks.clear import ClearRequest, run_clear
    from sqsidem.locks.plan import ClearSelection
    from sqsidem.render import Renderer
    from sqsidem.render.locks import ClearView, show_clear_report
    from sqsidem.settings import Settings

    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    render = Renderer(stdout=out, stderr=err, interactive=True)
    aws = factory(Settings(stack=STACK))
    try:
        report = run_clear(
            aws,
            names_for(STACK),
            ClearRequest(ClearSelection(all=True)),
            ClearView(render, yes=False),
        )
        show_clear_report(render, report)
    except SqsidemError as exc:
        assert answer == "n\n" and "not confirmed" in str(exc)
    prompt = (
        f"delete up to 7 lock(s) from {TABLE} (live in-progress ones are skipped; --force "
        "clears them)? [y/n] (n): "
    )
    assert calls["Scan"] == 2 if answer == "y\n" else calls["Scan"] == 1
    assert moto_aws.dynamodb.scan(TableName=TABLE)["Count"] == left
    if answer == "y\n":
        summary = "✓ deleted 6; skipped 1 live, 0 changed meanwhile; 0 failed\n"
        assert err.getvalue() == prompt + summary
    else:
        assert err.getvalue() == prompt


def test_clear_stops_and_exits_1_when_batch_writes_fail(factory: CountingAws) -> None:
    """A refused BatchWriteItem: exit 1, one stderr line naming the error."""
    factory.handlers.append(("before-call.dynamodb.BatchWriteItem", refuse_batch_writes))
    result = _run(factory, "clear", "--all", "--yes")
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
    create_lock_table(local_aws.dynamodb, table)
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


def test_interactive_clear_by_id_previews_then_asks(
    factory: CountingAws, moto_aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lock ids, asked first: the records read are previewed, then the question; "y" deletes."""
    from sqsidem.locks.clear import ClearRequest, run_clear
    from sqsidem.locks.plan import ClearSelection
    from sqsidem.render import Renderer
    from sqsidem.render.locks import ClearView, show_clear_report
    from sqsidem.settings import Settings

    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    render = Renderer(stdout=out, stderr=err, interactive=True)
    request = ClearRequest(ClearSelection(ids=["c1", "live"]))
    report = run_clear(
        factory(Settings(stack=STACK)), names_for(STACK), request, ClearView(render, yes=False)
    )
    show_clear_report(render, report)
    assert err.getvalue() == (
        f"1 lock(s) to clear in {TABLE}; 1 live in-progress skipped (--force clears them)\n"
        f"delete 1 lock(s) from {TABLE}? [y/n] (n): "
        "✓ deleted 1; skipped 1 live, 0 changed meanwhile; 0 failed\n"
    )
    assert out.getvalue() == ""
    assert moto_aws.dynamodb.scan(TableName=TABLE)["Count"] == 6
