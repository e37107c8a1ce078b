"""`teardown`: delete in reverse dependency order, only what carries this stack's tag.

Every step tolerates "already gone", so re-running after a partial failure finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqsidem.aws import Aws
from sqsidem.errors import PartialFailure, UsageError
from sqsidem.names import STACK_TAG, StackNames
from sqsidem.stack import alarm, function, kms_key, log_group, mapping, queues, role, table, topic
from sqsidem.stack.model import ResourceKind, owner_of
from sqsidem.stack.observe import ObservedStack, observe_stack
from sqsidem.stack.retry import Pacing

TeardownAction = Literal["delete", "keep", "not-ours", "gone"]
MIN_PENDING_DAYS, MAX_PENDING_DAYS = 7, 30


@dataclass(frozen=True)
class TeardownItem:
    kind: ResourceKind
    name: str
    action: TeardownAction
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"resource": self.kind, "name": self.name, "action": self.action, "note": self.note}


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


def mapping_label(found: mapping.ObservedMapping, names: StackNames) -> str:
    queue = found.source_arn.rsplit(":", 1)[-1]
    return f"{queue} -> {names.function} ({found.uuid})"


def validate_pending_days(days: int) -> int:
    if not MIN_PENDING_DAYS <= days <= MAX_PENDING_DAYS:
        raise UsageError(
            f"--key-pending-days must be {MIN_PENDING_DAYS}..{MAX_PENDING_DAYS}, not {days}",
            "KMS only schedules key deletion within that window",
        )
    return days


def _item(
    kind: ResourceKind,
    name: str,
    stack: str,
    tags: dict[str, str] | None,
    *,
    keep: bool = False,
    note: str = "",
) -> TeardownItem:
    if tags is None:
        return TeardownItem(kind, name, "gone")
    owner = owner_of(tags)
    if owner != stack:
        why = f"tagged {STACK_TAG}={owner}" if owner else f"no {STACK_TAG} tag"
        return TeardownItem(kind, name, "not-ours", f"{why}: left alone")
    if keep:
        return TeardownItem(kind, name, "keep", note)
    return TeardownItem(kind, name, "delete", note)


def plan_teardown(
    aws: Aws, names: StackNames, *, keep_logs: bool = False, keep_table: bool = False
) -> TeardownPlan:
    """What teardown would do, read-only."""
    seen = observe_stack(aws, names)
    stack = names.stack
    function_tags = seen.function.tags if seen.function else None
    items: list[TeardownItem] = []
    for found in seen.mappings:
        # A mapping has no tag of its own: it belongs to whoever owns the function.
        items.append(_item("mapping", mapping_label(found, names), stack, function_tags or {}))
    items.append(_item("function", names.function, stack, function_tags))
    items.append(_item("role", names.role, stack, seen.role.tags if seen.role else None))
    items.append(_item("alarm", names.alarm, stack, seen.alarm.tags if seen.alarm else None))
    subscriptions = len(seen.topic.subscriptions) if seen.topic else 0
    items.append(
        _item(
            "topic",
            names.topic,
            stack,
            seen.topic.tags if seen.topic else None,
            note=f"with {subscriptions} subscription(s)" if subscriptions else "",
        )
    )
    items.append(_item("queue", names.queue, stack, seen.queue.tags if seen.queue else None))
    items.append(_item("dlq", names.dlq, stack, seen.dlq.tags if seen.dlq else None))
    group_tags = seen.log_group.tags if seen.log_group else None
    items.append(
        _item("log_group", names.log_group, stack, group_tags, keep=keep_logs, note="--keep-logs")
    )
    table_tags = seen.table.tags if seen.table else None
    items.append(
        _item("table", names.table, stack, table_tags, keep=keep_table, note="--keep-table")
    )
    key_tags = seen.key.tags if seen.key else None
    key_note = "alias deleted, key deletion scheduled"
    if seen.key and seen.key.state == "PendingDeletion":
        key_note = "key already pending deletion; alias deleted"
    items.append(_item("key", names.key_alias, stack, key_tags, note=key_note))
    return TeardownPlan(stack, tuple(_clean_notes(items)), seen)


def _clean_notes(items: list[TeardownItem]) -> list[TeardownItem]:
    # The --keep-* notes only explain a "keep"; elsewhere they would confuse.
    return [
        TeardownItem(i.kind, i.name, i.action, "")
        if i.action == "delete" and i.note.startswith("--keep")
        else i
        for i in items
    ]


@dataclass
class TeardownResult:
    deleted: list[TeardownItem] = field(default_factory=list)
    failed: list[tuple[TeardownItem, str]] = field(default_factory=list)


OnItem = Callable[[TeardownItem, str], None]


def run_teardown(
    aws: Aws,
    names: StackNames,
    plan: TeardownPlan,
    *,
    key_pending_days: int = MIN_PENDING_DAYS,
    pacing: Pacing | None = None,
    on_item: OnItem = lambda _item, _phase: None,
) -> TeardownResult:
    """Delete the plan's "delete" items in order; a failure stops dependants, not the report."""
    from botocore.exceptions import BotoCoreError, ClientError

    validate_pending_days(key_pending_days)
    pacing = pacing or Pacing()
    seen = plan.observed
    mappings = {mapping_label(m, names): m for m in seen.mappings}
    result = TeardownResult()
    for item in plan.to_delete:
        on_item(item, "start")
        try:
            _delete_one(aws, names, item, seen, mappings, key_pending_days, pacing)
        except (ClientError, BotoCoreError) as exc:
            result.failed.append((item, str(exc)))
            on_item(item, "failed")
            if item.kind in ("mapping", "function", "role"):
                # Deleting queues under a live trigger would let a last batch fail noisily.
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


def _delete_one(
    aws: Aws,
    names: StackNames,
    item: TeardownItem,
    seen: ObservedStack,
    mappings: dict[str, mapping.ObservedMapping],
    key_pending_days: int,
    pacing: Pacing,
) -> None:
    kind = item.kind
    if kind == "mapping":
        mapping.delete(aws, mappings[item.name], pacing)
    elif kind == "function":
        function.delete(aws, names.function)
    elif kind == "role" and seen.role is not None:
        role.delete(aws, names.role, seen.role)
    elif kind == "alarm":
        alarm.delete(aws, names.alarm)
    elif kind == "topic" and seen.topic is not None:
        topic.delete(aws, seen.topic)
    elif kind == "queue" and seen.queue is not None:
        queues.delete(aws, seen.queue)
    elif kind == "dlq" and seen.dlq is not None:
        queues.delete(aws, seen.dlq)
    elif kind == "log_group":
        log_group.delete(aws, names.log_group)
    elif kind == "table":
        table.delete(aws, names.table)
    elif kind == "key" and seen.key is not None:
        kms_key.delete(aws, names.key_alias, seen.key, key_pending_days)
