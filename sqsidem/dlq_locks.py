"""Read and release the lock records of given keys (for `dlq list/redrive` and `trace`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.consumer.lock import (
    KEY_ATTRIBUTE,
    LockState,
    derive_state,
    deserialize_item,
    wall_clock_ms,
)
from sqsidem.errors import error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A redriven message whose key is in one of these states would not simply run again.
BLOCKING_STATES: frozenset[LockState] = frozenset({"in-progress", "completed"})


@dataclass(frozen=True)
class LockView:
    key: str
    state: LockState
    item: dict[str, Any]

    @property
    def status(self) -> str | None:
        value = self.item.get("status")
        return str(value) if value is not None else None


@dataclass(frozen=True)
class LockLookup:
    """Lock records by key; ``table_missing`` when the stack has no lock table."""

    locks: dict[str, LockView | None]
    table_missing: bool = False

    def state_of(self, key: str | None) -> str | None:
        if key is None:
            return None
        lock = self.locks.get(key)
        return lock.state if lock is not None else ("unknown" if self.table_missing else "none")


def read_lock(
    dynamodb: DynamoDBClient, table: str, key: str, *, now_ms: int | None = None
) -> LockView | None:
    """The lock record of one key (strongly consistent), or None."""
    response = dynamodb.get_item(
        TableName=table, Key={KEY_ATTRIBUTE: {"S": key}}, ConsistentRead=True
    )
    raw = response.get("Item")
    if not raw:
        return None
    item = deserialize_item(raw)
    return LockView(key, derive_state(item, wall_clock_ms() if now_ms is None else now_ms), item)


def read_locks(
    dynamodb: DynamoDBClient,
    table: str,
    keys: Iterable[str | None],
    *,
    now: Callable[[], int] = wall_clock_ms,
) -> LockLookup:
    """GetItem for each distinct key; a missing table gives ``table_missing`` instead of failing."""
    from botocore.exceptions import ClientError

    found: dict[str, LockView | None] = {}
    now_ms = now()
    for key in dict.fromkeys(k for k in keys if k):
        try:
            found[key] = read_lock(dynamodb, table, key, now_ms=now_ms)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return LockLookup({}, table_missing=True)
            raise
    return LockLookup(found)


def release_lock(dynamodb: DynamoDBClient, table: str, lock: LockView) -> bool:
    """Delete the lock only if it is still the record we saw (same owner and status)."""
    from botocore.exceptions import ClientError

    names = {"#s": "status", "#o": "owner"}
    values: dict[str, Any] = {}
    owner = lock.item.get("owner")
    status = lock.status
    conditions = []
    if owner is None:
        conditions.append("attribute_not_exists(#o)")
    else:
        conditions.append("#o = :owner")
        values[":owner"] = {"S": str(owner)}
    if status is None:
        conditions.append("attribute_not_exists(#s)")
    else:
        conditions.append("#s = :status")
        values[":status"] = {"S": status}
    request: dict[str, Any] = {
        "TableName": table,
        "Key": {KEY_ATTRIBUTE: {"S": lock.key}},
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
    }
    if values:
        request["ExpressionAttributeValues"] = values
    try:
        dynamodb.delete_item(**request)
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True
