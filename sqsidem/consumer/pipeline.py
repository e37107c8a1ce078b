"""Pipelined locks: a batch's lock writes overlap, its records still run one after another.

The naive consumer pays two sequential round trips per record: the acquiring ``PutItem``,
then (after the processor) the completing ``UpdateItem``, before the next record of the group
may start. Nothing in the lock's guarantees needs that shape. This module keeps the state
machine, the lock record and the two writes per new message of lock.py exactly as they are,
and changes only *when* the writes are issued and awaited:

1. **Acquire ahead.** When a batch arrives, the lock of every record with a key is acquired
   at once: one ``BatchExecuteStatement`` of PartiQL INSERTs for all of them (an INSERT
   writes its item only where the key is absent, and each statement succeeds or fails on
   its own), then a conditional ``PutItem`` on the I/O threads for each key the INSERT found
   taken, which decides duplicate, busy, stale or expired (a single lock, or a table that
   refuses INSERTs, goes straight to ``PutItem``). Each lock is its own item and its own
   condition, so acquiring ten together decides exactly what acquiring them one by one
   would: the outcome of one acquire never depends on another's. The result is
   only *looked at* when the record's turn comes, so the decision lines (``acquired``,
   ``taken-over``, ``duplicate``, ``busy``) appear in the order the records run, as before.
   Two records in flight with the same key (``send --repeat-key``; the :class:`Pipeline`
   remembers which keys have a record in flight, across the batches a worker holds) would
   race each other (one would be ``busy``): the later one is not acquired ahead. At its
   turn, if the earlier one has had its turn (always so within a group), it waits until
   that one is final (COMPLETED answered) and then acquires: a ``duplicate`` exactly as in
   the sequential order. If the earlier one's turn has not come (another group that is
   still queued), it acquires at once rather than wait for a thread that may never come:
   one of the two is ``busy`` and retried by SQS, as in the worker before.

2. **Run in order.** Each unit (a FIFO group's records, or one record of a standard queue;
   :func:`~.batch.independent_units`) runs its records in order with the decisions of the
   sequential consumer: a duplicate is acknowledged, a busy lock or a failure stops the rest
   of the group (DESIGN 6.4). The function runs a batch's units in parallel on bounded threads
   (:data:`UNIT_THREADS`), as the worker does with its processing threads.

3. **Complete behind.** After a record's processor returns, its COMPLETED write is queued
   and the next record starts at once. The batch's writes go out together once its last
   record's turn is over, or after a few milliseconds at most (completions.py): one
   ``BatchExecuteStatement`` of PartiQL UPDATEs on the ``UpdateItem``'s owner condition,
   or the ``UpdateItem`` itself for a single write. That is safe because no
   decision depends on the write's outcome: the record is acknowledged whether the update
   succeeds (``completed``), finds the lock taken over (``lost-ownership``) or fails
   (``lost-ownership``, the lock stays IN_PROGRESS until its deadline): the work is done in
   every case, so the group goes on in every case. A processor with transactional effects is
   different: its ``TransactWriteItems`` can be rejected (an effect's condition), which must
   fail the record and stop its group, so that commit stays synchronous.

4. **Release what will not run.** Records after a stop in their group are reported failed
   without running: each gets exactly one ``failed`` line carrying the structured
   ``blocked_by`` field (the message id that stopped the group; DESIGN 6.5). The locks that
   were acquired ahead for them are released concurrently (conditional ``DeleteItem`` on
   owner and IN_PROGRESS) **without a line of their own**: ``acquired`` was never printed
   for them (decision lines are printed at a record's turn), so there is nothing for
   ``logs``, ``trace`` or ``watch`` to close. The ``failed`` line is printed once the
   release is answered; if the release itself failed, its ``error`` says so and that the
   lock frees itself at its deadline (the record's retry is then delayed, not lost).

5. **Wait before answering.** The unit's outcomes are final only when every pending
   COMPLETED write has been answered; the Lambda handler returns (and the worker deletes a
   message) only then. Lambda freezes the process after the return, so a write left pending
   would run at an unknown later time or never.

What a crash (SIGKILL, a timeout, an out-of-memory kill) leaves behind, at each point:

- *While acquiring ahead, or before a record's turn:* some locks IN_PROGRESS with the
  invocation's deadline, their messages not deleted. They come back after the visibility
  timeout; a lock whose deadline passed is taken over (``taken-over``) and the record runs.
  This is the sequential consumer's ``after-lock`` crash, for up to a batch of records at
  once; none of those processors had run, so nothing runs twice.
- *An INSERT batch whose answer was lost* (the call failed after DynamoDB wrote some
  items; not a crash, but the same question): each record's ``PutItem`` then finds the
  item its own attempt wrote (the owner token is per attempt) and keeps it as
  ``acquired``; any other holder decides as usual.
- *After a processor returned, before its COMPLETED was answered:* the work is done but not
  recorded, exactly the sequential consumer's ``mid-process`` crash: the redelivery takes the
  lock over at its deadline and runs the work again (at least once for plain processors; a
  processor with transactional effects commits them in the same transaction as COMPLETED,
  synchronously, so its effects happen exactly once).
- *After COMPLETED, before the answer/delete:* the redelivery finds COMPLETED: ``duplicate``.
- *While releasing the locks of records that never ran:* they stay IN_PROGRESS until the
  deadline, then are taken over; their processors never ran.

The deadline of every lock is the invocation's (the worker's heartbeat extends the locks it
holds, including those acquired ahead), so acquiring ahead never lets a redelivery start
while this attempt may still run the record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .records import RecordMeta

# A Lambda FIFO batch holds at most 10 records, so at most 10 units run at once.
UNIT_THREADS = 10
# Lock writes in flight at once: a whole batch's acquisitions plus the previous completes.
IO_THREADS = 20

T = TypeVar("T")


class Pipeline:
    """The threads a consumer's batches share, and the keys that have a record in flight.

    One per warm function (kept across invocations) or per worker run. Thread-safe.
    """

    def __init__(self, *, unit_threads: int = UNIT_THREADS, io_threads: int = IO_THREADS) -> None:
        self.unit_threads = max(1, unit_threads)
        self.io_threads = max(1, io_threads)
        self._mutex = threading.Lock()
        self._io: ThreadPoolExecutor | None = None
        self._units: ThreadPoolExecutor | None = None
        self._in_flight: dict[str, PreparedRecord] = {}

    def io(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Run one lock write on an I/O thread (started on first use).

        A write submitted by another write while :meth:`shutdown` stops the pool it took
        goes to a fresh pool, which shutdown then waits for too.
        """
        pool = self._io_pool()
        try:
            return pool.submit(function, *args)
        except RuntimeError:  # that pool was shut down meanwhile
            return self._io_pool(replacing=pool).submit(function, *args)

    def _io_pool(self, *, replacing: ThreadPoolExecutor | None = None) -> ThreadPoolExecutor:
        with self._mutex:
            if self._io is None or self._io is replacing:
                self._io = ThreadPoolExecutor(self.io_threads, thread_name_prefix="sqsidem-io")
            return self._io

    def units(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Run one unit of a batch on a unit thread (started on first use)."""
        with self._mutex:
            if self._units is None:
                self._units = ThreadPoolExecutor(
                    self.unit_threads, thread_name_prefix="sqsidem-unit"
                )
            pool = self._units
        return pool.submit(function, *args)

    def claim(self, key: str, item: PreparedRecord) -> PreparedRecord | None:
        """Register ``item`` as the latest record in flight with ``key``; the earlier one
        still in flight, if any (then ``item`` is not acquired ahead)."""
        with self._mutex:
            earlier = self._in_flight.get(key)
            if earlier is not None and earlier.outcome.done():
                earlier = None
            self._in_flight[key] = item
        item.outcome.add_done_callback(lambda _done: self._forget(key, item))
        return earlier

    def _forget(self, key: str, item: PreparedRecord) -> None:
        with self._mutex:
            if self._in_flight.get(key) is item:
                del self._in_flight[key]

    def shutdown(self) -> None:
        """Finish what was submitted and stop the threads (the worker's end).

        A write may submit another (a COMPLETED batch falls back to one UpdateItem each):
        one submitted while the pools stop starts a new pool, which is waited for in turn.
        """
        while True:
            with self._mutex:
                pools = [p for p in (self._units, self._io) if p is not None]
                self._units = self._io = None
            if not pools:
                return
            for pool in pools:
                pool.shutdown(wait=True)


@dataclass(eq=False)
class PreparedRecord:
    """One record of a batch between its arrival and its final outcome."""

    record: Mapping[str, Any]
    meta: RecordMeta  # read from the record once, when the batch starts
    key: str | None
    key_error: str | None
    owner: str
    # The ahead acquisition; None when the record has no key or follows ``earlier``.
    acquire: Future[Any] | None = None
    earlier: PreparedRecord | None = None
    # Set when the record's turn starts: from then on waiting for its outcome waits only
    # for lock writes, never for a unit that has not started (so no wait can deadlock).
    turned: threading.Event = field(default_factory=threading.Event)
    # Resolved with the record's RecordOutcome once final (COMPLETED answered included).
    outcome: Future[Any] = field(default_factory=Future)

    def wait_for_earlier(self) -> None:
        """Before acquiring at its turn: let a same-key record that already had its turn
        become final, so this one is a duplicate as in the sequential order. One whose turn
        has not come is not waited for (it may be queued behind this very thread): then the
        two race on the lock and the later one is ``busy``, retried by SQS."""
        if self.earlier is not None and self.earlier.turned.is_set():
            self.earlier.outcome.exception()  # waits; a crash there is not ours to raise
