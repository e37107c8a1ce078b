"""`dlq purge`: count the DLQ, ask, then PurgeQueue (AWS allows one per 60 s)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqsidem.dlq.peek import approximate_total
from sqsidem.errors import SqsidemError, error_code
from sqsidem.resolve import dlq_url

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.names import StackNames

_PURGE_IN_PROGRESS = {"AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueueInProgress"}


def count_dlq(aws: Aws, names: StackNames) -> tuple[str, int]:
    url = dlq_url(aws, names)
    return url, approximate_total(aws.sqs, url)


def purge_dlq(aws: Aws, url: str, names: StackNames) -> None:
    """PurgeQueue; AWS allows one purge per queue per 60 s."""
    from botocore.exceptions import ClientError

    try:
        aws.sqs.purge_queue(QueueUrl=url)
    except ClientError as exc:
        if error_code(exc) in _PURGE_IN_PROGRESS:
            raise SqsidemError(
                f"a purge of {names.dlq} is already in progress (AWS allows one purge per 60 s)",
                "wait a minute, then run `sqsidem dlq list` to see what is left",
            ) from exc
        raise


def purge(aws: Aws, names: StackNames, *, confirm: Callable[[int], None]) -> int:
    """Count, let ``confirm`` see the count (it raises to refuse), purge; the count removed."""
    url, count = count_dlq(aws, names)
    confirm(count)
    purge_dlq(aws, url, names)
    return count
