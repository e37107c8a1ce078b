"""One batch of SQS records through the lock: decisions, partial batch response (DESIGN 6.4).

Shared by the Lambda handler and the worker. Per record: key -> acquire -> process ->
complete (or release); a processor that takes ``effects`` gets them committed with COMPLETED
in one transaction (effects.py). The lock writes are pipelined (pipeline.py: acquired ahead
for the whole batch by acquire.py, COMPLETED written behind by completions.py), the records
of a unit still run in order.
A record that is not acknowledged stops the rest of its message group in the batch on a
FIFO queue (reported failed without running, order kept), while other groups go on. An
exception in our own code fails only its record: the response always keeps the
``batchItemFailures`` format, because an invalid response would fail the whole batch.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from . import decisions as d
from .acquire import Acquirer, AttemptObserver, acquired_ahead
from .completions import Completions
from .effects import EffectsRejected
from .failpoints import AFTER_COMPLETE, AFTER_LOCK, MID_PROCESS, NO_FAILPOINTS, Failpoints
from .keys import KeySpec, NoKeyError, record_key
from .lock import AcquireResult, LockTable
from .pipeline import Pipeline, PreparedRecord
from .processor import BoundProcessor, Processor, bind_processor
from .records import (
    DEFAULT_REMAINING_MS,
    BatchResult,
    InvocationContext,
    RecordMeta,
    RecordOutcome,
    describe,
    independent_units,
    is_fifo,
    new_owner,
    record_meta,
    remaining_ms,
    units_by_group,
)

__all__ = [
    "DEFAULT_REMAINING_MS",
    "AttemptObserver",
    "BatchResult",
    "Consumer",
    "InvocationContext",
    "PreparedBatch",
    "RecordMeta",
    "RecordOutcome",
    "independent_units",
    "is_fifo",
    "record_meta",
]

Pending = RecordOutcome | Future[RecordOutcome]


@dataclass(eq=False)
class PreparedBatch:
    """A batch whose locks are being acquired ahead; its units run through the consumer."""

    consumer: Consumer
    records: list[PreparedRecord]
    fifo: bool
    deadline_ms: int
    completions: Completions  # the batch's COMPLETED writes, sent together

    def run_unit(self, unit: Sequence[int]) -> list[Future[RecordOutcome]]:
        """Run the records at ``unit`` in order; their outcomes, final once COMPLETED is
        answered (so the caller may acknowledge each as it resolves)."""
        return self.consumer.run_unit(self, unit)

    def units(self) -> list[list[int]]:
        """The batch's :func:`independent_units`, from the metadata read at its start."""
        return units_by_group([item.meta.group_id for item in self.records], fifo=self.fifo)

    def outcomes(self) -> list[RecordOutcome]:
        """Every record's outcome, waiting for pending writes (all units must have run)."""
        return [prepared.outcome.result() for prepared in self.records]


class Consumer:
    """The lock state machine applied to records; one instance serves many batches."""

    def __init__(
        self,
        lock: LockTable,
        processor: Processor | BoundProcessor,
        *,
        key_spec: KeySpec,
        dedup_scope: str = "queue",
        emit: Callable[[str], None],
        failpoints: Failpoints = NO_FAILPOINTS,
        observer: AttemptObserver | None = None,
        pipeline: Pipeline | None = None,
    ) -> None:
        self.lock = lock
        # The processor's form (with or without effects) is decided here, once.
        self.processor = bind_processor(processor)
        self.key_spec = key_spec
        self.dedup_scope = dedup_scope
        self._emit_line = emit
        # Units run on parallel threads and a sink may write a line in parts (print writes
        # the text and the newline separately): one whole line at a time, for every sink.
        self._emit_lock = threading.Lock()
        self.failpoints = failpoints
        self.observer = observer
        self.pipeline = pipeline if pipeline is not None else Pipeline()
        self.acquirer = Acquirer(lock, self.pipeline, observer)

    def handle_event(
        self, event: Mapping[str, Any], context: InvocationContext | None
    ) -> BatchResult:
        records = event.get("Records") or []
        return BatchResult(self.handle_records(records, context, fifo=is_fifo(records)))

    def handle_records(
        self,
        records: Sequence[Mapping[str, Any]],
        context: InvocationContext | None,
        *,
        fifo: bool,
    ) -> list[RecordOutcome]:
        """Records under the DESIGN 6.4 rule; one outcome per record, same order.

        Locks are acquired ahead for the whole batch, the units
        (:func:`independent_units`) run in parallel on bounded threads, each in order; this
        returns once every COMPLETED write is answered.
        """
        batch = self.start(records, context, fifo=fifo)
        units = batch.units()
        if len(units) == 1:
            batch.run_unit(units[0])
        else:
            for running in [self.pipeline.units(batch.run_unit, unit) for unit in units]:
                running.result()
        return batch.outcomes()

    def handle_record(
        self, record: Mapping[str, Any], context: InvocationContext | None
    ) -> RecordOutcome:
        """One record on its own (no group logic); never raises for our own failures."""
        return self.handle_records([record], context, fifo=False)[0]

    def start(
        self,
        records: Sequence[Mapping[str, Any]],
        context: InvocationContext | None,
        *,
        fifo: bool,
        send_each_unit: bool = False,
    ) -> PreparedBatch:
        """Compute every key and start acquiring the locks ahead; returns at once.

        ``send_each_unit``: a unit's COMPLETED writes go out when the unit ends, for a caller
        that uses each unit's outcomes at once (else they wait for the batch; completions.py).
        """
        deadline_ms = self.lock.now_ms() + remaining_ms(context)
        prepared: list[PreparedRecord] = []
        ahead: list[PreparedRecord] = []  # acquired now, before the first record runs
        for record in records:
            try:
                key: str | None = record_key(record, self.key_spec, self.dedup_scope)
                key_error = None
            except NoKeyError as exc:
                key, key_error = None, str(exc)
            except Exception as exc:  # our own bug: fail this record only
                key, key_error = None, f"internal error: {describe(exc)}"
            item = PreparedRecord(record, record_meta(record), key, key_error, new_owner(context))
            if key is not None:
                item.earlier = self.pipeline.claim(key, item)
                if item.earlier is None:
                    ahead.append(item)
            prepared.append(item)
        self.acquirer.ahead(ahead, deadline_ms)
        completions = Completions(
            self.lock, self.pipeline, turns=len(prepared), each_unit=send_each_unit
        )
        return PreparedBatch(self, prepared, fifo, deadline_ms, completions)

    def run_unit(self, batch: PreparedBatch, unit: Sequence[int]) -> list[Future[RecordOutcome]]:
        stopped_by: RecordMeta | None = None
        blocked: list[PreparedRecord] = []
        behind: set[int] = set()  # records whose outcome waits for their COMPLETED write
        ended: set[int] = set()  # records whose turn is over (told to the batch's writes)
        try:
            for index in unit:
                item = batch.records[index]
                if stopped_by is not None:
                    blocked.append(item)
                    _end_turn(batch, index, ended)
                    continue
                try:
                    pending = self._turn_safely(item, batch)
                finally:
                    _end_turn(batch, index, ended)
                if isinstance(pending, RecordOutcome):
                    _resolve(item, pending)
                    if batch.fifo and not pending.acked:
                        stopped_by = item.meta
                else:
                    behind.add(index)
                    pending.add_done_callback(functools.partial(_resolve_from, item))
            if stopped_by is not None:
                self._block(blocked, stopped_by)
            batch.completions.unit_ended()
        finally:
            # Our own bug must not leave a record (or a record waiting for it) unresolved.
            for index in unit:
                _end_turn(batch, index, ended)
                item = batch.records[index]
                if index not in behind and not item.outcome.done():
                    _resolve(item, RecordOutcome(item.meta.message_id, d.FAILED, acked=False))
        return [batch.records[index].outcome for index in unit]

    def _turn_safely(self, item: PreparedRecord, batch: PreparedBatch) -> Pending:
        meta = item.meta
        try:
            return self._turn(item, meta, batch)
        except Exception as exc:  # our own code or AWS failed: fail this record only
            self._emit(d.FAILED, None, meta, f"internal error: {describe(exc)}")
            return RecordOutcome(meta.message_id, d.FAILED, acked=False)

    def _turn(self, item: PreparedRecord, meta: RecordMeta, batch: PreparedBatch) -> Pending:
        if item.key is None:
            self._emit(d.FAILED, None, meta, f"no idempotency key: {item.key_error}")
            return RecordOutcome(meta.message_id, d.FAILED, acked=False)
        key = item.key
        item.turned.set()
        acquiring = item.acquire
        if acquiring is None:
            # A record with the same key was in flight when this one arrived.
            item.wait_for_earlier()
            acquiring = self.acquirer.now(item, batch.deadline_ms)
        acquired: AcquireResult = acquiring.result()
        if acquired.kind == "duplicate":
            self._emit(d.DUPLICATE, key, meta)
            return RecordOutcome(meta.message_id, d.DUPLICATE, acked=True, transaction_id=key)
        if acquired.kind == "busy":
            # A live attempt holds the lock: acknowledging would lose the message if it fails.
            self._emit(d.BUSY, key, meta)
            return RecordOutcome(meta.message_id, d.BUSY, acked=False, transaction_id=key)
        self._emit(d.TAKEN_OVER if acquired.kind == "taken-over" else d.ACQUIRED, key, meta)
        try:
            return self._run(item.record, meta, key, item.owner, batch.completions)
        except BaseException:
            self._done(key, item.owner)
            raise

    def _run(
        self,
        record: Mapping[str, Any],
        meta: RecordMeta,
        key: str,
        owner: str,
        completions: Completions,
    ) -> Pending:
        self.failpoints.hit(AFTER_LOCK, _attempt_of(meta))
        try:
            # The processor gets the record exactly as Lambda delivers it (a plain dict).
            effects = self.processor.run(dict(record))
        except Exception as exc:
            return self._release(meta, key, owner, f"processor raised {describe(exc)}")
        if effects is not None and effects.problem is not None:
            # The processor caught a refused effect: committing the rest would drop it.
            return self._release(meta, key, owner, f"effect refused: {effects.problem}")
        # With effects, nothing has been written yet: a crash here leaves no effect at all.
        self.failpoints.hit(MID_PROCESS, _attempt_of(meta))
        if effects is None or len(effects) == 0:
            # No decision depends on this write (the record is acknowledged whatever it
            # answers): the next record starts while it waits or is in flight.
            then = functools.partial(self._after_complete, meta, key, owner)
            return completions.add(key, owner, then)
        # A transaction can be rejected, which must stop the group: wait for it.
        try:
            owned = self.lock.complete(key, owner, effects)
        except EffectsRejected as exc:
            return self._release(meta, key, owner, f"effects not committed: {exc}")
        except Exception as exc:
            # Committed or not, the lock tells: released if not (retry now); if it did
            # commit, the release finds COMPLETED and the redelivery is a duplicate.
            return self._release(
                meta, key, owner, f"committing the effects failed: {describe(exc)}"
            )
        self._done(key, owner)
        return self._completed(meta, key, owned)

    def _after_complete(
        self, meta: RecordMeta, key: str, owner: str, answer: bool | Exception
    ) -> RecordOutcome:
        self._done(key, owner)
        if isinstance(answer, Exception):
            # The work is done; a retry would redo it after the deadline. Acknowledge and say
            # that the lock stays IN_PROGRESS until its deadline.
            error = f"could not write COMPLETED: {describe(answer)}"
            self._emit(d.LOST_OWNERSHIP, key, meta, error)
            return RecordOutcome(meta.message_id, d.LOST_OWNERSHIP, acked=True, transaction_id=key)
        return self._completed(meta, key, answer)

    def _completed(self, meta: RecordMeta, key: str, owned: bool) -> RecordOutcome:
        if not owned:
            # With effects nothing was written: the attempt that took the lock over commits.
            self._emit(
                d.LOST_OWNERSHIP,
                key,
                meta,
                "the lock was taken over or deleted before COMPLETED could be written",
            )
            return RecordOutcome(meta.message_id, d.LOST_OWNERSHIP, acked=True, transaction_id=key)
        self._emit(d.COMPLETED, key, meta)
        self.failpoints.hit(AFTER_COMPLETE, _attempt_of(meta))
        return RecordOutcome(meta.message_id, d.COMPLETED, acked=True, transaction_id=key)

    def _release(self, meta: RecordMeta, key: str, owner: str, message: str) -> RecordOutcome:
        released, problem = self._release_lock(key, owner)
        self._emit(d.FAILED, key, meta, f"{message}; {problem}" if problem else message)
        if released:
            self._emit(d.RELEASED, key, meta)
        return RecordOutcome(meta.message_id, d.FAILED, acked=False, transaction_id=key)

    def _release_lock(self, key: str, owner: str) -> tuple[bool, str | None]:
        try:
            if self.lock.release(key, owner):
                return True, None
            return False, "the lock is no longer ours, left as is"
        except Exception as exc:
            # The lock stays IN_PROGRESS and becomes takeable at its deadline: delayed, not lost.
            return False, f"releasing the lock failed ({describe(exc)}), it expires at its deadline"
        finally:
            self._done(key, owner)

    def _block(self, blocked: list[PreparedRecord], stopped_by: RecordMeta) -> None:
        """Records after a stop: release the locks taken ahead for them (concurrently, no
        line of their own), then one ``failed`` line each with ``blocked_by``."""
        releases: list[Future[tuple[bool, str | None]] | None] = []
        for item in blocked:
            acquired = acquired_ahead(item)
            if acquired is not None and acquired.owned and item.key is not None:
                releases.append(self.pipeline.io(self._release_lock, item.key, item.owner))
            else:
                releases.append(None)
        for item, release in zip(blocked, releases, strict=True):
            problem = release.result()[1] if release is not None else None
            meta = item.meta
            error = (
                f"not attempted: message {stopped_by.message_id} of group "
                f"{stopped_by.group_id} earlier in this batch was not acknowledged, so order "
                "requires a retry"
            )
            if problem is not None:
                error += f"; its lock, taken ahead: {problem}"
            self._emit(d.FAILED, item.key, meta, error, blocked_by=stopped_by.message_id)
            _resolve(item, RecordOutcome(meta.message_id, d.FAILED, acked=False))

    def _done(self, key: str, owner: str) -> None:
        if self.observer is not None:
            self.observer.lock_done(key, owner)

    def _emit(
        self,
        decision: str,
        key: str | None,
        meta: RecordMeta,
        error: str | None = None,
        *,
        blocked_by: str | None = None,
    ) -> None:
        line = d.decision_line(
            decision,
            transaction_id=key,
            message_id=meta.message_id,
            group_id=meta.group_id,
            receive_count=meta.receive_count,
            error=error,
            blocked_by=blocked_by,
        )
        # A broken log sink must not change the outcome of the record.
        with self._emit_lock, contextlib.suppress(Exception):
            self._emit_line(line)


def _end_turn(batch: PreparedBatch, index: int, ended: set[int]) -> None:
    """Tell the batch's writes that record ``index``'s turn is over, once."""
    if index not in ended:
        ended.add(index)
        batch.completions.turn_ended()


def _attempt_of(meta: RecordMeta) -> str:
    """A record's attempt, for seeded failpoints: its message and its delivery."""
    return f"{meta.message_id}/{meta.receive_count}"


def _resolve(item: PreparedRecord, outcome: RecordOutcome) -> None:
    if not item.outcome.done():
        item.outcome.set_result(outcome)


def _resolve_from(item: PreparedRecord, done: Future[RecordOutcome]) -> None:
    try:
        outcome = done.result()
    except Exception:
        outcome = RecordOutcome(item.meta.message_id, d.FAILED, acked=False)
    except BaseException as exc:
        # A crash on the write's thread (a failpoint in a test, an interpreter exit) must
        # reach whoever waits for the outcome, as it would in the sequential order.
        if not item.outcome.done():
            item.outcome.set_exception(exc)
        return
    _resolve(item, outcome)
