"""The lock records of given keys, for `dlq list/redrive`, `trace` and `demo`.

One read per key through :mod:`sqsidem.locks`, which owns the lock record model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqsidem.consumer.lock import LockState, wall_clock_ms
from sqsidem.errors import error_code
from sqsidem.locks import Lock, delete_if_unchanged, find_lock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A redriven message whose key is in one of these states would not simply run again.
BLOCKING_STATES: frozenset[LockState] = frozenset({"in-progress", "completed"})


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
            if error_code(exc) == "ResourceNotFoundException":
                return LockLookup({}, table_missing=True)
            raise
    return LockLookup(found)


def release_lock(dynamodb: DynamoDBClient, table: str, lock: Lock) -> bool:
    """Delete the lock only if it is still the record we saw; False if it changed."""
    return delete_if_unchanged(dynamodb, table, lock)
