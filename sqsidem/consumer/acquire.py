"""A batch's lock acquisitions, started ahead of its records' turns (pipeline.py, point 1).

The new keys of a batch go as one INSERT batch (:meth:`~.lock.LockTable.acquire_new`); a key
it found taken, a single lock and a table that takes no INSERTs go through the conditional
PutItem (:meth:`~.lock.LockTable.acquire`). Either way each record's ``acquire`` future holds
its :class:`~.lock.AcquireResult`, and the observer (the worker's heartbeat) is told of every
lock held.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, InvalidStateError
from typing import TYPE_CHECKING, Protocol

from .lock import AcquireResult, LockAttempt, LockTable
from .pipeline import Pipeline, PreparedRecord

if TYPE_CHECKING:
    from collections.abc import Sequence


class AttemptObserver(Protocol):
    """Told while a lock is held, so the worker's heartbeat can extend it."""

    def lock_held(self, key: str, owner: str) -> None: ...

    def lock_done(self, key: str, owner: str) -> None: ...


class Acquirer:
    """Starts lock acquisitions on the pipeline's I/O threads; thread-safe."""

    def __init__(
        self, lock: LockTable, pipeline: Pipeline, observer: AttemptObserver | None
    ) -> None:
        self.lock = lock
        self.pipeline = pipeline
        self.observer = observer

    def ahead(self, items: Sequence[PreparedRecord], deadline_ms: int) -> None:
        """Start acquiring ``items``' locks: one INSERT batch for all (then a PutItem for
        each key it found taken), or one PutItem each when there is a single lock or the
        table takes no INSERTs."""
        if len(items) < 2 or not self.lock.inserts:
            for item in items:
                self.now(item, deadline_ms)
            return
        for item in items:
            item.acquire = Future()
        self.pipeline.io(self._together, list(items), deadline_ms)

    def now(self, item: PreparedRecord, deadline_ms: int) -> Future[AcquireResult]:
        """Start acquiring ``item``'s lock by its own PutItem; that acquisition."""
        acquiring = self.pipeline.io(self._one, item, deadline_ms)
        item.acquire = acquiring
        return acquiring

    def _together(self, items: list[PreparedRecord], deadline_ms: int) -> None:
        try:
            requests = [(_key(item), _attempt(item)) for item in items]
            try:
                results = self.lock.acquire_new(requests, deadline_ms)
            except Exception:  # our own bug: the PutItem of each still decides
                results = [None] * len(items)
            for item, result in zip(items, results, strict=True):
                if result is None:  # taken, or not written: the PutItem decides
                    _settle(item, self.pipeline.io(self._one, item, deadline_ms))
                else:
                    _settle(item, self._held(item, result))
        except BaseException as exc:
            # Whoever waits for an acquisition must learn of the crash (as with a PutItem).
            for item in items:
                if item.acquire is not None:
                    with contextlib.suppress(InvalidStateError):  # already answered
                        item.acquire.set_exception(exc)
            raise

    def _one(self, item: PreparedRecord, deadline_ms: int) -> AcquireResult:
        return self._held(item, self.lock.acquire(_key(item), _attempt(item), deadline_ms))

    def _held(self, item: PreparedRecord, acquired: AcquireResult) -> AcquireResult:
        if acquired.owned and self.observer is not None:
            self.observer.lock_held(_key(item), item.owner)
        return acquired


def acquired_ahead(item: PreparedRecord) -> AcquireResult | None:
    """The ahead acquisition's result once it is answered; None if it failed or was none."""
    if item.acquire is None:
        return None
    try:
        result: AcquireResult = item.acquire.result()
    except Exception:
        return None  # nothing known to be ours: it expires at its deadline if it was
    return result


def _key(item: PreparedRecord) -> str:
    assert item.key is not None  # only records with a key take a lock
    return item.key


def _attempt(item: PreparedRecord) -> LockAttempt:
    meta = item.meta
    return LockAttempt(item.owner, meta.message_id, meta.group_id, meta.receive_count)


def _settle(item: PreparedRecord, result: AcquireResult | Future[AcquireResult]) -> None:
    """Resolve ``item``'s acquisition with ``result``, now or when that future is done."""
    target = item.acquire
    assert target is not None
    if not isinstance(result, Future):
        target.set_result(result)
        return

    def copy(done: Future[AcquireResult]) -> None:
        # The target may have failed meanwhile (a crash of the batch's acquisition).
        with contextlib.suppress(InvalidStateError):
            error = done.exception()
            if error is None:
                target.set_result(done.result())
            else:
                target.set_exception(error)

    result.add_done_callback(copy)
