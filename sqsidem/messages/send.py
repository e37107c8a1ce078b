"""Sending validated messages with SendMessageBatch from worker threads (issue 5).

FIFO order holds per message group only if a group's batches go out one after another, so
messages are dealt into *lanes* by group (:mod:`.lanes`: a group always lands in the same
lane) and each lane sends its batches in order; lanes run in parallel on one shared client
(boto3 clients are thread-safe; the client's retry mode handles throttled calls). Failed
entries that are retryable (not the sender's fault, or throttled) are resent with the one
backoff helper; the rest are reported per entry.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqsidem.errors import THROTTLED, NotFoundError, UsageError, is_gone
from sqsidem.interrupt import never
from sqsidem.messages.build import MessageSpec, build_messages, is_fifo_queue
from sqsidem.messages.lanes import lanes_for
from sqsidem.messages.model import OutgoingMessage
from sqsidem.messages.result import SendResult, SendSummary
from sqsidem.retry import Backoff, Pacing, Sleep, retry_call
from sqsidem.validate import non_empty

__all__ = ["SendResult", "SendSummary", "SendWatch", "send", "send_messages"]

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from sqsidem.aws import Aws
    from sqsidem.names import StackNames
    from sqsidem.render import ProgressHandle

MAX_CONCURRENCY = 32  # the client factory's connection pool size
DEFAULT_CONCURRENCY = 8
MAX_SEND_ATTEMPTS = 6
# Resending unconfirmed entries: 0.05 s doubling, at most 2 s (about 1.6 s over 6 attempts).
RESEND_BACKOFF = Backoff(first_s=0.05, factor=2.0, max_s=2.0)
_RESEND_TIMEOUT_S = 60.0  # a bound on the resends of one batch; the attempts end sooner
# Entry codes worth resending even when SQS calls them the sender's fault.
_RESEND_ENTRY_CODES = THROTTLED | {"ServiceUnavailable", "InternalError"}


ResultCallback = Callable[[SendResult], None]


class SendWatch(Protocol):
    """Who follows a send: told how many messages go out, then each result."""

    def sending(self, count: int) -> AbstractContextManager[ProgressHandle | None]: ...

    def result(self, result: SendResult) -> None: ...


@dataclass(frozen=True)
class CallbackWatch:
    """A :class:`SendWatch` from a plain result callback (library callers, the demo)."""

    on_result: ResultCallback | None = None

    @contextmanager
    def sending(self, count: int) -> Iterator[ProgressHandle | None]:
        yield None

    def result(self, result: SendResult) -> None:
        if self.on_result is not None:
            self.on_result(result)


def check_concurrency(concurrency: int) -> int:
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(
            f"invalid --concurrency {concurrency}", f"use 1..{MAX_CONCURRENCY} workers"
        )
    return concurrency


def queue_name_of(queue: str | None, names: StackNames) -> str:
    """The queue's name from --queue NAME|URL, else the stack's queue (no AWS call)."""
    if queue is None:
        return names.queue
    return queue.rstrip("/").rsplit("/", 1)[-1] if "://" in queue else queue


def resolve_queue(aws: Aws, queue: str | None, names: StackNames) -> str:
    """The queue URL: a given URL as is, a name looked up, else the stack's queue."""
    from sqsidem.resolve import main_queue_url, queue_url

    if queue is None:
        return main_queue_url(aws, names)
    if "://" in queue:
        return queue
    return queue_url(aws, queue)


def prepare(spec: MessageSpec, queue: str | None, names: StackNames) -> list[OutgoingMessage]:
    """Validate everything before any call: the queue kind comes from its name."""
    return build_messages(spec, fifo=is_fifo_queue(queue_name_of(queue, names)))


def send(
    aws: Aws | Callable[[], Aws],
    names: StackNames,
    spec: MessageSpec,
    *,
    queue: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: ResultCallback | None = None,
    watch: SendWatch | None = None,
    sleep: Sleep = time.sleep,
    stop: threading.Event | None = None,
) -> SendSummary:
    """Build, validate (exit 2 before any call), resolve the queue, send. The one entry point.

    ``aws`` may be a factory: it is called only once the input is known to be valid.
    """
    check_concurrency(concurrency)
    non_empty({"--queue": queue})
    messages = prepare(spec, queue, names)
    client = aws() if callable(aws) else aws
    url = resolve_queue(client, queue, names)
    watch = watch or CallbackWatch(on_result)
    with watch.sending(len(messages)) as progress:
        return send_messages(
            client.sqs,
            url,
            messages,
            concurrency=concurrency,
            on_result=watch.result,
            progress=progress,
            sleep=sleep,
            stop=stop,
        )


def send_messages(
    client: SQSClient,
    queue_url: str,
    messages: Sequence[OutgoingMessage],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: ResultCallback | None = None,
    progress: ProgressHandle | None = None,
    sleep: Sleep = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    max_attempts: int = MAX_SEND_ATTEMPTS,
    backoff: Backoff = RESEND_BACKOFF,
    stop: threading.Event | None = None,
) -> SendSummary:
    """Send in batches from ``concurrency`` lanes; a call-level error stops all lanes and is
    raised after the lanes drain (results already reported stay reported).

    Once ``stop`` is set no batch starts and nothing is resent; the batches in flight finish
    and are reported, so the results say exactly what was sent (``summary.interrupted``).
    """
    pacing = Pacing(sleep=sleep, clock=clock)
    sender = _Sender(client, queue_url, on_result, progress, pacing, backoff, max_attempts)
    sender.stop = stop or never()
    sender.summary.total = len(messages)
    started = clock()
    lanes = lanes_for(messages, concurrency)
    pool = ThreadPoolExecutor(max_workers=max(1, len(lanes)), thread_name_prefix="send")
    try:
        futures = [pool.submit(sender.run_lane, lane) for lane in lanes]
        for future in futures:
            future.result()
    except BaseException:
        # A second Ctrl-C: abort at once; the lanes see the abort before their next batch.
        sender.abort()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    sender.summary.elapsed_s = clock() - started
    sender.summary.interrupted = sender.stop.is_set() and sender.summary.sent < len(messages)
    if sender.fatal is not None:
        raise sender.fatal
    return sender.summary


class _Unconfirmed(Exception):
    """Some entries of a batch are still unconfirmed: resend them after a pause."""


class _Sender:
    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        on_result: ResultCallback | None,
        progress: ProgressHandle | None,
        pacing: Pacing,
        backoff: Backoff,
        max_attempts: int,
    ) -> None:
        self.client = client
        self.queue_url = queue_url
        self.on_result = on_result
        self.progress = progress
        self.pacing = pacing
        self.backoff = backoff
        self.max_attempts = max_attempts
        self.summary = SendSummary(queue_url)
        self.fatal: BaseException | None = None
        self.stop = never()
        self._abort = threading.Event()
        self._lock = threading.Lock()

    def abort(self) -> None:
        self._abort.set()

    def run_lane(self, batches: list[list[OutgoingMessage]]) -> None:
        for batch in batches:
            if self._abort.is_set() or self.stop.is_set():
                return
            try:
                self._send_batch(batch)
            except Exception as exc:  # a call-level failure: stop every lane, re-raise later
                with self._lock:
                    if self.fatal is None:
                        self.fatal = _explainable(exc)
                self._abort.set()
                return

    def _send_batch(self, batch: list[OutgoingMessage]) -> None:
        pending = {str(message.index): message for message in batch}
        attempts = 0

        def attempt() -> None:
            nonlocal pending, attempts
            attempts += 1
            pending = self._send_once(pending, last=attempts >= self.max_attempts)
            if pending and self.stop.is_set():
                return  # interrupted: not resent, so not sent (and not reported)
            if pending and attempts < self.max_attempts:
                with self._lock:
                    self.summary.retried_entries += len(pending)
                raise _Unconfirmed

        # Out of time (not of attempts): what is still pending is reported below.
        with contextlib.suppress(_Unconfirmed):
            retry_call(
                attempt,
                retryable=lambda exc: isinstance(exc, _Unconfirmed),
                backoff=self.backoff,
                timeout_s=_RESEND_TIMEOUT_S,
                pacing=self.pacing,
                what="resending unconfirmed messages",
            )
        if self.stop.is_set():
            return
        for message in pending.values():
            error = f"not confirmed after {attempts} attempts"
            self._report(SendResult.of(message, error=error))

    def _send_once(
        self, pending: dict[str, OutgoingMessage], *, last: bool
    ) -> dict[str, OutgoingMessage]:
        """One SendMessageBatch; the entries to send again (all reported on the last try)."""
        response = self.client.send_message_batch(
            QueueUrl=self.queue_url,
            Entries=[m.entry() for m in pending.values()],  # type: ignore[misc]
        )
        pending = dict(pending)
        with self._lock:
            self.summary.api_calls += 1
        for entry in response.get("Successful", []):
            message = pending.pop(entry["Id"])
            self._report(
                SendResult.of(
                    message,
                    message_id=entry.get("MessageId"),
                    sequence_number=entry.get("SequenceNumber"),
                )
            )
        retryable: dict[str, OutgoingMessage] = {}
        for failure in response.get("Failed", []):
            message = pending.pop(failure["Id"])
            if _retryable(failure) and not last:
                retryable[failure["Id"]] = message
                continue
            error = f"{failure.get('Code', '')}: {failure.get('Message', '')}".strip(": ")
            self._report(SendResult.of(message, error=error or "failed"))
        # Entries the answer did not mention cannot be judged; treat them as retryable.
        return {**retryable, **pending}

    def _report(self, result: SendResult) -> None:
        # One lock around counters, callback and progress: callers print from here.
        with self._lock:
            if result.ok:
                self.summary.sent += 1
            else:
                self.summary.failed += 1
                if len(self.summary.errors) < 20:
                    self.summary.errors.append(result.error or "unknown error")
            if self.on_result is not None:
                self.on_result(result)
            if self.progress is not None:
                self.progress.advance(1)


def _retryable(failure: Any) -> bool:
    return not failure.get("SenderFault", False) or failure.get("Code") in _RESEND_ENTRY_CODES


def _explainable(exc: BaseException) -> BaseException:
    """A missing queue named as such; everything else goes to the error table unchanged."""
    if is_gone(exc):
        return NotFoundError("the queue does not exist", "check --queue or run setup first")
    return exc
