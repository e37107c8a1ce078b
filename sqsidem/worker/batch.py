"""One received batch while its units run.

A received batch is split into units that may run in parallel (a FIFO message group each,
every record alone on a standard queue: :func:`~sqsidem.consumer.batch.independent_units`).
When it is dispatched, the locks of all its records start being acquired ahead
(:meth:`~sqsidem.consumer.batch.Consumer.start`, see :mod:`sqsidem.consumer.pipeline`); the
worker's processing threads then run the units, each through the same
:meth:`~sqsidem.consumer.batch.Consumer.run_unit` as the Lambda handler, so order and the
DESIGN 6.4 stop rule hold within a group. A unit's COMPLETED writes finish behind it: its
acknowledged messages go to the deleter (:mod:`sqsidem.worker.deleter`) once every outcome
of the unit is final. A batch ends (its heartbeat stopped, its counters added, its slot
freed) once every unit is final and every delete is answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from sqsidem.consumer.batch import Consumer, PreparedBatch, RecordOutcome
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
    # Told the messages to delete now (from whichever thread finished a unit).
    on_delete: Callable[[InFlightBatch, list[Mapping[str, Any]]], None]
    outcomes: list[RecordOutcome | None] = field(init=False)
    prepared: PreparedBatch | None = field(init=False, default=None)
    _mutex: threading.Lock = field(init=False, default_factory=threading.Lock)
    _units_left: int = field(init=False)
    _deletes_left: int = field(init=False, default=0)  # handed to the deleter, not answered
    _to_delete: list[Mapping[str, Any]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.outcomes = [None] * len(self.messages)
        self._units_left = len(self.units)

    def start(self) -> None:
        """Start acquiring every record's lock ahead (returns at once)."""
        self.prepared = self.consumer.start(
            self.records, self.context, fifo=self.fifo, send_each_unit=self.eager_delete
        )

    def run_unit(self, unit: list[int]) -> None:
        """Run one unit in order; its deletes follow once its outcomes are final."""
        if self.prepared is None:
            self.start()
        assert self.prepared is not None
        futures = self.prepared.run_unit(unit)
        left = [len(futures)]
        mutex = threading.Lock()

        def one_done(_future: Future[RecordOutcome]) -> None:
            with mutex:
                left[0] -= 1
                last = left[0] == 0
            if last:
                self._unit_final(unit, [f.result() for f in futures])

        for future in futures:
            future.add_done_callback(one_done)

    def _unit_final(self, unit: list[int], outcomes: list[RecordOutcome]) -> None:
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
        if take:
            self.on_delete(self, take)
        if done:
            self.on_done(self)

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
