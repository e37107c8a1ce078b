"""What a worker run talks to, what it was asked to do, and what it counted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqsidem.sqsbatch import MAX_BATCH
from sqsidem.validate import MAX_VISIBILITY_S, finite

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

    from sqsidem.aws import Aws

# ReceiveMessage's longest long poll.
MAX_WAIT_S = 20
# Processing threads (each with its poller and up to 10 lock writes in flight).
MAX_CONCURRENCY = 100
# Batches received ahead while the ``concurrency`` batches in flight run (bounded prefetch).
PREFETCH_BATCHES = 1


def batches_held(concurrency: int) -> int:
    """Batches a run holds at once: the ones running and the ones received ahead.

    Only a single poller receives ahead. With several, the other pollers already receive
    while a batch runs, and an extra batch held ahead hides its FIFO groups and makes the
    pollers pause: measured at concurrency 4 through a 10 ms link, 95 msgs/s with it and
    168 without (tests/bench/worker_bench.py).
    """
    return concurrency + (PREFETCH_BATCHES if concurrency == 1 else 0)


def io_threads(concurrency: int) -> int:
    """Lock writes in flight at once: every record of every batch held."""
    return MAX_BATCH * batches_held(concurrency)


def pool_connections(concurrency: int) -> int:
    """HTTP connections per client so no thread queues for one: the lock writes, the
    processing threads' own commits, the pollers, heartbeats and the deleter."""
    return io_threads(concurrency) + 3 * concurrency + 4


@dataclass(frozen=True)
class WorkerClients:
    sqs: SQSClient
    dynamodb: DynamoDBClient
    lambda_: LambdaClient | None = None

    @classmethod
    def from_aws(cls, aws: Aws) -> WorkerClients:
        return cls(aws.sqs, aws.dynamodb, aws.lambda_)


@dataclass(frozen=True)
class WorkerOptions:
    queue_url: str
    batch_size: int = MAX_BATCH
    wait_time_s: int = 20
    # None: the queue's own VisibilityTimeout.
    visibility_timeout_s: int | None = None
    concurrency: int = 1
    max_messages: int | None = None
    idle_exit_s: float | None = None
    force: bool = False

    def __post_init__(self) -> None:
        """Every number checked before any AWS call (UsageError, exit 2)."""
        finite(self.batch_size, "--batch-size", low=1, high=MAX_BATCH)
        finite(self.wait_time_s, "--wait-time", low=0, high=MAX_WAIT_S)
        finite(self.visibility_timeout_s, "--visibility-timeout", low=0, high=MAX_VISIBILITY_S)
        finite(self.concurrency, "--concurrency", low=1, high=MAX_CONCURRENCY)
        finite(self.max_messages, "--max-messages", low=1)
        finite(self.idle_exit_s, "--idle-exit", low=0)

    @property
    def receive_wait_s(self) -> int:
        """Long-poll seconds: never sit in a 20 s poll when we are to give up sooner."""
        if self.idle_exit_s is None:
            return self.wait_time_s
        return min(self.wait_time_s, int(self.idle_exit_s + 0.999))


@dataclass(frozen=True)
class WorkerStats:
    """Counters; ``failed`` counts every record reported failed (``busy`` is a subset)."""

    received: int = 0
    processed: int = 0
    duplicates: int = 0
    failed: int = 0
    busy: int = 0
    lost_ownership: int = 0
    delete_failures: int = 0
    heartbeats: int = 0
    batches: int = 0
    delete_calls: int = 0
    elapsed_s: float = 0.0
    stop_reason: str | None = None
    # Received by a receive answered after Ctrl-C: handed back at once, not worked on.
    released: int = 0
    # Long polls still waiting when a stopped run ended: what they get reappears after the
    # visibility timeout.
    polls_left: int = 0

    @property
    def msgs_per_s(self) -> float:
        return self.received / self.elapsed_s if self.elapsed_s > 0 else 0.0
