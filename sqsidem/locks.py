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
from collections.abc import Callable, Generator, Iterator, Sequence
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
    return {name: _plain(value) for name, value in item.items()}


def _plain(value: dict[str, Any]) -> Any:
    # Lock records are strings and numbers: decode those inline, because a scan of a big
    # table spends its client time here; anything else goes through boto3's deserializer.
    text = value.get("S")
    if text is not None:
        return text
    number = value.get("N")
    if number is not None:
        try:
            return int(number)
        except ValueError:
            from decimal import Decimal

            decoded = Decimal(number)
            return int(decoded) if decoded == decoded.to_integral_value() else float(decoded)
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer().deserialize(value)  # type: ignore[arg-type]


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
    and records are yielded as they arrive; stopping early stops the threads. With
    ``attributes``, only those are read back (a ProjectionExpression): less to send and
    parse when the caller only needs the state, e.g. to clear.
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
        attributes: Sequence[str] | None = None,
    ) -> None:
        check_scan_options(segments, limit)
        self.client = client
        self.table = table
        self.where = where or LockFilter()
        self.segments = segments
        self.limit = limit
        self.page_size = page_size
        self.attributes = tuple(attributes) if attributes else None
        self.now = now_ms()
        self.counts = ScanCounts()

    def __iter__(self) -> Generator[Lock, None, None]:
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
        names: dict[str, str] = {}
        if self.where.prefix:
            # Saves transfer, not read capacity: a Scan still reads every item.
            args["FilterExpression"] = "begins_with(#k, :prefix)"
            names["#k"] = KEY
            args["ExpressionAttributeValues"] = {":prefix": {"S": self.where.prefix}}
        if self.attributes:
            # Placeholders for every name: `status` is a reserved word.
            placeholders = {f"#p{n}": name for n, name in enumerate(self.attributes)}
            args["ProjectionExpression"] = ", ".join(placeholders)
            names.update(placeholders)
        if names:
            args["ExpressionAttributeNames"] = names
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

# What a clear reads of each record: the state (derive_state) and what the conditional
# delete checks. Everything else (message id, group, ...) stays on the server.
CLEAR_ATTRIBUTES = (KEY, "status", "owner", "expiration", "in_progress_expiration")
# Parallel scan segments for a table-wide clear unless --segments says otherwise. One
# scan page (up to 1 MB read, thousands of locks) takes one round trip, deleting it takes
# dozens, so a single segment keeps the deletes busy; only a big table, where a filter can
# leave long stretches with nothing to delete, gets one segment per AUTO_SEGMENT_ITEMS.
AUTO_SEGMENT_ITEMS = 100_000
MAX_AUTO_SEGMENTS = 8
# A completed record this close to its expiration could expire and be re-acquired before
# an unconditional delete lands: it gets the conditional delete instead.
EXPIRY_MARGIN_MS = 300_000
Action = Literal["skip", "batch", "conditional"]


def clear_action(lock: Lock, *, force: bool) -> Action:
    """How a clear treats one lock it read."""
    if lock.live and not force:
        return "skip"
    expiration = lock.expiration_s
    final = expiration is None or expiration * 1000 - lock.now_ms > EXPIRY_MARGIN_MS
    if lock.state == "completed" and final:
        # A completed, unexpired record is final: no consumer writes it again.
        return "batch"
    return "conditional"


def auto_segments(client: DynamoDBClient, table: str) -> int:
    """Scan segments for a table of this size (DescribeTable's ItemCount, updated by
    DynamoDB about every six hours: good enough to size a scan)."""
    count = client.describe_table(TableName=table)["Table"].get("ItemCount", 0)
    return max(1, min(MAX_AUTO_SEGMENTS, count // AUTO_SEGMENT_ITEMS))


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
    scanned: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "deleted": self.deleted,
            "skipped_live": self.skipped_live,
            "changed": self.changed,
            "failed": self.failed,
            "not_found": self.not_found,
            "scanned": self.scanned,
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

    def attributes(self) -> tuple[str, ...]:
        """What a scan for this selection must read of each record."""
        return CLEAR_ATTRIBUTES + (("first_seen_ms",) if self.older_than_s is not None else ())


def plan_clear(
    client: DynamoDBClient,
    table: str,
    selection: ClearSelection,
    *,
    force: bool = False,
    segments: int = 1,
    now_ms: Callable[[], int] = wall_clock_ms,
) -> ClearPlan:
    """Read the selected locks (whole records: a dry run lists them) and sort them."""
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
    sorted_into = {
        "skip": plan.skipped_live,
        "batch": plan.batch,
        "conditional": plan.conditional,
    }
    for lock in selected:
        sorted_into[clear_action(lock, force=force)].append(lock)
    return plan


@dataclass(frozen=True)
class ClearCount:
    """A clear's preview: how many locks it would delete (``at_most``: live ones not known)."""

    to_delete: int
    skipped_live: int = 0
    at_most: bool = False


def count_clear(
    client: DynamoDBClient,
    table: str,
    selection: ClearSelection,
    *,
    force: bool = False,
    segments: int = 1,
    now_ms: Callable[[], int] = wall_clock_ms,
) -> ClearCount:
    """The count to ask about before a table-wide clear, read cheaply.

    ``--all`` is a Select=COUNT scan (nothing but counts comes back; without --force the
    live in-progress locks that will be skipped are among them, hence ``at_most``); a
    filter reads only the attributes that decide it.
    """
    selection.check()
    if selection.ids:
        raise ValueError("count_clear is for table-wide selections")
    if selection.all:
        total = 0
        for page in client.get_paginator("scan").paginate(TableName=table, Select="COUNT"):
            total += page.get("Count", 0)
        return ClearCount(total, at_most=not force)
    counts: Counter[Action] = Counter()
    scan = LockScan(
        client,
        table,
        where=selection.lock_filter(),
        segments=segments,
        now_ms=now_ms,
        attributes=selection.attributes(),
    )
    for lock in scan:
        counts[clear_action(lock, force=force)] += 1
    return ClearCount(counts["batch"] + counts["conditional"], counts["skip"])


class Deleter:
    """Deletes locks as they are fed, on a small thread pool, while the caller goes on
    feeding (from a scan, say): batch-safe locks in BatchWriteItem calls of 25 (one shared
    buffer, so only the last call is short), the others one conditional DeleteItem each.

    ``add`` blocks while ``2 * concurrency`` calls are queued or running, so memory stays
    flat whatever the table's size. Counts go to ``result`` (thread-safe), the progress
    handle advances by every lock settled (deleted, changed or failed). Single items never
    raise; a whole call that fails (after the client's own retries) is counted failed and
    sets ``stopped``, so a scan feeding us can stop instead of repeating the failure.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        force: bool = False,
        progress: ProgressHandle | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 8,
        concurrency: int = 8,
    ) -> None:
        self.client = client
        self.table = table
        self.force = force
        self.progress = progress
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.result = ClearResult()
        self.stopped = False
        self._mutex = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, concurrency) * 2)
        self._pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="clear")
        self._pending: list[Lock] = []

    def __enter__(self) -> Deleter:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None and not self.stopped:
            self.flush()
        # On an error (or Ctrl-C, or a failed call) nothing more is sent; what is in flight
        # finishes, so the counts are exact for every lock we tried.
        self._pool.shutdown(wait=True)

    def add(self, lock: Lock) -> Action:
        """Settle one lock read (the action decided from what was read)."""
        action = clear_action(lock, force=self.force)
        if action == "skip":
            with self._mutex:
                self.result.skipped_live += 1
        elif action == "batch":
            self._pending.append(lock)
            if len(self._pending) >= BATCH_SIZE:
                self.flush()
        else:
            self._submit(self._delete_one, lock)
        return action

    def add_batch(self, lock: Lock) -> None:
        """Delete ``lock`` unconditionally, in a batch (the caller decided it is safe)."""
        self._pending.append(lock)
        if len(self._pending) >= BATCH_SIZE:
            self.flush()

    def add_conditional(self, lock: Lock) -> None:
        self._submit(self._delete_one, lock)

    def flush(self) -> None:
        """Send the partly filled batch now."""
        if self._pending:
            chunk, self._pending = self._pending, []
            self._submit(self._delete_batch, chunk)

    def _submit(self, work: Callable[[Any], None], arg: Any) -> None:
        self._slots.acquire()
        try:
            self._pool.submit(self._run, work, arg)
        except BaseException:
            self._slots.release()
            raise

    def _run(self, work: Callable[[Any], None], arg: Any) -> None:
        try:
            work(arg)
        finally:
            self._slots.release()

    def _settle(self, **counts: int) -> None:
        """Add to the result's counters and advance the progress handle; under the mutex."""
        settled = 0
        for name, n in counts.items():
            setattr(self.result, name, getattr(self.result, name) + n)
            if name in ("deleted", "changed", "failed"):
                settled += n
        if self.progress is not None and settled:
            self.progress.advance(settled)

    def _fail(self, count: int, error: str, *, stop: bool) -> None:
        with self._mutex:
            self._settle(failed=count)
            self.result.errors.append(error)
            if stop:
                self.stopped = True

    def _delete_one(self, target: Lock) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            deleted = delete_if_unchanged(self.client, self.table, target)
        except (ClientError, BotoCoreError) as exc:
            with self._mutex:
                self.result.delete_calls += 1
            error = f"{error_code(exc) or type(exc).__name__}: {exc}"
            self._fail(1, f"{target.transaction_id}: {error}", stop=False)
            return
        with self._mutex:
            self._settle(delete_calls=1, **({"deleted": 1} if deleted else {"changed": 1}))

    def _delete_batch(self, chunk: list[Lock]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        requests: list[dict[str, Any]] = [
            {"DeleteRequest": {"Key": {KEY: {"S": lock.transaction_id}}}} for lock in chunk
        ]
        for attempt in range(self.max_attempts):
            try:
                response = self.client.batch_write_item(
                    RequestItems={self.table: requests}  # type: ignore[dict-item]
                )
            except (ClientError, BotoCoreError) as exc:
                with self._mutex:
                    self.result.batch_calls += 1
                error = f"{error_code(exc) or type(exc).__name__}: {exc}"
                self._fail(len(requests), f"{len(requests)} delete(s) failed: {error}", stop=True)
                return
            unprocessed = cast(
                "list[dict[str, Any]]", response.get("UnprocessedItems", {}).get(self.table, [])
            )
            with self._mutex:
                self._settle(batch_calls=1, deleted=len(requests) - len(unprocessed))
            requests = unprocessed
            if not requests:
                return
            if attempt + 1 < self.max_attempts:
                # DynamoDB's advice for UnprocessedItems: back off exponentially, then resend.
                self.sleep(min(5.0, 0.05 * 2**attempt))
        self._fail(
            len(requests),
            f"{len(requests)} delete(s) still unprocessed after {self.max_attempts} tries",
            stop=False,
        )


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
    deleter = Deleter(
        client,
        table,
        progress=progress,
        sleep=sleep,
        max_attempts=max_attempts,
        concurrency=concurrency,
    )
    with deleter:
        for lock in plan.batch:
            deleter.add_batch(lock)
        for lock in plan.conditional:
            deleter.add_conditional(lock)
    result = deleter.result
    result.skipped_live += len(plan.skipped_live)
    result.not_found = len(plan.not_found)
    return result


def clear_locks(
    client: DynamoDBClient,
    table: str,
    selection: ClearSelection,
    *,
    force: bool = False,
    segments: int | None = None,
    progress: ProgressHandle | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_attempts: int = 8,
    concurrency: int = 8,
    now_ms: Callable[[], int] = wall_clock_ms,
    page_size: int | None = None,
) -> ClearResult:
    """Clear the selected locks as a pipeline: scan pages (only the attributes the state
    needs, ``segments`` in parallel) feed the deletes while the scan goes on.

    Every safety rule of :func:`plan_clear` + :func:`execute_clear` holds: the same
    :func:`clear_action` per lock, conditional deletes on what was read. Lock ids are read
    one by one (GetItem) and then deleted, as before. ``segments`` None: sized from the
    table (:func:`auto_segments`).
    """
    selection.check()
    if selection.ids:
        plan = plan_clear(client, table, selection, force=force, now_ms=now_ms)
        return execute_clear(
            client,
            table,
            plan,
            progress=progress,
            sleep=sleep,
            max_attempts=max_attempts,
            concurrency=concurrency,
        )
    scan = LockScan(
        client,
        table,
        where=selection.lock_filter(),
        segments=auto_segments(client, table) if segments is None else segments,
        now_ms=now_ms,
        attributes=selection.attributes(),
        page_size=page_size,
    )
    deleter = Deleter(
        client,
        table,
        force=force,
        progress=progress,
        sleep=sleep,
        max_attempts=max_attempts,
        concurrency=concurrency,
    )
    with deleter, contextlib.closing(iter(scan)) as locks:
        for lock in locks:
            deleter.add(lock)
            if deleter.stopped:
                break
    deleter.result.scanned = scan.counts.scanned
    return deleter.result


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
