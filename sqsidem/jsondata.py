"""JSON output records built from objects' attributes (the snake_case keys of DESIGN 6.6)."""

from __future__ import annotations

from typing import Any


def fields(obj: object, *names: str, **renamed: str) -> dict[str, Any]:
    """``obj``'s attributes as JSON keys, in order: each of ``names`` under its own name,
    then each ``key=attribute`` of ``renamed`` under its key."""
    record = {name: getattr(obj, name) for name in names}
    record.update({key: getattr(obj, attribute) for key, attribute in renamed.items()})
    return record
