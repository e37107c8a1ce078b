"""The JSON decision lines (DESIGN 6.5): one line per decision, parsed back by logs/trace.

The Lambda handler prints them (stdout goes to CloudWatch Logs); the worker writes them to
stderr. Shape: ``{"sqsidem": 1, "decision": ..., "transaction_id": ..., "message_id": ...,
"group_id": ..., "receive_count": ..., "error": null}``.
"""

from __future__ import annotations

import json
from typing import Any, Final

SCHEMA_VERSION: Final = 1
ACQUIRED: Final = "acquired"
DUPLICATE: Final = "duplicate"
BUSY: Final = "busy"
TAKEN_OVER: Final = "taken-over"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
RELEASED: Final = "released"
LOST_OWNERSHIP: Final = "lost-ownership"
DECISIONS: Final = frozenset(
    {ACQUIRED, DUPLICATE, BUSY, TAKEN_OVER, COMPLETED, FAILED, RELEASED, LOST_OWNERSHIP}
)
_MARKER = '{"sqsidem"'
_DECODER = json.JSONDecoder()


def decision_line(
    decision: str,
    *,
    transaction_id: str | None,
    message_id: str | None,
    group_id: str | None,
    receive_count: int | None,
    error: str | None = None,
    blocked_by: str | None = None,
) -> str:
    """One decision as a single JSON line (no newline).

    ``blocked_by`` (only on the ``failed`` line of a record that was not attempted): the
    message id that stopped its group earlier in the batch; left out of every other line.
    """
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    fields: dict[str, Any] = {
        "sqsidem": SCHEMA_VERSION,
        "decision": decision,
        "transaction_id": transaction_id,
        "message_id": message_id,
        "group_id": group_id,
        "receive_count": receive_count,
        "error": error,
    }
    if blocked_by is not None:
        fields["blocked_by"] = blocked_by
    return json.dumps(
        fields,
        ensure_ascii=False,
        separators=(", ", ": "),
    )


def parse_decision(line: str) -> dict[str, Any] | None:
    """The decision in a log line, or None when the line holds none.

    Tolerates a prefix (timestamps, request ids added by a log pipeline) and trailing text.
    """
    start = line.find(_MARKER)
    if start < 0:
        return None
    try:
        value, _ = _DECODER.raw_decode(line, start)
    except ValueError:
        return None
    if (
        not isinstance(value, dict)
        or value.get("sqsidem") != SCHEMA_VERSION
        or value.get("decision") not in DECISIONS
    ):
        return None
    return value
