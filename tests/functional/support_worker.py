"""Helpers shared by the worker tests (plain functions, imported explicitly)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqsidem.aws import Aws
from sqsidem.consumer.config import ConsumerConfig
from sqsidem.consumer.processor import Processor
from sqsidem.retry import Pacing
from sqsidem.worker.model import WorkerClients, WorkerOptions, WorkerStats
from sqsidem.worker.poller import Emit, run_worker
from tests.functional.support_consumer import TABLE
from tests.support_locks import create_lock_table

CONFIG = ConsumerConfig(table=TABLE)


class TickClock:
    """Monotonic seconds that advance by one on every read: idle exits without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def ticking() -> Pacing:
    return Pacing(clock=TickClock())


def make_queue(aws: Aws, *, fifo: bool = True, visibility_s: int = 30) -> str:
    """The lock table and an empty queue (FIFO ``test-queue.fifo`` or standard ``test-plain``)."""
    create_lock_table(aws.dynamodb, TABLE)
    attributes: dict[Any, str] = {"VisibilityTimeout": str(visibility_s)}
    if fifo:
        attributes["FifoQueue"] = "true"
    name = "test-queue.fifo" if fifo else "test-plain"
    return aws.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def send(
    aws: Aws, url: str, body: str, *, group: str | None = "g1", key: str | None = None
) -> None:
    """One message; FIFO (dedup id ``d-<body>``) unless ``group`` is None; ``key`` as
    its ``sqsidem-key`` attribute, else the consumer falls back to the dedup id."""
    extra: dict[str, Any] = {}
    if group is not None:
        extra = {"MessageGroupId": group, "MessageDeduplicationId": f"d-{body}"}
    attributes: dict[str, Any] = {}
    if key is not None:
        attributes["sqsidem-key"] = {"DataType": "String", "StringValue": key}
    aws.sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes, **extra)


def counts(aws: Aws, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of the queue."""
    attrs = aws.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def in_flight(aws: Aws, url: str) -> int:
    return counts(aws, url)[1]


def options(url: str, **changes: Any) -> WorkerOptions:
    """No long polls and an idle exit at once, unless ``changes`` say otherwise."""
    values: dict[str, Any] = {"queue_url": url, "wait_time_s": 0, "idle_exit_s": 0}
    values.update(changes)
    return WorkerOptions(**values)


def work(
    aws: Aws,
    url: str,
    processor: Processor,
    *,
    emit: Emit | None = None,
    stop: threading.Event | None = None,
    on_progress: Callable[[WorkerStats], None] | None = None,
    **changes: Any,
) -> WorkerStats:
    """One worker run on ``url`` with a ticking clock; ``changes`` go to the options
    (``force`` unless they say otherwise: no event source mapping is checked for)."""
    changes.setdefault("force", True)
    return run_worker(
        WorkerClients.from_aws(aws),
        CONFIG,
        options(url, **changes),
        processor=processor,
        stop=stop,
        emit=emit,
        on_progress=on_progress,
        pacing=ticking(),
    )
