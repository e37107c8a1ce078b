"""`sqsidem watch` in a real terminal: tmux on the session's ministack, while `send` runs
with a poison message in its own group (maxReceiveCount 4, so the group stays blocked a
while). The screens show completed decisions per second, the poison's group under "blocked
groups" while it is retried, and DLQ depth 1 once it is dead-lettered; `q` exits 0 and
gives the terminal back (main screen, canonical mode with echo), and so does Ctrl-C."""

from __future__ import annotations

import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import sqsidem
from sqsidem.aws import Aws
from tests.backend import Ministack, child_env, sqsidem_command
from tests.proofs.helpers import run_cli
from tests.waiting import poll

DEADLINE_S = 90
DEMO_PROCESSOR = Path(sqsidem.__file__).parent / "demo" / "demo_processor.py"
RATE = re.compile(r"completed (\d+\.\d+)")


class Tmux:
    """One tmux server of our own (its own socket), one 80x24 session."""

    def __init__(self) -> None:
        self.socket = f"sqsidem-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return done.stdout

    def screen(self) -> list[str]:
        return self("capture-pane", "-p", "-t", "w").splitlines()


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    session = Tmux()
    try:
        yield session
    finally:
        subprocess.run(
            ["tmux", "-L", session.socket, "kill-server"],
            check=False,
            capture_output=True,
            timeout=10,
        )


def _blocked_panel(screen: list[str]) -> str:
    """The text between the "blocked groups" title and the next panel."""
    text = "\n".join(screen)
    start = text.find("blocked groups")
    end = text.find("recent decisions", start)
    return text[start : end if end > 0 else None] if start >= 0 else ""


def _start(tmux: Tmux, endpoint: str, stack: str) -> None:
    """`watch` in an 80x24 session; when it ends, its exit code and the tty's modes."""
    watch = shlex.join(sqsidem_command(endpoint, stack, "watch", "--interval", "1s"))
    env = shlex.join(f"{k}={v}" for k, v in {**child_env(), "TERM": "screen"}.items())
    script = (
        # The shell traps Ctrl-C (its child gets the default) so it lives to report.
        f'trap : INT; env -i {env} {watch}; echo "watch exited $?"; '
        "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e echo | tr '\\n' ' '; echo; sleep 60"
    )
    tmux("new-session", "-d", "-s", "w", "-x", "80", "-y", "24", "sh", "-c", script)
    assert poll(lambda: "sqsidem watch" in "\n".join(tmux.screen()), 20), tmux.screen()


def _ended(tmux: Tmux, code: int) -> str:
    """The screen after `watch` ended with ``code``, the terminal given back."""
    assert poll(lambda: "watch exited" in "\n".join(tmux.screen()), 15), tmux.screen()
    after = "\n".join(tmux.screen())
    assert f"watch exited {code}" in after
    assert "sqsidem watch ·" not in after  # the alternate screen is gone
    assert re.search(r"^icanon echo\s*$|^echo icanon\s*$", after, re.MULTILINE), after
    return after


def test_watch_in_tmux_shows_flow_blocked_group_and_dlq(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmux: Tmux
) -> None:
    """Completed/s > 0, the poison group blocked while retried, DLQ 1; q exits 0, tty back."""
    setup = [
        *("--local", "--stack", stack_name, "setup", "--timeout", "2"),
        *("--visibility-timeout", "4", "--max-receive-count", "4", "--batch-size", "3"),
        *("--processor", f"{DEMO_PROCESSOR}:process"),
    ]
    built = run_cli(setup)
    assert built.exit_code == 0, built.stderr
    _start(tmux, ministack.endpoint, stack_name)

    send = ["--local", "--stack", stack_name, "send"]
    poison = run_cli([*send, '{"poison": true}', "--group-id", "poison"])
    assert poison.exit_code == 0, poison.stderr
    seen = {"rate": False, "blocked": False, "dlq": False}
    screens: list[list[str]] = []
    next_send = [0.0]

    def look() -> bool:
        """Keep traffic flowing, capture the screen, note what it shows."""
        if time.monotonic() >= next_send[0]:
            sent = run_cli([*send, "--count", "6", "--groups", "2"])
            assert sent.exit_code == 0, sent.stderr
            next_send[0] = time.monotonic() + 3
        screen = tmux.screen()
        screens.append(screen)
        assert len(screen) <= 24
        text = "\n".join(screen)
        seen["rate"] |= any(float(rate) > 0 for rate in RATE.findall(text))
        seen["blocked"] |= "poison" in _blocked_panel(screen)
        seen["dlq"] |= bool(re.search(r"depth 1\b", text)) and seen["blocked"]
        return all(seen.values())

    assert poll(look, DEADLINE_S, interval_s=0.5), f"{seen}\n" + "\n".join(
        screens[-1] if screens else []
    )

    tmux("send-keys", "-t", "w", "q")
    _ended(tmux, 0)


def test_watch_in_tmux_without_a_stack_shows_na_and_ctrl_c_quits(
    ministack: Ministack, tmux: Tmux
) -> None:
    """No stack at all: every panel says n/a and why; Ctrl-C is watch's normal end: exit 0,
    the terminal given back, the refreshes counted, no traceback."""
    _start(tmux, ministack.endpoint, "nosuchstack")
    screen = " ".join(" ".join(tmux.screen()).replace("│", " ").split())
    assert "n/a: queue nosuchstack-queue.fifo" in screen, screen  # wrapped beside the DLQ
    assert "n/a: table Idempotent-nosuchstack" in screen, screen
    log_group = "n/a: log group /aws/lambda/nosuchstack-sqs-receive does not exist"
    assert screen.count(log_group) == 2, screen  # blocked groups and recent decisions
    tmux("send-keys", "-t", "w", "C-c")
    after = _ended(tmux, 0)
    assert "Traceback" not in after and "error" not in after, after
    assert re.search(r"watch stopped after [1-9]\d* refresh", after), after
