"""Reading and following the function's log events (issue 5, DESIGN 3 and 4).

FilterLogEvents is the base on both emulators and AWS. Patterns are applied on the client:
JSON patterns and stream prefixes are ignored by the emulators and ministack matches text
case-insensitively, so the server only narrows by time. Following polls from the last seen
timestamp *inclusive* (minus a small overlap for late arrivals) and drops repeats by
eventId, because several events can share one millisecond (ministack stamps all lines of
an invocation with one time).
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqsidem.errors import NotFoundError, UsageError, is_gone, is_throttled
from sqsidem.retry import Backoff

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient

    from sqsidem.aws import Aws
    from sqsidem.names import StackNames

PLATFORM_PREFIXES = (
    "START",
    "END",
    "REPORT",
    "INIT_START",
    "INIT_REPORT",
    "INIT_RUNTIME_DONE",
    "EXTENSION",
    "TELEMETRY",
)


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # epoch ms
    stream: str
    message: str
    event_id: str
    platform: str | None = None  # START / END / REPORT / INIT_START ... for Lambda's lines
    decision: dict[str, Any] | None = None  # a parsed DESIGN 6.5 decision line

    @property
    def short_stream(self) -> str:
        """The part of a Lambda stream name that tells invocations apart."""
        tail = self.stream.rsplit("]", 1)[-1] if "]" in self.stream else self.stream
        tail = tail.rsplit("/", 1)[-1]
        return tail[-8:] if len(tail) > 8 else tail

    def as_dict(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "time": iso_ms(self.timestamp),
            "stream": self.stream,
            "message": self.message,
            "event_id": self.event_id,
            "platform": self.platform,
            "decision": self.decision,
        }


def iso_ms(timestamp_ms: int) -> str:
    from datetime import datetime, timezone

    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def platform_of(message: str) -> str | None:
    word = message.split(None, 1)[0] if message.strip() else ""
    return word if word in PLATFORM_PREFIXES else None


def to_event(raw: Any) -> LogEvent:
    from sqsidem.consumer.decisions import parse_decision

    message = str(raw.get("message", "")).rstrip("\n")
    return LogEvent(
        timestamp=int(raw.get("timestamp", 0)),
        stream=str(raw.get("logStreamName", "")),
        message=message,
        event_id=str(raw.get("eventId", "")),
        platform=platform_of(message),
        decision=parse_decision(message),
    )


# -- client-side selection ---------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    """``--filter`` terms (all must appear; ``-term`` must not; quotes keep phrases),
    ``--transaction`` (decision lines of one key) and ``--no-platform``."""

    pattern: str | None = None
    transaction: str | None = None
    platform: bool = True

    def terms(self) -> tuple[list[str], list[str]]:
        if not self.pattern:
            return [], []
        try:
            words = shlex.split(self.pattern)
        except ValueError as exc:
            raise UsageError(f"invalid --filter {self.pattern!r}: {exc}") from None
        include = [w for w in words if not (w.startswith("-") and len(w) > 1)]
        exclude = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
        return include, exclude

    def server_pattern(self) -> str | None:
        """A quoted term that narrows the scan on AWS; the client-side match stays the judge
        (emulators ignore or loosen patterns, DESIGN 4)."""
        if self.transaction and '"' not in self.transaction:
            return f'"{self.transaction}"'
        return None

    def matches(self, event: LogEvent) -> bool:
        if not self.platform and event.platform is not None:
            return False
        if self.transaction is not None and (
            event.decision is None or event.decision.get("transaction_id") != self.transaction
        ):
            return False
        include, exclude = self.terms()
        return all(t in event.message for t in include) and not any(
            t in event.message for t in exclude
        )


# -- where the logs are --------------------------------------------------------------------


def log_group_for(client: LambdaClient, function: str) -> str:
    """The function's LoggingConfig.LogGroup, else ``/aws/lambda/<function>``.

    A function that does not exist (yet) gets the default group, so `logs --follow` can
    wait for it.
    """
    from botocore.exceptions import ClientError

    default = f"/aws/lambda/{function}"
    try:
        config = client.get_function_configuration(FunctionName=function)
    except ClientError as exc:
        if is_gone(exc):
            return default
        raise
    return str(config.get("LoggingConfig", {}).get("LogGroup") or default)


def _pages(
    client: CloudWatchLogsClient,
    group: str,
    start_ms: int,
    end_ms: int | None,
    server_pattern: str | None = None,
) -> Iterator[dict[str, Any]]:
    args: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "interleaved": True}
    if end_ms is not None:
        args["endTime"] = end_ms
    if server_pattern:
        args["filterPattern"] = server_pattern
    for page in client.get_paginator("filter_log_events").paginate(**args):
        yield from cast("list[dict[str, Any]]", page.get("events", []))


def read_events(
    client: CloudWatchLogsClient,
    group: str,
    *,
    start_ms: int,
    end_ms: int | None = None,
    where: EventFilter | None = None,
) -> Iterator[LogEvent]:
    """Events from ``start_ms`` on, oldest first; NotFoundError if the group is missing."""
    from botocore.exceptions import ClientError

    where = where or EventFilter()
    where.terms()  # validates the pattern before any call
    try:
        for raw in _pages(client, group, start_ms, end_ms, where.server_pattern()):
            event = to_event(raw)
            if where.matches(event):
                yield event
    except ClientError as exc:
        if is_gone(exc):
            raise NotFoundError(
                f"log group {group} does not exist",
                "the function has not logged yet; `logs --follow` waits for it",
            ) from exc
        raise


@dataclass
class FollowState:
    """What a follower knows between polls; exposed for tests and status lines."""

    cursor_ms: int
    polls: int = 0
    throttled: int = 0
    waiting_for_group: bool = False


def follow_events(
    client: CloudWatchLogsClient,
    group: str,
    *,
    start_ms: int,
    where: EventFilter | None = None,
    stop: threading.Event | None = None,
    sleep: Callable[[float], None] | None = None,
    poll_s: float = 1.0,
    max_backoff_s: float = 30.0,
    overlap_ms: int = 3000,
    on_waiting: Callable[[str], None] | None = None,
    state: FollowState | None = None,
) -> Iterator[LogEvent]:
    """New events as they arrive, each exactly once, until ``stop`` is set.

    Every poll re-reads from the newest timestamp seen minus ``overlap_ms`` (so events that
    share the last millisecond, or arrive a little late, are not lost) and drops event ids
    already yielded. The seen-id memory keeps only ids inside the re-read window, so it
    stays bounded however long the follow runs.
    """
    from botocore.exceptions import ClientError

    where = where or EventFilter()
    where.terms()
    stop = stop or threading.Event()
    if sleep is None:
        stop_event = stop

        def sleep(seconds: float) -> None:
            stop_event.wait(seconds)  # wakes at once when stopped

    state = state or FollowState(cursor_ms=start_ms)
    newest = start_ms
    seen: dict[str, int] = {}  # event id -> timestamp, pruned to the re-read window
    # Throttled: wait twice the poll interval, then twice that, up to max_backoff_s.
    backoff = Backoff(first_s=poll_s * 2, factor=2.0, max_s=max_backoff_s)
    throttled_in_a_row = 0
    while not stop.is_set():
        query_from = max(start_ms, newest - overlap_ms)
        state.polls += 1
        try:
            fresh = [to_event(raw) for raw in _pages(client, group, query_from, None)]
        except ClientError as exc:
            if is_gone(exc):
                if not state.waiting_for_group and on_waiting is not None:
                    on_waiting(f"waiting for log group {group} to appear")
                state.waiting_for_group = True
                sleep(poll_s)
                continue
            if is_throttled(exc):
                state.throttled += 1
                backoff.pause(throttled_in_a_row, sleep)
                throttled_in_a_row += 1
                continue
            raise
        state.waiting_for_group = False
        throttled_in_a_row = 0
        fresh.sort(key=lambda event: event.timestamp)  # stable: keeps the server's order
        for event in fresh:
            if event.event_id in seen:
                continue
            seen[event.event_id] = event.timestamp
            newest = max(newest, event.timestamp)
            if where.matches(event):
                yield event
            if stop.is_set():
                return
        state.cursor_ms = newest
        horizon = newest - overlap_ms
        for event_id in [i for i, ts in seen.items() if ts < horizon]:
            del seen[event_id]
        if stop.is_set():
            return
        sleep(poll_s)


def start_ms_for(since: str, now_s: float | None = None) -> int:
    """``--since 10m`` or an ISO time as epoch ms."""
    from sqsidem.timeparse import parse_since

    return int(parse_since(since, time.time() if now_s is None else now_s) * 1000)


@dataclass(frozen=True)
class LogRead:
    """What `logs` shows: the group read, whether it is followed, and its events (lazy)."""

    group: str
    follow: bool
    events: Iterator[LogEvent]


def open_logs(
    aws: Callable[[], Aws],
    names: StackNames,
    *,
    where: EventFilter,
    since: str,
    follow: bool = False,
    log_group: str | None = None,
    on_waiting: Callable[[str], None] | None = None,
) -> LogRead:
    """The events `logs` asked for. The filter and ``since`` are checked before ``aws()``
    makes the clients (exit 2 first); reading starts when the events are iterated."""
    where.terms()
    start_ms = start_ms_for(since)
    client = aws()
    group = log_group or log_group_for(client.lambda_, names.function)
    if not follow:
        return LogRead(
            group, False, read_events(client.logs, group, start_ms=start_ms, where=where)
        )
    events = follow_events(
        client.logs, group, start_ms=start_ms, where=where, on_waiting=on_waiting
    )
    return LogRead(group, True, events)
