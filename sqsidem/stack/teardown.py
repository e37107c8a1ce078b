"""`teardown`: walk the registry backwards, delete only what carries this stack's tag.

Every call tolerates "already gone", so re-running after a partial failure finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqsidem.errors import PartialFailure, SqsidemError, UsageError
from sqsidem.names import StackNames
from sqsidem.retry import Pacing
from sqsidem.stack.executor import run_calls
from sqsidem.stack.kind import ObservedStack, TeardownItem, TeardownOptions
from sqsidem.stack.observe import observe_stack
from sqsidem.stack.registry import KINDS

if TYPE_CHECKING:
    from sqsidem.aws import Aws

MIN_PENDING_DAYS, MAX_PENDING_DAYS = 7, 30
OnItem = Callable[[TeardownItem, str], None]


@dataclass(frozen=True)
class TeardownPlan:
    stack: str
    items: tuple[TeardownItem, ...]
    observed: ObservedStack = field(repr=False)

    @property
    def to_delete(self) -> tuple[TeardownItem, ...]:
        return tuple(item for item in self.items if item.action == "delete")

    @property
    def not_ours(self) -> tuple[TeardownItem, ...]:
        return tuple(item for item in self.items if item.action == "not-ours")

    def as_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "items": [item.as_dict() for item in self.items]}


@dataclass
class TeardownResult:
    deleted: list[TeardownItem] = field(default_factory=list)
    failed: list[tuple[TeardownItem, str]] = field(default_factory=list)


class TeardownProgress(Protocol):
    """How a caller follows teardown: the reading, a review of the plan (may refuse), items."""

    pacing: Pacing

    def reading(self, stack: str) -> AbstractContextManager[object]: ...

    def review(self, plan: TeardownPlan) -> None: ...

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
) -> TeardownPlan:
    """What teardown would do, read-only: the registry in reverse dependency order."""
    how = TeardownOptions(keep_logs, keep_table, validate_pending_days(key_pending_days))
    seen = observe_stack(aws, names, dying=True)  # a delete that failed after the mark
    items = [item for kind in reversed(KINDS) for item in kind.teardown(names, seen, how)]
    return TeardownPlan(names.stack, tuple(items), seen)


def run_teardown(
    aws: Aws,
    names: StackNames,
    plan: TeardownPlan,
    *,
    pacing: Pacing | None = None,
    on_item: OnItem = lambda _item, _phase: None,
) -> TeardownResult:
    """Delete the plan's "delete" items in order; a failure stops dependants, not the report."""
    from botocore.exceptions import BotoCoreError, ClientError

    del names  # the plan carries every name it deletes
    pacing = pacing or Pacing()
    result = TeardownResult()
    for item in plan.to_delete:
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
    progress.review(plan)
    result = run_teardown(client, names, plan, pacing=progress.pacing, on_item=progress.on_item)
    return plan, result
