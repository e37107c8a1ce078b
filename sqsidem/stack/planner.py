"""Wanted vs observed -> a plan of steps. Pure: no AWS calls, so it is tested as logic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqsidem.names import STACK_TAG
from sqsidem.stack import alarm, function, kms_key, log_group, mapping, queues, role, table, topic
from sqsidem.stack.desired import DesiredStack
from sqsidem.stack.model import Action, Change, Plan, ResourceKind, Step, owner_of
from sqsidem.stack.observe import ObservedStack

# --no-trigger never deletes a trigger (that would stop a running pipeline on a typo), but
# the Lambda then keeps consuming next to `sqsidem worker`: say what to do about it.
KEPT_TRIGGER_NOTE = (
    "kept: --no-trigger deletes no trigger, so Lambda still consumes the queue; "
    "remove it with `sqsidem teardown`, or re-run setup without --no-trigger"
)


def _step(
    kind: ResourceKind,
    name: str,
    stack: str,
    *,
    exists: bool,
    tags: Mapping[str, str] | None,
    changes: tuple[Change, ...],
    adopt: bool,
    replace: bool = False,
    blocked_reason: str | None = None,
) -> Step:
    if not exists:
        return Step(kind, name, "create")
    owner = owner_of(tags or {})
    if owner is not None and owner != stack:
        return Step(kind, name, "blocked", changes, f"tagged {STACK_TAG}={owner}, not {stack}")
    if owner is None and not adopt:
        return Step(kind, name, "blocked", changes, f"exists without tag {STACK_TAG}={stack}")
    if blocked_reason:
        return Step(kind, name, "blocked", changes, blocked_reason)
    if owner is None:
        return Step(kind, name, "adopt", changes, f"add tag {STACK_TAG}={stack}")
    action: Action = "replace" if replace else "update" if changes else "unchanged"
    return Step(kind, name, action, changes)


def plan(
    desired: DesiredStack,
    observed: ObservedStack,
    *,
    adopt: bool = False,
    compare_code: bool = True,
    warnings: Sequence[str] = (),
) -> Plan:
    names = desired.names
    stack = names.stack
    steps: list[Step] = []

    key = observed.key
    steps.append(
        _step(
            "key",
            names.key_alias,
            stack,
            exists=key is not None,
            tags=key.tags if key else None,
            changes=kms_key.diff(desired.key, key) if key else (),
            adopt=adopt,
            replace=key is not None and kms_key.needs_replace(key),
        )
    )
    for kind, wanted, seen in (
        ("dlq", desired.dlq, observed.dlq),
        ("queue", desired.queue, observed.queue),
    ):
        steps.append(
            _step(
                kind,  # type: ignore[arg-type]
                wanted.name,
                stack,
                exists=seen is not None,
                tags=seen.tags if seen else None,
                changes=queues.diff(wanted, seen) if seen else (),
                adopt=adopt,
                blocked_reason="not a FIFO queue; delete it first"
                if seen and queues.needs_replace(seen)
                else None,
            )
        )
    found_table = observed.table
    steps.append(
        _step(
            "table",
            names.table,
            stack,
            exists=found_table is not None,
            tags=found_table.tags if found_table else None,
            changes=table.diff(desired.table, found_table) if found_table else (),
            adopt=adopt,
            blocked_reason=table.incompatible(desired.table, found_table) if found_table else None,
        )
    )
    group = observed.log_group
    steps.append(
        _step(
            "log_group",
            names.log_group,
            stack,
            exists=group is not None,
            tags=group.tags if group else None,
            changes=log_group.diff(desired.log_group, group) if group else (),
            adopt=adopt,
        )
    )
    found_role = observed.role
    steps.append(
        _step(
            "role",
            names.role,
            stack,
            exists=found_role is not None,
            tags=found_role.tags if found_role else None,
            changes=role.diff(desired.role, found_role) if found_role else (),
            adopt=adopt,
        )
    )
    found_function = observed.function
    function_step = _step(
        "function",
        names.function,
        stack,
        exists=found_function is not None,
        tags=found_function.tags if found_function else None,
        changes=function.diff(desired.function, found_function, compare_code=compare_code)
        if found_function
        else (),
        adopt=adopt,
    )
    steps.append(function_step)
    mapping_step = _mapping_step(desired, observed, function_step)
    if mapping_step is not None:
        steps.append(mapping_step)
    found_topic = observed.topic
    topic_step = _step(
        "topic",
        names.topic,
        stack,
        exists=found_topic is not None,
        tags=found_topic.tags if found_topic else None,
        changes=topic.diff(desired.topic, found_topic) if found_topic else (),
        adopt=adopt,
    )
    steps.append(topic_step)
    if desired.notify_email:
        steps.append(_subscription_step(desired.notify_email, observed, topic_step))
    found_alarm = observed.alarm
    steps.append(
        _step(
            "alarm",
            names.alarm,
            stack,
            exists=found_alarm is not None,
            tags=found_alarm.tags if found_alarm else None,
            changes=alarm.diff(desired.alarm, found_alarm) if found_alarm else (),
            adopt=adopt,
        )
    )
    return Plan(stack, tuple(steps), tuple(warnings))


def _follows(kind: ResourceKind, name: str, parent: Step, *, parent_name: str) -> Step | None:
    """A resource without tags of its own belongs to its parent (mapping, subscription)."""
    if parent.action == "blocked":
        return Step(kind, name, "blocked", (), f"belongs to {parent_name}, which is not ours")
    return None


def _mapping_step(
    desired: DesiredStack, observed: ObservedStack, function_step: Step
) -> Step | None:
    names = desired.names
    label = f"{names.queue} -> {names.function}"
    wanted = desired.mapping
    if wanted is None:
        if observed.mappings:
            return Step("mapping", label, "unchanged", (), KEPT_TRIGGER_NOTE)
        return None
    blocked = _follows("mapping", label, function_step, parent_name=names.function)
    if blocked is not None:
        return blocked
    ours = mapping.pick(wanted.queue_arn, list(observed.mappings))
    strays = [m for m in observed.mappings if m is not ours]
    if strays:
        sources = ", ".join(m.source_arn for m in strays)
        return Step("mapping", label, "replace", (), f"remove triggers from {sources}")
    if ours is None:
        return Step("mapping", label, "create")
    changes = mapping.diff(wanted, ours)
    return Step("mapping", label, "update" if changes else "unchanged", changes)


def _subscription_step(email: str, observed: ObservedStack, topic_step: Step) -> Step:
    blocked = _follows("subscription", email, topic_step, parent_name="the topic")
    if blocked is not None:
        return blocked
    found = topic.find_email(observed.topic, email)
    if found is None:
        return Step("subscription", email, "create", (), "email: confirm the link AWS sends")
    note = "pending confirmation" if found.pending else ""
    return Step("subscription", email, "unchanged", (), note)
