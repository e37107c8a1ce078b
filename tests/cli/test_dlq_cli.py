"""`sqsidem dlq list|redrive|purge` through the CLI, on moto."""

from __future__ import annotations

import io
import json
import os
import re
import signal

import pytest
from botocore.awsrequest import AWSResponse
from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.dlq.purge import purge
from sqsidem.dlq.redrive import run_redrive
from sqsidem.errors import Aborted
from sqsidem.render import Renderer
from sqsidem.render.dlq import RedriveView, confirm_purge
from tests.support_dlq import build_stack, dead_letter, drain, put_lock, visible
from tests.support_seam import ClientSpy


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--stack", "t1", *args])
    return result.exit_code, result.stdout, result.stderr


def test_list_json_lines(moto_aws: Aws) -> None:
    """--output json prints one object per message; messages stay."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "x" * 100, "g1", "d1", key="k1")
    dead_letter(moto_aws, stack, "y", "g2", "d2")
    code, out, err = run("dlq", "list", "--output", "json", "--full")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert sorted(r["key"] for r in rows) == ["d2", "k1"]
    assert {len(r["body"]) for r in rows} == {100, 1}
    assert "2 message(s) shown" in err
    assert visible(moto_aws, stack.dlq_url) == 2


def test_list_human(moto_aws: Aws) -> None:
    """The human table names the key and its lock state."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "body", "g1", "d1", key="k1")
    put_lock(moto_aws, stack, "k1", "COMPLETED")
    code, out, err = run("dlq", "list")
    assert code == 0
    row = r"│ [0-9a-f-]{36} │ g1    │ k1  │ 0        │ \d+ s │ completed │ body │"
    assert [line for line in out.splitlines() if re.fullmatch(row, line)], out
    assert err.splitlines() == [
        "1 message(s) shown, all left in the DLQ",
        "age = time since sent, an upper bound for the time in the DLQ",
    ]


def test_redrive_needs_yes_when_not_interactive(moto_aws: Aws) -> None:
    """Without --yes in a non-interactive shell: exit 2, one line, nothing moved."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "a", "g1", "d1")
    code, _, err = run("dlq", "redrive")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--yes" in err
    assert visible(moto_aws, stack.dlq_url) == 1


def test_redrive_warns_and_clears_locks(moto_aws: Aws) -> None:
    """A completed key is warned about; --clear-locks releases it; messages move."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "a", "g1", "d1", key="k1")
    put_lock(moto_aws, stack, "k1", "COMPLETED")
    code, out, err = run("dlq", "redrive", "--yes", "--clear-locks", "--output", "json")
    assert code == 0, err
    assert "skipped as a duplicate" in err and "released 1 lock" in err
    assert json.loads(out) == {
        "method": "copy",
        "moved": 1,
        "failed": [],
        "held_back": 0,
        "not_deleted": [],
        "left_in_dlq": 0,
        "task_status": None,
        "failure_reason": None,
        "interrupted": False,
        "total": 1,
    }
    assert [m["Body"] for m in drain(moto_aws, stack.queue_url)] == ["a"]


def test_redrive_empty_dlq(moto_aws: Aws) -> None:
    """Nothing to do is success."""
    build_stack(moto_aws)
    code, _, err = run("dlq", "redrive", "--yes")
    assert code == 0 and "empty" in err


def test_redrive_partial_failure_exits_1(moto_aws: Aws) -> None:
    """A failed send: exit 1 with one error line; the message stays in the DLQ."""
    from botocore.exceptions import ClientError

    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "a", "g1", "d1")

    def fail(**_: object) -> None:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, "SendMessageBatch")

    # The CLI builds its own clients: the seam hooks each of them.
    spy = ClientSpy(handlers=[("before-call.sqs.SendMessageBatch", fail)])
    result = spy.invoke(["--stack", "t1", "dlq", "redrive", "--yes"])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1 and len(errors) == 1 and "1 send(s) failed" in errors[0]
    assert visible(moto_aws, stack.dlq_url) == 1


@pytest.mark.parametrize(
    ("command", "action"),
    [
        (["redrive"], "move the messages of t1-queue-dlq.fifo back to t1-queue.fifo"),
        (
            ["redrive", "--clear-locks"],
            "move the messages of t1-queue-dlq.fifo back to t1-queue.fifo",
        ),
        (["purge"], "delete every message in t1-queue-dlq.fifo"),
    ],
)
def test_destructive_without_yes_refuses_before_any_call(command: list[str], action: str) -> None:
    """No --yes, no terminal: exit 2 and one refusal line, with no client even made."""
    spy = ClientSpy()
    args = ["--stack", "t1", "--endpoint-url", "http://127.0.0.1:9", "dlq", *command]
    result = spy.invoke(args)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: {action}: refusing without --yes in a non-interactive shell: pass --yes to confirm"
    ]
    assert spy.clients == [] and spy.counts == {}


def test_purge(moto_aws: Aws) -> None:
    """purge --yes reports the count removed."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "a", "g1", "d1")
    dead_letter(moto_aws, stack, "b", "g1", "d2")
    code, out, _ = run("dlq", "purge", "--yes", "--output", "json")
    assert code == 0 and json.loads(out) == {"queue": "t1-queue-dlq.fifo", "removed": 2}


def test_missing_stack_is_exit_1(moto_aws: Aws) -> None:
    """No DLQ: one error line naming setup."""
    code, _, err = run("dlq", "list")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "setup" in err


def test_cancel_conflicts_with_rate(moto_aws: Aws) -> None:
    """--cancel with --rate is a usage error (exit 2)."""
    code, _, err = run("dlq", "redrive", "--cancel", "--rate", "5")
    assert code == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("answer", "left"), [("y\n", 0), ("n\n", 2)])
def test_interactive_purge_shows_the_count_then_asks(
    moto_aws: Aws, monkeypatch: pytest.MonkeyPatch, answer: str, left: int
) -> None:
    """A person without --yes sees the observed count, then the question; "n" purges nothing."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "a", "g1", "d1")
    dead_letter(moto_aws, stack, "b", "g1", "d2")
    err = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    render = Renderer(stdout=io.StringIO(), stderr=err, interactive=True)

    def ask(count: int) -> None:
        confirm_purge(render, stack.names, count, yes=False)

    if answer == "y\n":
        assert purge(moto_aws, stack.names, confirm=ask) == 2
    else:
        with pytest.raises(Aborted):
            purge(moto_aws, stack.names, confirm=ask)
    assert err.getvalue().splitlines()[:2] == [
        "t1-queue-dlq.fifo: about 2 message(s), gone for good once purged",
        "delete all 2 message(s) in t1-queue-dlq.fifo? [y/n] (n): ",
    ]
    assert visible(moto_aws, stack.dlq_url) == left


@pytest.mark.parametrize(("answer", "moved"), [("y\n", 1), ("n\n", 0)])
def test_interactive_redrive_warns_then_asks(
    moto_aws: Aws, monkeypatch: pytest.MonkeyPatch, answer: str, moved: int
) -> None:
    """Lock warnings and the observed plan come before the question; "n" moves nothing."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "a", "g1", "d1", key="k1")
    put_lock(moto_aws, stack, "k1", "COMPLETED")
    err = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    render = Renderer(stdout=io.StringIO(), stderr=err, interactive=True)
    view = RedriveView(render, stack.names, yes=False, clear_locks=False)

    if answer == "y\n":
        result = run_redrive(moto_aws, stack.names, rate=None, clear_locks=False, watch=view)
        assert result is not None and result.ok
    else:
        with pytest.raises(Aborted):
            run_redrive(moto_aws, stack.names, rate=None, clear_locks=False, watch=view)
    assert err.getvalue().splitlines()[:4] == [
        "warning: key k1 has a completed lock: its redriven message would be skipped as a "
        "duplicate",
        "pass --clear-locks to release those locks before redriving",
        "1 message(s) in t1-queue-dlq.fifo, 1 with a lock in the way",
        "move 1 message(s) from t1-queue-dlq.fifo back to t1-queue.fifo? [y/n] (n): ",
    ]
    assert len(drain(moto_aws, stack.queue_url)) == moved


def _answer(parsed: dict[str, object]) -> tuple[AWSResponse, dict[str, object]]:
    """A before-call handler's answer: botocore takes it instead of calling the backend."""
    return AWSResponse("https://sqs.invalid", 200, {}, None), parsed


def _move_task_spy(presses: int, cancelled: list[str]) -> ClientSpy:
    """A backend with move tasks; Ctrl-C is pressed ``presses`` times at the first poll.

    (The spy's own counter does not see these calls: an answering handler ends the event.)
    """

    def start(**_: object) -> tuple[AWSResponse, dict[str, object]]:
        return _answer({"TaskHandle": "h1"})

    def poll(**_: object) -> tuple[AWSResponse, dict[str, object]]:
        for _press in range(presses):
            os.kill(os.getpid(), signal.SIGINT)
        task = {"TaskHandle": "h1", "Status": "RUNNING", "SourceArn": "arn"}
        task |= {"ApproximateNumberOfMessagesMoved": 3, "ApproximateNumberOfMessagesToMove": 5}
        return _answer({"Results": [task]})

    def cancel(params: dict[str, object], **_: object) -> tuple[AWSResponse, dict[str, object]]:
        cancelled.append(str(params.get("body")))
        return _answer({"ApproximateNumberOfMessagesMoved": 4})

    return ClientSpy(
        handlers=[
            ("before-call.sqs.StartMessageMoveTask", start),
            ("before-call.sqs.ListMessageMoveTasks", poll),
            ("before-call.sqs.CancelMessageMoveTask", cancel),
        ]
    )


def test_ctrl_c_cancels_the_move_task_and_says_how_far_it_got(moto_aws: Aws) -> None:
    """A real SIGINT while a move task runs: it is cancelled; exit 130 with the final count."""
    stack = build_stack(moto_aws)
    for n in range(5):
        dead_letter(moto_aws, stack, f"b{n}", "g1", f"d{n}")
    cancelled: list[str] = []
    spy = _move_task_spy(presses=1, cancelled=cancelled)

    result = spy.invoke(["--stack", "t1", "dlq", "redrive", "--yes", "-o", "json"])

    assert result.exit_code == 130, result.stderr
    assert len(cancelled) == 1 and "h1" in cancelled[0]
    report = json.loads(result.stdout)
    assert (report["method"], report["moved"], report["total"]) == ("move-task", 4, 5)
    assert report["interrupted"] is True and report["task_status"] == "CANCELLING"
    assert "error: interrupted: redriven 4 of 5" in result.stderr
    assert "Traceback" not in result.stderr


def test_second_ctrl_c_leaves_the_move_task_running_and_says_so(moto_aws: Aws) -> None:
    """Two SIGINTs: no cancel call, no traceback, and the hint names `--cancel`."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "b", "g1", "d1")
    cancelled: list[str] = []
    spy = _move_task_spy(presses=2, cancelled=cancelled)

    result = spy.invoke(["--stack", "t1", "dlq", "redrive", "--yes"])

    assert result.exit_code == 130, result.stderr
    assert not cancelled
    assert "Traceback" not in result.stderr
    assert "the move task goes on in AWS" in result.stderr and "--cancel" in result.stderr
