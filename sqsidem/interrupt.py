"""The interrupt contract (README "Interrupting a command", DESIGN 6.12): one handler for all.

- Commands that do bulk work (:func:`stop_on_interrupt`): the first Ctrl-C sets a
  :class:`threading.Event` the work checks between calls: no new call starts, the calls in
  flight finish (each is bounded by the client's timeouts), and the command ends with what it
  did, as :class:`~sqsidem.errors.Interrupted` (exit 130).
- Commands that run until stopped (`worker`, `logs --follow`, `watch`:
  :func:`until_stopped`): the first Ctrl-C (or SIGTERM, as a container stop sends) is their
  normal end: they finish what is in flight, show their summary and exit 0.
- For both, a second signal raises KeyboardInterrupt at once; the root group turns it into
  the error table's "interrupted" line (exit 130) and does not wait for calls in flight.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqsidem.retry import Pacing


def _quiet() -> None:
    return None


@contextlib.contextmanager
def stop_on_interrupt(
    on_first: Callable[[], None] = _quiet,
    *,
    signals: Sequence[signal.Signals] = (signal.SIGINT,),
) -> Iterator[threading.Event]:
    """Install the two-step handler for ``signals`` for the block; yield the event it sets.

    ``on_first`` runs once, in the main thread, when the first signal arrives (a note on
    stderr from the render layer). Outside the main thread no handler can be installed:
    the event is never set and Python's default applies.
    """
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        on_first()

    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous: dict[signal.Signals, Any] = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def until_stopped(
    on_first: Callable[[], None] = _quiet, *, active: bool = True
) -> Iterator[threading.Event]:
    """For a command that runs until stopped: SIGINT or SIGTERM ends it (exit 0), a second
    aborts. With ``active`` False (``logs`` without ``--follow``) nothing is installed and
    Ctrl-C interrupts as for any other command."""
    if not active:
        yield never()
        return
    with stop_on_interrupt(on_first, signals=(signal.SIGINT, signal.SIGTERM)) as stop:
        yield stop


def never() -> threading.Event:
    """An event nobody sets: the default ``stop`` of library callers."""
    return threading.Event()


def stop_aware_sleep(stop: threading.Event) -> Callable[[float], None]:
    """A sleep that wakes at once when ``stop`` is set (the first Ctrl-C)."""

    def sleep(seconds: float) -> None:
        stop.wait(seconds)

    return sleep


def interruptible(stop: threading.Event) -> Pacing:
    """Real time, except that the first Ctrl-C ends a wait between two polls at once."""
    from sqsidem.retry import Pacing

    return Pacing(sleep=stop_aware_sleep(stop))


def interrupted_with_calls_in_flight(code: int) -> bool:
    """The command ends interrupted while other (non-daemon) threads still run calls."""
    from sqsidem.errors import INTERRUPTED_EXIT

    if code != INTERRUPTED_EXIT:
        return False
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def leave(code: int) -> None:
    """End the process now with ``code`` (output flushed), not joining any thread."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def late_interrupt_leaves(code: int) -> None:
    """From here on the command is done: a Ctrl-C while the interpreter shuts down (joining
    threads, flushing) ends it at once with the command's exit code, never a traceback."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda _signum, _frame: leave(code))
