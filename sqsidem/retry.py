"""The one backoff and poll helper: jittered delays, an injected clock and sleep, a deadline.

Everything in sqsidem that waits goes through here, so tests make waiting instant by
handing in a :class:`Pacing` (see :func:`instant`), and every wait ends by time, not by
luck (DESIGN 6.11, 6.14).

- :class:`Backoff` says how long to wait before attempt ``n`` (exponential, capped,
  optionally jittered).
- :func:`retry_call` runs a call again while its error is retryable, until a deadline
  (and, optionally, a number of attempts).
- :func:`poll_until` asks a question again until it answers, until a deadline.
- :func:`Backoff.pause` is for loops that keep their own shape (a follow loop, a bulk
  sender) and only need "how long now, and sleep it".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqsidem.errors import TimedOut

T = TypeVar("T")
Sleep = Callable[[float], None]
Clock = Callable[[], float]
Notify = Callable[[str], None]


def _silent(_message: str) -> None:
    return None


@dataclass(frozen=True)
class Pacing:
    """How a piece of code waits and whom it tells: real time in the CLI, instant in tests."""

    sleep: Sleep = time.sleep
    clock: Clock = time.monotonic
    notify: Notify = _silent


def instant() -> Pacing:
    """No waiting at all (unit tests, and emulators without in-between states)."""
    return Pacing(sleep=lambda _s: None)


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``n`` (0-based): ``first_s * factor**n``, capped at ``max_s``.

    ``jitter`` is the fraction of each delay drawn at random ("equal jitter": a delay of d
    becomes d*(1-jitter) + uniform(0, d*jitter)), so many clients do not retry in step.
    """

    first_s: float
    factor: float = 2.0
    max_s: float = 10.0
    jitter: float = 0.0
    rand: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def delay(self, attempt: int) -> float:
        base = min(self.max_s, self.first_s * self.factor ** max(0, attempt))
        if self.jitter <= 0:
            return float(base)
        return float(base * (1 - self.jitter) + base * self.jitter * self.rand())

    def pause(self, attempt: int, sleep: Sleep) -> float:
        """Sleep the delay of ``attempt`` and return it."""
        seconds = self.delay(attempt)
        sleep(seconds)
        return seconds


def retry_call(
    call: Callable[[], T],
    *,
    retryable: Callable[[BaseException], bool],
    backoff: Backoff,
    timeout_s: float,
    pacing: Pacing,
    what: str,
    max_attempts: int | None = None,
) -> T:
    """Run ``call``; while it raises a retryable error, wait and try again.

    Gives up (re-raising the last error) when the next wait would end past ``timeout_s``
    from the first attempt, or after ``max_attempts`` attempts. Every wait is announced
    through ``pacing.notify`` so a person sees why nothing happens.
    """
    deadline = pacing.clock() + timeout_s
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:
            if not retryable(exc):
                raise
            delay = backoff.delay(attempt)
            attempt += 1
            out_of_attempts = max_attempts is not None and attempt >= max_attempts
            if out_of_attempts or pacing.clock() + delay > deadline:
                raise
            pacing.notify(f"{what}; retrying in {delay:.3g}s")
            pacing.sleep(delay)


def poll_until(
    check: Callable[[], T | None],
    *,
    timeout_s: float,
    interval: Backoff | float,
    pacing: Pacing,
    what: str,
    hint: str = "run the command again",
) -> T:
    """Ask ``check`` until it answers (not None, not False); raise at the deadline."""
    backoff = interval if isinstance(interval, Backoff) else Backoff(interval, factor=1.0)
    deadline = pacing.clock() + timeout_s
    attempt = 0
    while True:
        answer = check()
        if answer is not None and answer is not False:
            return answer
        if pacing.clock() >= deadline:
            raise TimedOut(f"gave up after {timeout_s:g}s waiting for {what}", hint)
        delay = min(backoff.delay(attempt), max(0.0, deadline - pacing.clock()))
        attempt += 1
        pacing.sleep(delay)
