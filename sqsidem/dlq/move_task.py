"""SQS's message move task: start it, follow it to its end (with a deadline), cancel it.

The move-task calls are missing on ministack (InvalidAction) and moto (NotImplementedError);
there the redrive copies instead (:mod:`.copy`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from sqsidem.dlq.link import DlqLink
from sqsidem.dlq.result import ProgressFn, RedriveResult
from sqsidem.errors import Interrupted, SqsidemError, error_code, is_throttled
from sqsidem.retry import Backoff, Pacing, poll_until, retry_call

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from sqsidem.aws import Aws

_NO_MOVE_TASK_CODES = {
    "InvalidAction",
    "UnsupportedOperation",
    # SQS's JSON protocol: botocore reports the legacy query code from x-amzn-query-error.
    "AWS.SimpleQueueService.UnsupportedOperation",
    "NotImplemented",
    "NotImplementedException",
}
MAX_MOVE_RATE = 500
MOVE_TASK_POLL_S = 2.0
# A bound on the wait, not on the task: AWS moves on after we stop watching.
MOVE_TASK_TIMEOUT_S = 3600.0
# The probe retries throttles and 5xx answers itself (its client makes one attempt each).
PROBE_TIMEOUT_S = 30.0
PROBE_BACKOFF = Backoff(0.5, max_s=5.0, jitter=0.5)


def move_task_unsupported(exc: BaseException) -> bool:
    if isinstance(exc, NotImplementedError):
        return True
    if error_code(exc) in _NO_MOVE_TASK_CODES:
        return True
    # moto's server answers a call it lacks with a bare 500 that says so.
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
    return _status(exc) >= 500 and "not been implemented" in message


def _status(exc: BaseException) -> int:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return 0
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def probe_retryable(exc: BaseException) -> bool:
    """A throttle or a server error says nothing about support: ask again."""
    if move_task_unsupported(exc):
        return False
    return is_throttled(exc) or _status(exc) >= 500


def move_task_timeout_s(count: int, rate: int | None) -> float:
    """How long to watch a task moving ``count`` messages: an hour, or twice what ``rate``
    needs if that is longer."""
    if rate is None:
        return MOVE_TASK_TIMEOUT_S
    return max(MOVE_TASK_TIMEOUT_S, 2.0 * count / rate)


def start_move_task(
    aws: Aws, link: DlqLink, *, rate: int | None, pacing: Pacing | None = None
) -> bool:
    """Start a message move task DLQ -> source; False where the backend has none."""
    from botocore.exceptions import ClientError

    request: dict[str, Any] = {"SourceArn": link.dlq_arn, "DestinationArn": link.source_arn}
    if rate is not None:
        request["MaxNumberOfMessagesPerSecond"] = rate
    # botocore's own retries off: an emulator without the call can answer 500, and that
    # must fall back at once; throttles and other 5xx are retried here, within a bound.
    probe = aws.with_options(max_attempts=1).sqs
    try:
        retry_call(
            lambda: probe.start_message_move_task(**request),
            retryable=probe_retryable,
            backoff=PROBE_BACKOFF,
            timeout_s=PROBE_TIMEOUT_S,
            pacing=pacing or Pacing(),
            what="SQS is busy starting the message move task",
        )
    except (ClientError, NotImplementedError) as exc:
        if not move_task_unsupported(exc):
            raise
        return False
    return True


def wait_for_move_task(
    sqs: SQSClient,
    dlq_arn: str,
    *,
    on_progress: ProgressFn | None,
    pacing: Pacing,
    poll_s: float = MOVE_TASK_POLL_S,
    timeout_s: float = MOVE_TASK_TIMEOUT_S,
    stop: threading.Event | None = None,
) -> RedriveResult:
    """Poll the DLQ's move task until it ends, reporting progress; give up at the deadline.

    Once ``stop`` is set (the first Ctrl-C) the running task is cancelled: SQS keeps what it
    moved, the rest stays in the DLQ, and the count reported is final (a task left running
    would make it wrong the moment it is printed). A second Ctrl-C leaves the task running.
    """
    stop = stop or threading.Event()

    def ended() -> RedriveResult | None:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1)
        results = tasks.get("Results", [])
        if not results:
            return RedriveResult("move-task", task_status="COMPLETED")
        task = results[0]
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        total = task.get("ApproximateNumberOfMessagesToMove")
        if on_progress is not None:
            on_progress(moved, int(total) if total is not None else None)
        status = str(task.get("Status", ""))
        if status == "RUNNING" and stop.is_set():
            return _cancel(sqs, str(task.get("TaskHandle", "")), moved)
        if status in ("RUNNING", "CANCELLING"):
            return None
        return RedriveResult(
            "move-task",
            moved=moved,
            task_status=status,
            failure_reason=task.get("FailureReason"),
            interrupted=stop.is_set(),
        )

    try:
        return poll_until(
            ended,
            timeout_s=timeout_s,
            interval=poll_s,
            pacing=pacing,
            what="the message move task to finish",
            hint=_TASK_GOES_ON,
        )
    except KeyboardInterrupt as exc:
        raise Interrupted(_TASK_GOES_ON) from exc


_TASK_GOES_ON = (
    "the move task goes on in AWS: follow it with `sqsidem dlq list`, "
    "or stop it with `sqsidem dlq redrive --cancel`"
)


def _cancel(sqs: SQSClient, handle: str, moved: int) -> RedriveResult | None:
    """Cancel the task the first Ctrl-C stopped; None (poll again) if it ended meanwhile."""
    from botocore.exceptions import ClientError

    try:
        response = sqs.cancel_message_move_task(TaskHandle=handle)
    except ClientError:
        return None  # it completed or failed between the two calls: the next poll says which
    moved = max(moved, int(response.get("ApproximateNumberOfMessagesMoved", moved)))
    return RedriveResult("move-task", moved=moved, task_status="CANCELLING", interrupted=True)


def cancel_move_task(sqs: SQSClient, dlq_arn: str) -> int | None:
    """Cancel the DLQ's running move task; the number moved so far, or None if none ran."""
    from botocore.exceptions import ClientError

    try:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1)
    except (ClientError, NotImplementedError) as exc:
        if move_task_unsupported(exc):
            raise SqsidemError(
                "this backend has no message move tasks, so there is nothing to cancel",
                "a copying redrive stops with Ctrl-C and loses nothing",
            ) from exc
        raise
    running = [t for t in tasks.get("Results", []) if t.get("Status") == "RUNNING"]
    if not running:
        return None
    response = sqs.cancel_message_move_task(TaskHandle=running[0]["TaskHandle"])
    return int(response.get("ApproximateNumberOfMessagesMoved", 0))
