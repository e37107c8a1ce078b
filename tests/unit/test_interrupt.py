"""The one interrupt handler (sqsidem.interrupt): the first signal sets the stop event and
tells the view once, a second raises KeyboardInterrupt; handlers are restored after."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from sqsidem.interrupt import stop_on_interrupt, until_stopped


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_commands_that_run_until_stopped_end_on_either_signal(sig: signal.Signals) -> None:
    """worker, logs --follow, watch: SIGINT or SIGTERM once stops, a second aborts."""
    assert threading.current_thread() is threading.main_thread()
    before = signal.getsignal(sig)
    told: list[str] = []
    with until_stopped(lambda: told.append("stopping")) as stop:
        os.kill(os.getpid(), sig)
        assert stop.is_set() and told == ["stopping"]
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), sig)
    assert told == ["stopping"]
    assert signal.getsignal(sig) is before


def test_bulk_commands_leave_sigterm_alone() -> None:
    """send, locks clear: only Ctrl-C is theirs; SIGTERM keeps its usual meaning."""
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_interrupt():
        assert signal.getsignal(signal.SIGTERM) is before


def test_inactive_installs_nothing() -> None:
    """`logs` without --follow: Ctrl-C interrupts it as any other command (exit 130)."""
    before = signal.getsignal(signal.SIGINT)
    with until_stopped(active=False) as stop:
        assert signal.getsignal(signal.SIGINT) is before
        assert not stop.is_set()
