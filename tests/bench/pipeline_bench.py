"""4. pipeline latency: a stack with batch size 10, 100 messages over 10 groups, time from
send to the COMPLETED lock (the lock's own ``completed_ms`` against the send time)."""

from __future__ import annotations

import time
import uuid

from tests.bench.core import (
    Report,
    Unavailable,
    cli,
    command_options,
    local_backend,
    make_aws,
    percentile,
    run_child,
    unique,
    wait_until,
)
from tests.bench.setup_bench import setup_stack
from tests.bench.worker_bench import keyed_entries

MESSAGES = 100
TIMEOUT_S = 3


def stand_up(endpoint: str, stack: str) -> str:
    """`sqsidem setup --batch-size 10` when the command exists, else its library function."""
    options = command_options("setup")
    if options is not None and "--batch-size" in options:
        run = run_child(
            cli(endpoint, "setup", "--batch-size", "10", "--timeout", str(TIMEOUT_S), stack=stack)
        )
        if not run.ok():
            raise RuntimeError(f"sqsidem setup failed: {run.why()}")
        return "sqsidem setup"
    setup_stack(endpoint, stack, batch_size=10, timeout_s=TIMEOUT_S)
    return "setup library (CLI not registered yet)"


def completed(endpoint: str, table: str) -> dict[str, int]:
    dynamodb = make_aws(endpoint).dynamodb
    done: dict[str, int] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            status = item.get("status", {}).get("S")
            if status == "COMPLETED" and "completed_ms" in item:
                done[item["transaction_id"]["S"]] = int(item["completed_ms"]["N"])
    return done


def run(report: Report) -> None:
    with local_backend() as endpoint:
        stack = unique("bp")
        try:
            how = stand_up(endpoint, stack)
        except Unavailable as exc:
            report.na("pipeline.latency", str(exc))
            return
        except Exception as exc:
            report.na("pipeline.latency", f"setup: {type(exc).__name__}: {exc}"[:200])
            return
        from sqsidem.names import names_for

        names = names_for(stack)
        aws = make_aws(endpoint)
        url = aws.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
        sent_ms: dict[str, int] = {}
        for start in range(0, MESSAGES, 10):
            entries = keyed_entries(
                range(start, start + 10), lambda seq: f"lat-{seq:03d}-{uuid.uuid4().hex[:8]}"
            )
            before = int(time.time() * 1000)
            answer = aws.sqs.send_message_batch(QueueUrl=url, Entries=entries)
            if answer.get("Failed"):
                report.na("pipeline.latency", f"send failed: {answer['Failed'][0]}")
                return
            for entry in entries:
                sent_ms[entry["MessageDeduplicationId"]] = before
        seen: dict[str, int] = {}

        def all_done() -> bool:
            seen.update(completed(endpoint, names.table))
            return all(key in seen for key in sent_ms)

        finished = wait_until(all_done, timeout_s=120, interval_s=0.25)
        latencies = [(seen[k] - sent_ms[k]) / 1000 for k in sent_ms if k in seen]
        if not latencies:
            report.na("pipeline.latency", "no message reached a COMPLETED lock within 120 s")
            return
        note = f"{len(latencies)} of {MESSAGES} completed; stack by {how}"
        if not finished:
            note += "; TIMED OUT waiting for the rest"
        report.add(
            "pipeline.latency.p50", percentile(latencies, 0.50), "s", note=note + "; target < 1 s"
        )
        report.add("pipeline.latency.p95", percentile(latencies, 0.95), "s", note="target < 2 s")
        report.add("pipeline.latency.max", max(latencies), "s")
