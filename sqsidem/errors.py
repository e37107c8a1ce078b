"""Our domain errors and the one table that turns any failure into one line (STYLE).

Library code raises these (or lets botocore's errors through); only the CLI layer calls
:func:`explain`, and only the render layer prints what it returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

USAGE_EXIT = 2
FAILURE_EXIT = 1


class SqsidemError(Exception):
    """A failure we understand. ``hint`` says what to do about it."""

    exit_code = FAILURE_EXIT

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"{self.message}: {self.hint}" if self.hint else self.message


class UsageError(SqsidemError):
    """Decidable before any AWS call: bad option, bad file, conflicting flags (exit 2)."""

    exit_code = USAGE_EXIT


class NotFoundError(SqsidemError):
    """Something the command needs does not exist in AWS (stack, lock, queue, ...)."""


class LocalBackendError(SqsidemError):
    """The embedded backend is missing, not running, or would not start."""


class PartialFailure(SqsidemError):
    """Some items of a bulk operation failed; the message says how many and which."""


class TimedOut(SqsidemError):
    """A bounded wait reached its deadline (raised by :func:`sqsidem.retry.poll_until`)."""


class Aborted(SqsidemError):
    """The user declined a confirmation or interrupted the command."""


INTERRUPTED_EXIT = 130


class Interrupted(SqsidemError):
    """Ctrl-C: the message is "interrupted", the hint what was done before it (exit 130)."""

    exit_code = INTERRUPTED_EXIT

    def __init__(self, done: str | None = None) -> None:
        super().__init__("interrupted", done)


@dataclass(frozen=True)
class Explained:
    line: str
    exit_code: int


_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AuthorizationErrorException",
    "KMSAccessDeniedException",
}
# The error-code vocabulary the rest of the code uses (never spell these sets elsewhere).
THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "LimitExceededException",
        "KmsThrottled",
        "KMS.ThrottlingException",
    }
)
# "It is not there (any more)": each service's spelling of a missing resource.
GONE = frozenset(
    {
        "ResourceNotFoundException",
        "ResourceNotFound",
        "NotFound",
        "NotFoundException",
        "NoSuchEntity",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    }
)
# "Someone made it first": each service's spelling of a create that found its name taken.
EXISTS = frozenset(
    {
        "AlreadyExistsException",
        "EntityAlreadyExists",
        "ResourceAlreadyExistsException",
        "ResourceConflictException",
        "ResourceInUseException",
        "QueueAlreadyExists",
        "QueueNameExists",
    }
)
_BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
}
_RESOURCE_IN_MESSAGE = re.compile(r"\bon resource:?\s*(\S+)", re.IGNORECASE)
_ACTION_IN_MESSAGE = re.compile(r"\bto perform:?\s*([A-Za-z0-9-]+:[A-Za-z0-9*]+)", re.IGNORECASE)


def explain(exc: BaseException) -> Explained:
    """Map any exception to one line that names the problem and the fix, plus an exit code."""
    explained = _explain(exc)
    return Explained(" ".join(explained.line.split()), explained.exit_code)


def _explain(exc: BaseException) -> Explained:
    if isinstance(exc, SqsidemError):
        return Explained(exc.one_line(), exc.exit_code)
    if type(exc).__module__.startswith("botocore"):
        return _explain_botocore(exc)
    if isinstance(exc, KeyboardInterrupt):
        return Explained("interrupted", INTERRUPTED_EXIT)
    if isinstance(exc, OSError) and exc.strerror:
        name = f" {exc.filename}" if exc.filename else ""
        return Explained(f"{exc.strerror}{name}", FAILURE_EXIT)
    return Explained(
        f"unexpected error {type(exc).__name__}: {exc}: run again with --debug for the traceback",
        FAILURE_EXIT,
    )


def _explain_botocore(exc: BaseException) -> Explained:
    from botocore import exceptions as bx

    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return Explained(
            "no AWS credentials found: set AWS_PROFILE or pass --profile, run `aws configure`, "
            "or use the local backend with --local",
            FAILURE_EXIT,
        )
    if isinstance(exc, bx.ProfileNotFound):
        return Explained(f"{exc}: check --profile / AWS_PROFILE against ~/.aws/config", USAGE_EXIT)
    if isinstance(exc, bx.NoRegionError):
        from sqsidem.settings import NO_REGION, NO_REGION_HINT

        return Explained(f"{NO_REGION}: {NO_REGION_HINT}", USAGE_EXIT)
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        url = _origin(str(getattr(exc, "kwargs", {}).get("endpoint_url", "the endpoint")))
        return Explained(
            f"cannot reach {url}: check --endpoint-url and your network, "
            "or start the local backend with `sqsidem local up`",
            FAILURE_EXIT,
        )
    if isinstance(exc, bx.ReadTimeoutError | bx.ConnectionClosedError):
        return Explained(f"the endpoint stopped answering ({exc}): try again", FAILURE_EXIT)
    if isinstance(exc, bx.ClientError):
        return _explain_client_error(exc)
    if isinstance(exc, bx.ParamValidationError):
        return Explained(f"invalid request: {exc}", USAGE_EXIT)
    if isinstance(exc, bx.WaiterError):
        return Explained(f"gave up waiting: {exc}", FAILURE_EXIT)
    return Explained(f"AWS SDK error: {exc}", FAILURE_EXIT)


def _explain_client_error(exc: object) -> Explained:
    response = getattr(exc, "response", {}) or {}
    error = response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")).strip()
    operation = getattr(exc, "operation_name", "the call")
    if code in _ACCESS_DENIED:
        return _explain_denied(operation, code, message, error.get(DENIED_RESOURCE))
    if code in THROTTLED:
        return Explained(
            f"throttled by AWS on {operation} even after retries: slow down "
            "(lower --concurrency) or try again later",
            FAILURE_EXIT,
        )
    if code in _BAD_CREDENTIALS:
        return Explained(
            f"AWS rejected the credentials ({code}): refresh them (e.g. `aws sso login`) "
            "or check AWS_PROFILE",
            FAILURE_EXIT,
        )
    return Explained(f"{operation} failed: {code}: {message}", FAILURE_EXIT)


# The request parameters that name what a call acts on, most specific first.
_RESOURCE_PARAMS = (
    "QueueUrl",
    "QueueName",
    "TableName",
    "FunctionName",
    "RoleName",
    "logGroupName",
    "TopicArn",
    "SubscriptionArn",
    "AlarmName",
    "AlarmNames",
    "AliasName",
    "KeyId",
    "SourceArn",
    "ResourceArn",
    "ResourceARN",
    "resourceArn",
    "Resource",
    "UUID",
    "Name",
)
DENIED_RESOURCE = "SqsidemResource"  # where the client hook (aws.py) notes it in the error


def resource_named_by(params: dict[str, object]) -> str | None:
    """What a request acts on, from its parameters (AWS's denials do not always say)."""
    for name in _RESOURCE_PARAMS:
        value = params.get(name)
        if isinstance(value, list) and value:
            return ", ".join(str(item) for item in value)
        if isinstance(value, str) and value:
            return value.rstrip("/").rsplit("/", 1)[-1] if name == "QueueUrl" else value
    return None


def note_denied_resource(params: dict[str, object], parsed: dict[str, object]) -> None:
    """On an access-denied answer, keep what the request named for :func:`explain`."""
    error = parsed.get("Error")
    if isinstance(error, dict) and error.get("Code") in _ACCESS_DENIED:
        resource = resource_named_by(params)
        if resource:
            error[DENIED_RESOURCE] = resource


def _explain_denied(operation: str, code: str, message: str, named: object) -> Explained:
    """`access denied: <action> on <resource>`, as IAM names them when AWS says so."""
    action = _ACTION_IN_MESSAGE.search(message)
    resource = _RESOURCE_IN_MESSAGE.search(message)
    what = action.group(1) if action else operation
    on = resource.group(1) if resource and resource.group(1) != "*" else named
    where = f" on {on}" if on else ""
    said = "" if action else f" (AWS said: {message or code})"
    return Explained(
        f"access denied: {what}{where}: grant it to your identity "
        f"(`sqsidem policy` prints what each command needs){said}",
        FAILURE_EXIT,
    )


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else url


def is_throttled(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLED


def is_gone(exc: BaseException) -> bool:
    return error_code(exc) in GONE


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code is not None else None
