"""The lock panel's bounded Scan: counts by derived state from at most ``max_items`` items,
and the oldest IN_PROGRESS and stale locks among them."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from sqsidem.consumer.lock import derive_state, deserialize_item
from sqsidem.watch.model import LockAge, LockFigures

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def scan_locks(
    client: DynamoDBClient, table: str, *, now_ms: int, max_items: int, page_size: int
) -> LockFigures:
    """Read pages of ``page_size`` until ``max_items`` items are seen or the table ends;
    ``capped`` says the budget ran out first (so every count is a lower bound)."""
    counts: Counter[str] = Counter()
    oldest: dict[str, tuple[int, str]] = {}  # state -> (first seen ms, transaction id)
    scanned = 0
    start_key: dict[str, Any] | None = None
    while True:
        args: dict[str, Any] = {
            "TableName": table,
            "Limit": min(page_size, max_items - scanned),
            "ProjectionExpression": (
                "transaction_id, #s, in_progress_expiration, expiration, first_seen_ms"
            ),
            "ExpressionAttributeNames": {"#s": "status"},
        }
        if start_key is not None:
            args["ExclusiveStartKey"] = start_key
        page = client.scan(**args)
        for raw in page.get("Items", []):
            item = deserialize_item(raw)
            state = derive_state(item, now_ms)
            counts[state] += 1
            first = item.get("first_seen_ms")
            if state in ("in-progress", "stale") and isinstance(first, int):
                known = oldest.get(state)
                if known is None or first < known[0]:
                    oldest[state] = (first, str(item.get("transaction_id")))
        scanned += len(page.get("Items", []))
        start_key = page.get("LastEvaluatedKey")
        if start_key is None:
            capped = False
            break
        if scanned >= max_items:
            capped = True
            break

    def age(state: str) -> LockAge | None:
        found = oldest.get(state)
        return None if found is None else LockAge(found[1], max(0.0, (now_ms - found[0]) / 1000))

    return LockFigures(
        by_state=dict(counts),
        scanned=scanned,
        capped=capped,
        oldest_in_progress=age("in-progress"),
        oldest_stale=age("stale"),
        scanned_s_ago=0.0,
    )
