"""The views of `send`: each message's result, progress, the summary line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqsidem.render.sink import ProgressHandle, Renderer, escape, to_json

if TYPE_CHECKING:
    from sqsidem.messages.result import SendResult, SendSummary

_SHOW_EACH_UP_TO = 20  # human mode lists every message only for small sends
_PROGRESS_FROM = 10


class SendView:
    """Follows a send (a ``SendWatch``): JSON Lines, or one line per message for small sends."""

    def __init__(self, render: Renderer) -> None:
        self.render = render
        self.show_each = True

    @contextmanager
    def sending(self, count: int) -> Iterator[ProgressHandle | None]:
        self.show_each = count <= _SHOW_EACH_UP_TO
        total = count if count > _PROGRESS_FROM else None
        with self.render.progress("sending", total=total) as progress:
            yield progress

    def result(self, result: SendResult) -> None:
        render = self.render
        if render.json:
            render.emit_line(result.as_dict())
        elif not result.ok:
            render.warn(
                f"message {result.index + 1} (key {escape(result.key)}) failed: "
                f"{escape(result.error)}"
            )
        elif self.show_each:
            render.line(
                f"sent {result.message_id}  group={escape(result.group_id or '-')}  "
                f"dedup={escape(result.dedup_id or '-')}  key={escape(result.key)}"
            )

    def summary(self, summary: SendSummary) -> None:
        """The closing line on stderr (a JSON object with --output json)."""
        if self.render.json:
            self.render.info(to_json(summary.as_dict()))
            return
        self.render.info(
            f"sent {summary.sent} of {summary.total} message(s) in {summary.elapsed_s:.2f} s "
            f"({summary.msgs_per_s:.0f} msgs/s, {summary.api_calls} SendMessageBatch call(s))"
        )
