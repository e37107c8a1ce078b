"""`sqsidem trace ID`: what happened to one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.render import Renderer

if TYPE_CHECKING:
    from sqsidem.trace import Trace


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
            help="Also look into the main queue (counts as one receive of each message there).",
        ),
    ] = True,
) -> None:
    """Show the lock, the queue/DLQ position and the consumer's decisions for one id."""
    import time

    from sqsidem.errors import NotFoundError
    from sqsidem.timeparse import parse_since
    from sqsidem.trace import trace as gather

    app = app_context(ctx)
    now = time.time()
    since_s = now - parse_since(since, now)
    result = gather(app.aws(), app.names, transaction_id, since_s=since_s, peek_queue=peek_queue)
    if not result.found_anything:
        raise NotFoundError(
            f"nothing known about transaction {transaction_id!r} in stack {app.names.stack!r}",
            f"check the id, or search further back with --since (searched {since})",
        )

    show_trace(app.render, result)


def show_trace(render: Renderer, result: Trace) -> None:
    """The lock, the queues, the decisions, and a one-line story (also used by `demo`)."""
    transaction_id = result.transaction_id
    if render.json:
        render.emit(result.as_dict())
    else:
        render.line(f"transaction {transaction_id}")
        lock = result.lock_dict()
        if lock is not None:
            timing = ", ".join(
                f"{name.replace('_', ' ')} {lock[name]}"
                for name in ("first_seen", "in_progress_deadline", "completed", "expires")
                if lock[name]
            )
            render.line(
                f"  lock      {lock['state']} ({lock['status'] or 'tutorial format'}) {timing}"
            )
        for message in result.in_dlq:
            render.line(f"  DLQ       message {message.message_id} group {message.group_id}")
        for message in result.in_queue:
            render.line(f"  queue     message {message.message_id} group {message.group_id}")
        for decision in result.decisions or []:
            error = f" {decision.error}" if decision.error else ""
            render.line(
                f"  {decision.as_dict()['time']}  {decision.decision:<14} "
                f"message {decision.message_id} receive {decision.receive_count}{error}"
            )
        render.line("story: " + "; ".join(result.story()))
        for note in result.notes:
            render.note(note)


def register(app: typer.Typer) -> None:
    app.command()(trace)
