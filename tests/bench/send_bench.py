"""1. send: `sqsidem send` vs one SendMessage per message vs plain boto3 batches from threads.

Each measurement gets a fresh FIFO queue (the emulator's FIFO sends slow down with the dedup
ids a queue saw recently). Every sender runs directly against the backend and through the
10 ms loopback link.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from typing import Any

from tests.bench.core import (
    Report,
    Unavailable,
    body_of,
    cli,
    fresh_fifo_queue,
    interpreter_start_s,
    json_lines,
    link_to,
    local_backend,
    make_aws,
    require_command,
    run_child,
)

GROUPS = 16  # enough groups that 8 parallel senders all have work in every design
THREADS = 8
CLI_CONCURRENCY = 8
TEMPLATE = (
    '{"transaction_id": "{uuid}", "seq": {seq}, "group": "{group}", "sent_at": "{ts}", '
    '"note": "sqsidem benchmark message, padded to about two hundred bytes.........."}'
)


def naive_loop(endpoint: str, url: str, count: int) -> tuple[float, int]:
    """The sqsSend.php way: one SendMessage call per message, one after another."""
    sqs = make_aws(endpoint).sqs
    started = time.perf_counter()
    for seq in range(count):
        dedup = uuid.uuid4().hex
        sqs.send_message(
            QueueUrl=url,
            MessageBody=body_of(seq),
            MessageGroupId=f"g{seq % GROUPS}",
            MessageDeduplicationId=dedup,
        )
    return time.perf_counter() - started, count


def plain_batches(endpoint: str, url: str, count: int) -> tuple[float, int]:
    """Plain boto3: batches of 10 handed to 8 threads (no ordering care, no retries)."""
    sqs = make_aws(endpoint).sqs
    work: queue.Queue[list[dict[str, Any]]] = queue.Queue()
    for start in range(0, count, 10):
        work.put(
            [
                {
                    "Id": str(i),
                    "MessageBody": body_of(seq),
                    "MessageGroupId": f"g{seq % GROUPS}",
                    "MessageDeduplicationId": uuid.uuid4().hex,
                }
                for i, seq in enumerate(range(start, min(count, start + 10)))
            ]
        )
    calls = [0]
    failed = [0]
    mutex = threading.Lock()

    def run() -> None:
        while True:
            try:
                entries = work.get_nowait()
            except queue.Empty:
                return
            answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
            with mutex:
                calls[0] += 1
                failed[0] += len(answer.get("Failed", []))

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failed[0]:
        raise RuntimeError(f"plain sender: {failed[0]} entries failed")
    return elapsed, calls[0]


def sqsidem_send(endpoint: str, queue_name: str, count: int) -> dict[str, float]:
    """`sqsidem send` as a user runs it; its own work from its JSON summary on stderr."""
    argv = cli(
        endpoint,
        "-o",
        "json",
        "send",
        "--queue",
        queue_name,
        "--count",
        str(count),
        "--groups",
        str(GROUPS),
        "--template",
        TEMPLATE,
        "--concurrency",
        str(CLI_CONCURRENCY),
    )
    run = run_child(argv, timeout_s=600)
    if not run.ok():
        raise RuntimeError(f"sqsidem send failed: {run.why()}")
    summaries = [s for s in json_lines(run.stderr) if "msgs_per_s" in s]
    sent_lines = [line for line in json_lines("\n".join(run.stdout_lines)) if line.get("ok")]
    figures = {"wall_s": run.wall_s, "sent_lines": float(len(sent_lines))}
    if summaries:
        summary = summaries[-1]
        figures["elapsed_s"] = float(summary["elapsed_s"])
        figures["api_calls"] = float(summary["api_calls"])
        figures["sent"] = float(summary["sent"])
    else:  # no summary: the command's own work is the wall time minus interpreter start
        figures["elapsed_s"] = max(1e-6, run.wall_s - interpreter_start_s())
        figures["sent"] = float(len(sent_lines))
    return figures


def run(report: Report) -> None:
    count = 500 if report.quick else 2000
    try:
        require_command("send", options=("--queue", "--count", "--concurrency", "--groups"))
        cli_problem = None
    except Unavailable as exc:
        cli_problem = str(exc)
    with local_backend() as endpoint:
        setup_aws = make_aws(endpoint)
        with link_to(endpoint) as proxy:
            for link, url in (("loopback", endpoint), ("link10ms", proxy.url)):
                prefix = f"send.{link}"
                naive_s, _ = naive_loop(url, fresh_fifo_queue(setup_aws, "naive"), count)
                naive = count / naive_s
                report.add(f"{prefix}.naive_loop", naive, "msgs/s", note="1 call/msg")
                plain_s, plain_calls = plain_batches(
                    url, fresh_fifo_queue(setup_aws, "plain"), count
                )
                plain = count / plain_s
                report.add(f"{prefix}.plain_batch8", plain, "msgs/s", baseline=("naive", naive))
                report.add(f"{prefix}.plain_batch8.calls_per_msg", plain_calls / count, "calls")
                if cli_problem is not None:
                    report.na(f"{prefix}.sqsidem", cli_problem)
                    continue
                queue_url = fresh_fifo_queue(setup_aws, "cli")
                try:
                    got = sqsidem_send(url, queue_url.rsplit("/", 1)[-1], count)
                except RuntimeError as exc:
                    report.na(f"{prefix}.sqsidem", str(exc))
                    continue
                rate = got["sent"] / got["elapsed_s"]
                on_link = link == "link10ms"
                report.add(
                    f"{prefix}.sqsidem",
                    rate,
                    "msgs/s",
                    baseline=("naive", naive),
                    note="target >= 40x naive" if on_link else "target >= 5x naive",
                )
                report.add(
                    f"{prefix}.sqsidem_vs_plain",
                    rate / plain,
                    "ratio",
                    note="target >= 0.80" if on_link else None,
                )
                report.add(
                    f"{prefix}.sqsidem.wall",
                    got["wall_s"],
                    "s",
                    note="whole CLI run incl. interpreter start",
                )
                report.add(
                    f"{prefix}.sqsidem.start_overhead",
                    max(0.0, got["wall_s"] - got["elapsed_s"]),
                    "s",
                    note="wall minus the command's own send time",
                )
                if "api_calls" in got:
                    report.add(
                        f"{prefix}.sqsidem.calls_per_msg",
                        got["api_calls"] / max(1.0, got["sent"]),
                        "calls",
                        note="target <= 0.11",
                    )
                report.add(
                    f"{prefix}.sqsidem.json_lines_ok",
                    got["sent_lines"],
                    "lines",
                    note=f"of {count}",
                )
