"""The views of `sqsidem locks`: the streamed table or JSON Lines, one record explained,
and what a clear shows, asks and reports."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqsidem.render.consent import confirm
from sqsidem.render.sink import ProgressHandle, Renderer, escape, to_json
from sqsidem.timeparse import human_duration

if TYPE_CHECKING:
    from sqsidem.locks.clear import ClearReport
    from sqsidem.locks.model import Lock
    from sqsidem.locks.plan import ClearCount, ClearPlan
    from sqsidem.locks.scan import LockScan

_COLUMNS = [
    ("TRANSACTION ID", 38),
    ("STATE", 11),
    ("AGE", 8),
    ("DEADLINE", 10),
    ("MESSAGE ID", 38),
    ("GROUP", 14),
    ("RC", 3),
]
_STATE_STYLE = {"in-progress": "cyan", "stale": "yellow", "completed": None, "expired": "dim"}
_FORCE_HINT = "live in-progress skipped (--force clears them)"


def _row(lock: Lock) -> list[object]:
    age = lock.age_s
    deadline = "-"
    if lock.deadline_unreadable:
        deadline = "unreadable"
    elif lock.state == "stale":
        deadline = "STALE"
    elif lock.state == "in-progress" and lock.deadline_ms is not None:
        deadline = f"in {human_duration((lock.deadline_ms - lock.now_ms) / 1000)}"
    return [
        lock.transaction_id,
        lock.state,
        "-" if age is None else human_duration(age),
        deadline,
        lock.item.get("message_id") or "-",
        lock.item.get("group_id") or "-",
        lock.item.get("receive_count", "-"),
    ]


def show_locks(render: Renderer, locks: Iterable[Lock]) -> None:
    """Locks as they stream in: table rows (header before the first), or JSON Lines."""
    header = False
    for lock in locks:
        if render.json:
            render.emit_line(lock.as_dict())
            continue
        if not header:
            render.stream_header(_COLUMNS)
            header = True
        render.stream_row(_row(lock), _COLUMNS, style=_STATE_STYLE.get(lock.state))


def show_lock_list(render: Renderer, scan: LockScan) -> None:
    """`locks list`: the locks on stdout, then the counts by state on stderr."""
    show_locks(render, scan)
    if render.json:
        render.info(to_json(scan.counts.as_dict()))
    else:
        render.info(scan.counts.summary())


def show_lock(render: Renderer, lock: Lock) -> None:
    """`locks show`: what the record means, then every attribute."""
    from sqsidem.locks.model import explain

    if render.json:
        render.emit({**lock.as_dict(), "meaning": explain(lock), "item": lock.item})
        return
    meaning = explain(lock)
    if lock.unreadable:
        meaning += (
            f"; unreadable: {', '.join(lock.unreadable)} (not of the type the consumer writes)"
        )
    render.line(f"{escape(lock.transaction_id)}: {meaning}", style=_STATE_STYLE.get(lock.state))
    for name, value in sorted(lock.item.items()):
        render.line(f"  {escape(name):<24} {escape(value)}")


class ClearView:
    """What `locks clear` shows and asks while it works (:class:`~sqsidem.locks.clear.ClearUi`)."""

    def __init__(self, render: Renderer, *, yes: bool) -> None:
        self.render = render
        self.yes = yes

    @contextmanager
    def counting(self, table: str) -> Iterator[None]:
        with self.render.spinner(f"counting locks in {table}"):
            yield

    def planned(self, table: str, plan: ClearPlan, *, ask: bool) -> None:
        preview = f"{len(plan.to_delete)} lock(s) to clear in {table}"
        if plan.skipped_live:
            preview += f"; {len(plan.skipped_live)} {_FORCE_HINT}"
        if plan.not_found:
            preview += f"; {len(plan.not_found)} not found"
        if not ask or self.yes:
            self.render.info(preview)
            return
        question = f"delete {len(plan.to_delete)} lock(s) from {table}?"
        confirm(self.render, question, yes=False, plan=[preview])

    def counted(self, table: str, count: ClearCount) -> None:
        if count.at_most:
            question = (
                f"delete up to {count.to_delete} lock(s) from {table} "
                "(live in-progress ones are skipped; --force clears them)?"
            )
        else:
            question = f"delete {count.to_delete} lock(s) from {table}?"
            if count.skipped_live:
                question = question.rstrip("?") + f"; {count.skipped_live} {_FORCE_HINT}?"
        confirm(self.render, question, yes=self.yes)

    @contextmanager
    def progress(self, total: int | None) -> Iterator[ProgressHandle]:
        with self.render.progress("clearing", total=total) as handle:
            yield handle


def show_clear_report(render: Renderer, report: ClearReport) -> None:
    """The dry run's list, or the summary; a failure is the one error line (exit 1), raised
    after the JSON summary is printed."""
    if report.listed is not None:
        show_locks(render, report.listed)
        return
    if report.nothing:
        render.info(f"0 lock(s) to clear in {report.table}")
    problem = report.problem()
    result = report.result
    if render.json:
        render.emit(result.as_dict())
    elif problem is None:
        render.success(
            f"deleted {result.deleted}; skipped {result.skipped_live} live, "
            f"{result.changed} changed meanwhile; {result.failed} failed"
        )
    if problem is not None:
        raise problem
