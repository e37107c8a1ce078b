"""Bounded retries for AWS's eventual consistency; sleep is injected (instant in tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqsidem.errors import SqsidemError, error_code

T = TypeVar("T")
Sleep = Callable[[float], None]
Notify = Callable[[str], None]
Clock = Callable[[], float]

QUEUE_DELETED_RECENTLY = {"AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently"}
_ROLE_WORDS = ("assume", "role", "permission")


@dataclass(frozen=True)
class Backoff:
    """attempts in total; delays grow from first_s by factor, capped at max_s."""

    attempts: int
    first_s: float
    factor: float = 2.0
    max_s: float = 10.0

    def delays(self) -> list[float]:
        out, delay = [], self.first_s
        for _ in range(self.attempts - 1):
            out.append(min(delay, self.max_s))
            delay *= self.factor
        return out


# IAM changes reach Lambda within seconds, rarely more than ~30 s.
IAM_PROPAGATION = Backoff(attempts=9, first_s=1.0, max_s=10.0)
# A deleted queue's name is reusable after 60 s: poll every 5 s for up to ~75 s.
QUEUE_NAME_REUSE = Backoff(attempts=16, first_s=5.0, factor=1.0, max_s=5.0)


def is_iam_propagation_error(exc: BaseException) -> bool:
    """Lambda's answer while a new role (or its policies) has not propagated yet."""
    if error_code(exc) != "InvalidParameterValueException":
        return False
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", "")).lower()
    return any(word in message for word in _ROLE_WORDS)


def is_queue_deleted_recently(exc: BaseException) -> bool:
    return error_code(exc) in QUEUE_DELETED_RECENTLY


def retrying(
    call: Callable[[], T],
    *,
    retryable: Callable[[BaseException], bool],
    backoff: Backoff,
    sleep: Sleep,
    notify: Notify,
    what: str,
) -> T:
    """Run ``call``; on a retryable error wait and try again, at most ``backoff.attempts`` times."""
    from botocore.exceptions import ClientError

    for delay in backoff.delays():
        try:
            return call()
        except ClientError as exc:
            if not retryable(exc):
                raise
            notify(f"{what}; retrying in {delay:g}s")
            sleep(delay)
    return call()


def wait_until(
    done: Callable[[], bool],
    *,
    timeout_s: float,
    interval_s: float,
    sleep: Sleep,
    clock: Clock = time.monotonic,
    what: str,
) -> None:
    """Poll ``done`` until it is true or the deadline passes (then a clear error)."""
    deadline = clock() + timeout_s
    while not done():
        if clock() >= deadline:
            raise SqsidemError(
                f"gave up after {timeout_s:g}s waiting for {what}", "run the command again"
            )
        sleep(interval_s)


@dataclass(frozen=True)
class Pacing:
    """How apply/teardown wait and whom they tell: real time in the CLI, instant in tests."""

    sleep: Sleep = time.sleep
    notify: Notify = lambda _message: None
    clock: Clock = time.monotonic


def instant() -> Pacing:
    """No waiting at all (tests, and emulators without in-between states)."""
    return Pacing(sleep=lambda _s: None)
