"""Waiting for the tour's messages to find their places: locks COMPLETED, poison dead-lettered."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqsidem.aws import Aws
from sqsidem.demo.tour import TourMessages
from sqsidem.dlq.peek import queue_depth
from sqsidem.errors import SqsidemError, TimedOut
from sqsidem.locks.read import read_locks
from sqsidem.names import StackNames
from sqsidem.resolve import dlq_url, main_queue_url
from sqsidem.retry import Pacing, poll_until

POLL_S = 0.5  # how often the tour looks at the locks and queues while it waits


@dataclass
class Progress:
    completed: int = 0
    dead_lettered: int = 0
    queue_left: int = 0
    elapsed_s: float = 0.0
    states: dict[str, str] = field(default_factory=dict)

    def done(self, tour: TourMessages, dead_before: int) -> bool:
        # The DLQ may still hold poison from an earlier run: count only what this run adds.
        return (
            self.completed == len(tour.processed)
            and self.dead_lettered > dead_before
            and self.queue_left == 0
        )


def dlq_depth(aws: Aws, names: StackNames) -> int:
    return queue_depth(aws.sqs, dlq_url(aws, names))["visible"]


def observe(aws: Aws, names: StackNames, tour: TourMessages, queue: str, dlq: str) -> Progress:
    found = read_locks(aws.dynamodb, names.table, tour.keys)
    states = {key: found.state_of(key) or "none" for key in tour.keys}
    main = queue_depth(aws.sqs, queue)
    return Progress(
        completed=sum(1 for key in tour.processed if states[key] == "completed"),
        dead_lettered=queue_depth(aws.sqs, dlq)["visible"],
        queue_left=main["visible"] + main["in_flight"],
        states=states,
    )


def wait_until_processed(
    aws: Aws,
    names: StackNames,
    tour: TourMessages,
    *,
    deadline_s: float,
    dead_before: int = 0,
    on_progress: Callable[[Progress], None] = lambda _p: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Progress:
    """Poll the locks and both queues until every message has found its place."""
    queue, dlq = main_queue_url(aws, names), dlq_url(aws, names)
    start = clock()
    last = Progress()

    def settled() -> Progress | None:
        nonlocal last
        last = observe(aws, names, tour, queue, dlq)
        last.elapsed_s = clock() - start
        on_progress(last)
        return last if last.done(tour, dead_before) else None

    try:
        return poll_until(
            settled,
            timeout_s=deadline_s,
            interval=POLL_S,
            pacing=Pacing(sleep=sleep, clock=clock),
            what="the pipeline to settle",
        )
    except TimedOut:
        raise SqsidemError(
            f"the pipeline did not settle within {deadline_s:.0f} s "
            f"({last.completed}/{len(tour.processed)} completed, "
            f"{last.dead_lettered} dead-lettered, {last.queue_left} still queued)",
            f"look at `sqsidem --local --stack {names.stack} logs` and `local logs`",
        ) from None
