"""What a clear selects and how each lock may go (the policy), read as a plan or a count.

Records that cannot change under us (completed, not about to expire) may go in
unconditional batches; anything a consumer could take over meanwhile (in progress, stale,
expired) needs a conditional delete on what was read; live locks only with --force.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sqsidem.consumer.lock import wall_clock_ms
from sqsidem.errors import NotFoundError, UsageError
from sqsidem.locks.model import KEY, Lock
from sqsidem.locks.read import check_ids, get_lock
from sqsidem.locks.scan import LockFilter, LockScan

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

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
        check_ids(self.ids)

    def lock_filter(self) -> LockFilter:
        states = set(self.states) | ({"stale"} if self.stale else set())
        return LockFilter(frozenset(states), self.older_than_s)

    def attributes(self) -> tuple[str, ...]:
        """What a scan for this selection must read of each record."""
        return CLEAR_ATTRIBUTES + (("first_seen_ms",) if self.older_than_s is not None else ())


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


def plan_clear(
    client: DynamoDBClient,
    table: str,
    selection: ClearSelection,
    *,
    force: bool = False,
    segments: int = 1,
    now_ms: Callable[[], int] = wall_clock_ms,
) -> ClearPlan:
    """Read the selected locks (whole records: a dry run lists them) and sort them.

    ``selection`` is checked by the caller (:meth:`ClearSelection.check`, once per command).
    """
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
    filter reads only the attributes that decide it. ``selection`` is checked by the caller.
    """
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
