"""Reading and following the function's log events (issue 5, DESIGN 3 and 4).

FilterLogEvents is the base on both emulators and AWS. Patterns are applied on the client:
JSON patterns and stream prefixes are ignored by the emulators and ministack matches text
case-insensitively, so the server only narrows by time. Following polls from the last seen
timestamp *inclusive* (minus a small overlap for late arrivals) and drops repeats by
eventId, because several events can share one millisecond (ministack stamps all lines of
an invocation with one time).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from sqsidem.errors import NotFoundError, UsageError, is_gone, is_throttled
from sqsidem.interrupt import stop_aware_sleep
from sqsidem.logevents import (
    PLATFORM_PREFIXES,
    EventFilter,
    LogEvent,
    iso_ms,
    platform_of,
    to_event,
)
from sqsidem.retry import Backoff

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient

    from sqsidem.aws import Aws
    from sqsidem.names import StackNames

__all__ = [
    "PLATFORM_PREFIXES",
    "EventCursor",
    "EventFilter",
    "FollowState",
    "LogEvent",
    "LogRead",
    "follow_events",
    "follow_groups",
    "iso_ms",
    "log_group_for",
    "open_logs",
    "platform_of",
    "read_events",
    "stack_names_of",
    "start_ms_for",
    "to_event",
]


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
    max_pages: int | None = None,
    resume: PageResume | None = None,
) -> Iterator[dict[str, Any]]:
    """The events of FilterLogEvents pages; with ``max_pages``, where the read stopped goes
    into ``resume`` (a token to go on from, or None at the end)."""
    args: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "interleaved": True}
    if end_ms is not None:
        args["endTime"] = end_ms
    if server_pattern:
        args["filterPattern"] = server_pattern
    if resume is not None and resume.token is not None:
        args["PaginationConfig"] = {"StartingToken": resume.token}
    paginator = client.get_paginator("filter_log_events")
    for number, page in enumerate(paginator.paginate(**args)):
        yield from cast("list[dict[str, Any]]", page.get("events", []))
        token = page.get("nextToken")
        if resume is not None:
            resume.token = token
        if token and max_pages is not None and number + 1 >= max_pages:
            return


@dataclass
class PageResume:
    """Where a page-capped read stopped: AWS may answer with empty pages while it scans, so
    the next read goes on from this token instead of starting over (and never getting on)."""

    token: str | None = None
    start_ms: int = 0


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


@dataclass
class EventCursor:
    """Where an incremental reader of one group stands: each poll re-reads from the newest
    timestamp seen minus ``overlap_ms`` (events sharing the last millisecond, or arriving a
    little late, are not lost) and drops event ids already taken. The seen-id memory keeps
    only ids inside the re-read window, so it stays bounded however long the reading runs."""

    start_ms: int
    overlap_ms: int = 3000
    newest_ms: int = -1
    seen: dict[str, int] = field(default_factory=dict)  # event id -> timestamp
    resume: PageResume = field(default_factory=PageResume)

    def query_from(self) -> int:
        return max(self.start_ms, max(self.newest_ms, self.start_ms) - self.overlap_ms)

    def take(self, raw_events: Iterable[dict[str, Any]]) -> list[LogEvent]:
        """The events not taken before, oldest first (stable: keeps the server's order)."""
        fresh = sorted((to_event(raw) for raw in raw_events), key=lambda e: e.timestamp)
        new = []
        occurrences: Counter[tuple[str, int, str]] = Counter()
        for event in fresh:
            identity = event.event_id
            if not identity:
                # ministack sends no eventId: the same line of the same stream at the same
                # millisecond is told apart by its place among its twins (stable on re-read).
                twin = (event.stream, event.timestamp, event.message)
                occurrences[twin] += 1
                identity = "\0".join(map(str, (*twin, occurrences[twin])))
            if identity in self.seen:
                continue
            self.seen[identity] = event.timestamp
            self.newest_ms = max(self.newest_ms, event.timestamp)
            new.append(event)
        horizon = self.newest_ms - self.overlap_ms
        for event_id in [i for i, ts in self.seen.items() if ts < horizon]:
            del self.seen[event_id]
        return new

    def poll(
        self,
        client: CloudWatchLogsClient,
        group: str,
        *,
        server_pattern: str | None = None,
        max_pages: int | None = None,
    ) -> list[LogEvent]:
        """One FilterLogEvents read from the cursor on, at most ``max_pages`` pages; a read
        cut short goes on from its page token next time (ClientErrors propagate)."""
        resume = self.resume
        start = resume.start_ms if resume.token is not None else self.query_from()
        resume.start_ms = start
        pages = _pages(client, group, start, None, server_pattern, max_pages, resume)
        return self.take(pages)


def follow_events(
    client: CloudWatchLogsClient, group: str, *, start_ms: int, **options: Any
) -> Iterator[LogEvent]:
    """New events of one group as they arrive, each exactly once, until ``stop`` is set
    (the options of :func:`follow_groups`)."""
    return follow_groups(client, {None: group}, start_ms=start_ms, **options)


def follow_groups(
    client: CloudWatchLogsClient,
    groups: Mapping[str | None, str],
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
    """New events of several groups (stack -> group), each exactly once, merged in
    timestamp order within each poll and tagged with their stack, until ``stop`` is set.

    A missing group is waited for; throttling backs off (twice the poll interval, then
    twice that, up to ``max_backoff_s``) without losing the cursor.
    """
    from botocore.exceptions import ClientError

    where = where or EventFilter()
    where.terms()
    stop = stop or threading.Event()
    if sleep is None:
        sleep = stop_aware_sleep(stop)  # wakes at once when stopped

    state = state or FollowState(cursor_ms=start_ms)
    cursors = {stack: EventCursor(start_ms, overlap_ms) for stack in groups}
    waiting: set[str | None] = set()
    backoff = Backoff(first_s=poll_s * 2, factor=2.0, max_s=max_backoff_s)
    throttled_in_a_row = 0
    while not stop.is_set():
        state.polls += 1
        fresh: list[LogEvent] = []
        throttled = False
        for stack, group in groups.items():
            try:
                taken = cursors[stack].poll(client, group, server_pattern=where.server_pattern())
            except ClientError as exc:
                if is_gone(exc):
                    if stack not in waiting and on_waiting is not None:
                        on_waiting(f"waiting for log group {group} to appear")
                    waiting.add(stack)
                    continue
                if is_throttled(exc):
                    throttled = True
                    break
                raise
            waiting.discard(stack)
            fresh.extend(replace(e, stack=stack) if stack is not None else e for e in taken)
        state.waiting_for_group = bool(waiting)
        fresh.sort(key=lambda event: event.timestamp)
        for event in fresh:
            if where.matches(event):
                yield event
            if stop.is_set():
                return
        state.cursor_ms = max(start_ms, *(c.newest_ms for c in cursors.values()))
        if throttled:
            state.throttled += 1
            backoff.pause(throttled_in_a_row, sleep)
            throttled_in_a_row += 1
            continue
        throttled_in_a_row = 0
        if stop.is_set():
            return
        sleep(poll_s)


def start_ms_for(since: str, now_s: float | None = None) -> int:
    """``--since 10m`` or an ISO time as epoch ms, between 1970 and now (else exit 2)."""
    from sqsidem.timeparse import parse_since
    from sqsidem.validate import in_the_past

    now_s = time.time() if now_s is None else now_s
    moment_s = parse_since(since, now_s)
    in_the_past(moment_s, now_s, "--since", since)
    return int(moment_s * 1000)


@dataclass(frozen=True)
class LogRead:
    """What `logs` shows: the group(s) read, whether followed, and their events (lazy)."""

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
    stacks: Sequence[StackNames] = (),
    stop: threading.Event | None = None,
) -> LogRead:
    """The events `logs` asked for. The filter and ``since`` are checked before ``aws()``
    makes the clients (exit 2 first); reading starts when the events are iterated. A
    follow ends when ``stop`` is set (the first Ctrl-C), between polls.

    With ``stacks`` (``--stacks A,B``) the function logs of each are merged in timestamp
    order, each event tagged with its stack."""
    from sqsidem.validate import non_empty

    given = {"--filter": where.pattern, "--transaction": where.transaction}
    non_empty({**given, "--log-group": log_group})
    where.terms()
    start_ms = start_ms_for(since)
    client = aws()
    if stacks:
        groups: dict[str | None, str] = {
            n.stack: log_group_for(client.lambda_, n.function) for n in stacks
        }
        label = ", ".join(groups.values())
        if follow:
            events = follow_groups(
                client.logs,
                groups,
                start_ms=start_ms,
                where=where,
                on_waiting=on_waiting,
                stop=stop,
            )
            return LogRead(label, True, events)
        merged = _merged(client.logs, groups, start_ms, where, on_waiting)
        return LogRead(label, False, merged)
    group = log_group or log_group_for(client.lambda_, names.function)
    if not follow:
        return LogRead(
            group, False, read_events(client.logs, group, start_ms=start_ms, where=where)
        )
    events = follow_events(
        client.logs, group, start_ms=start_ms, where=where, on_waiting=on_waiting, stop=stop
    )
    return LogRead(group, True, events)


def stack_names_of(stacks: str | None, log_group: str | None = None) -> list[StackNames]:
    """``--stacks A,B`` as names (exit 2 on a bad name, a repeat, or with --log-group)."""
    from sqsidem.names import names_for

    if stacks is None:
        return []
    wanted = [s.strip() for s in stacks.split(",") if s.strip()]
    if not wanted:
        raise UsageError("--stacks needs at least one stack name (A,B)")
    if len(set(wanted)) != len(wanted):
        raise UsageError(f"--stacks names a stack twice: {stacks!r}")
    if log_group is not None:
        raise UsageError("--stacks and --log-group do not go together")
    return [names_for(stack) for stack in wanted]


def _merged(
    client: CloudWatchLogsClient,
    groups: Mapping[str | None, str],
    start_ms: int,
    where: EventFilter,
    on_missing: Callable[[str], None] | None,
) -> Iterator[LogEvent]:
    """Each stack's events (read lazily, each oldest first) merged by timestamp; a stack
    whose group does not exist yet is named and skipped, not fatal."""
    import heapq

    def tagged(stack: str | None, group: str) -> Iterator[LogEvent]:
        try:
            for event in read_events(client, group, start_ms=start_ms, where=where):
                yield replace(event, stack=stack)
        except NotFoundError:
            if on_missing is not None:
                on_missing(f"stack {stack}: log group {group} does not exist yet")

    streams = [tagged(stack, group) for stack, group in groups.items()]
    return heapq.merge(*streams, key=lambda event: event.timestamp)
