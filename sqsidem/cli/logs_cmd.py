"""`sqsidem logs`: the function's log events, filtered on the client, optionally followed."""

from __future__ import annotations

from typing import Annotated

import typer

from sqsidem.cli.context import app_context


def logs(
    ctx: typer.Context,
    since: Annotated[str, typer.Option(help="Start this long ago (10m, 1h) or at an ISO time.")] = (
        "10m"
    ),
    filter_: Annotated[
        str | None,
        typer.Option("--filter", help="Terms that must appear ('-term': must not; quote phrases)."),
    ] = None,
    transaction: Annotated[
        str | None,
        typer.Option("--transaction", help="Only the decision lines of this idempotency key."),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events (Ctrl-C stops).")
    ] = False,
    no_platform: Annotated[
        bool, typer.Option("--no-platform", help="Hide Lambda's START/END/REPORT lines.")
    ] = False,
    log_group: Annotated[
        str | None,
        typer.Option("--log-group", help="Read this group (default: the function's own)."),
    ] = None,
) -> None:
    """Show the function's log events; decisions coloured, platform lines dimmed."""
    from sqsidem.logtail import EventFilter, open_logs
    from sqsidem.render.logs import show_log_events

    app = app_context(ctx)
    where = EventFilter(filter_, transaction, platform=not no_platform)
    read = open_logs(
        app.aws,
        app.names,
        where=where,
        since=since,
        follow=follow,
        log_group=log_group,
        on_waiting=app.render.note,
    )
    show_log_events(app.render, read)


def register(app: typer.Typer) -> None:
    app.command()(logs)
