"""Commands that run until stopped (`worker`, `logs --follow`, piped `watch`; full-screen
`watch` is in test_watch_tmux.py): the first real SIGINT is their normal end (summary,
exit 0), a second aborts at once (exit 130, no traceback). The queue, the table and the
JSON lines are compared with what the child printed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqsidem.aws import Aws
from sqsidem.names import names_for
from tests.backend import Ministack
from tests.functional.support_worker import counts
from tests.support_interrupt import Child
from tests.support_locks import create_lock_table, now_ms
from tests.support_logs import write_logs
from tests.waiting import wait_until

MESSAGES = 24
SUMMARY = re.compile(r"worker stopped \(stopped\): received (\d+), processed (\d+), duplicates 0")


def _worker_stack(
    aws: Aws, stack: str, tmp_path: Path, sleep_s: float, messages: int = MESSAGES
) -> tuple[str, str]:
    """A lock table, a FIFO queue with ``messages`` messages in 3 groups, and a processor
    that takes ``sleep_s`` per record; (queue URL, processor spec)."""
    names = names_for(stack)
    create_lock_table(aws.dynamodb, names.table)
    url = aws.sqs.create_queue(
        QueueName=names.queue, Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"}
    )["QueueUrl"]
    for n in range(messages):
        aws.sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps({"n": n}),
            MessageGroupId=f"g{n % 3}",
            MessageDeduplicationId=f"k{n:03d}",
        )
    path = tmp_path / "slow.py"
    path.write_text(f"import time\n\n\ndef process(record):\n    time.sleep({sleep_s})\n")
    return url, f"{path}:process"


def _locks(aws: Aws, table: str) -> list[dict[str, Any]]:
    pages = aws.dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return [item for page in pages for item in page["Items"]]


def _statuses(aws: Aws, table: str) -> list[str]:
    return [item["status"]["S"] for item in _locks(aws, table)]


def _worker(ministack: Ministack, stack: str, processor: str, *extra: str) -> Child:
    queue = names_for(stack).queue
    args = ["worker", "--queue", queue, "--processor", processor, *extra]
    return Child.start(ministack.endpoint, stack, "-o", "json", *args)


def _wait_for_stderr(child: Child, text: str, timeout_s: float) -> None:
    wait_until(lambda: text in "".join(child.stderr), timeout_s, repr(text))


def test_worker_stops_on_ctrl_c_with_batches_in_flight_and_loses_nothing(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmp_path: Path
) -> None:
    """One SIGINT mid-run: exit 0 with the summary; every finished record COMPLETED and
    deleted, every other message visible again at once, the decision lines whole JSON."""
    url, processor = _worker_stack(local_aws, stack_name, tmp_path, sleep_s=0.3)
    table = names_for(stack_name).table
    # Every receive waits at most 1 s: one still waiting at Ctrl-C is answered in time.
    options = ("--concurrency", "2", "--batch-size", "3", "--wait-time", "1")
    child = _worker(ministack, stack_name, processor, *options)
    wait_until(lambda: _statuses(local_aws, table).count("COMPLETED") >= 3, 60, "3 records")
    child.interrupt()
    code, stderr = child.finish(timeout_s=30)

    assert code == 0, stderr
    assert "stopping: no new receive" in stderr and "Traceback" not in stderr, stderr
    summary = SUMMARY.search(stderr)
    assert summary is not None, stderr
    received, processed = int(summary.group(1)), int(summary.group(2))
    assert 3 <= processed == received < MESSAGES, stderr
    stats = json.loads("".join(child.stdout))
    assert (stats["processed"], stats["failed"], stats["stop_reason"]) == (processed, 0, "stopped")
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    completed = [line["transaction_id"] for line in lines if line["decision"] == "completed"]
    assert len(completed) == len(set(completed)) == processed
    locks = _locks(local_aws, table)
    assert sorted(item["transaction_id"]["S"] for item in locks) == sorted(completed)
    assert {item["status"]["S"] for item in locks} == {"COMPLETED"}
    assert counts(local_aws, url) == (MESSAGES - processed, 0)


def test_idle_worker_stops_on_ctrl_c_without_waiting_out_its_long_poll(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmp_path: Path
) -> None:
    """A worker in a 20 s long poll on an empty queue ends within seconds of Ctrl-C, exit 0."""
    url, processor = _worker_stack(local_aws, stack_name, tmp_path, sleep_s=0, messages=1)
    table = names_for(stack_name).table
    child = _worker(ministack, stack_name, processor, "--wait-time", "20")
    # Its one message done and deleted, the worker is back in a long poll: the case to prove.
    wait_until(
        lambda: _statuses(local_aws, table) == ["COMPLETED"] and counts(local_aws, url) == (0, 0),
        30,
        "the one message",
    )
    code, stderr, took = child.interrupt_and_finish(timeout_s=30)
    assert code == 0, stderr
    assert took < 6, f"Ctrl-C took {took:.1f} s to stop an idle worker"
    assert "worker stopped (stopped): received 1, processed 1" in stderr, stderr
    assert "long poll(s) still waiting were left" in stderr, stderr


def test_second_ctrl_c_aborts_a_worker_at_once(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmp_path: Path
) -> None:
    """A record that takes 30 s: the first SIGINT waits for it, the second ends the worker
    at once with the "interrupted" line, exit 130, no traceback."""
    _, processor = _worker_stack(local_aws, stack_name, tmp_path, sleep_s=30, messages=1)
    table = names_for(stack_name).table
    child = _worker(ministack, stack_name, processor, "--batch-size", "1", "--wait-time", "1")
    wait_until(lambda: "IN_PROGRESS" in _statuses(local_aws, table), 30, "a record in progress")
    child.interrupt()
    _wait_for_stderr(child, "stopping: no new receive", 10)
    code, stderr, took = child.interrupt_and_finish(timeout_s=30)
    assert code == 130, stderr
    assert took < 3, f"the second Ctrl-C took {took:.1f} s"
    assert "error: interrupted" in stderr and "Traceback" not in stderr, stderr


def test_logs_follow_stops_on_ctrl_c_with_a_count_and_whole_json_lines(
    local_aws: Aws, ministack: Ministack, stack_name: str
) -> None:
    """`logs --follow -o json`: one SIGINT ends it, exit 0, every line whole JSON, and the
    count on stderr is the number of lines printed."""
    group = f"/aws/lambda/{stack_name}-follow"
    start = now_ms() - 5_000
    write_logs(local_aws, group, [(start + n, f"line {n}") for n in range(5)])
    child = Child.start(
        ministack.endpoint, stack_name, "-o", "json", "logs", "--follow", "--log-group", group
    )
    child.wait_for_lines(5, timeout_s=30)
    child.interrupt()
    code, stderr = child.finish(timeout_s=15)
    assert code == 0, stderr
    events = [json.loads(line) for line in child.stdout]
    assert [event["message"] for event in events] == [f"line {n}" for n in range(5)]
    assert f"stopped following {group}: 5 event(s) shown" in stderr, stderr
    assert "Traceback" not in stderr and "error" not in stderr, stderr


def test_piped_watch_stops_on_ctrl_c_with_one_whole_line_per_refresh(
    ministack: Ministack, stack_name: str
) -> None:
    """`watch -o json` into a pipe: one SIGINT ends it, exit 0, and the refreshes it counts
    on stderr are the whole JSON lines on stdout."""
    child = Child.start(ministack.endpoint, stack_name, "-o", "json", "watch", "--interval", "1s")
    child.wait_for_lines(2, timeout_s=30)
    code, stderr, took = child.interrupt_and_finish(timeout_s=15)
    assert code == 0, stderr
    assert took < 5, f"Ctrl-C took {took:.1f} s to stop watch"
    snapshots = [json.loads(line) for line in child.stdout]
    assert {snap["stack"] for snap in snapshots} == {stack_name}
    assert f"watch stopped after {len(snapshots)} refresh(es)" in stderr, stderr
    assert "Traceback" not in stderr, stderr
