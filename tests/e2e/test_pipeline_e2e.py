"""Issue 4, end to end on ministack: a mixed batch (new, duplicate, poison) through the
deployed function and through `sqsidem worker`.

The duplicate repeats an already-COMPLETED `sqsidem-key` under a fresh dedup id (so SQS
delivers it and the lock must catch it); the poison message sits in its own group and its
processor always raises. Expected: the new key COMPLETED, the duplicate skipped (its effect
happened once), the poison in the DLQ after max receives (2) while its batch-mates are
COMPLETED and not in the DLQ. Effects are rows of a separate table, one per execution.
"""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from sqsidem.aws import Aws
from sqsidem.consumer.decisions import parse_decision
from sqsidem.names import StackNames, names_for
from sqsidem.worker.run import WorkerRequest, run_for_stack
from tests.backend import Ministack
from tests.proofs.helpers import (
    FAST_SETUP,
    POISON_MARKER,
    create_effects_table,
    drain_keys,
    effects_by_key,
    key_attribute,
    lock_states,
    queue_total,
    run_cli,
    write_effects_processor,
)
from tests.waiting import wait_until

DEADLINE_S = 40


def _prepare(
    aws: Aws, ministack: Ministack, stack: str, tmp_path: Path, *setup_flags: str
) -> tuple[StackNames, str, str, str]:
    """The effects table, the processor, the stack: (names, effects table, queue, processor)."""
    names = names_for(stack)
    effects = f"effects-{stack}"
    create_effects_table(aws, effects)
    processor = write_effects_processor(tmp_path / "effects.py", ministack.endpoint, effects)
    setup = ["--local", "--stack", stack, "setup", *FAST_SETUP, "--processor", processor]
    built = run_cli([*setup, *setup_flags])
    assert built.exit_code == 0, built.stderr
    return names, effects, _urls(aws, names)[0], processor


def _entry(ident: str, key: str, group: str, dedup: str, body: str) -> Any:
    return {
        "Id": ident,
        "MessageBody": json.dumps({"key": key, "body": body}),
        "MessageGroupId": group,
        "MessageDeduplicationId": dedup,
        "MessageAttributes": key_attribute(key),
    }


def _send_first(aws: Aws, url: str) -> None:
    aws.sqs.send_message_batch(
        QueueUrl=url,
        Entries=[_entry("0", "k-dup", "g1", "dedup-first", "first")],
    )


def _send_mixed_batch(aws: Aws, url: str) -> None:
    """One SendMessageBatch so the three arrive together: new + duplicate in g1, poison alone."""
    response = aws.sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            _entry("0", "k-new", "g1", "dedup-new", "new"),
            _entry("1", "k-dup", "g1", "dedup-repeat", "repeat of k-dup"),
            _entry("2", "k-poison", "gp", "dedup-poison", POISON_MARKER),
        ],
    )
    assert len(response.get("Successful", [])) == 3, response


def _urls(aws: Aws, names: StackNames) -> tuple[str, str]:
    return (
        aws.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"],
        aws.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"],
    )


def _wait_for_outcome(aws: Aws, names: StackNames, effects: str) -> None:
    url, dlq = _urls(aws, names)
    wait_until(
        lambda: (
            lock_states(aws, names.table).get("k-new") == "COMPLETED"
            and queue_total(aws, dlq) == 1
            and queue_total(aws, url) == 0
        ),
        DEADLINE_S,
        "k-new COMPLETED, the poison in the DLQ and the queue empty",
    )


def _assert_outcome(aws: Aws, names: StackNames, effects: str) -> None:
    url, dlq = _urls(aws, names)
    # The duplicate's effect happened once (the first delivery), the poison's never.
    assert effects_by_key(aws, effects) == {"k-dup": 1, "k-new": 1}
    states = lock_states(aws, names.table)
    assert states == {"k-dup": "COMPLETED", "k-new": "COMPLETED"}, states  # poison released
    assert drain_keys(aws, dlq) == ["k-poison"]
    assert queue_total(aws, url) == 0


@pytest.mark.slow
def test_deployed_function_processes_a_mixed_batch(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmp_path: Path
) -> None:
    names, effects, url, _ = _prepare(local_aws, ministack, stack_name, tmp_path)

    _send_first(local_aws, url)
    wait_until(
        lambda: lock_states(local_aws, names.table).get("k-dup") == "COMPLETED",
        DEADLINE_S,
        "the first k-dup to complete",
    )
    _send_mixed_batch(local_aws, url)
    _wait_for_outcome(local_aws, names, effects)
    _assert_outcome(local_aws, names, effects)

    def duplicate_logged() -> bool:
        events = local_aws.logs.filter_log_events(logGroupName=names.log_group)["events"]
        decisions = [parse_decision(e["message"]) for e in events]
        return any(
            d is not None and d["decision"] == "duplicate" and d["transaction_id"] == "k-dup"
            for d in decisions
        )

    wait_until(duplicate_logged, DEADLINE_S, "the function's `duplicate` decision for k-dup")


@pytest.mark.slow
def test_worker_processes_a_mixed_batch(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmp_path: Path
) -> None:
    """`setup --no-trigger`, then `run_for_stack` in a thread until the outcome, then stop."""
    names, effects, url, processor = _prepare(
        local_aws, ministack, stack_name, tmp_path, "--no-trigger"
    )

    stop = threading.Event()
    decisions = io.StringIO()
    failure: list[BaseException] = []
    request = WorkerRequest(processor=processor, batch_size=3, wait_time_s=1)

    def work() -> None:
        try:
            run_for_stack(
                local_aws,
                names,
                request,
                stop=stop,
                emit=lambda line: decisions.write(line + "\n"),
                env={},
            )
        except BaseException as exc:  # surfaced below in the test's thread
            failure.append(exc)

    worker = threading.Thread(target=work, name="e2e-worker", daemon=True)
    worker.start()
    try:
        _send_first(local_aws, url)
        wait_until(
            lambda: (
                lock_states(local_aws, names.table).get("k-dup") == "COMPLETED" or bool(failure)
            ),
            DEADLINE_S,
            "the first k-dup to complete",
        )
        _send_mixed_batch(local_aws, url)
        _wait_for_outcome(local_aws, names, effects)
    finally:
        stop.set()
        worker.join(15)
    assert not worker.is_alive(), "the worker did not stop"
    assert failure == []
    _assert_outcome(local_aws, names, effects)

    lines = [parse_decision(line) for line in decisions.getvalue().splitlines()]
    seen = [(d["decision"], d["transaction_id"]) for d in lines if d is not None]
    assert ("duplicate", "k-dup") in seen
    assert ("completed", "k-new") in seen
    assert seen.count(("completed", "k-dup")) == 1
    assert seen.count(("failed", "k-poison")) == 2  # max receive count 2, then the DLQ
