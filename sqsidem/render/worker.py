"""What ``sqsidem worker`` shows: the start note, the decision lines, the summary.

The decision lines are the consumer's own JSON lines (DESIGN 6.5), written to stderr
exactly as the function writes them to its log, whole lines even from several threads.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import TYPE_CHECKING

from sqsidem.render.sink import Renderer

if TYPE_CHECKING:
    from sqsidem.worker.model import WorkerStats


class WorkerView:
    def __init__(self, render: Renderer) -> None:
        self.render = render
        self._mutex = threading.Lock()

    def started(self, queue_url: str) -> None:
        self.render.note(
            f"polling {queue_url}; Ctrl-C stops after the batches in flight (twice aborts)"
        )

    def decision(self, line: str) -> None:
        """One decision line; called from the worker's processing threads."""
        with self._mutex:
            stream = self.render.stderr
            stream.write(line + "\n")
            stream.flush()

    def stopping(self) -> None:
        """The first Ctrl-C (in the main thread, which never holds the mutex: the decision
        lines come from the processing threads, and the note must not split one)."""
        with self._mutex:
            self.render.note(
                "stopping: no new receive; the batches in flight finish (Ctrl-C again aborts)"
            )

    def stopped(self, stats: WorkerStats) -> None:
        """The stats as one JSON object on stdout (``--output json``), the summary on stderr."""
        if self.render.json:
            self.render.emit({**asdict(stats), "msgs_per_s": round(stats.msgs_per_s, 1)})
        self.render.info(
            f"worker stopped ({stats.stop_reason}): received {stats.received}, processed "
            f"{stats.processed}, duplicates {stats.duplicates}, failed {stats.failed}, "
            f"{stats.msgs_per_s:.1f} msgs/s"
        )
        if stats.released:
            self.render.note(f"{stats.released} received after Ctrl-C: made visible again")
        if stats.polls_left:
            self.render.note(
                f"{stats.polls_left} long poll(s) still waiting were left: a message they "
                "receive now reappears after the queue's visibility timeout"
            )
