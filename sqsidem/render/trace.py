"""The view of `trace ID` (also shown by `demo`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqsidem.render.sink import Renderer

if TYPE_CHECKING:
    from sqsidem.trace import Trace


def show_trace(render: Renderer, result: Trace) -> None:
    """The lock, the queues, the decisions, and a one-line story (also used by `demo`)."""
    transaction_id = result.transaction_id
    if render.json:
        render.emit(result.as_dict())
    else:
        render.line(f"transaction {transaction_id}")
        lock = result.lock_dict()
        if lock is not None:
            timing = ", ".join(
                f"{name.replace('_', ' ')} {lock[name]}"
                for name in ("first_seen", "in_progress_deadline", "completed", "expires")
                if lock[name]
            )
            render.line(
                f"  lock      {lock['state']} ({lock['status'] or 'tutorial format'}) {timing}"
            )
        for message in result.in_dlq:
            render.line(f"  DLQ       message {message.message_id} group {message.group_id}")
        for message in result.in_queue:
            render.line(f"  queue     message {message.message_id} group {message.group_id}")
        for decision in result.decisions or []:
            error = f" {decision.error}" if decision.error else ""
            render.line(
                f"  {decision.as_dict()['time']}  {decision.decision:<14} "
                f"message {decision.message_id} receive {decision.receive_count}{error}"
            )
        render.line("story: " + "; ".join(result.story()))
        for note in result.notes:
            render.note(note)
