"""Exactly-once through the deployed function under chaos (issue 14), on ministack.

The stack's own function (its zip, its event source mapping, batches of 10) consumes 300
keyed messages in 60 groups plus 3 poison messages (own groups; the processor raises for
them). The function runs with the consumer's failpoints set through its environment
(after-lock, mid-process, after-complete: the worker process SIGKILLs itself), and the
processor sleeps past the function timeout now and then (ministack kills the worker process,
as Lambda does). Every batch's locks are acquired ahead, its groups run in parallel and
COMPLETED is written behind: the pipelined paths.

The processor commits its effect row with COMPLETED (transactional effects). Promised and
checked: every non-poison key's effect exactly once, by the attempt its lock records as
completing; in each group the effects were committed in the order sent; no effect for a
poison key; no non-poison lock left IN_PROGRESS (and no poison lock still live); the queue
empty and the DLQ holding exactly the poison messages.

Timing: ministack runs one FIFO batch at a time, and each timeout or kill costs the function
timeout plus the visibility timeout, hence a 1 s timeout, a 2 s visibility and rare faults.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from sqsidem.aws import Aws
from sqsidem.consumer.config import ENV_FAILPOINT, ENV_FAILPOINT_SEED
from sqsidem.names import names_for
from tests.backend import Ministack
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
)
from tests.waiting import poll

MESSAGES = 300
GROUPS = 60
POISON = 3
TIMEOUT_S = 1
VISIBILITY_S = 2
# A batch hit by a kill or a timeout is retried whole: room for several hits of one message.
MAX_RECEIVE_COUNT = 10
FAILPOINTS = "after-lock:0.005,mid-process:0.005,after-complete:0.005"
# Per mille of first and second attempts that sleep past the function timeout.
SLOW_PER_MILLE = 12
DEADLINE_S = 110.0

_PROCESSOR = '''"""Chaos processor: its effect row commits with COMPLETED; sometimes too slow."""

import hashlib
import json
import os
import time
import uuid


def process(record, effects):
    key = record["messageAttributes"]["sqsidem-key"]["stringValue"]
    if {poison!r} in record["body"]:
        raise RuntimeError("poison message " + key)
    attempt = int(record["attributes"]["ApproximateReceiveCount"])
    draw = int(hashlib.sha256(f"{{key}}/{{attempt}}".encode()).hexdigest()[:8], 16) % 1000
    if attempt <= 2 and draw < {slow}:
        time.sleep({sleep})  # past the function timeout: the worker process is killed
    body = json.loads(record["body"])
    effects.put(
        {table!r},
        {{
            "effect_id": uuid.uuid4().hex,
            "key": key,
            "group": record["attributes"]["MessageGroupId"],
            "seq": body["seq"],
            "message_id": record["messageId"],
            "receive_count": attempt,
            "pid": os.getpid(),
            "at_ms": time.time_ns() // 1_000_000,
        }},
        condition="attribute_not_exists(effect_id)",
    )
'''


def _send(aws: Aws, url: str, stack: str) -> tuple[list[tuple[str, str]], list[str]]:
    keys = [(f"{stack}-k{n:03d}", f"g{n % GROUPS:02d}") for n in range(MESSAGES)]
    poison = [f"{stack}-poison{n}" for n in range(POISON)]
    entries: list[Any] = [
        {
            "MessageBody": json.dumps({"seq": n, "key": key}),
            "MessageGroupId": group,
            "MessageDeduplicationId": key,
            "MessageAttributes": key_attribute(key),
        }
        for n, (key, group) in enumerate(keys)
    ]
    entries += [
        {
            "MessageBody": json.dumps({"seq": 0, "body": POISON_MARKER}),
            "MessageGroupId": f"poison-{n}",
            "MessageDeduplicationId": key,
            "MessageAttributes": key_attribute(key),
        }
        for n, key in enumerate(poison)
    ]
    for start in range(0, len(entries), 10):
        chunk = [{"Id": str(i), **e} for i, e in enumerate(entries[start : start + 10])]
        sent = aws.sqs.send_message_batch(QueueUrl=url, Entries=chunk)
        assert len(sent.get("Successful", [])) == len(chunk), sent
    return keys, poison


def _set_failpoints(aws: Aws, function: str, seed: int) -> None:
    configuration = aws.lambda_.get_function_configuration(FunctionName=function)
    env = dict(configuration.get("Environment", {}).get("Variables", {}))
    env[ENV_FAILPOINT] = FAILPOINTS
    env[ENV_FAILPOINT_SEED] = str(seed)
    aws.lambda_.update_function_configuration(FunctionName=function, Environment={"Variables": env})


@pytest.mark.slow
def test_deployed_function_exactly_once_under_kills_and_timeouts(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmp_path: Path, chaos_seed: int
) -> None:
    names = names_for(stack_name)
    effects = f"effects-{stack_name}"
    create_effects_table(local_aws, effects)
    processor = tmp_path / "chaos_processor.py"
    processor.write_text(
        _PROCESSOR.format(
            poison=POISON_MARKER, slow=SLOW_PER_MILLE, sleep=TIMEOUT_S + 0.5, table=effects
        ),
        encoding="utf-8",
    )
    setup = ["--local", "--stack", stack_name, "setup", "--timeout", str(TIMEOUT_S)]
    setup += ["--visibility-timeout", str(VISIBILITY_S), "--batch-size", "10"]
    setup += ["--max-receive-count", str(MAX_RECEIVE_COUNT), "--effects-table", effects]
    built = run_cli([*setup, "--processor", f"{processor}:process"])
    assert built.exit_code == 0, built.stderr
    # Before any message: no warm worker process has the old environment.
    _set_failpoints(local_aws, names.function, chaos_seed)
    url = local_aws.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    dlq = local_aws.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]
    print(f"\nfunction chaos seed {chaos_seed} (replay: --seed {chaos_seed})")
    keys, poison = _send(local_aws, url, stack_name)

    drained = poll(
        lambda: queue_total(local_aws, url) == 0 and queue_total(local_aws, dlq) == POISON,
        DEADLINE_S,
        interval_s=1.0,
    )
    assert drained, (
        f"not drained after {DEADLINE_S:.0f} s: queue {queue_total(local_aws, url)}, "
        f"dlq {queue_total(local_aws, dlq)}"
    )
    rows = effect_rows(local_aws, effects)
    locks = lock_items(local_aws, names.table)
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_key.setdefault(str(row["key"]), []).append(row)
    problems: list[str] = []
    for key, _ in keys:
        lock = locks.get(key) or {}
        got = by_key.get(key, [])
        if len(got) != 1:
            problems.append(f"{key}: {len(got)} effects")
        elif (got[0]["message_id"], got[0]["receive_count"]) != (
            lock.get("message_id"),
            lock.get("receive_count"),
        ):
            problems.append(f"{key}: effect {got[0]} is not the completing attempt's {lock}")
        if lock.get("status") != "COMPLETED":
            problems.append(f"{key}: lock {lock}")
    for key in poison:
        lock = locks.get(key)
        live = lock is not None and lock.get("status") == "IN_PROGRESS"
        if live and int(lock["in_progress_expiration"]) >= time.time_ns() // 1_000_000:
            problems.append(f"{key}: poison lock still live: {lock}")
    assert problems == [], "\n".join(problems[:20])
    assert not [r for r in rows if r["key"] in poison], "a poison message had an effect"
    # Within each group, the effects were committed in the order sent.
    for group in {g for _, g in keys}:
        committed = sorted((r for r in rows if r["group"] == group), key=lambda r: r["at_ms"])
        seqs = [int(r["seq"]) for r in committed]
        assert seqs == sorted(seqs), f"group {group} committed out of order: {seqs}"
    assert sorted(drain_keys(local_aws, dlq)) == sorted(poison)
    receives = [int(lock.get("receive_count") or 0) for k, lock in locks.items() if k not in poison]
    # The chaos happened: kills and timeouts made some batches come back.
    assert any(r > 1 for r in receives), "no attempt was retried: no fault fired"
    stale_poison = sum(1 for k in poison if (locks.get(k) or {}).get("status") == "IN_PROGRESS")
    report(
        "deployed-function chaos (pipelined locks, parallel groups)",
        f"seed {chaos_seed}; {MESSAGES} messages in {GROUPS} groups + {POISON} poison; "
        f"failpoints {FAILPOINTS}, {SLOW_PER_MILLE}/1000 slow attempts (> {TIMEOUT_S} s "
        f"timeout)\neffects {len(rows)} = keys {MESSAGES}, each exactly once, in order per "
        f"group; poison effects 0; DLQ = the {POISON} poison messages\n"
        f"max receive count of a completed key {max(receives, default=0)}; attempts that "
        f"needed a retry {sum(1 for r in receives if r > 1)}; poison locks left stale "
        f"(never live) {stale_poison}",
    )
