"""`dlq redrive`: plan (what moves, which locks are in the way), then move the messages back.

A move task where the backend has one (:mod:`.move_task`), else a copy (:mod:`.copy`).
Ctrl-C follows the interrupt contract (:mod:`sqsidem.interrupt`) in both modes.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqsidem.dlq.copy import REDRIVE_VISIBILITY_S, copy_redrive
from sqsidem.dlq.link import DlqLink, find_link
from sqsidem.dlq.listing import DlqListing, list_dlq
from sqsidem.dlq.move_task import (
    MOVE_TASK_TIMEOUT_S,
    cancel_move_task,
    move_task_timeout_s,
    start_move_task,
    wait_for_move_task,
)
from sqsidem.dlq.result import ProgressFn, RedriveResult
from sqsidem.errors import UsageError
from sqsidem.interrupt import interruptible, stop_on_interrupt
from sqsidem.locks.delete import delete_if_unchanged
from sqsidem.locks.model import Lock
from sqsidem.locks.read import BLOCKING_STATES
from sqsidem.retry import Pacing

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.names import StackNames


@dataclass(frozen=True)
class RedrivePlan:
    """What a redrive would move, and the keys whose locks would get in the way."""

    listing: DlqListing
    blocking: list[Lock]

    @property
    def count(self) -> int:
        return max(self.listing.peek.approximate_total, len(self.listing.peek.messages))

    @property
    def clearable(self) -> list[Lock]:
        """The blocking locks `--clear-locks` releases: those the dead letters took themselves."""
        kept = {id(lock) for lock in self.kept}
        return [lock for lock in self.blocking if id(lock) not in kept]

    @property
    def kept(self) -> list[Lock]:
        """Blocking locks taken by another message with the key: `--clear-locks` keeps them.

        The consumer records the message id that took a lock. A dead letter keeps its message
        id, so a lock its own attempts took names it; any other id is a copy sent by an
        earlier redrive (a new message id, maybe processed or in progress in the source
        queue now) or another message with that key. Releasing such a lock would let the
        copy this redrive sends run the work a second time once SQS stops dropping it (its
        dedup id is the earlier copy's, for 5 minutes). A lock without a message id was not
        written by sqsidem's consumer and is released as before.
        """
        ids: dict[str, set[str]] = {}
        for message in self.listing.peek.messages:
            if message.key is not None:
                ids.setdefault(message.key, set()).add(message.message_id)
        return [
            lock
            for lock in self.blocking
            if "message_id" in lock.item
            and lock.item["message_id"] not in ids.get(lock.transaction_id, set())
        ]


def plan_redrive(aws: Aws, names: StackNames) -> RedrivePlan:
    listing = list_dlq(aws, names)
    blocking = [
        lock
        for lock in listing.locks.locks.values()
        if lock is not None and lock.state in BLOCKING_STATES
    ]
    return RedrivePlan(listing, blocking)


def release_locks(aws: Aws, names: StackNames, locks: list[Lock]) -> tuple[int, int]:
    """Release the given locks if unchanged since read; (released, changed meanwhile)."""
    released = sum(1 for lock in locks if delete_if_unchanged(aws.dynamodb, names.table, lock))
    return released, len(locks) - released


def redrive(
    aws: Aws,
    link: DlqLink,
    *,
    rate: int | None = None,
    on_progress: ProgressFn | None = None,
    pacing: Pacing | None = None,
    timeout_s: float = MOVE_TASK_TIMEOUT_S,
    stop: threading.Event | None = None,
    hold_s: int = REDRIVE_VISIBILITY_S,
) -> RedriveResult:
    """Move every DLQ message back to the source: a move task if possible, else by copying.

    ``timeout_s`` bounds the wait for a move task (the task itself goes on in AWS);
    ``hold_s`` is how long a copy hides each batch it received; ``stop`` is the first Ctrl-C.
    """
    stop = stop or threading.Event()
    if stop.is_set():
        return RedriveResult(None, interrupted=True)  # before a task could be started
    if not start_move_task(aws, link, rate=rate, pacing=pacing):
        return copy_redrive(aws, link, on_progress=on_progress, visibility_s=hold_s, stop=stop)
    return wait_for_move_task(
        aws.sqs,
        link.dlq_arn,
        on_progress=on_progress,
        pacing=pacing or interruptible(stop),
        timeout_s=timeout_s,
        stop=stop,
    )


class RedriveWatch(Protocol):
    """Who follows a redrive: sees the plan (and may refuse it), the locks, the progress."""

    def planned(self, plan: RedrivePlan) -> None: ...

    def released(self, released: int, changed: int) -> None: ...

    def moving(self, total: int) -> AbstractContextManager[ProgressFn]: ...

    def stopping(self) -> None: ...


def check_options(
    *, cancel: bool, rate: int | None, clear_locks: bool, hold: int | None = None
) -> None:
    if cancel and (rate is not None or clear_locks or hold is not None):
        raise UsageError("--cancel takes no --rate, --clear-locks or --hold")


def run_redrive(
    aws: Aws,
    names: StackNames,
    *,
    rate: int | None,
    clear_locks: bool,
    watch: RedriveWatch,
    hold_s: int | None = None,
) -> RedriveResult | None:
    """Plan, let ``watch`` confirm, release locks if asked, move. None: the DLQ was empty.

    Ctrl-C is taken over once the question was answered (a Ctrl-C at the prompt declines).
    """
    plan = plan_redrive(aws, names)
    if plan.count == 0:
        return None
    watch.planned(plan)
    with stop_on_interrupt(watch.stopping) as stop:
        if clear_locks and plan.clearable:
            watch.released(*release_locks(aws, names, plan.clearable))
        timeout_s = move_task_timeout_s(plan.count, rate)
        with watch.moving(plan.count) as progress:
            link = plan.listing.link
            result = redrive(
                aws,
                link,
                rate=rate,
                on_progress=progress,
                timeout_s=timeout_s,
                stop=stop,
                hold_s=hold_s or REDRIVE_VISIBILITY_S,
            )
    result.total = plan.count
    return result


def cancel_redrive(aws: Aws, names: StackNames) -> int | None:
    """Cancel the DLQ's running move task; the number moved so far, or None if none ran."""
    link = find_link(aws, names)
    return cancel_move_task(aws.with_options(max_attempts=1).sqs, link.dlq_arn)
