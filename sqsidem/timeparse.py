"""Durations and points in time as users type them: 90s, 10m, 1h, 7d, or an ISO time."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqsidem.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str, *, option: str = "duration") -> float:
    """Seconds in ``text`` (a bare number means seconds)."""
    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"invalid {option} {text!r}", "use a number with a unit: 90s, 10m, 1h, 7d")
    return float(match.group(1)) * _UNIT_S[match.group(2) or "s"]


def parse_since(text: str, now_s: float, *, option: str = "--since") -> float:
    """Epoch seconds for 'N units ago' or an ISO 8601 time (naive means UTC)."""
    if _DURATION.match(text):
        return now_s - parse_duration(text, option=option)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(
            f"invalid {option} {text!r}", "use 10m, 1h, 2d or an ISO time like 2026-11-29T10:00"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def human_duration(seconds: float) -> str:
    """Short, rounded: 45 s, 12 min, 3 h, 7 d."""
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"
