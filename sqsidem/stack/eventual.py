"""AWS's eventual consistency as the stack meets it: which errors mean "not yet", the
bounded retries its calls carry, and the waits until a deleted resource is really gone
(waiting itself goes through :mod:`sqsidem.retry`; every bound is a time, DESIGN 6.14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqsidem.errors import error_code
from sqsidem.retry import Backoff, Pacing, poll_until
from sqsidem.stack.calls import Hook, Retry

if TYPE_CHECKING:
    from sqsidem.aws import Aws

QUEUE_DELETED_RECENTLY = {"AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently"}
_ROLE_WORDS = ("assume", "role", "permission")

# A fresh role can take minutes to become assumable/authorised on AWS; other deployment
# tools retry function creation for 2 minutes and mapping creation for up to 5.
IAM_BACKOFF = Backoff(first_s=1.0, factor=2.0, max_s=10.0)
FUNCTION_IAM_TIMEOUT_S = 120.0
MAPPING_IAM_TIMEOUT_S = 300.0
# A mapping's Creating/Updating/Deleting usually lasts seconds; AWS gives no bound.
MAPPING_SETTLE_TIMEOUT_S = 180.0
# Queue attributes propagate within 60 s (SQS docs); the mapping checks the visibility
# timeout it sees against the function's timeout. 60 s and a few retries' worth of margin.
VISIBILITY_TIMEOUT_S = 75.0
# A deleted queue's name is reusable after 60 s: every 5 s, for at most 80 s.
QUEUE_NAME_BACKOFF = Backoff(first_s=5.0, factor=1.0, max_s=5.0)
QUEUE_NAME_TIMEOUT_S = 80.0
# Teardown waits until what it deleted is gone: SQS may answer for 60 s, DynamoDB deletes
# asynchronously (DELETING), typically in seconds to a minute or two.
QUEUE_GONE_TIMEOUT_S = 90.0
TABLE_GONE_TIMEOUT_S = 300.0
GONE_POLL = Backoff(first_s=1.0, factor=2.0, max_s=5.0)


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Message", "")).lower()


def is_iam_propagation_error(exc: BaseException) -> bool:
    """Lambda's answer while a new role (or its policies) has not propagated yet."""
    if error_code(exc) != "InvalidParameterValueException":
        return False
    return any(word in _message(exc) for word in _ROLE_WORDS)


def is_visibility_rejection(exc: BaseException) -> bool:
    """ "Queue visibility timeout: X seconds is less than Function timeout: Y seconds"."""
    if error_code(exc) != "InvalidParameterValueException":
        return False
    message = _message(exc)
    return "visibility timeout" in message and "less than" in message


def is_queue_deleted_recently(exc: BaseException) -> bool:
    return error_code(exc) in QUEUE_DELETED_RECENTLY


def is_resource_in_use(exc: BaseException) -> bool:
    """The trigger is still Creating/Updating/Deleting (or a table is still being deleted):
    AWS refuses a change until it settles. "Table already exists" (the same code) is not
    worth waiting for: another run made it, and the caller says so at once."""
    if error_code(exc) != "ResourceInUseException":
        return False
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
    return "already exists" not in message.lower()


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _bounded(what: str, timeout_s: float) -> str:
    return f"{what}; waiting up to {_minutes(timeout_s)}"


def function_iam(what: str) -> Retry:
    return Retry(
        is_iam_propagation_error,
        IAM_BACKOFF,
        FUNCTION_IAM_TIMEOUT_S,
        _bounded(what, FUNCTION_IAM_TIMEOUT_S),
    )


def mapping_create() -> Retry:
    """IAM propagation (5 min) around the visibility timeout's propagation (90 s)."""
    visibility = Retry(
        is_visibility_rejection,
        IAM_BACKOFF,
        VISIBILITY_TIMEOUT_S,
        _bounded(
            "the queue's new visibility timeout has not reached Lambda yet "
            "(queue attributes propagate within 60 s)",
            VISIBILITY_TIMEOUT_S,
        ),
    )
    what = "the role's queue permissions are not visible to Lambda yet (IAM propagation)"
    return Retry(
        is_iam_propagation_error,
        IAM_BACKOFF,
        MAPPING_IAM_TIMEOUT_S,
        _bounded(what, MAPPING_IAM_TIMEOUT_S),
        inner=visibility,
    )


def while_in_use(what: str, timeout_s: float = MAPPING_SETTLE_TIMEOUT_S) -> Retry:
    return Retry(is_resource_in_use, IAM_BACKOFF, timeout_s, _bounded(what, timeout_s))


def queue_name_reuse(name: str) -> Retry:
    return Retry(
        is_queue_deleted_recently,
        QUEUE_NAME_BACKOFF,
        QUEUE_NAME_TIMEOUT_S,
        f"queue {name} was deleted less than 60 s ago and AWS forbids reusing its name until then",
    )


def wait_gone(what: str, gone: Callable[[Aws], bool], timeout_s: float) -> Hook:
    """A wait (after a delete) until ``gone(aws)``; says so only when it has to wait."""

    def wait(aws: Aws, pacing: Pacing) -> None:
        if gone(aws):
            return
        pacing.notify(f"waiting for {what} (up to {_minutes(timeout_s)})")
        poll_until(
            lambda: gone(aws),
            timeout_s=timeout_s,
            interval=GONE_POLL,
            pacing=pacing,
            what=what,
            hint="AWS is still deleting it: run teardown again later",
        )

    return wait
