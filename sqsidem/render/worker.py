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

    def stopped(self, stats: WorkerStats) -> None:
        """The stats as one JSON object on stdout (``--output json``), the summary on stderr."""
        if self.render.json:
            self.render.emit({**asdict(stats), "msgs_per_s": round(stats.msgs_per_s, 1)})
        self.render.info(
            f"worker stopped ({stats.stop_reason}): received {stats.received}, processed "
            f"{stats.processed}, duplicates {stats.duplicates}, failed {stats.failed}, "
            f"{stats.msgs_per_s:.1f} msgs/s"
        )
