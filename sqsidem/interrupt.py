"""The interrupt contract for commands that do bulk work (README "Interrupting a command").

- The first Ctrl-C sets a :class:`threading.Event` the work checks between calls: no new
  call starts, the calls in flight finish (each is bounded by the client's timeouts), and
  the command ends with what it did, as :class:`~sqsidem.errors.Interrupted` (exit 130).
- A second Ctrl-C raises KeyboardInterrupt at once; the root group turns it into the error
  table's "interrupted" line and does not wait for the calls still in flight.

Commands that run until stopped (`worker`, `logs --follow`, `watch`) have their own
handler: for them the first Ctrl-C is the normal end (exit 0).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any


def _quiet() -> None:
    return None


@contextlib.contextmanager
def stop_on_interrupt(on_first: Callable[[], None] = _quiet) -> Iterator[threading.Event]:
    """Install the two-step SIGINT handler for the block; yield the event it sets.

    ``on_first`` runs once, in the main thread, when the first Ctrl-C arrives (a note on
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
    previous: Any = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def never() -> threading.Event:
    """An event nobody sets: the default ``stop`` of library callers."""
    return threading.Event()
