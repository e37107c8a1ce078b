"""AWS's eventual consistency as the stack meets it: which errors mean "not yet", and the
bounded retries its calls carry (waiting itself goes through :mod:`sqsidem.retry`)."""

from __future__ import annotations

from sqsidem.errors import error_code
from sqsidem.retry import Backoff
from sqsidem.stack.calls import Retry

QUEUE_DELETED_RECENTLY = {"AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently"}
_ROLE_WORDS = ("assume", "role", "permission")

# IAM changes reach Lambda within seconds, rarely more than ~30 s: 9 attempts, 1 s doubling
# to 10 s (55 s of waiting at most).
IAM_BACKOFF = Backoff(first_s=1.0, factor=2.0, max_s=10.0)
IAM_ATTEMPTS = 9
IAM_TIMEOUT_S = 60.0
# A deleted queue's name is reusable after 60 s: every 5 s, 16 attempts (75 s at most).
QUEUE_NAME_BACKOFF = Backoff(first_s=5.0, factor=1.0, max_s=5.0)
QUEUE_NAME_ATTEMPTS = 16
QUEUE_NAME_TIMEOUT_S = 80.0


def is_iam_propagation_error(exc: BaseException) -> bool:
    """Lambda's answer while a new role (or its policies) has not propagated yet."""
    if error_code(exc) != "InvalidParameterValueException":
        return False
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", "")).lower()
    return any(word in message for word in _ROLE_WORDS)


def is_queue_deleted_recently(exc: BaseException) -> bool:
    return error_code(exc) in QUEUE_DELETED_RECENTLY


def is_resource_in_use(exc: BaseException) -> bool:
    """The trigger is still Creating/Updating: AWS refuses a change until it settles."""
    return error_code(exc) == "ResourceInUseException"


def iam_propagation(what: str) -> Retry:
    return Retry(is_iam_propagation_error, IAM_BACKOFF, IAM_ATTEMPTS, IAM_TIMEOUT_S, what)


def while_in_use(what: str) -> Retry:
    return Retry(is_resource_in_use, IAM_BACKOFF, IAM_ATTEMPTS, IAM_TIMEOUT_S, what)


def queue_name_reuse(name: str) -> Retry:
    return Retry(
        is_queue_deleted_recently,
        QUEUE_NAME_BACKOFF,
        QUEUE_NAME_ATTEMPTS,
        QUEUE_NAME_TIMEOUT_S,
        f"queue {name} was deleted less than 60 s ago and AWS forbids reusing its name until then",
    )
