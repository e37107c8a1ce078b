"""The views of `dlq list|redrive|purge` (the listing is also shown by `demo`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqsidem.render.consent import confirm
from sqsidem.render.sink import Renderer

if TYPE_CHECKING:
    from sqsidem.dlq.listing import DlqListing
    from sqsidem.dlq.redrive import RedrivePlan
    from sqsidem.dlq.result import RedriveResult
    from sqsidem.names import StackNames


def show_dlq_listing(render: Renderer, listing: DlqListing, *, full: bool) -> None:
    from sqsidem.timeparse import human_duration

    rows = listing.rows(full=full, width=40)
    if render.json:
        for row in rows:
            render.emit_line(row)
    elif rows:
        render.table(
            ["message id", "group", "key", "receives", "age", "lock", "body"],
            [
                [
                    r["message_id"],
                    r["group_id"],
                    r["key"],
                    r["receive_count"],
                    human_duration(r["age_s"]) if r["age_s"] is not None else "",
                    r["lock_state"],
                    r["body"],
                ]
                for r in rows
            ],
            title=f"{listing.link.dlq_url} (source: {listing.link.source_arn})",
        )
    seen = listing.peek
    render.info(f"{len(rows)} message(s) shown, all left in the DLQ")
    if seen.held_groups:
        render.note(
            f"{seen.not_shown} more not shown: this FIFO queue hides a group's later messages "
            "while this look holds its earlier ones (held groups: "
            f"{', '.join(seen.held_groups)}), or they are in flight elsewhere; "
            "they stay in the DLQ and a redrive moves them in order"
        )
    elif seen.not_shown:
        render.note(f"{seen.not_shown} more not shown: in flight elsewhere")
    if any(r["dedup_id_replaced"] for r in rows):
        render.note(
            "a FIFO DLQ replaces the dedup id with the original message id: "
            "the original dedup id is unknown for those"
        )
    if listing.locks.table_missing:
        render.note("no lock table: lock states unknown")
    if rows:
        render.note("age = time since sent, an upper bound for the time in the DLQ")


class RedriveView:
    """Follows a redrive (a ``RedriveWatch``): lock warnings, the question, progress, report."""

    def __init__(
        self, render: Renderer, names: StackNames, *, yes: bool, clear_locks: bool
    ) -> None:
        self.render = render
        self.names = names
        self.yes = yes
        self.clear_locks = clear_locks

    def planned(self, plan: RedrivePlan) -> None:
        render = self.render
        for lock in plan.blocking:
            render.warn(
                f"key {lock.transaction_id} has a {lock.state} lock: "
                + (
                    "its redriven message would be skipped as a duplicate"
                    if lock.state == "completed"
                    else "its redriven message would wait until that attempt ends"
                )
            )
        for lock in plan.kept:
            render.note(
                f"--clear-locks keeps the lock of {lock.transaction_id}: message "
                f"{lock.item.get('message_id')} took it, not the dead letter (an earlier "
                "redrive's copy, or another message with this key)"
            )
        if plan.clearable and not self.clear_locks:
            render.note("pass --clear-locks to release those locks before redriving")
        names = self.names
        question = f"move {plan.count} message(s) from {names.dlq} back to {names.queue}"
        if self.clear_locks and plan.clearable:
            question += f" and release {len(plan.clearable)} lock(s)"
        seen = (
            f"{plan.count} message(s) in {names.dlq}, {len(plan.blocking)} with a lock in the way"
        )
        confirm(render, question + "?", yes=self.yes, plan=[seen])

    def stopping(self) -> None:
        """The first Ctrl-C: what happens to the work in hand."""
        self.render.note(
            "stopping: the batch being copied is finished, the rest stays in the DLQ "
            "(a running move task is cancelled); Ctrl-C again to abort at once"
        )

    def released(self, released: int, changed: int) -> None:
        self.render.info(f"released {released} lock(s)")
        if changed:
            self.render.warn(f"{changed} lock(s) changed since they were read and were left alone")

    @contextmanager
    def moving(self, total: int) -> Iterator[Callable[[int, int | None], None]]:
        with self.render.progress("redriving", total=total) as bar:

            def progress(moved: int, total: int | None) -> None:
                bar.update(total=total)
                bar.advance(moved - bar.done)

            yield progress

    def finished(self, result: RedriveResult | None) -> None:
        """The report; None means the DLQ was empty."""
        render = self.render
        if result is None:
            if render.json:
                render.emit({"method": None, "moved": 0})
            render.info(f"{self.names.dlq} is empty: nothing to redrive")
            return
        if render.json:
            render.emit(
                {
                    "method": result.method,
                    "moved": result.moved,
                    "failed": [{"message_id": m, "reason": r} for m, r in result.failed],
                    "held_back": result.held_back,
                    "not_deleted": result.not_deleted,
                    "left_in_dlq": result.left_in_dlq,
                    "task_status": result.task_status,
                    "failure_reason": result.failure_reason,
                    "interrupted": result.interrupted,
                    "total": result.total,
                }
            )
        if result.interrupted:
            render.note("the rest stays in the DLQ: run `sqsidem dlq redrive` again to go on")
        if result.ok:
            how = "by a message move task" if result.method == "move-task" else "by copying"
            render.success(f"{result.moved} message(s) moved back to the source queue {how}")
            return
        for message_id, reason in result.failed:
            render.warn(f"{message_id} stays in the DLQ: send failed: {reason}")
        for message_id in result.not_deleted:
            render.warn(f"{message_id} was copied but is still in the DLQ too (delete failed)")


def show_cancelled(render: Renderer, moved: int | None) -> None:
    """`dlq redrive --cancel`: how many the cancelled task had moved (None: none ran)."""
    if render.json:
        render.emit({"cancelled": moved is not None, "moved": moved})
    else:
        render.info("no move task is running" if moved is None else f"cancelled after {moved}")


def confirm_purge(render: Renderer, names: StackNames, count: int, *, yes: bool) -> None:
    plan = [f"{names.dlq}: about {count} message(s), gone for good once purged"]
    confirm(render, f"delete all {count} message(s) in {names.dlq}?", yes=yes, plan=plan)


def show_purged(render: Renderer, names: StackNames, removed: int) -> None:
    if render.json:
        render.emit({"queue": names.dlq, "removed": removed})
    else:
        render.success(f"purged {names.dlq}: {removed} message(s) removed")
