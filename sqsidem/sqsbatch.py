"""SQS batch calls in the slices SQS accepts (the worker and ``dlq`` both use them)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef

# ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibilityBatch all stop at 10.
MAX_BATCH = 10

T = TypeVar("T")


def sqs_batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` in slices an SQS batch call accepts."""
    for start in range(0, len(items), MAX_BATCH):
        yield items[start : start + MAX_BATCH]


def change_visibility(
    sqs: SQSClient,
    url: str,
    handles: Sequence[str],
    seconds: int,
    *,
    tolerate: type[BaseException] | tuple[type[BaseException], ...] = Exception,
) -> int:
    """Set the visibility timeout of the messages ``handles`` name, ten per call; how many
    were not changed. A call that raises ``tolerate`` counts its whole slice and the next
    slice goes on; anything else propagates (``tolerate=()``: every error does)."""
    failed = 0
    for chunk in sqs_batches(handles):
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
            for index, handle in enumerate(chunk)
        ]
        try:
            response = sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        except tolerate:
            failed += len(chunk)
            continue
        failed += len(response.get("Failed", []))
    return failed
