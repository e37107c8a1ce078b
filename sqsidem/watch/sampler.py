"""The calls behind each refresh of `watch`, at a stated, bounded cost.

Per refresh: SQS GetQueueAttributes on the queue and the DLQ (GetQueueUrl until found),
Lambda ListEventSourceMappings, CloudWatch DescribeAlarms, and at most ``log_pages``
FilterLogEvents pages read from where the previous refresh stopped. Every
``slow_every_s``: a lock Scan of at most ``lock_items`` items (``lock_page`` per call, so
never a full-table scan on a big table) and one GetMetricStatistics for the age of the
oldest message. A source that fails makes its panel "n/a: <why>"; the others go on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqsidem.consumer.lock import wall_clock_ms
from sqsidem.errors import explain, is_gone
from sqsidem.logtail import EventCursor, log_group_for
from sqsidem.watch.flow import FlowTracker
from sqsidem.watch.model import (
    AlarmFigures,
    DlqFigures,
    LockFigures,
    QueueFigures,
    Snapshot,
    TriggerFigures,
    Unavailable,
)
from sqsidem.watch.scan import scan_locks

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeNameType

    from sqsidem.aws import Aws
    from sqsidem.names import StackNames

T = TypeVar("T")
MIN_INTERVAL_S = 1.0
MAX_INTERVAL_S = 3600.0  # a slower picture is a cron job: `watch --once`
_COUNTS: tuple[QueueAttributeNameType, ...] = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "QueueArn",
    "VisibilityTimeout",
    "RedrivePolicy",
)
# Only our decision lines: AWS sends less; the emulators ignore it and the client judges.
DECISION_PATTERN = "{ $.sqsidem = 1 }"


@dataclass(frozen=True)
class WatchBudget:
    interval_s: float = 2.0
    slow_every_s: float = 15.0
    lock_items: int = 5_000
    lock_page: int = 1_000
    log_pages: int = 3
    window_s: float = 60.0
    history_s: float = 300.0

    def calls_per_refresh(self) -> tuple[int, int]:
        """(most calls of a plain refresh, most calls of a refresh that also scans)."""
        fast = 2 + 1 + 1 + self.log_pages
        scan_pages = -(-self.lock_items // self.lock_page)
        return fast, fast + scan_pages + 1


def watch_budget(interval: str) -> WatchBudget:
    """The budget for ``--interval`` (exit 2 below :data:`MIN_INTERVAL_S`)."""
    from sqsidem.errors import UsageError
    from sqsidem.timeparse import parse_duration

    seconds = parse_duration(interval, option="--interval")
    if seconds > MAX_INTERVAL_S:
        raise UsageError(f"--interval {interval} is too long", "use at most 1h")
    if seconds < MIN_INTERVAL_S:
        raise UsageError(
            f"--interval {interval} is too short",
            f"use at least {MIN_INTERVAL_S:g}s: each refresh costs API calls (see --help)",
        )
    return WatchBudget(interval_s=seconds)


class _Failed(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def why_unavailable(exc: BaseException, what: str) -> str:
    """The "<why>" of "n/a: <why>": short for the usual causes, AWS's words otherwise."""
    if is_gone(exc):
        return f"{what} does not exist"
    if isinstance(exc, NotImplementedError):
        return f"the backend does not implement the call for {what}"
    return explain(exc).line


class Watcher:
    """One stack's sources and what `watch` remembers between refreshes."""

    def __init__(
        self,
        aws: Aws,
        names: StackNames,
        budget: WatchBudget | None = None,
        *,
        now_ms: Callable[[], int] = wall_clock_ms,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.aws, self.names = aws, names
        self.budget = budget or WatchBudget()
        self.now_ms, self.monotonic = now_ms, monotonic
        self.calls = 0
        for client in (aws.sqs, aws.lambda_, aws.cloudwatch, aws.logs, aws.dynamodb):
            client.meta.events.register("before-call", self._count)
        self.sequence = 0
        self._urls: dict[str, str] = {}
        self._queue_arn: str | None = None
        self._redrive: tuple[int | None, float | None] = (None, None)
        self._log_group: str | None = None
        self._history: deque[int] = deque(
            maxlen=max(2, int(self.budget.history_s / self.budget.interval_s))
        )
        self._dlq_start: int | None = None
        self._flow = FlowTracker(window_s=self.budget.window_s)
        self._cursor = EventCursor(start_ms=now_ms() - int(self.budget.window_s * 1000))
        self._slow_at: float | None = None
        self._locks: LockFigures | Unavailable = Unavailable("not scanned yet")
        self._oldest: float | Unavailable = Unavailable("not asked yet")

    def _count(self, **_: Any) -> None:
        self.calls += 1

    @staticmethod
    def _guard(what: str, call: Callable[[], T]) -> T | Unavailable:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except _Failed as failed:
            return Unavailable(failed.why)
        except (ClientError, BotoCoreError, NotImplementedError) as exc:
            return Unavailable(why_unavailable(exc, what))

    def sample(self) -> Snapshot:
        """One refresh: every panel read (or marked n/a), at the budget's cost."""
        before = self.calls
        self.sequence += 1
        queue = self._guard(f"queue {self.names.queue}", self._read_queue)
        dlq = self._guard(f"DLQ {self.names.dlq}", self._read_dlq)
        trigger = self._guard(f"function {self.names.function}", self._read_trigger)
        alarm = self._guard(f"alarm {self.names.alarm}", self._read_alarm)
        group = self._log_group or self.names.log_group
        logs = self._guard(f"log group {group}", self._read_logs)
        slow_due = self._slow_at is None or (
            self.monotonic() - self._slow_at >= self.budget.slow_every_s
        )
        if slow_due:
            self._slow_at = self.monotonic()
            self._locks = self._guard(f"table {self.names.table}", self._scan)
            self._oldest = self._guard("the queue's metrics", self._read_oldest_age)
        now = self.now_ms()
        if isinstance(queue, tuple):
            visible, in_flight, delayed = queue
            self._history.append(visible + in_flight)
            queue_part: QueueFigures | Unavailable = QueueFigures(
                visible, in_flight, delayed, tuple(self._history), self._oldest
            )
        else:
            queue_part = queue
        failed_logs = logs if isinstance(logs, Unavailable) else None
        return Snapshot(
            stack=self.names.stack,
            sequence=self.sequence,
            at_ms=now,
            interval_s=self.budget.interval_s,
            api_calls=self.calls - before,
            queue=queue_part,
            flow=failed_logs or self._flow.figures(now),
            trigger=trigger,
            dlq=dlq,
            alarm=alarm,
            locks=self._aged_locks(),
            blocked_groups=failed_logs
            or self._flow.blocked(now, max_receive=self._redrive[0], visibility_s=self._redrive[1]),
            recent_decisions=failed_logs or self._flow.last_decisions(),
        )

    # -- sources ---------------------------------------------------------------------
    def _url(self, name: str) -> str:
        url = self._urls.get(name)
        if url is None:
            url = self.aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
            self._urls[name] = url
        return url

    def _attributes(self, name: str) -> dict[str, str]:
        from botocore.exceptions import ClientError

        try:
            answer = self.aws.sqs.get_queue_attributes(
                QueueUrl=self._url(name), AttributeNames=[*_COUNTS]
            )
        except ClientError as exc:
            if is_gone(exc):
                self._urls.pop(name, None)  # look it up again once it is back
            raise
        return {str(k): str(v) for k, v in answer.get("Attributes", {}).items()}

    def _read_queue(self) -> tuple[int, int, int]:
        from sqsidem.dlq.peek import max_receive_count

        attributes = self._attributes(self.names.queue)
        self._queue_arn = attributes.get("QueueArn") or self._queue_arn
        self._redrive = (max_receive_count(attributes.get("RedrivePolicy")), _float(attributes))
        return (
            _int(attributes.get(_COUNTS[0])),
            _int(attributes.get(_COUNTS[1])),
            _int(attributes.get(_COUNTS[2])),
        )

    def _read_dlq(self) -> DlqFigures:
        depth = _int(self._attributes(self.names.dlq).get(_COUNTS[0]))
        if self._dlq_start is None:
            self._dlq_start = depth
        return DlqFigures(depth, depth - self._dlq_start)

    def _read_trigger(self) -> TriggerFigures:
        found = self.aws.lambda_.list_event_source_mappings(FunctionName=self.names.function)
        mappings = list(found.get("EventSourceMappings", []))
        ours = [m for m in mappings if m.get("EventSourceArn") == self._queue_arn] or mappings
        if not ours:
            return TriggerFigures(None, None)
        return TriggerFigures(ours[0].get("State"), ours[0].get("LastProcessingResult"))

    def _read_alarm(self) -> AlarmFigures:
        alarms = self.aws.cloudwatch.describe_alarms(AlarmNames=[self.names.alarm])
        found = alarms.get("MetricAlarms", [])
        if not found:
            raise _Failed(f"alarm {self.names.alarm} does not exist")
        return AlarmFigures(str(found[0].get("StateValue", "?")))

    def _read_logs(self) -> None:
        if self._log_group is None:
            # The function's LoggingConfig may name another group (as `logs` honours).
            self._log_group = log_group_for(self.aws.lambda_, self.names.function)
        events = self._cursor.poll(
            self.aws.logs,
            self._log_group,
            server_pattern=DECISION_PATTERN,
            max_pages=self.budget.log_pages,
        )
        for event in events:
            if event.decision is not None:
                self._flow.feed_line(event.timestamp, event.decision)

    def _scan(self) -> LockFigures:
        return scan_locks(
            self.aws.dynamodb,
            self.names.table,
            now_ms=self.now_ms(),
            max_items=self.budget.lock_items,
            page_size=self.budget.lock_page,
        )

    def _aged_locks(self) -> LockFigures | Unavailable:
        locks = self._locks
        if isinstance(locks, Unavailable) or self._slow_at is None:
            return locks
        from dataclasses import replace

        return replace(locks, scanned_s_ago=self.monotonic() - self._slow_at)

    def _read_oldest_age(self) -> float | Unavailable:
        from datetime import datetime, timedelta, timezone

        end = datetime.now(timezone.utc)
        answer = self.aws.cloudwatch.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": self.names.queue}],
            StartTime=end - timedelta(minutes=5),
            EndTime=end,
            Period=60,
            Statistics=["Maximum"],
        )
        points = sorted(answer.get("Datapoints", []), key=lambda p: p.get("Timestamp", end))
        if not points:
            return Unavailable("no metric datapoints (ApproximateAgeOfOldestMessage)")
        return float(points[-1].get("Maximum", 0.0))


def _float(attributes: dict[str, str]) -> float | None:
    try:
        return float(attributes["VisibilityTimeout"])
    except (KeyError, ValueError):
        return None


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0
