"""Listing, explaining and clearing lock records (issue 5, DESIGN 6.3).

States come from the consumer's own :func:`derive_state`, so `locks` shows exactly what
the consumer would do with a record. Clearing is careful: records that cannot change
under us (completed, not expired) go in BatchWriteItem calls of 25; anything a consumer
could take over meanwhile (in progress, stale, expired) is deleted with a conditional
DeleteItem on the owner and status we saw, so a lock re-acquired since the scan survives.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from sqsidem.consumer.lock import derive_state, wall_clock_ms
from sqsidem.errors import NotFoundError, UsageError, error_code
from sqsidem.timeparse import human_duration

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from sqsidem.render import ProgressHandle

KEY = "transaction_id"
STATES = ("in-progress", "stale", "completed", "expired")
StateName = Literal["in-progress", "stale", "completed", "expired"]
BATCH_SIZE = 25
MAX_SEGMENTS = 64


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    """A low-level DynamoDB item as plain values, integral numbers as int."""
    from decimal import Decimal

    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    plain: dict[str, Any] = {}
    for name, value in item.items():
        decoded = deserializer.deserialize(value)
        if isinstance(decoded, Decimal):
            decoded = int(decoded) if decoded == decoded.to_integral_value() else float(decoded)
        plain[name] = decoded
    return plain


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Lock:
    """One lock record as read, with its derived state at ``now_ms``."""

    item: dict[str, Any]
    state: StateName
    now_ms: int

    @property
    def transaction_id(self) -> str:
        return str(self.item.get(KEY, ""))

    @property
    def status(self) -> str | None:
        value = self.item.get("status")
        return None if value is None else str(value)

    @property
    def owner(self) -> str | None:
        value = self.item.get("owner")
        return None if value is None else str(value)

    @property
    def deadline_ms(self) -> int | None:
        return _int(self.item.get("in_progress_expiration"))

    @property
    def expiration_s(self) -> int | None:
        return _int(self.item.get("expiration"))

    @property
    def first_seen_ms(self) -> int | None:
        return _int(self.item.get("first_seen_ms"))

    @property
    def completed_ms(self) -> int | None:
        return _int(self.item.get("completed_ms"))

    @property
    def age_s(self) -> float | None:
        """Seconds since the lock was first taken; None for tutorial items (no timestamps)."""
        start = self.first_seen_ms
        return None if start is None else (self.now_ms - start) / 1000

    @property
    def live(self) -> bool:
        """Held by a running attempt: clearing it could let a duplicate run."""
        return self.state == "in-progress"

    def as_dict(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "state": self.state,
            "status": self.status,
            "owner": self.owner,
            "message_id": self.item.get("message_id"),
            "group_id": self.item.get("group_id"),
            "receive_count": _int(self.item.get("receive_count")),
            "first_seen_ms": self.first_seen_ms,
            "completed_ms": self.completed_ms,
            "in_progress_expiration": self.deadline_ms,
            "expiration": self.expiration_s,
            "age_s": None if self.age_s is None else round(self.age_s, 3),
        }


def make_lock(item: dict[str, Any], now_ms: int) -> Lock:
    return Lock(item, derive_state(item, now_ms), now_ms)


def explain(lock: Lock) -> str:
    """What the record means, in one sentence."""
    now_ms = lock.now_ms
    if lock.state == "expired":
        assert lock.expiration_s is not None
        ago = human_duration(now_ms / 1000 - lock.expiration_s)
        return (
            f"expired {ago} ago (TTL deletion pending): the next message with this key runs again"
        )
    if lock.state in ("in-progress", "stale"):
        deadline = lock.deadline_ms
        if deadline is None:
            return "in progress, no owner deadline"
        if lock.state == "in-progress":
            return f"in progress, owner deadline in {human_duration((deadline - now_ms) / 1000)}"
        return (
            f"stale: in progress, but the owner's deadline passed "
            f"{human_duration((now_ms - deadline) / 1000)} ago; the next delivery takes it over"
        )
    parts = []
    if lock.completed_ms is not None:
        parts.append(f"completed {human_duration((now_ms - lock.completed_ms) / 1000)} ago")
    else:
        parts.append("completed")
    if lock.expiration_s is None:
        parts.append("never expires")
    else:
        parts.append(f"expires in {human_duration(lock.expiration_s - now_ms / 1000)}")
    return ", ".join(parts)


# -- selecting -------------------------------------------------------------------------


@dataclass(frozen=True)
class LockFilter:
    """Which locks a list or clear applies to; all given conditions must hold."""

    states: frozenset[str] = frozenset()
    older_than_s: float | None = None
    prefix: str | None = None

    def __post_init__(self) -> None:
        unknown = sorted(self.states - set(STATES))
        if unknown:
            raise UsageError(f"invalid --status {unknown[0]!r}", f"use one of {', '.join(STATES)}")
        if self.older_than_s is not None and self.older_than_s < 0:
            raise UsageError("--older-than must not be negative")

    def matches(self, lock: Lock) -> bool:
        if self.states and lock.state not in self.states:
            return False
        if self.prefix is not None and not lock.transaction_id.startswith(self.prefix):
            return False
        if self.older_than_s is not None:
            # Tutorial items carry no timestamps: their age is unknown, so they never match.
            age = lock.age_s
            if age is None or age <= self.older_than_s:
                return False
        return True


@dataclass
class ScanCounts:
    scanned: int = 0
    matched: int = 0
    by_state: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scanned": self.scanned,
            "matched": self.matched,
            **{state: self.by_state.get(state, 0) for state in STATES},
        }

    def summary(self) -> str:
        states = ", ".join(f"{self.by_state.get(state, 0)} {state}" for state in STATES)
        return f"{self.matched} lock(s) of {self.scanned} scanned: {states}"


def check_scan_options(segments: int, limit: int | None) -> None:
    if not 1 <= segments <= MAX_SEGMENTS:
        raise UsageError(f"invalid --segments {segments}", f"use 1..{MAX_SEGMENTS}")
    if limit is not None and limit < 1:
        raise UsageError(f"invalid --limit {limit}", "use 1 or more")


class LockScan:
    """A streaming, filtered Scan; ``counts`` fill in as you iterate.

    With ``segments`` > 1, each segment is scanned by its own thread (one shared client)
    and records are yielded as they arrive; stopping early stops the threads.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        where: LockFilter | None = None,
        segments: int = 1,
        limit: int | None = None,
        now_ms: Callable[[], int] = wall_clock_ms,
        page_size: int | None = None,
    ) -> None:
        check_scan_options(segments, limit)
        self.client = client
        self.table = table
        self.where = where or LockFilter()
        self.segments = segments
        self.limit = limit
        self.page_size = page_size
        self.now = now_ms()
        self.counts = ScanCounts()

    def __iter__(self) -> Iterator[Lock]:
        for item in self._items():
            lock = make_lock(deserialize(item), self.now)
            self.counts.scanned += 1
            if not self.where.matches(lock):
                continue
            self.counts.matched += 1
            self.counts.by_state[lock.state] += 1
            yield lock
            if self.limit is not None and self.counts.matched >= self.limit:
                return

    def _scan_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"TableName": self.table}
        if self.where.prefix:
            # Saves transfer, not read capacity: a Scan still reads every item.
            args["FilterExpression"] = "begins_with(#k, :prefix)"
            args["ExpressionAttributeNames"] = {"#k": KEY}
            args["ExpressionAttributeValues"] = {":prefix": {"S": self.where.prefix}}
        if self.page_size:
            args["PaginationConfig"] = {"PageSize": self.page_size}
        return args

    def _pages(self, segment: int | None) -> Iterator[list[dict[str, Any]]]:
        args = self._scan_args()
        if segment is not None:
            args["Segment"] = segment
            args["TotalSegments"] = self.segments
        for page in self.client.get_paginator("scan").paginate(**args):
            yield cast("list[dict[str, Any]]", page.get("Items", []))

    def _items(self) -> Iterator[dict[str, Any]]:
        if self.segments == 1:
            for page in self._pages(None):
                yield from page
            return
        yield from self._parallel_items()

    def _parallel_items(self) -> Iterator[dict[str, Any]]:
        pages: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=self.segments * 2)
        stop = threading.Event()

        def scan_segment(segment: int) -> None:
            try:
                for page in self._pages(segment):
                    while not stop.is_set():
                        try:
                            pages.put(("page", page), timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
            except Exception as exc:
                pages.put(("error", exc))
                return
            pages.put(("done", None))

        threads = [
            threading.Thread(target=scan_segment, args=(s,), daemon=True, name=f"scan-{s}")
            for s in range(self.segments)
        ]
        for thread in threads:
            thread.start()
        running = len(threads)
        try:
            while running:
                kind, value = pages.get()
                if kind == "done":
                    running -= 1
                elif kind == "error":
                    raise value
                else:
                    yield from value
        finally:
            stop.set()
            # Unblock producers waiting on a full queue, then let them finish.
            while any(thread.is_alive() for thread in threads):
                with contextlib.suppress(queue.Empty):
                    pages.get(timeout=0.05)


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
    return make_lock(deserialize(cast("dict[str, Any]", raw)), now)


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


# -- clearing --------------------------------------------------------------------------


@dataclass
class ClearPlan:
    """What a clear would do, decided from one read of the table."""

    batch: list[Lock] = field(default_factory=list)
    conditional: list[Lock] = field(default_factory=list)
    skipped_live: list[Lock] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)

    @property
    def to_delete(self) -> list[Lock]:
        return [*self.batch, *self.conditional]


@dataclass
class ClearResult:
    deleted: int = 0
    skipped_live: int = 0
    changed: int = 0  # re-acquired or changed since the scan: left alone
    failed: int = 0
    not_found: int = 0
    batch_calls: int = 0
    delete_calls: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "deleted": self.deleted,
            "skipped_live": self.skipped_live,
            "changed": self.changed,
            "failed": self.failed,
            "not_found": self.not_found,
            "batch_write_calls": self.batch_calls,
            "delete_item_calls": self.delete_calls,
        }


@dataclass(frozen=True)
class ClearSelection:
    """``clear ID... | --stale | --status S | --older-than D | --all``."""

    ids: Sequence[str] = ()
    stale: bool = False
    states: frozenset[str] = frozenset()
    older_than_s: float | None = None
    all: bool = False

    def check(self) -> None:
        by_filter = self.stale or bool(self.states) or self.older_than_s is not None
        if self.ids and (by_filter or self.all):
            raise UsageError(
                "lock ids conflict with --stale/--status/--older-than/--all", "give one selection"
            )
        if self.all and by_filter:
            raise UsageError("--all conflicts with --stale/--status/--older-than")
        if not (self.ids or by_filter or self.all):
            raise UsageError(
                "nothing selected", "give lock ids, --stale, --status S, --older-than D or --all"
            )
        LockFilter(frozenset(self.states), self.older_than_s)  # validates

    def lock_filter(self) -> LockFilter:
        states = set(self.states) | ({"stale"} if self.stale else set())
        return LockFilter(frozenset(states), self.older_than_s)


def plan_clear(
    client: DynamoDBClient,
    table: str,
    selection: ClearSelection,
    *,
    force: bool = False,
    segments: int = 1,
    now_ms: Callable[[], int] = wall_clock_ms,
) -> ClearPlan:
    """Read the selected locks and sort them into batch / conditional / skipped."""
    selection.check()
    plan = ClearPlan()
    if selection.ids:
        selected: list[Lock] = []
        for transaction_id in dict.fromkeys(selection.ids):
            try:
                selected.append(get_lock(client, table, transaction_id, now_ms=now_ms))
            except NotFoundError:
                plan.not_found.append(transaction_id)
    else:
        selected = list(
            LockScan(client, table, where=selection.lock_filter(), segments=segments, now_ms=now_ms)
        )
    for lock in selected:
        if lock.live and not force:
            plan.skipped_live.append(lock)
        elif lock.state == "completed":
            # A completed, unexpired record is final: no consumer writes it again.
            plan.batch.append(lock)
        else:
            plan.conditional.append(lock)
    return plan


def execute_clear(
    client: DynamoDBClient,
    table: str,
    plan: ClearPlan,
    *,
    progress: ProgressHandle | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_attempts: int = 8,
    concurrency: int = 8,
) -> ClearResult:
    """Delete what the plan says; never raises for single items, counts them instead."""
    result = ClearResult(skipped_live=len(plan.skipped_live), not_found=len(plan.not_found))
    lock = threading.Lock()

    def advance(n: int) -> None:
        if progress is not None and n:
            progress.advance(n)

    for start in range(0, len(plan.batch), BATCH_SIZE):
        chunk = plan.batch[start : start + BATCH_SIZE]
        _batch_delete(client, table, chunk, result, advance, sleep, max_attempts)

    def delete_one(target: Lock) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        error = None
        try:
            deleted = delete_if_unchanged(client, table, target)
        except (ClientError, BotoCoreError) as exc:
            deleted, error = False, f"{error_code(exc) or type(exc).__name__}: {exc}"
        with lock:
            result.delete_calls += 1
            if error is not None:
                result.failed += 1
                result.errors.append(f"{target.transaction_id}: {error}")
            elif deleted:
                result.deleted += 1
            else:
                result.changed += 1
            advance(1)

    if plan.conditional:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="clear") as pool:
            list(pool.map(delete_one, plan.conditional))
    return result


def _batch_delete(
    client: DynamoDBClient,
    table: str,
    chunk: list[Lock],
    result: ClearResult,
    advance: Callable[[int], None],
    sleep: Callable[[float], None],
    max_attempts: int,
) -> None:
    requests: list[dict[str, Any]] = [
        {"DeleteRequest": {"Key": {KEY: {"S": lock.transaction_id}}}} for lock in chunk
    ]
    for attempt in range(max_attempts):
        response = client.batch_write_item(RequestItems={table: requests})  # type: ignore[dict-item]
        result.batch_calls += 1
        unprocessed = cast(
            "list[dict[str, Any]]", response.get("UnprocessedItems", {}).get(table, [])
        )
        done = len(requests) - len(unprocessed)
        result.deleted += done
        advance(done)
        requests = unprocessed
        if not requests:
            return
        if attempt + 1 < max_attempts:
            # DynamoDB's advice for UnprocessedItems: back off exponentially, then resend.
            sleep(min(5.0, 0.05 * 2**attempt))
    result.failed += len(requests)
    result.errors.append(f"{len(requests)} delete(s) still unprocessed after {max_attempts} tries")
    advance(len(requests))


def delete_if_unchanged(client: DynamoDBClient, table: str, lock: Lock) -> bool:
    """Delete only if owner, status and expiration are still what we saw; False if changed."""
    from botocore.exceptions import ClientError

    names = {"#o": "owner", "#s": "status"}
    values: dict[str, Any] = {}
    conditions = []
    if lock.owner is None:
        conditions.append("attribute_not_exists(#o)")
    else:
        conditions.append("#o = :owner")
        values[":owner"] = {"S": lock.owner}
    if lock.status is None:
        conditions.append("attribute_not_exists(#s)")
    else:
        conditions.append("#s = :status")
        values[":status"] = {"S": lock.status}
    # An expired record is re-acquired with a new expiration even by the same owner format.
    names["#e"] = "expiration"
    if lock.expiration_s is None:
        conditions.append("attribute_not_exists(#e)")
    else:
        conditions.append("#e = :expiration")
        values[":expiration"] = {"N": str(lock.expiration_s)}
    args: dict[str, Any] = {
        "TableName": table,
        "Key": {KEY: {"S": lock.transaction_id}},
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
    }
    if values:
        args["ExpressionAttributeValues"] = values
    try:
        client.delete_item(**args)
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True
