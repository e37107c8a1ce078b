"""`sqsidem locks list|show|clear`: look at and repair the idempotency state (issue 5)."""

from typing import Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.cli.options import YesOption

locks_app = typer.Typer(
    help="List, explain and clear the lock records in the stack's DynamoDB table.",
    no_args_is_help=True,
)

StatusOption = Annotated[
    list[str] | None,
    typer.Option(
        "--status", help="in-progress, completed, stale or expired (repeatable).", metavar="STATE"
    ),
]
OlderThanOption = Annotated[
    str | None, typer.Option("--older-than", help="First taken longer ago than this (10m, 7d).")
]
SegmentsOption = Annotated[
    int, typer.Option(help="Scan with this many parallel segments (big tables).")
]


def _seconds(older_than: str | None) -> float | None:
    from sqsidem.timeparse import parse_duration
    from sqsidem.validate import non_empty

    non_empty({"--older-than": older_than})
    return parse_duration(older_than, option="--older-than") if older_than else None


@locks_app.command("list")
def list_locks(
    ctx: typer.Context,
    status: StatusOption = None,
    older_than: OlderThanOption = None,
    prefix: Annotated[str | None, typer.Option(help="Transaction ids starting with this.")] = None,
    limit: Annotated[int | None, typer.Option(help="Stop after this many locks.")] = None,
    segments: SegmentsOption = 1,
) -> None:
    """Stream the locks with their derived state; a count by state goes to stderr."""
    from sqsidem.locks.scan import LockFilter, check_scan_options, scan_locks
    from sqsidem.render.locks import show_lock_list

    app = app_context(ctx)
    where = LockFilter(frozenset(status or ()), _seconds(older_than), prefix)
    check_scan_options(segments, limit)
    scan = scan_locks(app.aws(), app.names, where, segments=segments, limit=limit)
    show_lock_list(app.render, scan)


@locks_app.command()
def show(
    ctx: typer.Context,
    transaction_id: Annotated[str, typer.Argument(help="The lock's transaction id (its key).")],
) -> None:
    """One lock record in full, and what it means."""
    from sqsidem.locks.read import read_lock
    from sqsidem.render.locks import show_lock

    app = app_context(ctx)
    show_lock(app.render, read_lock(app.aws(), app.names, transaction_id))


@locks_app.command()
def clear(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="Transaction ids to clear.")] = None,
    stale: Annotated[bool, typer.Option("--stale", help="Clear stale locks.")] = False,
    status: StatusOption = None,
    older_than: OlderThanOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Clear every lock.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also clear live in-progress locks.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be cleared; change nothing.")
    ] = False,
    yes: YesOption = False,
    segments: Annotated[
        int | None,
        typer.Option(help="Parallel scan segments (default: sized from the table)."),
    ] = None,
) -> None:
    """Delete lock records (BatchWriteItem in 25s; conditional deletes for live ones).

    A table-wide clear deletes while it scans; asked first, it counts before deleting.
    """
    from sqsidem.interrupt import stop_on_interrupt
    from sqsidem.locks.clear import ClearRequest, run_clear
    from sqsidem.locks.plan import ClearSelection
    from sqsidem.render.consent import require_consent
    from sqsidem.render.locks import ClearView, show_clear_report

    app = app_context(ctx)
    selection = ClearSelection(
        ids or (), stale, frozenset(status or ()), _seconds(older_than), all_
    )
    request = ClearRequest(selection, force, dry_run, yes, segments)
    request.check()
    if not dry_run:
        require_consent(app.render, yes=yes, action="delete lock records")
    with stop_on_interrupt(app.render.stopping) as stop:
        report = run_clear(app.aws(), app.names, request, ClearView(app.render, yes=yes), stop)
    show_clear_report(app.render, report)


def register(app: typer.Typer) -> None:
    app.add_typer(locks_app, name="locks")
