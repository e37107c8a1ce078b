"""`sqsidem worker`: consume the queue without Lambda, with the event source mapping's semantics."""

from typing import Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.cli.options import RequirementsOption
from sqsidem.render.worker import WorkerView


def worker(
    ctx: typer.Context,
    processor: Annotated[
        str | None,
        typer.Option(
            help="path/file.py:function, package_dir/module.py:function or dir:module.function "
            "to run per record (default: as deployed)."
        ),
    ] = None,
    requirements: RequirementsOption = None,
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
        typer.Option(
            help="Message groups processed at once (each in order); batches held, plus one "
            "received ahead."
        ),
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
    from sqsidem.worker.run import WorkerRequest, run_until_interrupted

    app = app_context(ctx)
    request = WorkerRequest(
        queue=queue,
        processor=processor,
        requirements=requirements,
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
    view = WorkerView(app.render)
    view.stopped(run_until_interrupted(app.aws(), app.names, request, view))


def register(app: typer.Typer) -> None:
    app.command()(worker)
