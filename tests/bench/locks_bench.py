"""2. locks: `locks clear --all --yes` vs a DeleteItem loop; `locks list -o json` at scale."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from tests.bench.core import (
    Report,
    Unavailable,
    cli,
    link_to,
    local_backend,
    make_aws,
    require_command,
    run_child,
    unique,
)

SEED_THREADS = 8


def create_table(endpoint: str, stack: str) -> str:
    table = f"Idempotent-{stack}"
    dynamodb = make_aws(endpoint).dynamodb
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=table)
    return table


def lock_item(index: int, now_ms: int) -> dict[str, Any]:
    """A COMPLETED lock as the consumer writes it (DESIGN 6.3)."""
    return {
        "transaction_id": {"S": f"tx-{index:07d}"},
        "status": {"S": "COMPLETED"},
        "in_progress_expiration": {"N": str(now_ms + 30_000)},
        "expiration": {"N": str(now_ms // 1000 + 7 * 86400)},
        "owner": {"S": "bench"},
        "message_id": {"S": f"m-{index}"},
        "group_id": {"S": f"g{index % 10}"},
        "receive_count": {"N": "1"},
        "first_seen_ms": {"N": str(now_ms)},
        "completed_ms": {"N": str(now_ms + 5)},
    }


def seed(endpoint: str, table: str, count: int) -> float:
    """BatchWriteItem in 25s from threads; returns the seconds it took."""
    dynamodb = make_aws(endpoint).dynamodb
    now_ms = int(time.time() * 1000)
    work: queue.Queue[int] = queue.Queue()
    for start in range(0, count, 25):
        work.put(start)

    def run() -> None:
        while True:
            try:
                start = work.get_nowait()
            except queue.Empty:
                return
            requests: Any = [
                {"PutRequest": {"Item": lock_item(i, now_ms)}}
                for i in range(start, min(count, start + 25))
            ]
            while requests:
                answer = dynamodb.batch_write_item(RequestItems={table: requests})
                requests = answer.get("UnprocessedItems", {}).get(table, [])

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(SEED_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def delete_loop(endpoint: str, table: str, count: int) -> float:
    """The naive clear: one DeleteItem per known key, one after another."""
    dynamodb = make_aws(endpoint).dynamodb
    started = time.perf_counter()
    for index in range(count):
        dynamodb.delete_item(TableName=table, Key={"transaction_id": {"S": f"tx-{index:07d}"}})
    return time.perf_counter() - started


def item_count(endpoint: str, table: str) -> int:
    dynamodb = make_aws(endpoint).dynamodb
    total = 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT"):
        total += page["Count"]
    return total


def bench_clear(report: Report, endpoint: str, proxy_url: str, count: int) -> None:
    try:
        require_command("locks", "clear", options=("--all", "--yes"))
        problem = None
    except Unavailable as exc:
        problem = str(exc)
    for link, url in (("loopback", endpoint), ("link10ms", proxy_url)):
        prefix = f"locks.clear.{link}"
        stack = unique("bl")
        table = create_table(endpoint, stack)
        seed(endpoint, table, count)
        loop_s = delete_loop(url, table, count)
        loop_rate = count / loop_s
        report.add(f"{prefix}.deleteitem_loop", loop_rate, "locks/s", note=f"{count} locks")
        if problem is not None:
            report.na(f"{prefix}.sqsidem", problem)
            continue
        # The same command on an empty table: interpreter start, imports, table lookup.
        empty = unique("bl")
        create_table(endpoint, empty)
        fixed = run_child(cli(url, "locks", "clear", "--all", "--yes", stack=empty))
        stack = unique("bl")
        table = create_table(endpoint, stack)
        seed(endpoint, table, count)
        run = run_child(cli(url, "locks", "clear", "--all", "--yes", stack=stack))
        left = item_count(endpoint, table)
        if not run.ok() or left:
            report.na(f"{prefix}.sqsidem", f"{run.why()}; {left} left")
            continue
        own_s = max(1e-3, run.wall_s - fixed.wall_s)
        report.add(
            f"{prefix}.sqsidem",
            count / own_s,
            "locks/s",
            baseline=("deleteitem loop", loop_rate),
            note="wall minus the same command on an empty table; "
            "target >= 10x loopback, >= 20x link",
        )
        report.add(
            f"{prefix}.sqsidem.incl_start",
            count / run.wall_s,
            "locks/s",
            baseline=("deleteitem loop", loop_rate),
            note=f"whole CLI run, {run.wall_s:.2f} s",
        )
        report.add(
            f"{prefix}.sqsidem.fixed_cost", fixed.wall_s, "s", note="same command on an empty table"
        )


def bench_list(report: Report, endpoint: str, count: int) -> None:
    try:
        require_command("locks", "list")
    except Unavailable as exc:
        report.na("locks.list", str(exc))
        return
    stack = unique("bl")
    table = create_table(endpoint, stack)
    seed_s = seed(endpoint, table, count)
    report.add(
        "locks.list.seed",
        count / seed_s,
        "items/s",
        note=f"BatchWriteItem from {SEED_THREADS} threads, {count} locks",
    )
    run = run_child(cli(endpoint, "-o", "json", "locks", "list", stack=stack), keep_stdout=False)
    if not run.ok():
        report.na("locks.list", run.why())
        return
    rows = len(run.stdout_lines)
    report.add("locks.list.rows", rows, "rows", note=f"of {count}")
    report.add("locks.list.wall", run.wall_s, "s", note=f"{count} locks")
    report.add("locks.list.first_row", run.first_line_s, "s", note="target < 1 s")
    report.add("locks.list.peak_rss", run.max_rss_mb, "MB", note="target < 150 MB")
    report.add("locks.list.rate", rows / run.wall_s, "rows/s")


def run(report: Report) -> None:
    clear_count = 2000 if report.quick else 10_000
    list_count = 10_000 if report.quick else 100_000
    with (
        local_backend() as endpoint,
        link_to(endpoint) as proxy,
    ):
        bench_clear(report, endpoint, proxy.url, clear_count)
        bench_list(report, endpoint, list_count)
