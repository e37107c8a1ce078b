"""The local backend's process bookkeeping and its wipe, without starting the emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sqsidem.errors import Aborted
from sqsidem.local import LocalBackend, WipePlan
from sqsidem.process_group import group_alive, leader_alive
from tests.waiting import wait_until


def _zombie_child() -> int:
    """A child of ours, leader of its own session, that has exited and is not yet reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    stat = Path(f"/proc/{child.pid}/stat")
    wait_until(lambda: stat.read_text().rsplit(") ", 1)[1].startswith("Z"), 10, "the child to exit")
    return child.pid


@pytest.mark.parametrize("check", [leader_alive, group_alive])
def test_a_leader_that_exited_is_reaped_when_found_dead(check: object) -> None:
    """A leader found dead is reaped at once, so `local down` leaves no zombie of ours (the
    life-cycle test once found the pid in /proc: the leader had exited between the reap
    and the look, and nothing reaped it after)."""
    pid = _zombie_child()
    assert callable(check)
    assert check(pid) is False
    assert not Path(f"/proc/{pid}").exists()


def test_wipe_shows_the_plan_and_deletes_only_after_consent(tmp_path: Path) -> None:
    """The consent sees what would go; refusing keeps everything, agreeing deletes it."""
    backend = LocalBackend(tmp_path)
    saved = backend.data_dir / "sqs" / "queues.json"
    saved.parent.mkdir(parents=True)
    saved.write_text("[1, 2, 3]", encoding="utf-8")
    seen: list[WipePlan] = []

    def refuse(plan: WipePlan) -> None:
        seen.append(plan)
        raise Aborted("nothing done: not confirmed")

    with pytest.raises(Aborted):
        backend.wipe(consent=refuse)
    assert seen == [WipePlan(backend.data_dir, files=1, size_bytes=9)]
    assert saved.exists()
    backend.wipe(consent=seen.append)
    assert not backend.data_dir.exists()


# The main thread ends (the leader shows as a zombie in /proc) while another thread runs on.
_LEADER_ENDS_FIRST = (
    "import ctypes, threading, time\n"
    "threading.Thread(target=time.sleep, args=(1.0,)).start()\n"
    "ctypes.CDLL(None).pthread_exit(None)\n"
)


@pytest.mark.parametrize("check", [leader_alive, group_alive])
def test_a_leader_still_exiting_counts_as_alive(check: object) -> None:
    """What made the life-cycle test flaky: ministack's leader looked like a zombie while its
    other threads were still exiting, so `down` stopped waiting before the child could be
    reaped, and its pid stayed in /proc."""
    assert callable(check)
    child = subprocess.Popen([sys.executable, "-c", _LEADER_ENDS_FIRST], start_new_session=True)
    stat = Path(f"/proc/{child.pid}/stat")
    wait_until(
        lambda: stat.read_text().rsplit(") ", 1)[1].startswith("Z"), 10, "the main thread to end"
    )
    assert check(child.pid) is True
    wait_until(lambda: check(child.pid) is False, 10, "the last thread to end")
    assert not Path(f"/proc/{child.pid}").exists()
