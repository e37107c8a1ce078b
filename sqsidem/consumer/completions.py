"""The COMPLETED writes of one batch, sent together (pipeline.py, point 3).

A record's COMPLETED write is issued behind it: the next record starts at once. Sent one
by one, a batch of ten costs ten ``UpdateItem`` calls, and on a machine where the client's
CPU is the limit those calls, not the network, set the pace. So the writes of a batch wait
for each other a little: everything waiting goes out together as soon as no record of the
batch can still add a write (every record has had its turn), or when the oldest has waited
:data:`LINGER_S`, whichever comes first. Where a unit's outcome is used as soon as the unit
ends (the worker deletes each FIFO group's messages then, when it runs several batches),
the end of each unit sends too: a group's messages never wait for another group.

Together means one ``BatchExecuteStatement`` of PartiQL UPDATEs, each on the same owner
condition as the ``UpdateItem`` (:meth:`~.lock.LockTable.complete_many`); a single write, a
statement that fails and a table that refuses UPDATEs go through the ``UpdateItem``.

Nothing decides on these writes (the record is acknowledged whatever they answer), so the
wait changes only how long the lock stays IN_PROGRESS after the work: a crash in that time is
the ``mid-process`` crash of the sequential consumer (the redelivery takes the lock over at
its deadline). The wait is bounded by :data:`LINGER_S`, and the last record's write is never
held: the batch's answer (the handler's return, the worker's delete) follows it at once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lock import LockTable
    from .pipeline import Pipeline
    from .records import RecordOutcome

# How long a COMPLETED write may wait for the rest of its batch before it goes out anyway.
LINGER_S = 0.005

# What a write answered: True (written), False (no longer ours) or the error it raised.
Answer = bool | Exception
Then = Callable[[Answer], "RecordOutcome"]


@dataclass(eq=False)
class _Write:
    key: str
    owner: str
    then: Then  # turns the answer into the record's outcome (its lines, its failpoint)
    outcome: Future[RecordOutcome] = field(default_factory=Future)


class Completions:
    """One batch's COMPLETED writes; thread-safe (the batch's units add from their threads)."""

    def __init__(
        self,
        lock: LockTable,
        pipeline: Pipeline,
        turns: int,
        *,
        each_unit: bool = False,
        linger_s: float = LINGER_S,
    ) -> None:
        self.lock = lock
        self.pipeline = pipeline
        self.each_unit = each_unit  # send at the end of every unit, not only of the batch
        self.linger_s = linger_s
        self._turns = turns  # records of the batch whose turn has not ended
        self._waiting: list[_Write] = []
        self._timer: threading.Timer | None = None
        self._mutex = threading.Lock()

    def add(self, key: str, owner: str, then: Then) -> Future[RecordOutcome]:
        """Queue ``key``'s write (during its record's turn); its outcome, once answered."""
        write = _Write(key, owner, then)
        with self._mutex:
            self._waiting.append(write)
            if self._timer is None and self._turns > 0:
                self._timer = threading.Timer(self.linger_s, self._flush)
                self._timer.daemon = True
                self._timer.start()
        return write.outcome

    def turn_ended(self) -> None:
        """A record's turn is over (whatever it was); after the batch's last, all goes out."""
        with self._mutex:
            self._turns -= 1
            last = self._turns <= 0
        if last:
            self._flush()

    def unit_ended(self) -> None:
        """A unit's last turn is over: with ``each_unit``, what waits goes out now."""
        if self.each_unit:
            self._flush()

    def _flush(self) -> None:
        with self._mutex:
            writes, self._waiting = self._waiting, []
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if writes:
            self.pipeline.io(self._send, writes)

    def _send(self, writes: list[_Write]) -> None:
        try:
            answers: list[bool | None] = [None] * len(writes)
            if len(writes) > 1 and self.lock.updates:
                try:
                    answers = self.lock.complete_many([(w.key, w.owner) for w in writes])
                except Exception:  # our own bug: the UpdateItem of each still decides
                    answers = [None] * len(writes)
            for write, answer in zip(writes, answers, strict=True):
                if answer is not None:
                    _finish(write, answer)
                    continue
                try:  # one UpdateItem each, in parallel
                    self.pipeline.io(self._send_one, write)
                except RuntimeError:  # no thread to be had (the interpreter is ending)
                    self._send_one(write)
        except BaseException as exc:
            _fail(writes, exc)  # nobody may wait forever for a write of this flush
            raise

    def _send_one(self, write: _Write) -> None:
        try:
            answer: Answer = self.lock.complete(write.key, write.owner)
        except Exception as exc:
            answer = exc
        except BaseException as exc:
            _fail([write], exc)
            raise
        _finish(write, answer)


def _finish(write: _Write, answer: Answer) -> None:
    try:
        outcome = write.then(answer)
    except BaseException as exc:
        # A crash while deciding (a failpoint in a test) reaches whoever waits for it.
        _fail([write], exc)
        if not isinstance(exc, Exception):
            raise
        return
    with contextlib.suppress(InvalidStateError):
        write.outcome.set_result(outcome)


def _fail(writes: list[_Write], exc: BaseException) -> None:
    """Every write of ``writes`` not answered yet fails with ``exc``."""
    for write in writes:
        with contextlib.suppress(InvalidStateError):
            write.outcome.set_exception(exc)
