"""Exactly-once under crashes (issue 8.1): worker processes killed at random, duplicates
injected, on the shared ministack.

Several `sqsidem worker` processes consume a FIFO queue of 500 keyed messages in 50 groups
plus 5 poison messages (each in its own group; the processor raises for them). The processor
writes one row per execution into a separate table, so a double execution is visible.
Workers die by the consumer's failpoints (after-lock, mid-process, after-complete, with
probabilities) and by SIGKILL from outside at random times, and are restarted until the
queue is empty. Meanwhile keys that are already COMPLETED are sent again under a fresh
dedup id (lock-level duplicates); kills cause redeliveries through the short visibility.

What exactly-once can mean here: a kill after the processor's effect but before COMPLETED
is written (the mid-process failpoint, or an outside SIGKILL landing in that window) leaves
an effect no lock can know about, so the redelivery runs it again. No idempotency lock can
close that window without the effect and the lock sharing a transaction. The test proves
everything else, exactly:
- every key's effect happened, and exactly one execution per key was recorded COMPLETED;
- every other execution of a key belongs to an attempt whose process was SIGKILLed before
  it recorded COMPLETED (counted as "crash-window re-executions"), and happened before the
  key was COMPLETED: nothing ran after COMPLETED, however many duplicates and redeliveries
  arrived;
- every non-poison key is COMPLETED and none is in the DLQ; the poison ones (and only they)
  are in the DLQ, with no effect; no lock is left IN_PROGRESS.

Seeded: the seed is printed; `pytest tests/proofs/test_chaos.py --seed N` replays the same
kill schedule, failpoint draws and duplicate choices (thread timing still varies).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from sqsidem.aws import Aws
from sqsidem.consumer.decisions import parse_decision
from sqsidem.names import StackNames, names_for
from tests.conftest import REGION, Ministack
from tests.proofs.helpers import (
    POISON_MARKER,
    create_effects_table,
    drain_keys,
    effect_rows,
    key_attribute,
    lock_items,
    queue_total,
    report,
    run_cli,
    write_effects_processor,
)

MESSAGES = 500
GROUPS = 50
POISON = 5
DUPLICATES = 50
WORKERS = 3
CONCURRENCY = 2
VISIBILITY_S = 3
# A kill costs each in-flight message one receive (two when the redelivery finds the dead
# attempt's lock still live); 10 leaves room for several kills of the same message.
MAX_RECEIVE_COUNT = 10
FAILPOINTS = "after-lock:0.003,mid-process:0.003,after-complete:0.003"
KILL_EVERY_S = (1.0, 3.0)
DEADLINE_S = 150.0


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    stderr: IO[bytes]
    log: Path


@dataclass
class Fleet:
    """Worker processes in slots; reaped and restarted by the test's own loop (one thread)."""

    command: list[str]
    env: dict[str, str]
    rng: random.Random
    logs: Path
    slots: list[Worker | None] = field(default_factory=list)
    spawned: int = 0
    killed_outside: set[int] = field(default_factory=set)
    exits: list[tuple[int, int]] = field(default_factory=list)  # (pid, returncode)

    def spawn(self, slot: int) -> None:
        self.spawned += 1
        log = self.logs / f"worker-{self.spawned:03d}.log"
        env = {
            **self.env,
            "SQSIDEM_FAILPOINT": FAILPOINTS,
            "SQSIDEM_FAILPOINT_SEED": str(self.rng.randrange(2**31)),
        }
        stderr = log.open("wb")
        process = subprocess.Popen(
            self.command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
        worker = Worker(process, stderr, log)
        if slot < len(self.slots):
            self.slots[slot] = worker
        else:
            self.slots.append(worker)

    def reap(self, *, respawn: bool) -> None:
        for slot, worker in enumerate(self.slots):
            if worker is None or worker.process.poll() is None:
                continue
            worker.stderr.close()
            self.exits.append((worker.process.pid, worker.process.returncode))
            self.slots[slot] = None
            if respawn:
                self.spawn(slot)

    def kill_one(self) -> None:
        alive = [w for w in self.slots if w is not None and w.process.poll() is None]
        if alive:
            victim = self.rng.choice(alive)
            self.killed_outside.add(victim.process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        for worker in self.slots:
            if worker is not None and worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.slots:
            if worker is None:
                continue
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=5)
        self.reap(respawn=False)

    @property
    def sigkilled(self) -> set[int]:
        return {pid for pid, code in self.exits if code == -signal.SIGKILL}


def _messages_file(path: Path, keys: list[tuple[str, str]], poison: list[str]) -> None:
    lines = [
        json.dumps({"body": json.dumps({"n": n, "key": key}), "group_id": group, "key": key})
        for n, (key, group) in enumerate(keys)
    ]
    lines += [
        json.dumps({"body": POISON_MARKER, "group_id": f"poison-{key}", "key": key})
        for key in poison
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _is_completed(aws: Aws, table: str, key: str) -> bool:
    item = aws.dynamodb.get_item(
        TableName=table, Key={"transaction_id": {"S": key}}, ConsistentRead=True
    ).get("Item")
    return item is not None and item.get("status", {}).get("S") == "COMPLETED"


@dataclass
class Injector:
    """Sends a COMPLETED key again under a fresh dedup id (a duplicate only the lock sees)."""

    aws: Aws
    names: StackNames
    url: str
    rng: random.Random
    groups: dict[str, str]
    candidates: list[str]
    sent: int = 0

    def step(self) -> None:
        for _ in range(3):
            if self.sent >= DUPLICATES or not self.candidates:
                return
            key = self.candidates[self.rng.randrange(len(self.candidates))]
            if not _is_completed(self.aws, self.names.table, key):
                continue
            self.candidates.remove(key)
            self.aws.sqs.send_message(
                QueueUrl=self.url,
                MessageBody=json.dumps({"duplicate_of": key}),
                MessageGroupId=self.groups[key],
                MessageDeduplicationId=f"dup-{self.sent}-{self.rng.getrandbits(64):016x}",
                MessageAttributes=key_attribute(key),
            )
            self.sent += 1


def _decisions(logs: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for log in sorted(logs.glob("worker-*.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            decision = parse_decision(line)
            if decision is not None:
                counts[str(decision["decision"])] += 1
    return counts


@pytest.mark.slow
def test_exactly_once_under_kills_and_duplicates(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmp_path: Path, chaos_seed: int
) -> None:
    print(
        f"\nchaos seed {chaos_seed} (replay: pytest tests/proofs/test_chaos.py --seed {chaos_seed})"
    )
    rng = random.Random(chaos_seed)
    aws = local_aws
    names = names_for(stack_name)
    effects = f"effects-{stack_name}"
    create_effects_table(aws, effects)
    processor = write_effects_processor(tmp_path / "effects.py", ministack.endpoint, effects)
    built = run_cli(
        [
            "--local",
            "--stack",
            stack_name,
            "setup",
            "--no-trigger",
            "--timeout",
            "1",
            "--visibility-timeout",
            str(VISIBILITY_S),
            "--max-receive-count",
            str(MAX_RECEIVE_COUNT),
        ]
    )
    assert built.exit_code == 0, built.stderr

    keys = [(f"k{n:04d}", f"g{rng.randrange(GROUPS):02d}") for n in range(MESSAGES)]
    poison = [f"poison{n}" for n in range(POISON)]
    source = tmp_path / "messages.jsonl"
    _messages_file(source, keys, poison)
    sent = run_cli(["--local", "--stack", stack_name, "send", "--file", str(source)])
    assert sent.exit_code == 0, sent.stderr
    url = aws.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    dlq = aws.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]
    assert queue_total(aws, url) == MESSAGES + POISON

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SQSIDEM_"))}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION)
    command = [
        sys.executable,
        "-m",
        "sqsidem",
        "--endpoint-url",
        ministack.endpoint,
        "--stack",
        stack_name,
        "worker",
        "--processor",
        processor,
        "--batch-size",
        "10",
        "--concurrency",
        str(CONCURRENCY),
        "--wait-time",
        "1",
    ]
    logs = tmp_path / "logs"
    logs.mkdir()
    fleet = Fleet(command, env, rng, logs)
    injector = Injector(aws, names, url, rng, dict(keys), [k for k, _ in keys])
    started = time.monotonic()
    for slot in range(WORKERS):
        fleet.spawn(slot)
    next_kill = started + rng.uniform(*KILL_EVERY_S)
    next_check = started
    try:
        while True:
            now = time.monotonic()
            assert now - started < DEADLINE_S, (
                f"not drained after {DEADLINE_S:.0f} s: queue {queue_total(aws, url)}, "
                f"dlq {queue_total(aws, dlq)}, duplicates sent {injector.sent}"
            )
            fleet.reap(respawn=True)
            if now >= next_kill:
                fleet.kill_one()
                next_kill = now + rng.uniform(*KILL_EVERY_S)
            injector.step()
            if now >= next_check:
                next_check = now + 1.0
                if (
                    injector.sent >= DUPLICATES
                    and queue_total(aws, url) == 0
                    and queue_total(aws, dlq) == POISON
                ):
                    break
            time.sleep(0.1)  # the supervisor loop's tick (reap, kill, inject, check)
    finally:
        fleet.stop()
    elapsed = time.monotonic() - started

    # -- the verdict -----------------------------------------------------------------------
    rows = effect_rows(aws, effects)
    locks = lock_items(aws, names.table)
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_key.setdefault(str(row["key"]), []).append(row)
    killed = fleet.sigkilled
    window_reruns = 0
    problems: list[str] = []
    for key, _ in keys:
        lock = locks.get(key)
        if lock is None or lock.get("status") != "COMPLETED":
            problems.append(f"{key}: lock {lock}")
            continue
        runs = by_key.get(key, [])
        recorded = [
            r
            for r in runs
            if r["message_id"] == lock.get("message_id")
            and r["receive_count"] == lock.get("receive_count")
        ]
        if len(recorded) != 1:
            problems.append(f"{key}: {len(recorded)} effects of the COMPLETED attempt; {runs}")
            continue
        for other in runs:
            if other is recorded[0]:
                continue
            window_reruns += 1
            if other["pid"] not in killed:
                problems.append(f"{key}: extra effect by pid {other['pid']}, not killed: {other}")
            if other["at_ms"] > int(lock["completed_ms"]):
                problems.append(f"{key}: effect after COMPLETED: {other}, lock {lock}")
    assert problems == [], "\n".join(problems[:20])

    assert not [r for r in rows if r["key"] in poison], "a poison message had an effect"
    for key in poison:
        lock = locks.get(key)
        # Released by its last failing attempt, or (if that attempt was killed) stale.
        assert lock is None or int(lock["in_progress_expiration"]) < time.time() * 1000, lock
    live = [
        k for k, lock in locks.items() if lock.get("status") == "IN_PROGRESS" and k not in poison
    ]
    assert live == [], f"locks left IN_PROGRESS: {live[:10]}"
    assert queue_total(aws, url) == 0
    assert sorted(drain_keys(aws, dlq)) == sorted(poison)

    decisions = _decisions(logs)
    failpoint_kills = len([pid for pid in killed if pid not in fleet.killed_outside])
    outside_kills = len(killed & fleet.killed_outside)
    max_receives = max(
        (int(lock.get("receive_count") or 0) for k, lock in locks.items() if k not in poison),
        default=0,
    )
    figures = (
        f"seed {chaos_seed}\n"
        f"messages {MESSAGES} keyed in {GROUPS} groups + {POISON} poison (own groups); "
        f"{DUPLICATES} duplicates injected (sent {injector.sent})\n"
        f"workers {WORKERS} x {CONCURRENCY} threads; processes started {fleet.spawned}; "
        f"kills {failpoint_kills + outside_kills} ({failpoint_kills} by failpoints "
        f"{FAILPOINTS}, {outside_kills} by SIGKILL from outside)\n"
        f"effects counted {len(rows)} for {len(by_key)} keys: {MESSAGES} recorded COMPLETED "
        f"exactly once + {window_reruns} crash-window re-executions (each by a killed "
        f"process, before COMPLETED); poison effects 0\n"
        f"decisions {dict(sorted(decisions.items()))}\n"
        f"max receive count of a completed key's last attempt {max_receives} "
        f"(DLQ after {MAX_RECEIVE_COUNT}); DLQ holds exactly the {POISON} poison messages; "
        f"no lock IN_PROGRESS\n"
        f"elapsed {elapsed:.1f} s"
    )
    report("sqsidem chaos figures", figures)
    assert decisions["duplicate"] >= DUPLICATES
