"""`teardown`: walk the registry backwards, delete only what carries this stack's tag.

Every call tolerates "already gone", so re-running after a partial failure finishes the job.
The plan says what would be destroyed with the resources (messages, in-progress locks);
without ``force`` teardown refuses when there is any. Every key tagged for the stack goes,
aliased or not. The first Ctrl-C lets the deletion in flight finish and stops there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqsidem.consumer.lock import wall_clock_ms
from sqsidem.errors import PartialFailure, SqsidemError, UsageError
from sqsidem.interrupt import never
from sqsidem.names import StackNames
from sqsidem.retry import Pacing
from sqsidem.stack.contents import Contents, contents_of
from sqsidem.stack.executor import interrupted, run_calls
from sqsidem.stack.kind import ObservedStack, TeardownItem, TeardownOptions
from sqsidem.stack.kms_key import KEY, MAX_PENDING_DAYS, MIN_PENDING_DAYS, schedule_deletion
from sqsidem.stack.kms_scan import TaggedKey, stack_keys_once
from sqsidem.stack.observe import observe_stack
from sqsidem.stack.registry import KINDS

if TYPE_CHECKING:
    from sqsidem.aws import Aws

OnItem = Callable[[TeardownItem, str], None]


@dataclass(frozen=True)
class TeardownPlan:
    stack: str
    items: tuple[TeardownItem, ...]
    observed: ObservedStack = field(repr=False)
    contents: Contents | None = None

    @property
    def to_delete(self) -> tuple[TeardownItem, ...]:
        return tuple(item for item in self.items if item.action == "delete")

    @property
    def not_ours(self) -> tuple[TeardownItem, ...]:
        return tuple(item for item in self.items if item.action == "not-ours")

    def refusal(self, force: bool) -> SqsidemError | None:
        """Why teardown must not go on without --force (None: nothing would be lost)."""
        if force or self.contents is None or not self.contents.at_risk:
            return None
        return self.contents.refusal(self.stack)

    def as_dict(self) -> dict[str, Any]:
        contents = self.contents.as_dict() if self.contents is not None else None
        items = [item.as_dict() for item in self.items]
        return {"stack": self.stack, "items": items, "contents": contents}


@dataclass
class TeardownResult:
    deleted: list[TeardownItem] = field(default_factory=list)
    failed: list[tuple[TeardownItem, str]] = field(default_factory=list)
    not_done: list[TeardownItem] = field(default_factory=list)  # stopped by Ctrl-C before these

    def check(self) -> None:
        """Exit 130 when stopped, once what was deleted has been shown."""
        if self.not_done:
            done = len(self.deleted) + len(self.failed)
            rest = [f"{i.kind} {i.name}" for i in self.not_done]
            raise interrupted(done, rest, done + len(rest))


class TeardownProgress(Protocol):
    """How a caller follows teardown: the reading, a review of the plan (may refuse), items."""

    pacing: Pacing

    def reading(self, stack: str) -> AbstractContextManager[object]: ...

    def review(self, plan: TeardownPlan, refused: bool) -> None: ...

    def confirm(self, plan: TeardownPlan) -> None: ...

    def changing(self) -> AbstractContextManager[threading.Event]: ...

    def on_item(self, item: TeardownItem, phase: str) -> None: ...


def validate_pending_days(days: int) -> int:
    if not MIN_PENDING_DAYS <= days <= MAX_PENDING_DAYS:
        raise UsageError(
            f"--key-pending-days must be {MIN_PENDING_DAYS}..{MAX_PENDING_DAYS}, not {days}",
            "KMS only schedules key deletion within that window",
        )
    return days


def plan_teardown(
    aws: Aws,
    names: StackNames,
    *,
    keep_logs: bool = False,
    keep_table: bool = False,
    key_pending_days: int = MIN_PENDING_DAYS,
    now_ms: int | None = None,
) -> TeardownPlan:
    """What teardown would do, read-only: the registry in reverse dependency order, then the
    stack's keys that no alias names, then what would be destroyed with it all."""
    how = TeardownOptions(keep_logs, keep_table, validate_pending_days(key_pending_days))
    keys = stack_keys_once(aws, names.stack)
    seen = observe_stack(aws, names, dying=True, keys=keys)  # dying: a delete that failed
    items = [item for kind in reversed(KINDS) for item in kind.teardown(names, seen, how)]
    items += unaliased_keys(keys(), seen, how)
    now = now_ms if now_ms is not None else wall_clock_ms()
    contents = contents_of(aws, names, seen, now, keep_table=keep_table)
    return TeardownPlan(names.stack, tuple(items), seen, contents)


def unaliased_keys(
    keys: list[TaggedKey], seen: ObservedStack, how: TeardownOptions
) -> list[TeardownItem]:
    """Keys tagged for the stack that its alias does not name (an interrupted or raced setup
    made them): each is scheduled for deletion; keys already scheduled are skipped."""
    known = KEY.seen_in(seen)
    skip = {known.key_id} if known is not None else set()
    return [
        TeardownItem(
            KEY.key,
            key.key_id,
            "delete",
            "tagged for the stack, no alias: deletion scheduled",
            (schedule_deletion(key.key_id, how.key_pending_days),),
        )
        for key in keys
        if key.key_id not in skip and not key.scheduled
    ]


def run_teardown(
    aws: Aws,
    names: StackNames,
    plan: TeardownPlan,
    *,
    pacing: Pacing | None = None,
    on_item: OnItem = lambda _item, _phase: None,
    force: bool = False,
    stop: threading.Event | None = None,
) -> TeardownResult:
    """Delete the plan's "delete" items in order; a failure stops dependants, not the report.

    Refuses (before any call) when messages or in-progress locks would go too, unless
    ``force``; once ``stop`` is set, no further item starts (the result lists the rest and
    :meth:`TeardownResult.check` raises Interrupted, exit 130).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    del names  # the plan carries every name it deletes
    refusal = plan.refusal(force)
    if refusal is not None:
        raise refusal
    pacing = pacing or Pacing()
    stop = stop or never()
    result = TeardownResult()
    todo = plan.to_delete
    for done, item in enumerate(todo):
        if stop.is_set():
            result.not_done = list(todo[done:])
            break
        on_item(item, "start")
        try:
            run_calls(aws, item.calls, pacing, {})
        except (ClientError, BotoCoreError, SqsidemError) as exc:
            result.failed.append((item, str(exc)))
            on_item(item, "failed")
            if item.halt:
                break
            continue
        result.deleted.append(item)
        on_item(item, "done")
    if result.failed:
        first, why = result.failed[0]
        raise PartialFailure(
            f"teardown failed on {len(result.failed)} resource(s); first: {first.kind} "
            f"{first.name}: {why}",
            "fix the cause and run teardown again: it finishes what is left",
        )
    return result


def teardown_stack(
    aws: Callable[[], Aws],
    names: StackNames,
    how: TeardownOptions,
    progress: TeardownProgress,
) -> tuple[TeardownPlan, TeardownResult]:
    """`sqsidem teardown`: read, let the caller review (and refuse), then delete."""
    client = aws()
    with progress.reading(names.stack):
        plan = plan_teardown(
            client,
            names,
            keep_logs=how.keep_logs,
            keep_table=how.keep_table,
            key_pending_days=how.key_pending_days,
        )
    refusal = plan.refusal(how.force)
    progress.review(plan, refusal is not None)
    if refusal is not None:
        raise refusal
    progress.confirm(plan)
    with progress.changing() as stop:
        result = run_teardown(
            client,
            names,
            plan,
            pacing=progress.pacing,
            on_item=progress.on_item,
            force=how.force,
            stop=stop,
        )
    return plan, result
