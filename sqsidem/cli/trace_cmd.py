"""`sqsidem trace ID`: what happened to one transaction."""

from typing import Annotated

import typer

from sqsidem.cli.context import app_context


def trace(
    ctx: typer.Context,
    transaction_id: Annotated[str, typer.Argument(help="The transaction id (the message key).")],
    since: Annotated[
        str, typer.Option(help="How far back to read the logs: 1h, 2d, or ISO.")
    ] = "24h",
    peek_queue: Annotated[
        bool,
        typer.Option(
            "--peek-queue/--no-peek-queue",
            help=(
                "Also receive from the main queue to find the message: each receive counts "
                "toward maxReceiveCount, so it stops at a message one receive short of it."
            ),
        ),
    ] = False,
) -> None:
    """Show the lock, the queue/DLQ position and the consumer's decisions for one id.

    Read-only by default: the main queue's depth comes from its attributes, nothing is
    received from it; the message's fate comes from the lock and the logs.
    """
    from sqsidem.render.trace import show_trace, warn_peek
    from sqsidem.trace import trace_known

    app = app_context(ctx)
    if peek_queue:
        warn_peek(app.render)
    found = trace_known(app.aws, app.names, transaction_id, since=since, peek_queue=peek_queue)
    show_trace(app.render, found)


def register(app: typer.Typer) -> None:
    app.command()(trace)
