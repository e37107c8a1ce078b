"""One batch of SQS records through the lock: decisions, partial batch response (DESIGN 6.4).

Shared by the Lambda handler and the worker. Per record: key -> acquire -> process ->
complete (or release); a processor that takes ``effects`` gets them committed with COMPLETED
in one transaction (effects.py). A record that is not acknowledged stops the rest of its message
group in the batch on a FIFO queue (reported failed without running, order kept), while
other groups go on. An exception in our own code fails only its record: the response
always keeps the ``batchItemFailures`` format, because an invalid response would fail the
whole batch.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import decisions as d
from .effects import EffectsRejected
from .failpoints import AFTER_COMPLETE, AFTER_LOCK, MID_PROCESS, NO_FAILPOINTS, Failpoints
from .keys import KeySpec, NoKeyError, record_key
from .lock import LockAttempt, LockTable
from .processor import BoundProcessor, Processor, bind_processor

# Without a context (a direct call) assume Lambda's maximum timeout: a long deadline only
# delays crash recovery, a short one could let a redelivery run the work twice.
DEFAULT_REMAINING_MS = 900_000


class InvocationContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class AttemptObserver(Protocol):
    """Told while a lock is held, so the worker's heartbeat can extend it."""

    def lock_held(self, key: str, owner: str) -> None: ...

    def lock_done(self, key: str, owner: str) -> None: ...


@dataclass(frozen=True)
class RecordOutcome:
    """The final decision for one record; ``acked`` False means it is in batchItemFailures."""

    message_id: str | None
    decision: str
    acked: bool
    transaction_id: str | None = None


@dataclass
class BatchResult:
    outcomes: list[RecordOutcome] = field(default_factory=list)

    @property
    def failed_ids(self) -> list[str]:
        return [o.message_id for o in self.outcomes if not o.acked and o.message_id]

    def response(self) -> dict[str, list[dict[str, str]]]:
        """The partial batch response Lambda's event source mapping understands."""
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.failed_ids]}


@dataclass(frozen=True)
class RecordMeta:
    """What every decision line says about its record."""

    message_id: str | None
    group_id: str | None
    receive_count: int | None


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
    ) -> None:
        self.lock = lock
        # The processor's form (with or without effects) is decided here, once.
        self.processor = bind_processor(processor)
        self.key_spec = key_spec
        self.dedup_scope = dedup_scope
        self._emit_line = emit
        self.failpoints = failpoints
        self.observer = observer

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
        """Records in order under the DESIGN 6.4 rule; one outcome per record, same order.

        The Lambda handler passes its whole batch; the worker passes one unit of
        :func:`independent_units` per thread (a FIFO group's records), so both apply the
        same rule: on a FIFO queue a record that is not acknowledged stops the rest of its
        group (reported failed without running).
        """
        stopped: dict[str, str | None] = {}  # group -> the message that stopped it
        outcomes: list[RecordOutcome] = []
        for record in records:
            meta = record_meta(record)
            if fifo and meta.group_id is not None and meta.group_id in stopped:
                outcome = self._skip(meta, stopped[meta.group_id])
            else:
                outcome = self._handle_safely(record, meta, context)
            if fifo and not outcome.acked and meta.group_id is not None:
                stopped.setdefault(meta.group_id, meta.message_id)
            outcomes.append(outcome)
        return outcomes

    def _handle_safely(
        self, record: Mapping[str, Any], meta: RecordMeta, context: InvocationContext | None
    ) -> RecordOutcome:
        try:
            return self._attempt(record, meta, context)
        except Exception as exc:  # our own code or AWS failed: fail this record only
            self._emit(d.FAILED, None, meta, f"internal error: {_describe(exc)}")
            return RecordOutcome(meta.message_id, d.FAILED, acked=False)

    def _skip(self, meta: RecordMeta, stopped_by: str | None) -> RecordOutcome:
        self._emit(
            d.FAILED,
            None,
            meta,
            f"not attempted: message {stopped_by} of group {meta.group_id} earlier in this "
            "batch was not acknowledged, so order requires a retry",
        )
        return RecordOutcome(meta.message_id, d.FAILED, acked=False)

    def handle_record(
        self, record: Mapping[str, Any], context: InvocationContext | None
    ) -> RecordOutcome:
        """One record on its own (no group logic); never raises for our own failures."""
        return self._handle_safely(record, record_meta(record), context)

    def _attempt(
        self, record: Mapping[str, Any], meta: RecordMeta, context: InvocationContext | None
    ) -> RecordOutcome:
        try:
            key = record_key(record, self.key_spec, self.dedup_scope)
        except NoKeyError as exc:
            self._emit(d.FAILED, None, meta, f"no idempotency key: {exc}")
            return RecordOutcome(meta.message_id, d.FAILED, acked=False)
        owner = _owner(context)
        deadline_ms = self.lock.now_ms() + _remaining_ms(context)
        attempt = LockAttempt(owner, meta.message_id, meta.group_id, meta.receive_count)
        acquired = self.lock.acquire(key, attempt, deadline_ms)
        if acquired.kind == "duplicate":
            self._emit(d.DUPLICATE, key, meta)
            return RecordOutcome(meta.message_id, d.DUPLICATE, acked=True, transaction_id=key)
        if acquired.kind == "busy":
            # A live attempt holds the lock: acknowledging would lose the message if it fails.
            self._emit(d.BUSY, key, meta)
            return RecordOutcome(meta.message_id, d.BUSY, acked=False, transaction_id=key)
        self._emit(d.TAKEN_OVER if acquired.kind == "taken-over" else d.ACQUIRED, key, meta)
        if self.observer is not None:
            self.observer.lock_held(key, owner)
        try:
            return self._run(record, meta, key, owner)
        finally:
            if self.observer is not None:
                self.observer.lock_done(key, owner)

    def _run(
        self, record: Mapping[str, Any], meta: RecordMeta, key: str, owner: str
    ) -> RecordOutcome:
        self.failpoints.hit(AFTER_LOCK)
        try:
            # The processor gets the record exactly as Lambda delivers it (a plain dict).
            effects = self.processor.run(dict(record))
        except Exception as exc:
            return self._release(meta, key, owner, f"processor raised {_describe(exc)}")
        if effects is not None and effects.problem is not None:
            # The processor caught a refused effect: committing the rest would drop it.
            return self._release(meta, key, owner, f"effect refused: {effects.problem}")
        # With effects, nothing has been written yet: a crash here leaves no effect at all.
        self.failpoints.hit(MID_PROCESS)
        try:
            owned = self.lock.complete(key, owner, effects)
        except EffectsRejected as exc:
            return self._release(meta, key, owner, f"effects not committed: {exc}")
        except Exception as exc:
            if effects is not None and len(effects) > 0:
                # Committed or not, the lock tells: released if not (retry now); if it did
                # commit, the release finds COMPLETED and the redelivery is a duplicate.
                return self._release(
                    meta, key, owner, f"committing the effects failed: {_describe(exc)}"
                )
            # The work is done; a retry would redo it after the deadline. Acknowledge and say
            # that the lock stays IN_PROGRESS until its deadline.
            self._emit(d.LOST_OWNERSHIP, key, meta, f"could not write COMPLETED: {_describe(exc)}")
            return RecordOutcome(meta.message_id, d.LOST_OWNERSHIP, acked=True, transaction_id=key)
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
        self.failpoints.hit(AFTER_COMPLETE)
        return RecordOutcome(meta.message_id, d.COMPLETED, acked=True, transaction_id=key)

    def _release(self, meta: RecordMeta, key: str, owner: str, message: str) -> RecordOutcome:
        problem: str | None = None
        released = False
        try:
            released = self.lock.release(key, owner)
            if not released:
                problem = "the lock is no longer ours, left as is"
        except Exception as exc:
            # The lock stays IN_PROGRESS and becomes takeable at its deadline: delayed, not lost.
            problem = f"releasing the lock failed ({_describe(exc)}), it expires at its deadline"
        self._emit(d.FAILED, key, meta, f"{message}; {problem}" if problem else message)
        if released:
            self._emit(d.RELEASED, key, meta)
        return RecordOutcome(meta.message_id, d.FAILED, acked=False, transaction_id=key)

    def _emit(
        self, decision: str, key: str | None, meta: RecordMeta, error: str | None = None
    ) -> None:
        line = d.decision_line(
            decision,
            transaction_id=key,
            message_id=meta.message_id,
            group_id=meta.group_id,
            receive_count=meta.receive_count,
            error=error,
        )
        # A broken log sink must not change the outcome of the record.
        with contextlib.suppress(Exception):
            self._emit_line(line)


def is_fifo(records: Sequence[Mapping[str, Any]]) -> bool:
    """FIFO by the queue ARN; SequenceNumber exists only on FIFO records (fair standard
    queues also carry MessageGroupId, so that attribute proves nothing)."""
    for record in records:
        arn = record.get("eventSourceARN")
        if isinstance(arn, str) and arn:
            return arn.endswith(".fifo")
        if "SequenceNumber" in (record.get("attributes") or {}):
            return True
    return False


def independent_units(records: Sequence[Mapping[str, Any]], *, fifo: bool) -> list[list[int]]:
    """Indexes of ``records`` split into units that may run in parallel, each in order.

    FIFO: one unit per message group in first-seen order (a group's records keep their
    order and the 6.4 rule applies within the unit); a record without a group is on its
    own, as the rule never links it to another. Standard queue: every record alone.
    """
    if not fifo:
        return [[i] for i in range(len(records))]
    units: list[list[int]] = []
    by_group: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        group = record_meta(record).group_id
        if group is None:
            units.append([i])
        elif group in by_group:
            by_group[group].append(i)
        else:
            by_group[group] = [i]
            units.append(by_group[group])
    return units


def record_meta(record: Mapping[str, Any]) -> RecordMeta:
    attributes = record.get("attributes") or {}
    message_id = record.get("messageId")
    group_id = attributes.get("MessageGroupId")
    count_text = str(attributes.get("ApproximateReceiveCount", ""))
    return RecordMeta(
        message_id=message_id if isinstance(message_id, str) else None,
        group_id=group_id if isinstance(group_id, str) else None,
        receive_count=int(count_text) if count_text.isdigit() else None,
    )


def _owner(context: object) -> str:
    request_id = getattr(context, "aws_request_id", None)
    token = uuid.uuid4().hex
    return f"{request_id}/{token}" if isinstance(request_id, str) and request_id else token


def _remaining_ms(context: InvocationContext | None) -> int:
    if context is None:
        return DEFAULT_REMAINING_MS
    return max(0, int(context.get_remaining_time_in_millis()))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
