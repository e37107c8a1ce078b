"""The pure parts of `watch`: blocked FIFO groups and rates from decision lines, and the
screen fitted to 80x24 (two columns) or smaller (one column), outside text escaped."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from sqsidem.render.watch import build_view, plain_text, sparkline
from sqsidem.watch.flow import FlowTracker
from sqsidem.watch.model import (
    AlarmFigures,
    DlqFigures,
    LockFigures,
    QueueFigures,
    Snapshot,
    TriggerFigures,
    Unavailable,
)

T0 = 1_700_000_000_000


def line(decision: str, message: str, group: str = "g", **extra: Any) -> dict[str, Any]:
    return {
        "sqsidem": 1,
        "decision": decision,
        "transaction_id": f"k-{message}",
        "message_id": message,
        "group_id": group,
        "receive_count": extra.pop("receive_count", 1),
        "error": extra.pop("error", None),
        **extra,
    }


def test_a_failing_head_blocks_its_group_until_a_later_message_goes_through() -> None:
    """Retries keep the first failure time; skipped records count; a later success clears."""
    flow = FlowTracker()
    flow.feed_line(T0, line("acquired", "m1", receive_count=1))
    flow.feed_line(T0, line("failed", "m1", error="processor raised X"))
    flow.feed_line(T0, line("failed", "m2", blocked_by="m1", error="not attempted"))
    words = "not attempted: message m1 of group g earlier in this batch was not acknowledged"
    flow.feed_line(T0 + 10, line("failed", "m3", error=words))
    flow.feed_line(T0 + 4_000, line("acquired", "m1", receive_count=2))
    flow.feed_line(T0 + 4_000, line("failed", "m1", receive_count=2, error="raised again"))
    [group] = flow.blocked(T0 + 9_000)
    assert (group.group_id, group.message_id, group.receive_count) == ("g", "m1", 2)
    assert (group.blocked_s, group.last_error, group.not_attempted) == (9.0, "raised again", 2)
    flow.feed_line(T0 + 9_500, line("acquired", "m2"))  # the head was dead-lettered
    assert flow.blocked(T0 + 10_000) == ()


def test_heads_are_forgotten_after_their_last_receive_or_when_old() -> None:
    """Past maxReceiveCount and a visibility timeout: dead-lettered; or simply not recent."""
    flow = FlowTracker(recent_s=60)
    flow.feed_line(T0, line("failed", "p", "poison", receive_count=4, error="x"))
    flow.feed_line(T0, line("failed", "q", "other", receive_count=1, error="y"))
    assert len(flow.blocked(T0 + 8_000, max_receive=4, visibility_s=4)) == 2
    assert [g.group_id for g in flow.blocked(T0 + 9_500, max_receive=4, visibility_s=4)] == [
        "other"
    ]
    assert flow.blocked(T0 + 61_000) == ()


def test_rates_cover_the_last_window_only() -> None:
    """Decisions per second over the window; older lines drop out."""
    flow = FlowTracker(window_s=60)
    for n in range(6):
        flow.feed_line(T0 + n * 20_000, line("completed", f"m{n}"))
    figures = flow.figures(T0 + 101_000)
    assert figures.counts == {"completed": 3}
    assert figures.per_second("completed") == 3 / 60
    assert [d.message_id for d in flow.last_decisions()] == [f"m{n}" for n in range(6)]


def _snapshot(**parts: Any) -> Snapshot:
    flow = FlowTracker()
    for n in range(12):
        flow.feed_line(T0 - 1_000 + n, line("completed", f"m{n}", f"g{n}"))
    for n in range(5):
        flow.feed_line(T0, line("failed", f"h{n}", f"blocked-{n}", error="bad\x1b[2Jthing"))
    base: dict[str, Any] = {
        "stack": "demo",
        "sequence": 1,
        "at_ms": T0,
        "interval_s": 2.0,
        "api_calls": 7,
        "queue": QueueFigures(3, 1, 0, tuple(range(200)), 12.0),
        "flow": flow.figures(T0),
        "trigger": TriggerFigures("Enabled", "OK - 3 records"),
        "dlq": DlqFigures(1, 1),
        "alarm": AlarmFigures("ALARM"),
        "locks": LockFigures({"completed": 5000}, 5000, True, None, None, 3.0),
        "blocked_groups": flow.blocked(T0),
        "recent_decisions": flow.last_decisions(),
    }
    return Snapshot(**{**base, **parts})


def _screen(snap: Snapshot, width: int, height: int) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, height=height, color_system=None)
    console.print(build_view(snap, width, height))
    return out.getvalue().splitlines()


def test_the_screen_fits_80x24_and_folds_below() -> None:
    """Two columns fill 80x24 without wrapping; 60 wide stacks the panels; nothing spills."""
    wide = _screen(_snapshot(), 80, 24)
    assert len(wide) <= 24 and all(len(row) <= 80 for row in wide)
    text = "\n".join(wide)
    assert "queue" in text and "DLQ" in text and "blocked-" in text and "recent decisions" in text
    assert "completed ≥ 5000" in text  # a capped scan says so
    narrow = _screen(_snapshot(), 60, 40)
    assert len(narrow) <= 40 and all(len(row) <= 60 for row in narrow)
    assert "recent decisions" in "\n".join(narrow)
    short = _screen(_snapshot(), 60, 20)
    assert len(short) <= 20
    folded = "\n".join(short)
    assert "recent decisions" not in folded and "locks" not in folded  # fold first
    assert "queue" in folded and "flow" in folded and "blocked groups" in folded
    tiny = _screen(_snapshot(), 80, 12)
    assert len(tiny) <= 12 and "queue" in "\n".join(tiny)


def test_outside_text_is_escaped_and_na_panels_say_why() -> None:
    """Control characters from log lines are shown escaped; n/a panels name the cause."""
    snap = _snapshot(
        locks=Unavailable("access denied for Scan"), alarm=Unavailable("alarm x does not exist")
    )
    text = plain_text(snap)
    assert "\x1b" not in text and "bad\\x1b[2Jthing" in text
    assert "n/a: access denied for Scan" in text
    assert "alarm n/a: alarm x does not exist" in text


def test_sparkline_scales_to_the_largest_value() -> None:
    """The trend uses the last values that fit, scaled to the largest."""
    assert sparkline((0, 7, 14), 10) == "▁▅█"
    assert sparkline((5, 0, 0, 0), 2) == "▁▁"
    assert sparkline((), 5) == ""
