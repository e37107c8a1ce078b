"""`sqsidem watch` through the CLI on moto: the --once JSON against `status` and `dlq list`,
piped JSON Lines and plain snapshots, panels that degrade to "n/a: <why>", the budget."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import names_for
from sqsidem.watch.sampler import WatchBudget
from tests.support_locks import completed, in_progress, put_all
from tests.support_logs import write_logs
from tests.support_seam import ClientSpy

STACK = "w1"
NAMES = names_for(STACK)
# The keys of `watch --once -o json` (README, "watch").
TOP_KEYS = {
    "stack",
    "sequence",
    "time",
    "interval_s",
    "api_calls",
    "queue",
    "flow",
    "trigger",
    "dlq",
    "alarm",
    "locks",
    "blocked_groups",
    "recent_decisions",
}


def run(*args: str, spy: ClientSpy | None = None) -> Result:
    if spy is not None:
        return spy.invoke(["--stack", STACK, *args])
    return CliRunner().invoke(app, ["--stack", STACK, *args])


def _decision(decision: str, key: str, group: str, message: str, **extra: Any) -> str:
    line = {
        "sqsidem": 1,
        "decision": decision,
        "transaction_id": key,
        "message_id": message,
        "group_id": group,
        "receive_count": extra.pop("receive_count", 1),
        "error": extra.pop("error", None),
        **extra,
    }
    return json.dumps(line)


@pytest.fixture
def stack(moto_aws: Aws) -> Aws:
    """A set-up stack with traffic of its own: DLQ messages, decision lines, locks."""
    built = run("setup")
    assert built.exit_code == 0, built.stderr
    dlq = moto_aws.sqs.get_queue_url(QueueName=NAMES.dlq)["QueueUrl"]
    for n in range(2):
        moto_aws.sqs.send_message(
            QueueUrl=dlq, MessageBody=f"dead {n}", MessageGroupId="p", MessageDeduplicationId=f"{n}"
        )
    t = completed("x")["first_seen_ms"]["N"]
    start = int(t) + 5_000
    lines = [_decision("completed", f"k{n}", "orders-a", f"m{n}") for n in range(3)]
    lines += [
        _decision("failed", "kp", "poison", "mp", receive_count=2, error="processor raised X"),
        _decision("failed", None, "poison", "mq", blocked_by="mp", error="not attempted"),
    ]
    moto_aws.logs.delete_log_group(logGroupName=NAMES.log_group)  # setup made it empty
    write_logs(moto_aws, NAMES.log_group, [(start + i, line) for i, line in enumerate(lines)])
    put_all(
        moto_aws,
        [completed("c1"), completed("c2"), in_progress("live", 60), in_progress("old", -60)],
        NAMES.table,
    )
    return moto_aws


def test_once_json_has_the_readme_keys_and_matches_status_and_dlq_list(stack: Aws) -> None:
    """Every documented key; queue, DLQ and lock figures equal `status` and `dlq list`."""
    result = run("-o", "json", "watch", "--once")
    assert result.exit_code == 0, result.stderr
    snap = json.loads(result.stdout)
    assert set(snap) == TOP_KEYS
    status = json.loads(run("-o", "json", "status").stdout)
    listed = run("-o", "json", "dlq", "list").stdout.splitlines()
    queue = snap["queue"]
    assert queue["na"] is None
    assert {k: queue[k] for k in ("visible", "in_flight", "delayed")} == status["queue"]
    assert snap["dlq"] == {"na": None, "depth": 2, "change_since_start": 0}
    assert snap["dlq"]["depth"] == status["dlq_depth"] == len(listed)
    assert snap["locks"]["by_state"] == status["locks"]["by_state"]
    assert snap["locks"]["capped"] is False
    assert snap["locks"]["oldest_in_progress"]["transaction_id"] == "live"
    assert snap["locks"]["oldest_stale"]["transaction_id"] == "old"
    assert snap["flow"]["counts"]["completed"] == 3
    assert snap["flow"]["per_second"]["completed"] == pytest.approx(3 / 60, abs=0.001)
    assert snap["trigger"]["state"] == status["mapping"]["state"]
    assert snap["alarm"]["state"] == status["alarm_state"]
    [group] = snap["blocked_groups"]["groups"]
    assert (group["group_id"], group["message_id"], group["receive_count"]) == ("poison", "mp", 2)
    assert (group["last_error"], group["not_attempted"]) == ("processor raised X", 1)
    assert [d["decision"] for d in snap["recent_decisions"]["decisions"]][-2:] == [
        "failed",
        "failed",
    ]
    _, slow = WatchBudget().calls_per_refresh()
    assert snap["api_calls"] <= slow + 3  # the first refresh also finds the URLs and group


def test_once_human_shows_every_panel(stack: Aws) -> None:
    """The plain snapshot names each panel, the blocked group and the DLQ depth."""
    result = run("watch", "--once")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    titles = ("queue", "DLQ", "flow (decisions/s, last minute)", "locks", "blocked groups")
    for title in (*titles, "recent decisions"):
        assert title in out
    assert "depth 2" in out and "poison" in out and "completed 0.05 " in out
    assert "\x1b" not in out


def test_piped_output_is_json_lines_then_plain_snapshots(stack: Aws) -> None:
    """Without --once: one JSON object per interval; plain text has no control codes."""
    lines = run("-o", "json", "watch", "--interval", "1s", "--count", "2")
    assert lines.exit_code == 0, lines.stderr
    rows = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [row["sequence"] for row in rows] == [1, 2]
    fast, _ = WatchBudget().calls_per_refresh()
    assert rows[1]["api_calls"] <= fast  # no scan on the second refresh: it is slower
    plain = run("watch", "--interval", "1s", "--count", "2")
    assert plain.exit_code == 0, plain.stderr
    assert plain.stdout.count("sqsidem watch · stack w1") == 2
    assert "\x1b" not in plain.stdout


def _deny_scan(model: Any, **_: Any) -> None:
    raise ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to Scan"}}, "Scan"
    )


def test_missing_log_group_and_denied_table_degrade_to_na(stack: Aws) -> None:
    """Log group deleted, Scan denied: those panels say n/a and why; watch keeps going."""
    stack.logs.delete_log_group(logGroupName=NAMES.log_group)
    spy = ClientSpy(handlers=[("before-call.dynamodb.Scan", _deny_scan)])
    result = run("-o", "json", "watch", "--interval", "1s", "--count", "2", spy=spy)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2
    for row in rows:
        for panel in ("flow", "blocked_groups", "recent_decisions"):
            assert row[panel] == {"na": f"log group {NAMES.log_group} does not exist"}
        assert row["locks"]["na"].startswith("access denied: Scan")
        assert row["dlq"]["depth"] == 2 and row["queue"]["na"] is None
    human = run("watch", "--once", spy=spy)
    assert human.exit_code == 0, human.stderr
    assert f"n/a: log group {NAMES.log_group} does not exist" in human.stdout
    assert "n/a: access denied: Scan" in human.stdout


def test_nothing_set_up_is_all_na_not_a_failure(moto_aws: Aws) -> None:
    """A stack that does not exist: every panel n/a, exit 0 (watch waits for it)."""
    result = CliRunner().invoke(app, ["--stack", "nothing", "-o", "json", "watch", "--once"])
    assert result.exit_code == 0, result.stderr
    snap = json.loads(result.stdout)
    assert snap["queue"]["na"] == "queue nothing-queue.fifo does not exist"
    assert snap["dlq"]["na"] == "DLQ nothing-queue-dlq.fifo does not exist"
    assert snap["alarm"]["na"] == "alarm nothing-dlq-not-empty does not exist"


@pytest.mark.parametrize("interval", ["0.5s", "200ms", "soon"])
def test_interval_below_the_minimum_exits_2(interval: str) -> None:
    """--interval has a floor of 1s (each refresh costs calls); nothing is called."""
    spy = ClientSpy()
    result = run("watch", "--interval", interval, spy=spy)
    assert result.exit_code == 2
    assert "--interval" in result.stderr
    assert spy.counts == {}


def test_help_states_the_cost() -> None:
    """--help gives the calls per refresh and the scan budget the sampler keeps."""
    fast, slow = WatchBudget().calls_per_refresh()
    budget = WatchBudget()
    text = " ".join(run("watch", "--help").stdout.replace("│", " ").split())
    assert f"at most {fast} API calls" in text
    assert f"<= {budget.lock_items:,} items in pages of {budget.lock_page:,}" in text
    assert f"<= {slow} calls then" in text


def test_readme_documents_the_json_keys_and_the_tour_suggests_watch() -> None:
    """Every top-level key of `watch --once -o json` is in the README's table; the tour's
    next steps (and the README after it) suggest watching the demo stack."""
    from pathlib import Path

    from sqsidem.demo.tour import next_steps

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("`watch --once -o json` prints one object") :]
    table = table[: table.index("`stacks -o json`")]
    for key in TOP_KEYS:
        assert f"`{key}`" in table, key
    assert "sqsidem --local --stack demo watch" in readme
    assert any(
        step.startswith("sqsidem --local --stack demo watch ") for step in next_steps("demo")
    )


def test_once_with_nothing_readable_exits_1() -> None:
    """No credentials at all: the snapshot still prints (every panel n/a), exit 1 says so."""
    result = CliRunner().invoke(
        app, ["--region", "eu-west-1", "--stack", "any", "-o", "json", "watch", "--once"]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["queue"]["na"].startswith("no AWS credentials found")
    assert result.stderr.startswith("error: nothing could be read: no AWS credentials found")
