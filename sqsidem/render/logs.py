"""The views of `logs`: one line per event, decisions coloured, platform lines dimmed."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from sqsidem.render.sink import Renderer

if TYPE_CHECKING:
    from sqsidem.logtail import LogEvent, LogRead

DECISION_STYLE = {
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
    if event.stack is not None:
        prefix = f"{stamp}  {event.stack:<12} {event.short_stream:<8}  "
    if event.decision is not None:
        rest = {k: v for k, v in event.decision.items() if k not in ("sqsidem", "decision")}
        rest = {k: v for k, v in rest.items() if v is not None}
        decision = str(event.decision.get("decision"))
        text = f"{decision:<14} {json.dumps(rest, separators=(',', ':'), ensure_ascii=False)}"
        render.line(prefix + text, style=DECISION_STYLE.get(decision))
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


def show_log_events(render: Renderer, read: LogRead) -> None:
    """Every event (JSON Lines with --output json); a follow, stopped by Ctrl-C, ends with
    the number of events it showed (stderr)."""
    if read.follow:
        render.note(f"following {read.group} (Ctrl-C to stop)")
    shown = 0
    for event in read.events:
        if render.json:
            render.emit_line(event.as_dict())
        else:
            show_event(render, event)
        shown += 1
    if read.follow:
        render.note(f"stopped following {read.group}: {shown:,} event(s) shown")
