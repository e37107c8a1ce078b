"""Reading lock records one at a time: `locks show`, and the keys of `dlq`, `trace`, `demo`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqsidem.consumer.lock import LockState, wall_clock_ms
from sqsidem.errors import NotFoundError, UsageError, is_gone
from sqsidem.locks.model import KEY, Lock, read_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from sqsidem.aws import Aws
    from sqsidem.names import StackNames

# A redriven message whose key is in one of these states would not simply run again.
BLOCKING_STATES: frozenset[LockState] = frozenset({"in-progress", "completed"})


def find_lock(
    client: DynamoDBClient, table: str, transaction_id: str, *, now_ms: int | None = None
) -> Lock | None:
    """One record (strongly consistent read), or None."""
    response = client.get_item(
        TableName=table, Key={KEY: {"S": transaction_id}}, ConsistentRead=True
    )
    raw = response.get("Item")
    if not raw:
        return None
    now = wall_clock_ms() if now_ms is None else now_ms
    return read_item(cast("dict[str, Any]", raw), now)


def get_lock(
    client: DynamoDBClient,
    table: str,
    transaction_id: str,
    *,
    now_ms: Callable[[], int] = wall_clock_ms,
) -> Lock:
    """One record (strongly consistent read); NotFoundError when absent."""
    found = find_lock(client, table, transaction_id, now_ms=now_ms())
    if found is None:
        raise NotFoundError(
            f"no lock {transaction_id!r} in {table}",
            "it was never taken, already cleared, or removed by TTL",
        )
    return found


def read_lock(aws: Aws, names: StackNames, transaction_id: str) -> Lock:
    """`locks show`: the stack's table must exist, then the one record (or NotFoundError)."""
    from sqsidem.resolve import require_table

    check_ids([transaction_id])
    return get_lock(aws.dynamodb, require_table(aws, names), transaction_id)


@dataclass(frozen=True)
class LockLookup:
    """Lock records by key; ``table_missing`` when the stack has no lock table."""

    locks: dict[str, Lock | None]
    table_missing: bool = False

    def state_of(self, key: str | None) -> str | None:
        if key is None:
            return None
        lock = self.locks.get(key)
        return lock.state if lock is not None else ("unknown" if self.table_missing else "none")


def read_locks(
    dynamodb: DynamoDBClient,
    table: str,
    keys: Iterable[str | None],
    *,
    now: Callable[[], int] = wall_clock_ms,
) -> LockLookup:
    """GetItem for each distinct key; a missing table gives ``table_missing`` instead of failing."""
    from botocore.exceptions import ClientError

    found: dict[str, Lock | None] = {}
    now_ms = now()
    for key in dict.fromkeys(k for k in keys if k):
        try:
            found[key] = find_lock(dynamodb, table, key, now_ms=now_ms)
        except ClientError as exc:
            if is_gone(exc):
                return LockLookup({}, table_missing=True)
            raise
    return LockLookup(found)


def check_ids(ids: Iterable[str]) -> None:
    """Lock ids given on the command line: DynamoDB has no empty key (exit 2, no call)."""
    if any(not value for value in ids):
        raise UsageError("a lock id is empty", "give the transaction id of a lock")
