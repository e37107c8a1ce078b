"""`sqsidem demo`: the whole tour on the embedded backend, as plain steps the command renders.

setup -> send (new messages, a repeated dedup id SQS drops, a repeated key the lock catches,
one poison message in its own group) -> wait until processed -> what to look at.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqsidem.aws import Aws
from sqsidem.errors import SqsidemError
from sqsidem.local import DEFAULT_PORT, LocalBackend, free_port, port_in_use
from sqsidem.locks.read import read_locks
from sqsidem.messages import MessageSpec
from sqsidem.names import StackNames
from sqsidem.resolve import dlq_url, main_queue_url
from sqsidem.retry import Pacing, poll_until
from sqsidem.stack.options import ProcessorRef, SetupOptions

DEMO_STACK = "demo"
# Small values keep the tour short (DESIGN 6.8): a poison message is dead-lettered after
# two failed receives, each hidden for 2x the function timeout.
DEMO_OPTIONS = SetupOptions(
    timeout_s=2,
    visibility_timeout_s=4,
    max_receive_count=2,
    batch_size=3,
    processor=ProcessorRef(Path(__file__).with_name("demo_processor.py"), "process"),
)
GROUPS = ("orders-a", "orders-b")
POLL_S = 0.5  # how often the tour looks at the locks and queues while it waits


@dataclass(frozen=True)
class Backend:
    endpoint: str
    started: bool


def ensure_backend(backend: LocalBackend | None = None) -> Backend:
    """The running local backend, started (on 4566, else a free port) if needed."""
    backend = backend or LocalBackend()
    current = backend.status()
    if current.running and current.endpoint:
        return Backend(current.endpoint, started=False)
    port = DEFAULT_PORT if not port_in_use(DEFAULT_PORT) else free_port()
    status, _ = backend.up(port)
    assert status.endpoint is not None
    return Backend(status.endpoint, started=True)


@dataclass(frozen=True)
class TourMessages:
    """What the tour sends, and what each message is for."""

    run: str
    processed: tuple[str, ...]  # keys that must end COMPLETED
    dropped_dedup_id: str  # sent twice: SQS keeps one copy
    repeated_key: str  # sent again under a fresh dedup id: the lock skips it
    poison_key: str

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.processed, self.poison_key)


def tour_messages(run: str | None = None) -> tuple[TourMessages, str]:
    """The messages as JSON Lines for `send --file`, with fresh ids per run (the dedup
    window is 5 minutes, so fixed ids would be dropped on a second run)."""
    run = run or uuid.uuid4().hex[:6]
    keys = [f"demo-{run}-{n}" for n in range(1, 6)]
    lines = [
        {
            "body": json.dumps({"transaction_id": key, "amount": 100 * (n + 1)}),
            "group_id": GROUPS[n % 2],
            "dedup_id": key,
        }
        for n, key in enumerate(keys)
    ]
    repeated = keys[1]
    lines.append({"body": lines[0]["body"], "group_id": GROUPS[0], "dedup_id": keys[0]})
    lines.append(
        {
            "body": json.dumps({"transaction_id": repeated, "note": "same key, new dedup id"}),
            "group_id": GROUPS[1],
            "dedup_id": f"demo-{run}-again",
            "key": repeated,
        }
    )
    poison = f"demo-{run}-poison"
    lines.append(
        {
            "body": json.dumps({"transaction_id": poison, "poison": True}),
            "group_id": "poison",
            "dedup_id": poison,
        }
    )
    spec = "\n".join(json.dumps(line) for line in lines) + "\n"
    return TourMessages(run, tuple(keys), keys[0], repeated, poison), spec


def tour_spec(text: str) -> MessageSpec:
    return MessageSpec(jsonl_text=text, jsonl_name="demo messages")


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
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=dlq_url(aws, names), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", "0"))


def observe(aws: Aws, names: StackNames, tour: TourMessages, queue: str, dlq: str) -> Progress:
    found = read_locks(aws.dynamodb, names.table, tour.keys)
    states = {key: found.state_of(key) or "none" for key in tour.keys}
    main = aws.sqs.get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    dead = aws.sqs.get_queue_attributes(
        QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return Progress(
        completed=sum(1 for key in tour.processed if states[key] == "completed"),
        dead_lettered=int(dead.get("ApproximateNumberOfMessages", "0")),
        queue_left=sum(int(v) for v in main.values()),
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
    looking = False  # True while an observation runs: an error then is not the deadline

    def settled() -> Progress | None:
        nonlocal last, looking
        looking = True
        last = observe(aws, names, tour, queue, dlq)
        looking = False
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
    except SqsidemError:
        if looking:
            raise
        raise SqsidemError(
            f"the pipeline did not settle within {deadline_s:.0f} s "
            f"({last.completed}/{len(tour.processed)} completed, "
            f"{last.dead_lettered} dead-lettered, {last.queue_left} still queued)",
            f"look at `sqsidem --local --stack {names.stack} logs` and `local logs`",
        ) from None


def next_steps(stack: str) -> list[str]:
    prefix = f"sqsidem --local --stack {stack}"
    steps = [
        (f"{prefix} status", "every resource, queue depths, lock counts"),
        (f"{prefix} send --count 20", "more traffic"),
        (f"{prefix} locks list", "the idempotency locks"),
        (f"{prefix} logs --follow", "watch the function work (Ctrl-C to stop)"),
        (f"{prefix} dlq list", "what is dead, and why"),
        (f"{prefix} dlq redrive --yes", "put it back (it fails again: it is poison)"),
        (f"{prefix} watch", "the live picture: flow, blocked groups, DLQ (q quits)"),
        (f"{prefix} teardown --yes", "remove the demo stack"),
        ("sqsidem local down", "stop the local backend"),
    ]
    width = max(len(command) for command, _ in steps)
    return [f"{command:<{width}}  # {why}" for command, why in steps]
