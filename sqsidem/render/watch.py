"""The views of `watch`: a full-screen rich Live on a terminal (q or Ctrl-C quits), plain
snapshots without control codes when stdout is not a terminal, JSON Lines with -o json."""

from __future__ import annotations

import contextlib
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from sqsidem.render.logs import DECISION_STYLE
from sqsidem.render.sink import Renderer
from sqsidem.watch.model import FLOW_KINDS, Snapshot, Unavailable

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from sqsidem.watch.model import BlockedGroup, Decision, LockFigures

SPARKS = "▁▂▃▄▅▆▇█"
FLOW_TITLE = "flow (decisions/s, last minute)"
FULL_WIDTH = 80  # two panels side by side from here on; one column below it
KEY_SLICE_S = 0.1  # how soon a wait for the next refresh sees Ctrl-C


def safe(text: object) -> str:
    """Outside strings with control characters escaped (DESIGN 6.13)."""
    value = "" if text is None else str(text)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)


def sparkline(values: tuple[int, ...], width: int) -> str:
    shown = values[-width:]
    if not shown:
        return ""
    top = max(shown)
    if top <= 0:
        return SPARKS[0] * len(shown)
    return "".join(SPARKS[min(7, round(v * 7 / top))] for v in shown)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _na(part: Unavailable) -> str:
    return f"n/a: {safe(part.why)}"


# -- panels ------------------------------------------------------------------------------


def queue_lines(snap: Snapshot, width: int) -> list[str]:
    queue = snap.queue
    if isinstance(queue, Unavailable):
        return [_na(queue)]
    oldest = queue.oldest_age_s
    age = _na(oldest) if isinstance(oldest, Unavailable) else _age(oldest)
    return [
        f"visible {queue.visible}  in flight {queue.in_flight}  delayed {queue.delayed}",
        f"oldest message: {age}",
        f"trend {sparkline(queue.history, max(4, width - 8))}",
    ]


def dlq_lines(snap: Snapshot) -> list[str]:
    lines = []
    if isinstance(snap.dlq, Unavailable):
        lines.append(_na(snap.dlq))
    else:
        lines.append(f"depth {snap.dlq.depth}  ({snap.dlq.change_since_start:+d} since start)")
    alarm = snap.alarm
    lines.append(f"alarm {_na(alarm) if isinstance(alarm, Unavailable) else alarm.state}")
    return lines


def flow_lines(snap: Snapshot) -> list[str]:
    lines = []
    if isinstance(snap.flow, Unavailable):
        lines.append(_na(snap.flow))
    else:
        flow = snap.flow
        cells = [f"{kind} {flow.per_second(kind):.2f}" for kind in FLOW_KINDS]
        lines += ["  ".join(cells[i : i + 2]) for i in range(0, len(cells), 2)]
    trigger = snap.trigger
    if isinstance(trigger, Unavailable):
        lines.append(f"trigger {_na(trigger)}")
    elif trigger.state is None:
        lines.append("trigger: none on this queue")
    else:
        result = safe(trigger.last_processing_result or "-")
        lines.append(f"trigger {safe(trigger.state)} · {result}")
    return lines


def lock_lines(locks: LockFigures | Unavailable) -> list[str]:
    if isinstance(locks, Unavailable):
        return [_na(locks)]
    at_least = "≥ " if locks.capped else ""
    counts = [
        f"{state} {at_least}{locks.by_state.get(state, 0)}"
        for state in ("in-progress", "stale", "completed", "expired")
    ]
    inp, stale = locks.oldest_in_progress, locks.oldest_stale
    return [
        "  ".join(counts[:2]),
        "  ".join(counts[2:]),
        "oldest in-progress: "
        + ("none" if inp is None else f"{safe(inp.transaction_id)[:20]} {_age(inp.age_s)}"),
        "oldest stale: "
        + ("none" if stale is None else f"{safe(stale.transaction_id)[:20]} {_age(stale.age_s)}"),
    ]


def blocked_lines(groups: tuple[BlockedGroup, ...] | Unavailable, rows: int) -> list[str]:
    if isinstance(groups, Unavailable):
        return [_na(groups)]
    if not groups:
        return ["none: every group that failed lately has moved on"]
    lines = [f"{'group':<14} {'message':<10} {'recv':>4} {'blocked':>7} {'skipped':>7}  last error"]
    for group in groups[: max(1, rows)]:
        lines.append(
            f"{safe(group.group_id)[:14]:<14} {safe(group.message_id)[:10]:<10} "
            f"{group.receive_count if group.receive_count is not None else '-':>4} "
            f"{_age(group.blocked_s):>7} {group.not_attempted:>7}  "
            f"{safe(group.last_error or '-')}"
        )
    if len(groups) > rows:
        lines.append(f"… and {len(groups) - rows} more")
    return lines


def decision_text(decision: Decision) -> Text:
    from rich.text import Text

    from sqsidem.logtail import iso_ms

    line = (
        f"{iso_ms(decision.timestamp_ms)[11:19]} {decision.decision:<14} "
        f"{safe(decision.transaction_id or '-')[:24]:<24} {safe(decision.group_id or '-')[:12]:<12}"
        f" rc={decision.receive_count if decision.receive_count is not None else '-'}"
    )
    if decision.error:
        line += f"  {safe(decision.error)}"
    return Text(line, style=DECISION_STYLE.get(decision.decision) or "", no_wrap=True)


# -- the screen ----------------------------------------------------------------------------


def header(snap: Snapshot) -> str:
    from sqsidem.logtail import iso_ms

    return (
        f"sqsidem watch · stack {snap.stack} · every {snap.interval_s:g}s · "
        f"{iso_ms(snap.at_ms)[11:19]}Z · {snap.api_calls} calls · q quits"
    )


def build_view(snap: Snapshot, width: int, height: int) -> RenderableType:
    """Every panel, fitted to ``width`` x ``height`` (two columns from 80 wide)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    def panel(title: str, lines: Sequence[str | Text], style: str = "") -> Panel:
        body = Text("\n").join(
            line if isinstance(line, Text) else Text(line, no_wrap=True, overflow="ellipsis")
            for line in lines
        )
        body.no_wrap, body.overflow = True, "ellipsis"
        return Panel(body, title=title, title_align="left", border_style=style, padding=(0, 1))

    two = width >= FULL_WIDTH
    half = (width // 2 if two else width) - 4
    dlq = snap.dlq
    dlq_style = "red" if not isinstance(dlq, Unavailable) and dlq.depth else ""
    queue, flow = _wrap_na(queue_lines(snap, half), half), _wrap_na(flow_lines(snap), half)
    dlq_box, locks = _wrap_na(dlq_lines(snap), half), _wrap_na(lock_lines(snap.locks), half)
    # (priority, height, renderable) in screen order; the lowest priorities fold first.
    units: list[tuple[int, int, RenderableType]] = [
        (0, 1, Text(header(snap), style="bold", no_wrap=True))
    ]
    if two:
        for rank, pair in (
            (1, (("queue", queue, ""), ("DLQ", dlq_box, dlq_style))),
            (2, ((FLOW_TITLE, flow, ""), ("locks", locks, ""))),
        ):
            grid = Table.grid(expand=True)
            grid.add_column(ratio=1)
            grid.add_column(ratio=1)
            grid.add_row(*(panel(*args) for args in pair))
            units.append((rank, 2 + max(len(pair[0][1]), len(pair[1][1])), grid))
    else:
        units += [
            (1, 2 + len(queue), panel("queue", queue)),
            (4, 2 + len(dlq_box), panel("DLQ", dlq_box, dlq_style)),
            (2, 2 + len(flow), panel(FLOW_TITLE, flow)),
            (5, 2 + len(locks), panel("locks", locks)),
        ]
    free = height - sum(h for _, h, _ in units)
    blocked = blocked_lines(snap.blocked_groups, max(1, min(3, (free - 3) // 2)))
    blocked = _wrap_na(blocked, width - 4)
    units.append((3, 2 + len(blocked), panel("blocked groups", blocked, _red(len(blocked) > 1))))
    free -= 2 + len(blocked)
    recent = snap.recent_decisions
    if free >= 3:
        shown: Sequence[str | Text] = (
            _wrap_na([_na(recent)], width - 4)
            if isinstance(recent, Unavailable)
            else [decision_text(d) for d in recent[-(free - 2) :]] or ["none in the last minute"]
        )
        units.append((6, 2 + len(shown), panel("recent decisions", shown)))
    return Group(*(part for _, _, part in _fitted(units, height)))


def _wrap_na(lines: list[str], width: int) -> list[str]:
    """Reasons are worth reading whole: "n/a" lines wrap (the rest is cut at the edge)."""
    import textwrap

    wrapped: list[str] = []
    for line in lines:
        if "n/a: " in line and len(line) > width > 10:
            wrapped += textwrap.wrap(line, width, subsequent_indent="  ")
        else:
            wrapped.append(line)
    return wrapped


def _red(alert: bool) -> str:
    return "red" if alert else ""


def _fitted(
    units: list[tuple[int, int, RenderableType]], height: int
) -> list[tuple[int, int, RenderableType]]:
    """Drop the least important units until the rest fit ``height`` (order kept)."""
    kept = list(units)
    while len(kept) > 1 and sum(h for _, h, _ in kept) > height:
        kept.remove(max(kept, key=lambda unit: unit[0]))
    return kept


def plain_text(snap: Snapshot, width: int = 100) -> str:
    """One snapshot as plain text (no colour, no cursor moves): pipes, files, cron."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    console.print(build_view(snap, width, 200))
    return buffer.getvalue()


# -- the loops -----------------------------------------------------------------------------


@contextlib.contextmanager
def _keys(stream: IO[str], stop: threading.Event) -> Iterator[Callable[[float], str | None]]:
    """Single keys from a terminal (cbreak: Ctrl-C still signals), restored on exit; each read
    waits at most its timeout and returns early (None) once ``stop`` is set."""
    if not stream.isatty():

        def wait_only(timeout: float) -> str | None:
            stop.wait(timeout)
            return None

        yield wait_only
        return
    import termios
    import tty

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def read(timeout: float) -> str | None:
        # A signal does not cut select short (PEP 475): look at ``stop`` between slices.
        ready: list[int] = []
        deadline = time.monotonic() + timeout
        while not ready and not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], min(left, KEY_SLICE_S))
        return stream.read(1) if ready else None

    try:
        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _wait_for_quit(
    read: Callable[[float], str | None], seconds: float, stop: threading.Event
) -> bool:
    """Wait up to ``seconds`` for the next refresh; True if q was pressed or Ctrl-C came."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        key = read(left)
        if key is not None and key.lower() == "q":
            return True
    return stop.is_set()


def run_watch(
    render: Renderer,
    sample: Callable[[], Snapshot],
    *,
    interval_s: float,
    once: bool,
    count: int | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Show snapshots until q / Ctrl-C (``stop``) or ``count`` of them; the exit code.

    Ctrl-C is the normal end (exit 0): the snapshot being read is finished, the terminal
    given back, and the number of refreshes noted on stderr.
    """
    if once:
        count = 1
    run = _Run(render, sample, interval_s, count, stop or threading.Event())
    live = not render.json and render.stdout.isatty() and not once
    code, shown = _live(run) if live else _stream(run)
    if run.stop.is_set():
        render.note(f"watch stopped after {shown} refresh(es)")
    return code


@dataclass(frozen=True)
class _Run:
    """What both loops are given."""

    render: Renderer
    sample: Callable[[], Snapshot]
    interval_s: float
    count: int | None
    stop: threading.Event


def _stream(run: _Run) -> tuple[int, int]:
    """Plain snapshots or JSON Lines; (exit code, snapshots shown)."""
    render, count, shown = run.render, run.count, 0
    with _keys(sys.stdin, run.stop) as read:
        while True:
            snap = run.sample()
            if render.json:
                render.emit_line(snap.as_dict())
            else:
                render.stdout.write(("\n" if shown else "") + plain_text(snap))
                render.stdout.flush()
            shown += 1
            if count is not None and shown >= count:
                return (_once_code(render, snap) if count == 1 else 0), shown
            if _wait_for_quit(read, run.interval_s, run.stop):
                return 0, shown


def _once_code(render: Renderer, snap: Snapshot) -> int:
    """A single snapshot in which nothing could be read fails the script that asked (1)."""
    why = snap.unread()
    if why is None:
        return 0
    render.error(f"nothing could be read: {why}")
    return 1


def _live(run: _Run) -> tuple[int, int]:
    """The full-screen view, given back on the way out; (exit code, snapshots shown)."""
    from rich.console import Console
    from rich.live import Live

    console: Console = Console(file=run.render.stdout, highlight=False)
    shown = 0
    with (
        _keys(sys.stdin, run.stop) as read,
        Live(console=console, screen=True, auto_refresh=False, transient=True) as live,
    ):
        while True:
            snap = run.sample()
            if run.stop.is_set():  # Ctrl-C came while reading: the screen is left as it was
                return 0, shown
            width, height = console.size
            live.update(build_view(snap, width, height), refresh=True)
            shown += 1
            if run.count is not None and shown >= run.count:
                return 0, shown
            if _wait_for_quit(read, run.interval_s, run.stop):
                return 0, shown
