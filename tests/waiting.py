"""The one way tests wait: poll a condition until it holds, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def poll(condition: Callable[[], bool], timeout_s: float, *, interval_s: float = 0.1) -> bool:
    """True as soon as ``condition()`` holds, False once ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)  # the polling interval of a deadline-bounded wait


def wait_until(
    condition: Callable[[], bool], timeout_s: float, what: str, *, interval_s: float = 0.2
) -> None:
    """Like :func:`poll`, but a timeout fails the test with ``what`` in the message."""
    assert poll(condition, timeout_s, interval_s=interval_s), (
        f"timed out after {timeout_s:.0f} s waiting for {what}"
    )
