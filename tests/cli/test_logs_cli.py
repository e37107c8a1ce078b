"""`sqsidem logs` as a person sees it: human lines, JSON Lines, filters, exit codes."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import names_for
from tests.waiting import wait_until

runner = CliRunner()
STACK = "clilogs"
GROUP = names_for(STACK).log_group
STREAM = "2026/01/01/[$LATEST]0123456789abcdef"


@pytest.fixture
def logged(moto_aws: Aws) -> int:
    """A function log group with platform lines, two decisions and a JSON line."""
    moto_aws.logs.create_log_group(logGroupName=GROUP)
    moto_aws.logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
    t = time.time_ns() // 1_000_000
    lines = [
        "START RequestId: r1 Version: $LATEST",
        '{"sqsidem": 1, "decision": "acquired", "transaction_id": "k1", "error": null}',
        '{"sqsidem": 1, "decision": "completed", "transaction_id": "k1", "error": null}',
        '{ "other": [1, 2] }',
        "END RequestId: r1",
    ]
    moto_aws.logs.put_log_events(
        logGroupName=GROUP,
        logStreamName=STREAM,
        logEvents=[{"timestamp": t, "message": m} for m in lines],
    )
    return t


def _run(*args: str) -> Any:
    return runner.invoke(app, ["--stack", STACK, "logs", *args])


def test_human_lines(logged: int) -> None:
    """Time, short stream, decision name + compact JSON, JSON compacted, platform kept."""
    result = _run()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert lines[0].endswith("89abcdef  START RequestId: r1 Version: $LATEST")
    assert lines[1].split("  ", 2)[2] == 'acquired       {"transaction_id":"k1"}'
    assert lines[3].endswith('{"other":[1,2]}')


def test_transaction_and_no_platform(logged: int) -> None:
    """--transaction keeps one key's decisions; --no-platform hides START/END."""
    result = _run("--transaction", "k1")
    assert [line.split()[2] for line in result.stdout.splitlines()] == ["acquired", "completed"]
    result = _run("--no-platform")
    assert "START" not in result.stdout and len(result.stdout.splitlines()) == 3


def test_json_lines(logged: int) -> None:
    """--output json: one object per event with snake_case keys."""
    result = _run("-o", "json", "--filter", "decision")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["decision"]["decision"] for e in events] == ["acquired", "completed"]
    assert set(events[0]) == {
        "timestamp",
        "time",
        "stream",
        "message",
        "event_id",
        "platform",
        "decision",
    }


def test_since_excludes_older(logged: int) -> None:
    """--since as an ISO time after the events (and not in the future) shows nothing."""
    wait_until(lambda: time.time_ns() // 1_000_000 > logged + 1, 5, "2 ms past the events")
    after = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    result = _run("--since", after)
    assert result.exit_code == 0 and result.stdout == ""


def test_missing_group_exits_1(moto_aws: Aws) -> None:
    """No log group yet: exit 1 with a hint to --follow."""
    result = _run()
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "--follow" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--since", "yesterday"], "invalid --since"),
        (["--filter", '"open'], "invalid --filter"),
    ],
)
def test_usage_errors_exit_2(moto_aws: Aws, args: list[str], fragment: str) -> None:
    """Bad options: exit 2, one line."""
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
