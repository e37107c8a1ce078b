"""Exactly-once under crashes (issue 8.1): worker processes killed at random, duplicates
injected, on the shared ministack.

Several `sqsidem worker` processes consume a FIFO queue of 500 keyed messages in 50 groups
plus 5 poison messages (each in its own group; the processor raises for them). The processor
records each execution's effect as one row (a unique execution id) in a separate table.
Workers die by the consumer's failpoints (after-lock, mid-process, after-complete, with
probabilities) and by SIGKILL from outside at random times, and are restarted until the
queue is empty. Meanwhile keys that are already COMPLETED are sent again under a fresh
dedup id (lock-level duplicates); kills cause redeliveries through the short visibility.

The promise, proved literally (test_exactly_once_...): the processor takes ``effects`` and
its row is committed in the same TransactWriteItems as the lock's COMPLETED (see
sqsidem/consumer/effects.py). Then:
- every non-poison key's effect happened exactly once, by the attempt the lock records as
  the one that completed; poison keys have no effect;
- every non-poison key is COMPLETED, no lock is left IN_PROGRESS, and the DLQ holds exactly
  the poison messages.
Executions killed between the processor and the commit (mid-process failpoint or an outside
SIGKILL in that window) left no effect at all; they are counted from the processor's own
`chaos-execution` log lines and reported as "died mid-way".

The second test documents why that matters: the same run with a plain processor (it writes
its row itself) shows the crash window a lock alone cannot close: a kill after the effect but
before COMPLETED makes the redelivery run it again. It asserts everything else: exactly one
execution per key recorded COMPLETED, every extra one by a SIGKILLed process and before
COMPLETED (nothing runs after COMPLETED), and the same queue / DLQ / lock outcome.

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
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from sqsidem.aws import Aws
from sqsidem.consumer.decisions import parse_decision
from sqsidem.names import StackNames, names_for
from tests.backend import Ministack, child_env, sqsidem_command
from tests.proofs.helpers import (
    POISON_MARKER,
    create_effects_table,
    drain_keys,
    effect_rows,
    executions_by_key,
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


def _log_lines(logs: Path) -> list[str]:
    lines: list[str] = []
    for log in sorted(logs.glob("worker-*.log")):
        lines += log.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines


def _decisions(lines: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in lines:
        decision = parse_decision(line)
        if decision is not None:
            counts[str(decision["decision"])] += 1
    return counts


@dataclass
class ChaosRun:
    """What one chaos run left behind, read once the queue is drained and workers stopped."""

    seed: int
    keys: list[tuple[str, str]]
    poison: list[str]
    fleet: Fleet
    injector: Injector
    rows: list[dict[str, Any]]
    locks: dict[str, dict[str, Any]]
    dlq_keys: list[str]
    queue_left: int
    log_lines: list[str]
    elapsed_s: float

    @property
    def rows_by_key(self) -> dict[str, list[dict[str, Any]]]:
        by_key: dict[str, list[dict[str, Any]]] = {}
        for row in self.rows:
            by_key.setdefault(str(row["key"]), []).append(row)
        return by_key

    def lock_problems(self) -> list[str]:
        """Every non-poison key COMPLETED; poison locks released or stale; none in progress."""
        problems = [
            f"{key}: lock {self.locks.get(key)}"
            for key, _ in self.keys
            if (self.locks.get(key) or {}).get("status") != "COMPLETED"
        ]
        for key in self.poison:
            lock = self.locks.get(key)
            # Released by its last failing attempt, or (if that attempt was killed) stale.
            if lock is not None and int(lock["in_progress_expiration"]) >= time.time() * 1000:
                problems.append(f"{key}: poison lock still live: {lock}")
        live = [
            k
            for k, lock in self.locks.items()
            if lock.get("status") == "IN_PROGRESS" and k not in self.poison
        ]
        if live:
            problems.append(f"locks left IN_PROGRESS: {live[:10]}")
        return problems

    def figures(self, effects_line: str) -> str:
        killed = self.fleet.sigkilled
        failpoint_kills = len([pid for pid in killed if pid not in self.fleet.killed_outside])
        outside_kills = len(killed & self.fleet.killed_outside)
        max_receives = max(
            (
                int(lock.get("receive_count") or 0)
                for k, lock in self.locks.items()
                if k not in self.poison
            ),
            default=0,
        )
        decisions = _decisions(self.log_lines)
        return (
            f"seed {self.seed}\n"
            f"messages {len(self.keys)} keyed in {GROUPS} groups + {len(self.poison)} poison "
            f"(own groups); {DUPLICATES} duplicates injected (sent {self.injector.sent})\n"
            f"workers {WORKERS} x {CONCURRENCY} threads; processes started "
            f"{self.fleet.spawned}; kills {failpoint_kills + outside_kills} ({failpoint_kills} "
            f"by failpoints {FAILPOINTS}, {outside_kills} by SIGKILL from outside)\n"
            f"{effects_line}\n"
            f"decisions {dict(sorted(decisions.items()))}\n"
            f"max receive count of a completed key's last attempt {max_receives} "
            f"(DLQ after {MAX_RECEIVE_COUNT}); DLQ holds exactly the {len(self.poison)} poison "
            f"messages; no lock IN_PROGRESS\n"
            f"elapsed {self.elapsed_s:.1f} s"
        )


def _chaos(
    aws: Aws,
    ministack: Ministack,
    stack_name: str,
    tmp_path: Path,
    seed: int,
    *,
    transactional: bool,
) -> ChaosRun:
    """Set up a stack, send, run the killed-and-restarted fleet until drained, collect."""
    kind = "transactional" if transactional else "plain"
    print(
        f"\nchaos ({kind} effects) seed {seed} "
        f"(replay: pytest tests/proofs/test_chaos.py --seed {seed})"
    )
    rng = random.Random(seed)
    names = names_for(stack_name)
    effects = f"effects-{stack_name}"
    create_effects_table(aws, effects)
    processor = write_effects_processor(
        tmp_path / "effects.py", ministack.endpoint, effects, transactional=transactional
    )
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

    env = child_env()
    command = sqsidem_command(
        ministack.endpoint,
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
    )
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
    return ChaosRun(
        seed=seed,
        keys=keys,
        poison=poison,
        fleet=fleet,
        injector=injector,
        rows=effect_rows(aws, effects),
        locks=lock_items(aws, names.table),
        dlq_keys=drain_keys(aws, dlq),
        queue_left=queue_total(aws, url),
        log_lines=_log_lines(logs),
        elapsed_s=elapsed,
    )


@pytest.mark.slow
def test_exactly_once_under_kills_and_duplicates(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmp_path: Path, chaos_seed: int
) -> None:
    """Transactional effects: every non-poison key's effect exactly once, poison never."""
    run = _chaos(local_aws, ministack, stack_name, tmp_path, chaos_seed, transactional=True)
    by_key = run.rows_by_key
    problems: list[str] = []
    for key, _ in run.keys:
        rows = by_key.get(key, [])
        if len(rows) != 1:
            problems.append(f"{key}: {len(rows)} effects: {rows}")
            continue
        lock = run.locks.get(key) or {}
        row = rows[0]
        # The effect belongs to the attempt that wrote COMPLETED (its acquire wrote these).
        if (row["message_id"], row["receive_count"]) != (
            lock.get("message_id"),
            lock.get("receive_count"),
        ):
            problems.append(f"{key}: effect {row} is not the completing attempt's: {lock}")
    problems += run.lock_problems()
    assert problems == [], "\n".join(problems[:20])
    assert not [r for r in run.rows if r["key"] in run.poison], "a poison message had an effect"
    assert len(run.rows) == MESSAGES
    assert run.queue_left == 0
    assert sorted(run.dlq_keys) == sorted(run.poison)

    executions = executions_by_key(run.log_lines)
    ran = sum(n for key, n in executions.items() if key not in run.poison)
    died = ran - len(run.rows)
    # Every key ran at least once; a start line can be lost only to a kill mid-write.
    assert ran >= MESSAGES, f"{ran} executions logged for {MESSAGES} keys"
    report(
        "sqsidem chaos figures (transactional effects)",
        run.figures(
            f"effects counted {len(run.rows)} = keys {MESSAGES}, each exactly once (committed "
            f"with COMPLETED); poison effects 0; executions {ran}, of which {died} died "
            f"mid-way (killed between the processor and the commit) and left no effect"
        ),
    )
    assert _decisions(run.log_lines)["duplicate"] >= DUPLICATES


@pytest.mark.slow
def test_plain_effects_show_only_the_crash_window(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmp_path: Path, chaos_seed: int
) -> None:
    """A plain processor (it writes its own row): re-executions happen only in the crash
    window, by a killed attempt, before COMPLETED; never after."""
    run = _chaos(local_aws, ministack, stack_name, tmp_path, chaos_seed, transactional=False)
    by_key = run.rows_by_key
    killed = run.fleet.sigkilled
    window_reruns = 0
    problems: list[str] = []
    for key, _ in run.keys:
        lock = run.locks.get(key)
        if lock is None or lock.get("status") != "COMPLETED":
            continue  # reported by lock_problems
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
    problems += run.lock_problems()
    assert problems == [], "\n".join(problems[:20])
    assert not [r for r in run.rows if r["key"] in run.poison], "a poison message had an effect"
    assert run.queue_left == 0
    assert sorted(run.dlq_keys) == sorted(run.poison)
    report(
        "sqsidem chaos figures (plain effects: the crash window)",
        run.figures(
            f"effects counted {len(run.rows)} for {len(by_key)} keys: {MESSAGES} recorded "
            f"COMPLETED exactly once + {window_reruns} crash-window re-executions (each by a "
            f"killed process, before COMPLETED); poison effects 0"
        ),
    )
    assert _decisions(run.log_lines)["duplicate"] >= DUPLICATES
