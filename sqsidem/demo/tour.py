"""What the demo tour sends, with what each message is for, and what to try next.

Five new transactions over two FIFO groups, a repeated deduplication id that SQS drops,
a repeated key under a fresh deduplication id that the lock skips, and one poison message
in its own group that ends in the dead-letter queue.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqsidem.build.sources import ProcessorRef
from sqsidem.messages import MessageSpec
from sqsidem.stack.options import SetupOptions

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
