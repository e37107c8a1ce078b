"""One received batch while its units run.

A received batch is split into units that may run in parallel (a FIFO message group each,
every record alone on a standard queue: :func:`~sqsidem.consumer.batch.independent_units`);
the worker's processing threads run the units, each through the same
:meth:`~sqsidem.consumer.batch.Consumer.handle_records` as the Lambda handler, so order and
the DESIGN 6.4 stop rule hold within a group. Successes go to the deleter
(:mod:`sqsidem.worker.deleter`). A batch ends (its heartbeat stopped, its counters added,
its slot freed) once every unit is done and every delete is answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from sqsidem.consumer.batch import Consumer, RecordOutcome
from sqsidem.worker.event import WorkerContext
from sqsidem.worker.heartbeat import Heartbeat


def receipt_handles(messages: list[Mapping[str, Any]]) -> list[str]:
    return [str(m["ReceiptHandle"]) for m in messages]


@dataclass(eq=False)
class InFlightBatch:
    """One received batch while its units run; thread-safe."""

    messages: list[Mapping[str, Any]]
    records: list[dict[str, Any]]
    units: list[list[int]]
    _: KW_ONLY
    fifo: bool
    consumer: Consumer
    context: WorkerContext
    heartbeat: Heartbeat
    # False: successes wait for the batch's last unit and leave in one call.
    eager_delete: bool
    on_done: Callable[[InFlightBatch], None]
    outcomes: list[RecordOutcome | None] = field(init=False)
    _mutex: threading.Lock = field(init=False, default_factory=threading.Lock)
    _units_left: int = field(init=False)
    _deletes_left: int = field(init=False, default=0)  # handed to the deleter, not answered
    _to_delete: list[Mapping[str, Any]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.outcomes = [None] * len(self.messages)
        self._units_left = len(self.units)

    def run_unit(self, unit: list[int]) -> list[Mapping[str, Any]]:
        """Run one unit in order; the messages to delete now (may be empty)."""
        outcomes = self.consumer.handle_records(
            [self.records[i] for i in unit], self.context, fifo=self.fifo
        )
        pairs = list(zip(unit, outcomes, strict=True))
        # Not acknowledged: stop extending it so it reappears after the visibility timeout.
        self.heartbeat.forget(receipt_handles([self.messages[i] for i, o in pairs if not o.acked]))
        with self._mutex:
            for i, outcome in pairs:
                self.outcomes[i] = outcome
                if outcome.acked:
                    self._to_delete.append(self.messages[i])
            self._units_left -= 1
            take: list[Mapping[str, Any]] = []
            if self.eager_delete or self._units_left == 0:
                take, self._to_delete = self._to_delete, []
            self._deletes_left += len(take)
            done = self._units_left == 0 and self._deletes_left == 0
        if done:
            self.on_done(self)
        return take

    def deleted(self, messages: list[Mapping[str, Any]]) -> None:
        """The deleter answered for these messages (deleted or not)."""
        self.heartbeat.forget(receipt_handles(messages))
        with self._mutex:
            self._deletes_left -= len(messages)
            done = self._units_left == 0 and self._deletes_left == 0
        if done:
            self.on_done(self)

    def final_outcomes(self) -> list[RecordOutcome]:
        with self._mutex:
            return [o for o in self.outcomes if o is not None]
