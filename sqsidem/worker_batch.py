"""The worker's batches in flight and the thread that deletes what they acknowledged.

A received batch is split into units that may run in parallel (a FIFO message group each,
every record alone on a standard queue: :func:`~sqsidem.consumer.batch.independent_units`);
the worker's processing threads run the units, each through the same
:meth:`~sqsidem.consumer.batch.Consumer.handle_records` as the Lambda handler, so order and
the DESIGN 6.4 stop rule hold within a group. Successes go to the :class:`Deleter`, which
coalesces them into DeleteMessageBatch calls. A batch ends (its heartbeat stopped, its
counters added, its slot freed) once every unit is done and every delete is answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqsidem.consumer.batch import Consumer, RecordOutcome
from sqsidem.worker_event import WorkerContext
from sqsidem.worker_heartbeat import Heartbeat

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_BATCH = 10


class InFlightBatch:
    """One received batch while its units run; thread-safe."""

    def __init__(
        self,
        messages: list[Mapping[str, Any]],
        records: list[dict[str, Any]],
        units: list[list[int]],
        *,
        fifo: bool,
        consumer: Consumer,
        context: WorkerContext,
        heartbeat: Heartbeat,
        eager_delete: bool,
        on_done: Callable[[InFlightBatch], None],
    ) -> None:
        self.messages = messages
        self.records = records
        self.units = units
        self.fifo = fifo
        self.consumer = consumer
        self.context = context
        self.heartbeat = heartbeat
        # False: successes wait for the batch's last unit and leave in one call.
        self.eager_delete = eager_delete
        self.on_done = on_done
        self.outcomes: list[RecordOutcome | None] = [None] * len(messages)
        self._mutex = threading.Lock()
        self._units_left = len(units)
        self._deletes_left = 0  # handed to the deleter, not answered yet
        self._to_delete: list[Mapping[str, Any]] = []

    def run_unit(self, unit: list[int]) -> list[Mapping[str, Any]]:
        """Run one unit in order; the messages to delete now (may be empty)."""
        outcomes = self.consumer.handle_records(
            [self.records[i] for i in unit], self.context, fifo=self.fifo
        )
        pairs = list(zip(unit, outcomes, strict=True))
        # Not acknowledged: stop extending it so it reappears after the visibility timeout.
        self.heartbeat.forget(
            [str(self.messages[i]["ReceiptHandle"]) for i, o in pairs if not o.acked]
        )
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
        self.heartbeat.forget([str(m["ReceiptHandle"]) for m in messages])
        with self._mutex:
            self._deletes_left -= len(messages)
            done = self._units_left == 0 and self._deletes_left == 0
        if done:
            self.on_done(self)

    def final_outcomes(self) -> list[RecordOutcome]:
        with self._mutex:
            return [o for o in self.outcomes if o is not None]


class Deleter:
    """One thread deleting acknowledged messages; what arrives during a call joins the next.

    Under load that packs up to 10 messages per DeleteMessageBatch; when idle, a finished
    group's messages leave at once, freeing the group for its next message (FIFO).
    """

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        *,
        on_call: Callable[[int], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.on_call = on_call  # told the number of messages that failed to delete
        self.on_error = on_error
        self._changed = threading.Condition()
        self._pending: list[tuple[InFlightBatch, Mapping[str, Any]]] = []
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name="sqsidem-deleter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, batch: InFlightBatch, messages: list[Mapping[str, Any]]) -> None:
        with self._changed:
            self._pending.extend((batch, m) for m in messages)
            self._changed.notify()

    def close(self) -> None:
        """Delete everything submitted so far, then stop the thread."""
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closing:
                    self._changed.wait()
                if not self._pending:
                    return
                take, self._pending = self._pending, []
            for start in range(0, len(take), MAX_BATCH):
                self._delete(take[start : start + MAX_BATCH])

    def _delete(self, chunk: list[tuple[InFlightBatch, Mapping[str, Any]]]) -> None:
        try:
            response = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": str(m["ReceiptHandle"])}
                    for i, (_, m) in enumerate(chunk)
                ],
            )
            # A message we could not delete comes back and is then a harmless duplicate.
            self.on_call(len(response.get("Failed", [])))
        except Exception as exc:
            self.on_error(exc)
        finally:
            # Answered either way, so every batch still ends and frees its slot.
            by_batch: dict[int, tuple[InFlightBatch, list[Mapping[str, Any]]]] = {}
            for batch, message in chunk:
                by_batch.setdefault(id(batch), (batch, []))[1].append(message)
            for batch, messages in by_batch.values():
                batch.deleted(messages)
