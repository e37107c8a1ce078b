"""`sqsidem logs`: the function's log events, filtered on the client, optionally followed."""

from typing import Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.interrupt import until_stopped


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
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="Decision lines whose JSON FIELD=VALUE (or FIELD!=VALUE); repeatable, all "
            "must hold. Sent to CloudWatch as a JSON filter pattern, checked again here.",
        ),
    ] = None,
    stacks: Annotated[
        str | None,
        typer.Option("--stacks", help="Merge these stacks' logs (A,B) in time order, tagged."),
    ] = None,
) -> None:
    """Show the function's log events; decisions coloured, platform lines dimmed."""
    from sqsidem.logfields import parse_where
    from sqsidem.logtail import EventFilter, open_logs, stack_names_of
    from sqsidem.render.logs import show_log_events

    app = app_context(ctx)
    fields = parse_where(where or [])
    selected = EventFilter(filter_, transaction, platform=not no_platform, fields=fields)
    with until_stopped(active=follow) as stop:  # a follow's normal end is Ctrl-C (exit 0)
        read = open_logs(
            app.aws,
            app.names,
            where=selected,
            since=since,
            follow=follow,
            log_group=log_group,
            on_waiting=app.render.note,
            stacks=stack_names_of(stacks, log_group),
            stop=stop,
        )
        show_log_events(app.render, read)


def register(app: typer.Typer) -> None:
    app.command()(logs)
