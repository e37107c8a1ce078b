"""Keeps a slow batch invisible and its locks owned (worker only).

Every half visibility timeout while a batch runs, the messages still being worked on get
their visibility extended and every lock currently held gets its in-progress deadline moved
to the new visibility deadline (owner-checked), so neither a redelivery nor a takeover can
start the same work a second time. The batch's message groups finish at different times:
a message is forgotten once it is deleted, or when its group ends without acknowledging it
(it must reappear after the visibility timeout, as under the event source mapping).

The beats are a timer, not a retry: the thread waits on its own stop event, so a batch that
ends stops its heartbeat at once instead of after the rest of an interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING

from sqsidem.consumer.lock import LockTable
from sqsidem.sqsbatch import change_visibility
from sqsidem.worker.event import WorkerContext

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MIN_INTERVAL_S = 0.05


@dataclass(eq=False)
class Heartbeat:
    """Per batch; also the consumer's AttemptObserver (it learns which locks are held)."""

    sqs: SQSClient
    queue_url: str
    receipt_handles: list[str]
    lock: LockTable
    context: WorkerContext
    _: KW_ONLY
    visibility_timeout_s: int
    now_ms: Callable[[], int]
    on_beat: Callable[[int], None] | None = None
    beats: int = field(init=False, default=0)
    errors: int = field(init=False, default=0)
    _held: set[tuple[str, str]] = field(init=False, default_factory=set)
    _mutex: threading.Lock = field(init=False, default_factory=threading.Lock)
    _done: threading.Event = field(init=False, default_factory=threading.Event)
    _thread: threading.Thread | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.receipt_handles = list(self.receipt_handles)

    def lock_held(self, key: str, owner: str) -> None:
        with self._mutex:
            self._held.add((key, owner))

    def lock_done(self, key: str, owner: str) -> None:
        with self._mutex:
            self._held.discard((key, owner))

    def forget(self, receipt_handles: list[str]) -> None:
        """Stop extending these messages (deleted, or left to reappear)."""
        gone = set(receipt_handles)
        with self._mutex:
            self.receipt_handles = [h for h in self.receipt_handles if h not in gone]

    def beat(self) -> None:
        """Extend visibility of the batch and the deadline of every held lock, now."""
        deadline_ms = self.now_ms() + self.visibility_timeout_s * 1000
        with self._mutex:
            handles = list(self.receipt_handles)
        try:
            # A failed call ends the beat (the locks keep their deadline); failed entries do not.
            change_visibility(
                self.sqs, self.queue_url, handles, self.visibility_timeout_s, tolerate=()
            )
            self.context.deadline_ms = deadline_ms
            with self._mutex:
                held = sorted(self._held)
            for key, owner in held:
                self.lock.extend(key, owner, deadline_ms)
        except Exception:
            # A missed beat only shortens our protection; the batch itself goes on.
            self.errors += 1
        self.beats += 1
        if self.on_beat is not None:
            self.on_beat(self.beats)

    def _loop(self) -> None:
        interval = max(self.visibility_timeout_s / 2, MIN_INTERVAL_S)
        while not self._done.wait(interval):
            self.beat()

    def start(self) -> None:
        if self.visibility_timeout_s > 0:
            self._thread = threading.Thread(
                target=self._loop, name="sqsidem-heartbeat", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Ends the beats; returns once a beat in progress is over."""
        self._done.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> Heartbeat:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
