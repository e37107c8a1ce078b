"""Keeps a slow batch invisible and its locks owned (worker only).

Every half visibility timeout while a batch runs, the messages still being worked on get
their visibility extended and every lock currently held gets its in-progress deadline moved
to the new visibility deadline (owner-checked), so neither a redelivery nor a takeover can
start the same work a second time. The batch's message groups finish at different times:
a message is forgotten once it is deleted, or when its group ends without acknowledging it
(it must reappear after the visibility timeout, as under the event source mapping).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqsidem.consumer.lock import LockTable
from sqsidem.worker_event import WorkerContext

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef


class Heartbeat:
    """Per batch; also the consumer's AttemptObserver (it learns which locks are held)."""

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        receipt_handles: list[str],
        lock: LockTable,
        context: WorkerContext,
        *,
        visibility_timeout_s: int,
        now_ms: Callable[[], int],
        on_beat: Callable[[int], None] | None = None,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.receipt_handles = list(receipt_handles)
        self.lock = lock
        self.context = context
        self.visibility_timeout_s = visibility_timeout_s
        self.now_ms = now_ms
        self.on_beat = on_beat
        self.beats = 0
        self.errors = 0
        self._held: set[tuple[str, str]] = set()
        self._mutex = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

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
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": self.visibility_timeout_s}
            for i, h in enumerate(handles)
        ]
        try:
            for start in range(0, len(entries), 10):
                self.sqs.change_message_visibility_batch(
                    QueueUrl=self.queue_url,
                    Entries=entries[start : start + 10],
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
        interval = max(self.visibility_timeout_s / 2, 0.05)
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
