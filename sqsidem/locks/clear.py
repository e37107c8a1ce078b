"""`locks clear` end to end: observe what the selection holds, ask, then delete.

Lock ids and --dry-run read every selected record first (:func:`.plan.plan_clear`), then
delete. A table-wide clear is a pipeline (:func:`clear_locks`): scan pages feed the
deleter while the scan goes on; asked first, a person is shown a cheap count before
anything is deleted. What is shown and asked on the way is the render layer's
(:class:`ClearUi`); this module decides, the view prints.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqsidem.consumer.lock import wall_clock_ms
from sqsidem.errors import Interrupted, NotFoundError, PartialFailure, SqsidemError
from sqsidem.locks.delete import ClearResult, Deleter, execute_clear
from sqsidem.locks.plan import (
    ClearCount,
    ClearPlan,
    ClearSelection,
    auto_segments,
    count_clear,
    plan_clear,
)
from sqsidem.locks.scan import LockScan, check_scan_options

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from sqsidem.aws import Aws
    from sqsidem.locks.model import Lock
    from sqsidem.names import StackNames
    from sqsidem.render import ProgressHandle


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
    stop: threading.Event | None = None,
) -> ClearResult:
    """Clear the selected locks as a pipeline: scan pages (only the attributes the state
    needs, ``segments`` in parallel) feed the deletes while the scan goes on.

    Every safety rule of :func:`.plan.plan_clear` + :func:`.delete.execute_clear` holds:
    the same :func:`.plan.clear_action` per lock, conditional deletes on what was read.
    Lock ids are read one by one (GetItem) and then deleted, as before. ``segments`` None:
    sized from the table (:func:`.plan.auto_segments`). The selection is checked here
    (a table-wide delete must never run on an unchecked one), not again by plan_clear.
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
            stop=stop,
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
        stop=stop,
    )
    with deleter, contextlib.closing(iter(scan)) as locks:
        for lock in locks:
            if deleter.interrupted:
                break
            deleter.add(lock)
            if deleter.stopped:
                break
    deleter.result.scanned = scan.counts.scanned
    return deleter.result


class ClearUi(Protocol):
    """What `locks clear` shows and asks on its way (implemented by the render layer)."""

    def counting(self, table: str) -> AbstractContextManager[None]:
        """While the cheap count before the question runs."""

    def planned(self, table: str, plan: ClearPlan, *, ask: bool) -> None:
        """The records were read: preview them and, when ``ask``, confirm (or raise)."""

    def counted(self, table: str, count: ClearCount) -> None:
        """A table-wide clear was counted: confirm deleting that many (or raise)."""

    def progress(self, total: int | None) -> AbstractContextManager[ProgressHandle]:
        """While the deletes run."""


@dataclass(frozen=True)
class ClearRequest:
    """`locks clear` as given on the command line."""

    selection: ClearSelection
    force: bool = False
    dry_run: bool = False
    yes: bool = False
    segments: int | None = None  # None: sized from the table

    def check(self) -> None:
        """Usage errors, decidable before any call (exit 2)."""
        self.selection.check()
        check_scan_options(1 if self.segments is None else self.segments, None)


@dataclass
class ClearReport:
    """What a clear did (or, with ``listed``, would do: a dry run deletes nothing)."""

    table: str
    result: ClearResult
    not_found: list[str] = field(default_factory=list)
    listed: list[Lock] | None = None
    nothing: bool = False  # counted first, nothing was left to clear
    total: int | None = None  # what was selected, when known before deleting

    def problem(self) -> SqsidemError | None:
        """The one error a clear ends with (exit 130 interrupted, else 1), if any."""
        if self.result.interrupted:
            of = "" if self.total is None else f" of {self.total:,}"
            return Interrupted(f"deleted {self.result.deleted:,}{of}")
        if self.result.failed:
            return PartialFailure(
                f"deleted {self.result.deleted}, but {self.result.failed} lock(s) not deleted; "
                f"first: {self.result.errors[0]}"
            )
        if self.not_found:
            return NotFoundError(
                f"no lock {self.not_found[0]!r} in {self.table} (deleted {self.result.deleted})",
                "check the id",
            )
        return None


def run_clear(
    aws: Aws,
    names: StackNames,
    request: ClearRequest,
    ui: ClearUi,
    stop: threading.Event | None = None,
) -> ClearReport:
    """`locks clear`: lock ids or --dry-run are read first, a table-wide clear streams.

    Once ``stop`` is set (Ctrl-C) no more deletes start; the report counts what was deleted.
    ``request`` was checked by the caller (:meth:`ClearRequest.check`, before asking).
    """
    from sqsidem.resolve import require_table

    # Every request of a clear is built by sqsidem.locks: skip botocore's client-side checks.
    aws = aws.with_options(parameter_validation=False)
    table = require_table(aws, names)
    if request.dry_run or request.selection.ids:
        return _clear_planned(aws.dynamodb, table, request, ui, stop)
    return _clear_streamed(aws.dynamodb, table, request, ui, stop)


def _clear_planned(
    client: DynamoDBClient,
    table: str,
    request: ClearRequest,
    ui: ClearUi,
    stop: threading.Event | None,
) -> ClearReport:
    """Read everything first, preview (and ask), then delete."""
    plan = plan_clear(
        client, table, request.selection, force=request.force, segments=request.segments or 1
    )
    targets = plan.to_delete
    ui.planned(table, plan, ask=bool(targets) and not request.dry_run)
    if request.dry_run:
        return ClearReport(table, ClearResult(), plan.not_found, listed=targets)
    if not targets:
        result = ClearResult(skipped_live=len(plan.skipped_live), not_found=len(plan.not_found))
        return ClearReport(table, result, plan.not_found)
    with ui.progress(len(targets)) as progress:
        result = execute_clear(client, table, plan, progress=progress, stop=stop)
    return ClearReport(table, result, plan.not_found, total=len(targets))


def _clear_streamed(
    client: DynamoDBClient,
    table: str,
    request: ClearRequest,
    ui: ClearUi,
    stop: threading.Event | None,
) -> ClearReport:
    """A table-wide clear: deletes run while the scan goes on. Asked first, a person is
    shown a cheap count (no record bodies read) before anything is deleted."""
    segments = auto_segments(client, table) if request.segments is None else request.segments
    total = None
    if not request.yes:
        with ui.counting(table):
            count = count_clear(
                client, table, request.selection, force=request.force, segments=segments
            )
        if not count.to_delete:
            return ClearReport(table, ClearResult(skipped_live=count.skipped_live), nothing=True)
        ui.counted(table, count)
        total = count.to_delete
    with ui.progress(total) as progress:
        result = clear_locks(
            client,
            table,
            request.selection,
            force=request.force,
            segments=segments,
            progress=progress,
            stop=stop,
        )
    return ClearReport(table, result, total=total)
