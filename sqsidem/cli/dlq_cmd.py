"""`sqsidem dlq list|redrive|purge`: see, put back or drop the stack's dead letters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.render.consent import confirm

if TYPE_CHECKING:
    from sqsidem.dlq import DlqListing, RedriveResult
    from sqsidem.render import Renderer

dlq_app = typer.Typer(
    help="The stack's dead-letter queue: list, redrive to the source queue, purge.",
    no_args_is_help=True,
)

YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")]


def show_dlq_listing(render: Renderer, listing: DlqListing, *, full: bool) -> None:
    from sqsidem.timeparse import human_duration

    rows = listing.rows(full=full, width=40)
    if render.json:
        for row in rows:
            render.emit_line(row)
    elif rows:
        render.table(
            ["message id", "group", "key", "receives", "age", "lock", "body"],
            [
                [
                    r["message_id"],
                    r["group_id"],
                    r["key"],
                    r["receive_count"],
                    human_duration(r["age_s"]) if r["age_s"] is not None else "",
                    r["lock_state"],
                    r["body"],
                ]
                for r in rows
            ],
            title=f"{listing.link.dlq_url} (source: {listing.link.source_arn})",
        )
    seen = listing.peek
    render.info(f"{len(rows)} message(s) shown, all left in the DLQ")
    if seen.not_shown:
        render.note(
            f"{seen.not_shown} more not shown: in flight elsewhere, or hidden behind earlier "
            "messages of their FIFO group"
        )
    if any(r["dedup_id_replaced"] for r in rows):
        render.note(
            "a FIFO DLQ replaces the dedup id with the original message id: "
            "the original dedup id is unknown for those"
        )
    if listing.locks.table_missing:
        render.note("no lock table: lock states unknown")
    if rows:
        render.note("age = time since sent, an upper bound for the time in the DLQ")


@dlq_app.command("list")
def list_(
    ctx: typer.Context,
    full: Annotated[bool, typer.Option("--full", help="Show whole bodies.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Show at most N messages.")] = 100,
) -> None:
    """Show the DLQ's messages without consuming them, with their keys' lock states."""
    from sqsidem.dlq import list_dlq

    app = app_context(ctx)
    show_dlq_listing(app.render, list_dlq(app.aws(), app.names, limit=limit), full=full)


def _report_redrive(render: Renderer, result: RedriveResult) -> None:
    from sqsidem.errors import PartialFailure

    summary = {
        "method": result.method,
        "moved": result.moved,
        "failed": [{"message_id": m, "reason": r} for m, r in result.failed],
        "held_back": result.held_back,
        "not_deleted": result.not_deleted,
        "left_in_dlq": result.left_in_dlq,
        "task_status": result.task_status,
        "failure_reason": result.failure_reason,
    }
    if render.json:
        render.emit(summary)
    how = "by a message move task" if result.method == "move-task" else "by copying"
    if result.ok:
        render.success(f"{result.moved} message(s) moved back to the source queue {how}")
        return
    for message_id, reason in result.failed:
        render.warn(f"{message_id} stays in the DLQ: send failed: {reason}")
    for message_id in result.not_deleted:
        render.warn(f"{message_id} was copied but is still in the DLQ too (delete failed)")
    if result.task_status not in (None, "COMPLETED"):
        raise PartialFailure(
            f"move task ended {result.task_status} after {result.moved} message(s)",
            result.failure_reason or "see `sqsidem dlq list` for what is left",
        )
    left = f"; {result.left_in_dlq} message(s) stay in the DLQ" if result.left_in_dlq else ""
    if not result.failed:
        raise PartialFailure(
            f"moved {result.moved}{left}: some were hidden (in flight, or by a receive lost "
            "to a dropped connection) and reappear after the visibility timeout",
            "run `sqsidem dlq redrive` again in a few minutes",
        )
    raise PartialFailure(
        f"moved {result.moved}, {len(result.failed)} send(s) failed{left} "
        "(a failed group's later messages are not sent, to keep its order)",
        "run `sqsidem dlq redrive` again",
    )


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
            help="Release the in-progress/completed locks of the messages' keys first.",
        ),
    ] = False,
) -> None:
    """Move the DLQ's messages back to the source queue (move task, or copy + delete)."""
    from sqsidem import dlq

    app = app_context(ctx)
    render = app.render
    if cancel and (rate is not None or clear_locks):
        from sqsidem.errors import UsageError

        raise UsageError("--cancel takes no --rate or --clear-locks")
    aws = app.aws()
    if cancel:
        link = dlq.find_link(aws, app.names)
        moved = dlq.cancel_move_task(aws.with_options(max_attempts=1).sqs, link.dlq_arn)
        if render.json:
            render.emit({"cancelled": moved is not None, "moved": moved})
        else:
            render.info("no move task is running" if moved is None else f"cancelled after {moved}")
        return
    plan = dlq.plan_redrive(aws, app.names)
    if plan.count == 0:
        if render.json:
            render.emit({"method": None, "moved": 0})
        render.info(f"{app.names.dlq} is empty: nothing to redrive")
        return
    for lock in plan.blocking:
        render.warn(
            f"key {lock.transaction_id} has a {lock.state} lock: "
            + (
                "its redriven message would be skipped as a duplicate"
                if lock.state == "completed"
                else "its redriven message would wait until that attempt ends"
            )
        )
    if plan.blocking and not clear_locks:
        render.note("pass --clear-locks to release those locks before redriving")
    question = f"move {plan.count} message(s) from {app.names.dlq} back to {app.names.queue}"
    if clear_locks and plan.blocking:
        question += f" and release {len(plan.blocking)} lock(s)"
    confirm(render, question + "?", yes=yes)
    if clear_locks and plan.blocking:
        released, changed = dlq.clear_locks(aws, app.names, plan.blocking)
        render.info(f"released {released} lock(s)")
        if changed:
            render.warn(f"{changed} lock(s) changed since they were read and were left alone")
    with render.progress("redriving", total=plan.count) as bar:

        def progress(moved: int, total: int | None) -> None:
            bar.update(total=total)
            bar.advance(moved - bar.done)

        result = dlq.redrive(aws, plan.listing.link, rate=rate, on_progress=progress)
    _report_redrive(render, result)


@dlq_app.command()
def purge(ctx: typer.Context, yes: YesOption = False) -> None:
    """Delete every message in the DLQ (AWS allows one purge per 60 s)."""
    from sqsidem.dlq import count_dlq, purge_dlq

    app = app_context(ctx)
    aws = app.aws()
    url, count = count_dlq(aws, app.names)
    confirm(app.render, f"delete all {count} message(s) in {app.names.dlq}?", yes=yes)
    purge_dlq(aws, url, app.names)
    if app.render.json:
        app.render.emit({"queue": app.names.dlq, "removed": count})
    else:
        app.render.success(f"purged {app.names.dlq}: {count} message(s) removed")


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq")
