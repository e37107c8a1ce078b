"""`logs --where` and `logs --stacks` through the CLI, on moto (which ignores JSON patterns,
so the client-side test is what the lines prove; the pattern sent is recorded)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from botocore.stub import Stubber

from sqsidem.aws import Aws
from sqsidem.logtail import EventCursor, EventFilter, follow_events, follow_groups
from sqsidem.names import names_for
from tests.support_logs import write_logs
from tests.support_seam import ClientSpy


def _decision(decision: str, group: str, key: str, count: int = 1) -> str:
    return json.dumps(
        {
            "sqsidem": 1,
            "decision": decision,
            "transaction_id": key,
            "message_id": f"m-{key}",
            "group_id": group,
            "receive_count": count,
            "error": None if decision != "failed" else "processor raised ValueError",
        }
    )


def _write(aws: Aws, stack: str, lines: list[tuple[int, str]]) -> None:
    write_logs(aws, names_for(stack).log_group, lines)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_where_prints_only_matching_decisions_and_sends_the_pattern(moto_aws: Aws) -> None:
    """Two --where tests: only failed lines of orders-a print; the JSON pattern went out."""
    t = _now_ms() - 5_000
    _write(
        moto_aws,
        "wh",
        [
            (t, "START RequestId: r1"),
            (t + 1, _decision("failed", "orders-a", "k1")),
            (t + 2, _decision("failed", "orders-b", "k2")),
            (t + 3, _decision("completed", "orders-a", "k3")),
            (t + 4, _decision("failed", "orders-a", "k4", 2)),
            (t + 5, "failed orders-a in plain words"),
        ],
    )
    patterns: list[Any] = []
    spy = ClientSpy(
        handlers=[
            (
                "provide-client-params.logs.FilterLogEvents",
                lambda params, **_: patterns.append(params.get("filterPattern")),
            )
        ]
    )
    args = ["--stack", "wh", "logs", "--where", "decision=failed", "--where", "group_id=orders-a"]
    result = spy.invoke([*args, "-o", "json"])
    assert result.exit_code == 0, result.stderr
    keys = [json.loads(line)["decision"]["transaction_id"] for line in result.stdout.splitlines()]
    assert keys == ["k1", "k4"]
    assert patterns == [
        '{ ($.sqsidem = 1) && ($.decision = "failed") && ($.group_id = "orders-a") }'
    ]
    human = spy.invoke([*args, "--where", "receive_count!=2"])
    assert human.exit_code == 0, human.stderr
    assert len(human.stdout.splitlines()) == 1 and '"transaction_id":"k1"' in human.stdout


def test_where_usage_error_exits_2_before_any_call(moto_aws: Aws) -> None:
    """A malformed --where is refused with exit 2 and no AWS call."""
    spy = ClientSpy()
    result = spy.invoke(["logs", "--where", "decision"])
    assert result.exit_code == 2
    assert "FIELD=VALUE" in result.stderr
    assert spy.counts == {}


def test_stacks_merges_in_time_order_with_tags(moto_aws: Aws) -> None:
    """--stacks a,b interleaves both groups by timestamp, each line tagged; JSON too."""
    t = _now_ms() - 5_000
    _write(moto_aws, "sa", [(t, _decision("completed", "g", "a1")), (t + 20, "a second")])
    _write(moto_aws, "sb", [(t + 10, _decision("completed", "g", "b1")), (t + 30, "b second")])
    result = ClientSpy().invoke(["logs", "--stacks", "sa,sb", "-o", "json"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["stack"], r["timestamp"] - t) for r in rows] == [
        ("sa", 0),
        ("sb", 10),
        ("sa", 20),
        ("sb", 30),
    ]
    human = ClientSpy().invoke(["logs", "--stacks", "sa,sb", "--where", "transaction_id=b1"])
    assert human.exit_code == 0, human.stderr
    assert [line.split()[1] for line in human.stdout.splitlines()] == ["sb"]


def test_stacks_skips_a_stack_without_logs_and_refuses_repeats(moto_aws: Aws) -> None:
    """A stack whose group is missing is named on stderr; a repeated name exits 2."""
    _write(moto_aws, "sa", [(_now_ms() - 1_000, "hello")])
    result = ClientSpy().invoke(["logs", "--stacks", "sa,nologs"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split()[1] == "sa" and result.stdout.rstrip().endswith("hello")
    assert "stack nologs: log group /aws/lambda/nologs-sqs-receive does not exist" in (
        result.stderr
    )
    assert ClientSpy().invoke(["logs", "--stacks", "sa,sa"]).exit_code == 2
    assert ClientSpy().invoke(["--stack", "x", "logs", "--stacks", "sa,Bad"]).exit_code == 2


def test_follow_groups_tags_each_stack(moto_aws: Aws) -> None:
    """Following two groups yields each new event once, tagged with its stack."""
    t = _now_ms()
    _write(moto_aws, "fa", [(t, "a0")])
    _write(moto_aws, "fb", [(t + 1, "b0")])
    stop = threading.Event()
    groups: dict[str | None, str] = {s: names_for(s).log_group for s in ("fa", "fb")}
    later = [
        lambda: moto_aws.logs.put_log_events(
            logGroupName=groups["fb"],
            logStreamName="s1",
            logEvents=[{"timestamp": t + 5, "message": "b1"}],
        )
    ]

    def sleep(_: float) -> None:
        if later:
            later.pop()()
        else:
            stop.set()

    seen = [
        (e.stack, e.message)
        for e in follow_groups(
            moto_aws.logs, groups, start_ms=t, where=EventFilter(), stop=stop, sleep=sleep
        )
    ]
    assert seen == [("fa", "a0"), ("fb", "b0"), ("fb", "b1")]


def _raw(message: str, timestamp: int, **extra: Any) -> dict[str, Any]:
    return {"timestamp": timestamp, "message": message, "logStreamName": "s", **extra}


def test_follow_keeps_events_that_come_without_event_ids(moto_aws: Aws) -> None:
    """ministack sends no eventId: three lines of one invocation (one timestamp) all show."""
    stop = threading.Event()
    lines = ["START", _decision("acquired", "g", "k"), _decision("completed", "g", "k")]
    with Stubber(moto_aws.logs) as stub:
        stub.add_response("filter_log_events", {"events": [_raw(m, 7) for m in lines]})
        stub.add_response("filter_log_events", {"events": [_raw(m, 7) for m in lines]})
        got = []
        for event in follow_events(
            moto_aws.logs, "/g", start_ms=0, stop=stop, sleep=lambda _: None
        ):
            got.append(event.message)
            if len(got) == 3:
                stop.set()
    assert got == lines


def test_a_page_capped_read_goes_on_from_its_token(moto_aws: Aws) -> None:
    """AWS may answer empty pages while it scans: the next read resumes from the token."""
    cursor = EventCursor(start_ms=100)
    base = {"logGroupName": "/g", "startTime": 100, "interleaved": True}
    with Stubber(moto_aws.logs) as stub:
        stub.add_response("filter_log_events", {"events": [], "nextToken": "t1"}, base)
        stub.add_response(
            "filter_log_events",
            {"events": [_raw("late", 500, eventId="e1")]},
            {**base, "nextToken": "t1"},
        )
        stub.add_response("filter_log_events", {"events": []}, {**base, "startTime": 100})
        assert cursor.poll(moto_aws.logs, "/g", max_pages=1) == []
        assert [e.message for e in cursor.poll(moto_aws.logs, "/g", max_pages=1)] == ["late"]
        assert cursor.poll(moto_aws.logs, "/g", max_pages=1) == []
        stub.assert_no_pending_responses()
