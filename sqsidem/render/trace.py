"""The view of `trace ID` (also shown by `demo`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqsidem.render.sink import Renderer, escape

if TYPE_CHECKING:
    from sqsidem.trace import Trace


def warn_peek(render: Renderer) -> None:
    """Said before `trace --peek-queue` receives anything."""
    render.warn(
        "--peek-queue receives from the main queue: each message seen counts one receive "
        "toward its maxReceiveCount (it stops at a message one receive short of it)"
    )


def show_trace(render: Renderer, result: Trace) -> None:
    """The lock, the queues, the decisions, and a one-line story (also used by `demo`).

    Every line is one line: ids, group ids and errors come from outside, so each line is
    escaped whole (a newline or an escape sequence in them shows as ``\\n``, ``\\x1b``).
    """
    if render.json:
        render.emit(result.as_dict())
        return
    for line in _lines(result):
        render.line(escape(line))
    for note in result.notes:
        render.note(escape(note))


def _lines(result: Trace) -> list[str]:
    lines = [f"transaction {result.transaction_id}"]
    lock = result.lock_dict()
    if lock is not None:
        timing = ", ".join(
            f"{name.replace('_', ' ')} {lock[name]}"
            for name in ("first_seen", "in_progress_deadline", "completed", "expires")
            if lock[name]
        )
        lines.append(
            f"  lock      {lock['state']} ({lock['status'] or 'tutorial format'}) {timing}"
        )
    for message in result.in_dlq:
        lines.append(f"  DLQ       message {message.message_id} group {message.group_id}")
    for message in result.in_queue:
        lines.append(f"  queue     message {message.message_id} group {message.group_id}")
    for decision in result.decisions or []:
        error = f" {decision.error}" if decision.error else ""
        lines.append(
            f"  {decision.as_dict()['time']}  {decision.decision:<14} "
            f"message {decision.message_id} receive {decision.receive_count}{error}"
        )
    lines.append("story: " + "; ".join(result.story()))
    return lines
