"""`sqsidem logs`: the function's log events, filtered on the client, optionally followed."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated

import typer

from sqsidem.cli.context import app_context

if TYPE_CHECKING:
    from sqsidem.logtail import LogEvent
    from sqsidem.render import Renderer

_DECISION_STYLE = {
    "acquired": "cyan",
    "completed": "green",
    "duplicate": "yellow",
    "busy": "magenta",
    "taken-over": "yellow",
    "failed": "red",
    "released": "blue",
    "lost-ownership": "red",
}


def show_event(render: Renderer, event: LogEvent) -> None:
    import json

    from sqsidem.logtail import iso_ms

    stamp = iso_ms(event.timestamp)[11:]  # HH:MM:SS.mmmZ
    prefix = f"{stamp}  {event.short_stream:<8}  "
    if event.decision is not None:
        rest = {k: v for k, v in event.decision.items() if k not in ("sqsidem", "decision")}
        rest = {k: v for k, v in rest.items() if v is not None}
        decision = str(event.decision.get("decision"))
        text = f"{decision:<14} {json.dumps(rest, separators=(',', ':'), ensure_ascii=False)}"
        render.line(prefix + text, style=_DECISION_STYLE.get(decision))
        return
    if event.platform is not None:
        render.line(prefix + event.message, style="dim")
        return
    text = event.message
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(stripped), separators=(",", ":"), ensure_ascii=False)
    upper = text.upper()
    style = "red" if ("ERROR" in upper or "TRACEBACK" in upper) else None
    render.line(prefix + text, style=style)


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
    from sqsidem.logtail import (
        EventFilter,
        follow_events,
        log_group_for,
        read_events,
        start_ms_for,
    )

    app = app_context(ctx)
    render = app.render
    where = EventFilter(filter_, transaction, platform=not no_platform)
    where.terms()
    start_ms = start_ms_for(since)
    aws = app.aws()
    group = log_group or log_group_for(aws.lambda_, app.names.function)

    def show(event: LogEvent) -> None:
        if render.json:
            render.emit_line(event.as_dict())
        else:
            show_event(render, event)

    if not follow:
        for event in read_events(aws.logs, group, start_ms=start_ms, where=where):
            show(event)
        return
    render.note(f"following {group} (Ctrl-C to stop)")
    try:
        for event in follow_events(
            aws.logs, group, start_ms=start_ms, where=where, on_waiting=render.note
        ):
            show(event)
    except KeyboardInterrupt:
        return


def register(app: typer.Typer) -> None:
    app.command()(logs)
