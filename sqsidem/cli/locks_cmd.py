"""`sqsidem locks list|show|clear`: look at and repair the idempotency state (issue 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.render.consent import confirm

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqsidem.aws import Aws
    from sqsidem.locks import ClearResult, ClearSelection, Lock
    from sqsidem.render import Renderer

locks_app = typer.Typer(
    help="List, explain and clear the lock records in the stack's DynamoDB table.",
    no_args_is_help=True,
)

_COLUMNS = [
    ("TRANSACTION ID", 38),
    ("STATE", 11),
    ("AGE", 8),
    ("DEADLINE", 10),
    ("MESSAGE ID", 38),
    ("GROUP", 14),
    ("RC", 3),
]
_STATE_STYLE = {"in-progress": "cyan", "stale": "yellow", "completed": None, "expired": "dim"}

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


def _row(lock: Lock) -> list[object]:
    from sqsidem.timeparse import human_duration

    age = lock.age_s
    deadline = "-"
    if lock.state == "stale":
        deadline = "STALE"
    elif lock.state == "in-progress" and lock.deadline_ms is not None:
        deadline = f"in {human_duration((lock.deadline_ms - lock.now_ms) / 1000)}"
    return [
        lock.transaction_id,
        lock.state,
        "-" if age is None else human_duration(age),
        deadline,
        lock.item.get("message_id") or "-",
        lock.item.get("group_id") or "-",
        lock.item.get("receive_count", "-"),
    ]


def show_locks(render: Renderer, locks: Iterable[Lock]) -> None:
    header = False
    for lock in locks:
        if render.json:
            render.emit_line(lock.as_dict())
            continue
        if not header:
            render.stream_header(_COLUMNS)
            header = True
        render.stream_row(_row(lock), _COLUMNS, style=_STATE_STYLE.get(lock.state))


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
    from sqsidem.locks import LockFilter, LockScan, check_scan_options
    from sqsidem.render import to_json
    from sqsidem.resolve import require_table
    from sqsidem.timeparse import parse_duration

    app = app_context(ctx)
    where = LockFilter(
        frozenset(status or ()),
        parse_duration(older_than, option="--older-than") if older_than else None,
        prefix,
    )
    check_scan_options(segments, limit)
    aws = app.aws()
    table = require_table(aws, app.names)
    scan = LockScan(aws.dynamodb, table, where=where, segments=segments, limit=limit)
    show_locks(app.render, scan)
    if app.render.json:
        app.render.info(to_json(scan.counts.as_dict()))
    else:
        app.render.info(scan.counts.summary())


@locks_app.command()
def show(
    ctx: typer.Context,
    transaction_id: Annotated[str, typer.Argument(help="The lock's transaction id (its key).")],
) -> None:
    """One lock record in full, and what it means."""
    from sqsidem.locks import explain, get_lock
    from sqsidem.resolve import require_table

    app = app_context(ctx)
    aws = app.aws()
    lock = get_lock(aws.dynamodb, require_table(aws, app.names), transaction_id)
    render = app.render
    if render.json:
        render.emit({**lock.as_dict(), "meaning": explain(lock), "item": lock.item})
        return
    render.line(f"{lock.transaction_id}: {explain(lock)}", style=_STATE_STYLE.get(lock.state))
    for name, value in sorted(lock.item.items()):
        render.line(f"  {name:<24} {value}")


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
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    segments: Annotated[
        int | None,
        typer.Option(help="Parallel scan segments (default: sized from the table)."),
    ] = None,
) -> None:
    """Delete lock records (BatchWriteItem in 25s; conditional deletes for live ones).

    A table-wide clear deletes while it scans; asked first, it counts before deleting.
    """
    from sqsidem.locks import ClearSelection, check_scan_options
    from sqsidem.resolve import require_table
    from sqsidem.timeparse import parse_duration

    app = app_context(ctx)
    render = app.render
    selection = ClearSelection(
        ids=ids or (),
        stale=stale,
        states=frozenset(status or ()),
        older_than_s=parse_duration(older_than, option="--older-than") if older_than else None,
        all=all_,
    )
    selection.check()
    check_scan_options(1 if segments is None else segments, None)
    if not dry_run and not yes and not render.interactive:
        confirm(render, "delete lock records", yes=False)  # refuses before any call
    # Every request of a clear is built by sqsidem.locks: skip botocore's client-side checks.
    aws = app.aws().with_options(parameter_validation=False)
    table = require_table(aws, app.names)
    if dry_run or selection.ids:
        _clear_planned(app.render, aws, table, selection, force, dry_run, yes, segments or 1)
    else:
        _clear_streamed(app.render, aws, table, selection, force, yes, segments)


def _clear_planned(
    render: Renderer,
    aws: Aws,
    table: str,
    selection: ClearSelection,
    force: bool,
    dry_run: bool,
    yes: bool,
    segments: int,
) -> None:
    """Lock ids, or --dry-run: read everything first, preview, then delete."""
    from sqsidem.locks import ClearResult, execute_clear, plan_clear

    plan = plan_clear(aws.dynamodb, table, selection, force=force, segments=segments)
    targets = plan.to_delete
    preview = f"{len(targets)} lock(s) to clear in {table}"
    if plan.skipped_live:
        preview += f"; {len(plan.skipped_live)} live in-progress skipped (--force clears them)"
    if plan.not_found:
        preview += f"; {len(plan.not_found)} not found"
    render.info(preview)
    if dry_run:
        show_locks(render, targets)
        return
    if targets:
        confirm(render, f"delete {len(targets)} lock(s) from {table}?", yes=yes)
        with render.progress("clearing", total=len(targets)) as progress:
            result = execute_clear(aws.dynamodb, table, plan, progress=progress)
    else:
        result = ClearResult(skipped_live=len(plan.skipped_live), not_found=len(plan.not_found))
    _report(render, table, result, plan.not_found)


def _clear_streamed(
    render: Renderer,
    aws: Aws,
    table: str,
    selection: ClearSelection,
    force: bool,
    yes: bool,
    segments: int | None,
) -> None:
    """A table-wide clear: deletes run while the scan goes on. Asked first, a person is
    shown a cheap count (no record bodies read) before anything is deleted."""
    from sqsidem.locks import ClearResult, auto_segments, clear_locks, count_clear

    if segments is None:
        segments = auto_segments(aws.dynamodb, table)
    total = None
    if not yes:
        with render.spinner(f"counting locks in {table}"):
            count = count_clear(aws.dynamodb, table, selection, force=force, segments=segments)
        if count.at_most:
            question = (
                f"delete up to {count.to_delete} lock(s) from {table} "
                "(live in-progress ones are skipped; --force clears them)?"
            )
        else:
            question = f"delete {count.to_delete} lock(s) from {table}?"
            if count.skipped_live:
                question = question.rstrip("?") + (
                    f"; {count.skipped_live} live in-progress skipped (--force clears them)?"
                )
        if not count.to_delete:
            render.info(f"0 lock(s) to clear in {table}")
            _report(render, table, ClearResult(skipped_live=count.skipped_live), [])
            return
        confirm(render, question, yes=False)
        total = count.to_delete
    with render.progress("clearing", total=total) as progress:
        result = clear_locks(
            aws.dynamodb, table, selection, force=force, segments=segments, progress=progress
        )
    _report(render, table, result, [])


def _report(render: Renderer, table: str, result: ClearResult, not_found: list[str]) -> None:
    """The summary; on a failure it is the one error line (the JSON summary still prints)."""
    from sqsidem.errors import NotFoundError, PartialFailure, SqsidemError

    problem: SqsidemError | None = None
    if result.failed:
        problem = PartialFailure(
            f"deleted {result.deleted}, but {result.failed} lock(s) not deleted; "
            f"first: {result.errors[0]}"
        )
    elif not_found:
        problem = NotFoundError(
            f"no lock {not_found[0]!r} in {table} (deleted {result.deleted})", "check the id"
        )
    if render.json:
        render.emit(result.as_dict())
    elif problem is None:
        render.success(
            f"deleted {result.deleted}; skipped {result.skipped_live} live, "
            f"{result.changed} changed meanwhile; {result.failed} failed"
        )
    if problem is not None:
        raise problem


def register(app: typer.Typer) -> None:
    app.add_typer(locks_app, name="locks")
