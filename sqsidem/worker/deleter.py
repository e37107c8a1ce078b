"""The thread that deletes what the worker's batches acknowledged."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqsidem.sqsbatch import change_visibility, sqs_batches

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from sqsidem.worker.batch import InFlightBatch

_Pending = tuple["InFlightBatch", Mapping[str, Any]]


def release_now(sqs: SQSClient, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> int:
    """Make ``messages`` visible again at once (not worked on); how many stayed hidden
    (they reappear after their visibility timeout instead)."""
    handles = [str(message["ReceiptHandle"]) for message in messages]
    return change_visibility(sqs, queue_url, handles, 0)


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
        self._pending: list[_Pending] = []
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
            for chunk in sqs_batches(take):
                self._delete(chunk)

    def _delete(self, chunk: Sequence[_Pending]) -> None:
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
