"""The filtered, streaming Scan behind `locks list` (and a clear's reads): one segment, or
several scanned by threads of their own, with counts by state as it goes."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqsidem.consumer.lock import wall_clock_ms
from sqsidem.errors import UsageError
from sqsidem.locks.model import KEY, STATES, Lock, read_item
from sqsidem.validate import non_empty

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from sqsidem.aws import Aws
    from sqsidem.names import StackNames

MAX_SEGMENTS = 64


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
        non_empty({"--prefix": self.prefix})

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
            lock = read_item(item, self.now)
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


def scan_locks(
    aws: Aws,
    names: StackNames,
    where: LockFilter,
    *,
    segments: int = 1,
    limit: int | None = None,
) -> LockScan:
    """`locks list`: the stack's table must exist; the scan streams as it is iterated."""
    from sqsidem.resolve import require_table

    return LockScan(
        aws.dynamodb, require_table(aws, names), where=where, segments=segments, limit=limit
    )
