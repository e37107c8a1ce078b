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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqsidem.errors import THROTTLED, NotFoundError, PartialFailure, UsageError, is_gone
from sqsidem.jsondata import fields
from sqsidem.messages.build import MessageSpec, build_messages, is_fifo_queue
from sqsidem.messages.lanes import lanes_for
from sqsidem.messages.model import OutgoingMessage
from sqsidem.retry import Backoff, Pacing, Sleep, retry_call

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


@dataclass(frozen=True)
class SendResult:
    """What happened to one message (DESIGN 6.6 field names)."""

    index: int
    ok: bool
    group_id: str | None
    dedup_id: str | None
    key: str
    message_id: str | None = None
    sequence_number: str | None = None
    error: str | None = None

    @classmethod
    def of(
        cls,
        message: OutgoingMessage,
        *,
        message_id: str | None = None,
        sequence_number: str | None = None,
        error: str | None = None,
    ) -> SendResult:
        """The result for ``message``: sent when it has a message id, else failed with ``error``."""
        return cls(
            index=message.index,
            ok=error is None,
            group_id=message.group_id,
            dedup_id=message.dedup_id,
            key=message.key,
            message_id=message_id,
            sequence_number=sequence_number,
            error=error,
        )

    def as_dict(self) -> dict[str, Any]:
        return fields(
            self, "message_id", "sequence_number", "group_id", "dedup_id", "key", "ok", "error"
        )


@dataclass
class SendSummary:
    queue_url: str
    total: int = 0
    sent: int = 0
    failed: int = 0
    api_calls: int = 0
    retried_entries: int = 0
    elapsed_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def msgs_per_s(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **fields(self, "queue_url", "sent", "failed", "api_calls", "retried_entries"),
            "elapsed_s": round(self.elapsed_s, 3),
            "msgs_per_s": round(self.msgs_per_s, 1),
        }

    def check(self) -> None:
        """Exit 1 when any message failed (after the summary was shown)."""
        if self.failed:
            raise PartialFailure(
                f"{self.failed} of {self.total} message(s) failed; first: {self.errors[0]}"
            )


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
) -> SendSummary:
    """Build, validate (exit 2 before any call), resolve the queue, send. The one entry point.

    ``aws`` may be a factory: it is called only once the input is known to be valid.
    """
    check_concurrency(concurrency)
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
) -> SendSummary:
    """Send in batches from ``concurrency`` lanes; a call-level error stops all lanes and is
    raised after the lanes drain (results already reported stay reported)."""
    pacing = Pacing(sleep=sleep, clock=clock)
    sender = _Sender(client, queue_url, on_result, progress, pacing, backoff, max_attempts)
    sender.summary.total = len(messages)
    started = clock()
    lanes = lanes_for(messages, concurrency)
    with ThreadPoolExecutor(max_workers=max(1, len(lanes)), thread_name_prefix="send") as pool:
        futures = [pool.submit(sender.run_lane, lane) for lane in lanes]
        for future in futures:
            future.result()
    sender.summary.elapsed_s = clock() - started
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
        self._abort = threading.Event()
        self._lock = threading.Lock()

    def run_lane(self, batches: list[list[OutgoingMessage]]) -> None:
        for batch in batches:
            if self._abort.is_set():
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
