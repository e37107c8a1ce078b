"""`sqsidem worker`: consume the queue without Lambda, with the event source mapping's semantics."""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Annotated

import typer

from sqsidem.cli.context import app_context


def worker(
    ctx: typer.Context,
    processor: Annotated[
        str | None,
        typer.Option(help="path/to/file.py:function to run per record (default: as deployed)."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="Key fallback: dedup | message-id | body:<field> (default: deployed)."),
    ] = None,
    lock_ttl: Annotated[
        int | None, typer.Option("--lock-ttl", help="Seconds a lock record lives.")
    ] = None,
    queue: Annotated[
        str | None, typer.Option(help="Queue name or URL (default: the stack's queue).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Messages per batch, 1..10.")] = 10,
    concurrency: Annotated[
        int,
        typer.Option(help="Records processed at once (message groups in order) and batches held."),
    ] = 1,
    wait_time: Annotated[int, typer.Option(help="Long-poll seconds, 0..20.")] = 20,
    visibility_timeout: Annotated[
        int | None, typer.Option(help="Seconds a received batch stays hidden (default: queue's).")
    ] = None,
    max_messages: Annotated[
        int | None, typer.Option(help="Stop after receiving this many messages.")
    ] = None,
    idle_exit: Annotated[
        float | None, typer.Option(help="Stop after this many seconds without messages.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Poll even while an enabled mapping consumes the queue.")
    ] = False,
) -> None:
    """Poll the stack's queue and run the consumer here (the VPC-endpoint case of the tutorial)."""
    from sqsidem.worker import stop_on_signals
    from sqsidem.worker_run import WorkerRequest, run_for_stack

    app = app_context(ctx)
    request = WorkerRequest(
        queue=queue,
        processor=processor,
        key=key,
        lock_ttl_s=lock_ttl,
        batch_size=batch_size,
        concurrency=concurrency,
        wait_time_s=wait_time,
        visibility_timeout_s=visibility_timeout,
        max_messages=max_messages,
        idle_exit_s=idle_exit,
        force=force,
    )
    stop = threading.Event()
    render = app.render

    def on_start(url: str) -> None:
        render.note(f"polling {url}; Ctrl-C stops after the batches in flight (twice aborts)")

    with stop_on_signals(stop):
        stats = run_for_stack(app.aws(), app.names, request, stop=stop, on_start=on_start)
    if render.json:
        render.emit({**asdict(stats), "msgs_per_s": round(stats.msgs_per_s, 1)})
    render.info(
        f"worker stopped ({stats.stop_reason}): received {stats.received}, processed "
        f"{stats.processed}, duplicates {stats.duplicates}, failed {stats.failed}, "
        f"{stats.msgs_per_s:.1f} msgs/s"
    )


def register(app: typer.Typer) -> None:
    app.command()(worker)
