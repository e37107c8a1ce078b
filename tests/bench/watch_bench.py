"""watch: API calls per refresh, and `watch --once` on a table of 100k locks (scan budget).

The lock scan must stay within its budget (5,000 items, pages of 1,000) however big the
table is: the figures record the calls of a first refresh (scan + metric + URL lookups), of
a plain refresh, the items one scan read, and the wall time of `watch --once -o json`.
"""

from __future__ import annotations

import json

from tests.bench.core import Report, cli, counting_aws, local_backend, run_child, unique
from tests.bench.locks_bench import seed


def _setup(endpoint: str, stack: str) -> str | None:
    run = run_child(
        cli(endpoint, "setup", "--timeout", "2", "--visibility-timeout", "4", stack=stack)
    )
    return None if run.ok() else run.why()


def bench_refresh_calls(report: Report, endpoint: str, stack: str) -> None:
    """In process: calls by operation for the first refresh and for plain ones."""
    from sqsidem.names import names_for
    from sqsidem.watch.sampler import WatchBudget, Watcher

    clock = [0.0]
    aws = counting_aws(endpoint)
    budget = WatchBudget()
    watcher = Watcher(aws, names_for(stack), budget, monotonic=lambda: clock[0])
    aws.reset()
    first = watcher.sample()
    first_calls = aws.reset()
    plain = []
    for _ in range(3):
        clock[0] += budget.interval_s
        watcher.sample()
        plain.append(sum(aws.reset().values()))
    fast, slow = budget.calls_per_refresh()
    scans = first_calls.get("dynamodb:Scan", 0)
    report.add(
        "watch.calls.first_refresh",
        sum(first_calls.values()),
        "calls",
        note=f"stated <= {slow} + 3 lookups; {dict(first_calls)}",
    )
    report.add("watch.calls.refresh", max(plain), "calls", note=f"stated <= {fast}")
    report.add("watch.scan.calls", scans, "calls", note="Scan pages in one lock refresh")
    locks = first.locks
    scanned = getattr(locks, "scanned", None)
    report.add(
        "watch.scan.items",
        scanned,
        "items",
        note=f"budget {budget.lock_items:,}; capped={getattr(locks, 'capped', None)}",
    )
    holds = (
        scanned is not None
        and scanned <= budget.lock_items
        and sum(first_calls.values()) <= slow + 3
        and max(plain) <= fast
    )
    report.add("watch.budget_holds", 1.0 if holds else 0.0, "bool", note="1 = every bound held")


def bench_once(report: Report, endpoint: str, stack: str, count: int) -> None:
    run = run_child(cli(endpoint, "-o", "json", "watch", "--once", stack=stack))
    if not run.ok():
        report.na("watch.once", run.why())
        return
    snap = json.loads(run.stdout_lines[0])
    report.add("watch.once.wall", run.wall_s, "s", note=f"{count:,} locks, whole CLI run")
    report.add("watch.once.api_calls", snap["api_calls"], "calls")
    report.add("watch.once.peak_rss", run.max_rss_mb, "MB")


def run(report: Report) -> None:
    count = 10_000 if report.quick else 100_000
    with local_backend() as endpoint:
        stack = unique("bw")
        problem = _setup(endpoint, stack)
        if problem is not None:
            report.na("watch", f"setup failed: {problem}")
            return
        seed_s = seed(endpoint, f"Idempotent-{stack}", count)
        report.add("watch.seed", count / seed_s, "items/s", note=f"{count:,} locks")
        bench_refresh_calls(report, endpoint, stack)
        bench_once(report, endpoint, stack, count)
