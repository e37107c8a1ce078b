"""`sqsidem dlq list|redrive|purge`: see, put back or drop the stack's dead letters."""

from typing import Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.cli.options import YesOption
from sqsidem.render.consent import require_consent

dlq_app = typer.Typer(
    help="The stack's dead-letter queue: list, redrive to the source queue, purge.",
    no_args_is_help=True,
)


@dlq_app.command("list")
def list_(
    ctx: typer.Context,
    full: Annotated[bool, typer.Option("--full", help="Show whole bodies.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Show at most N messages.")] = 100,
) -> None:
    """Show the DLQ's messages without consuming them, with their keys' lock states."""
    from sqsidem.dlq.listing import list_dlq
    from sqsidem.render.dlq import show_dlq_listing

    app = app_context(ctx)
    show_dlq_listing(app.render, list_dlq(app.aws(), app.names, limit=limit), full=full)


@dlq_app.command()
def redrive(
    ctx: typer.Context,
    yes: YesOption = False,
    rate: Annotated[
        int | None,
        typer.Option(min=1, max=500, help="Messages per second for the move task (AWS max 500)."),
    ] = None,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="Cancel the running move task instead.")
    ] = False,
    clear_locks: Annotated[
        bool,
        typer.Option(
            "--clear-locks",
            help="Release the in-progress/completed locks the dead letters took themselves "
            "first; a lock another message took (an earlier redrive's copy) is kept.",
        ),
    ] = False,
    hold: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=43200,
            help="Copying: seconds each received batch stays hidden in the DLQ. After an "
            "abort (second Ctrl-C, a crash) the batch reappears once this has passed "
            "(default 120).",
        ),
    ] = None,
) -> None:
    """Move the DLQ's messages back to the source queue (move task, or copy + delete).

    A copy leaves the DLQ only once the source queue accepted it.

    Its dedup id comes from the dead letter: a FIFO queue drops a re-run's copy for 5 minutes.

    Later, or on a standard queue, the copy arrives and the lock makes it a duplicate.

    Ctrl-C: the batch in hand is finished, the rest stays (a move task is cancelled), exit 130.
    """
    from sqsidem.dlq.redrive import cancel_redrive, check_options, run_redrive
    from sqsidem.render.dlq import RedriveView, show_cancelled

    app = app_context(ctx)
    check_options(cancel=cancel, rate=rate, clear_locks=clear_locks, hold=hold)
    if cancel:
        show_cancelled(app.render, cancel_redrive(app.aws(), app.names))
        return
    action = f"move the messages of {app.names.dlq} back to {app.names.queue}"
    require_consent(app.render, yes=yes, action=action)
    view = RedriveView(app.render, app.names, yes=yes, clear_locks=clear_locks)
    result = run_redrive(
        app.aws(), app.names, rate=rate, clear_locks=clear_locks, watch=view, hold_s=hold
    )
    view.finished(result)
    if result is not None:
        result.check()


@dlq_app.command()
def purge(ctx: typer.Context, yes: YesOption = False) -> None:
    """Delete every message in the DLQ (AWS allows one purge per 60 s)."""
    from sqsidem.dlq.purge import purge as purge_dlq
    from sqsidem.render.dlq import confirm_purge, show_purged

    app = app_context(ctx)
    require_consent(app.render, yes=yes, action=f"delete every message in {app.names.dlq}")

    def ask(count: int) -> None:
        confirm_purge(app.render, app.names, count, yes=yes)

    show_purged(app.render, app.names, purge_dlq(app.aws(), app.names, confirm=ask))


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq")
