"""`status`: each resource exists / missing / drifted, plus the pipeline's live figures.

Drift is judged against what setup would build with the settings the stack runs with now
(timeout, batch size, ... read back from AWS), so a tuned stack is not "drifted"; what setup
always decides (encryption, redrive target, permissions, TTL, tags, ...) is compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from sqsidem.build.package import build_function_zip
from sqsidem.consumer.lock import wall_clock_ms
from sqsidem.names import StackNames
from sqsidem.stack.alarm import ALARM
from sqsidem.stack.contents import lock_states, queue_counts
from sqsidem.stack.desired import build
from sqsidem.stack.function import FUNCTION
from sqsidem.stack.inferred import as_int, inferred_options
from sqsidem.stack.kind import ObservedStack
from sqsidem.stack.mapping import MAPPING, pick
from sqsidem.stack.model import Step
from sqsidem.stack.observe import observe_stack, refs_of
from sqsidem.stack.planner import plan
from sqsidem.stack.queues import DLQ, QUEUE
from sqsidem.stack.recorded import recorded_in, recorded_only
from sqsidem.stack.table import TABLE

if TYPE_CHECKING:
    from sqsidem.aws import Aws

ResourceState = Literal["exists", "missing", "drifted", "not-ours", "not-wanted"]
# not-wanted: the mapping of a stack set up with --no-trigger (for `sqsidem worker`).
HEALTHY: frozenset[str] = frozenset({"exists", "not-wanted"})
NOT_WANTED_NOTE = "not wanted (--no-trigger): function tagged sqsidem:trigger=off"
MISSING_TRIGGER_HINT = "re-run setup (or `setup --no-trigger` if `sqsidem worker` reads the queue)"


@dataclass(frozen=True)
class ResourceStatus:
    kind: str
    name: str
    state: ResourceState
    details: str = ""

    @property
    def healthy(self) -> bool:
        return self.state in HEALTHY


@dataclass(frozen=True)
class LockCounts:
    by_state: dict[str, int]
    truncated: bool = False


@dataclass(frozen=True)
class StackStatus:
    stack: str
    resources: tuple[ResourceStatus, ...]
    queue: dict[str, int] | None = None
    dlq_depth: int | None = None
    mapping_state: str | None = None
    mapping_last_result: str | None = None
    locks: LockCounts | None = None
    alarm_state: str | None = None
    notes: tuple[str, ...] = field(default=())
    trigger_wanted: bool = True
    recorded: dict[str, str] = field(default_factory=dict)  # the options setup recorded

    @property
    def ok(self) -> bool:
        return all(r.healthy for r in self.resources)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "ok": self.ok,
            "resources": [
                {"resource": r.kind, "name": r.name, "state": r.state, "details": r.details}
                for r in self.resources
            ],
            "queue": self.queue,
            "dlq_depth": self.dlq_depth,
            "mapping": {
                "wanted": self.trigger_wanted,
                "state": self.mapping_state,
                "last_processing_result": self.mapping_last_result,
            },
            "locks": None
            if self.locks is None
            else {"by_state": self.locks.by_state, "truncated": self.locks.truncated},
            "alarm_state": self.alarm_state,
            "notes": list(self.notes),
            "recorded_options": self.recorded,
        }


def _expected_environment(names: StackNames, seen: ObservedStack) -> dict[str, str] | None:
    """The deployed settings with the stack's own table; None when unreadable (= drift)."""
    from sqsidem.consumer.config import ConsumerConfig

    function = FUNCTION.seen_in(seen)
    if function is None:
        return None
    try:
        config = ConsumerConfig.from_env(function.environment)
        return replace(config, table=names.table).to_env()
    except ValueError:
        return None


def _resource_state(step: Step) -> ResourceStatus:
    if step.action == "create":
        return ResourceStatus(step.kind, step.name, "missing")
    if step.action == "blocked":
        return ResourceStatus(step.kind, step.name, "not-ours", step.note)
    if step.action in ("update", "replace", "adopt"):
        return ResourceStatus(step.kind, step.name, "drifted", step.details or step.note)
    return ResourceStatus(step.kind, step.name, "exists", step.note)


def stack_status(aws: Aws, names: StackNames, *, now_ms: int | None = None) -> StackStatus:
    seen = observe_stack(aws, names)
    options = inferred_options(names, seen)
    function, queue, dlq = FUNCTION.seen_in(seen), QUEUE.seen_in(seen), DLQ.seen_in(seen)
    processor = function.environment.get("SQSIDEM_PROCESSOR") if function else None
    # Without a processor the zip is sqsidem's own consumer: a different hash means old code.
    code = build_function_zip(None)
    desired = build(names, options, refs_of(seen, aws), code)
    wanted = FUNCTION.wanted_in(desired)
    if wanted is not None:
        environment = _expected_environment(names, seen)
        wanted = replace(wanted, compare_code=not processor)
        if environment is not None:
            wanted = replace(wanted, environment=environment)
        # The record is what setup was given, not judged against what AWS holds now.
        records = recorded_only(function.tags) if function else {}
        unrecorded = {k: v for k, v in wanted.tags.items() if k not in recorded_only(wanted.tags)}
        wanted = replace(wanted, tags={**unrecorded, **records})
        desired = desired.with_(FUNCTION.key, wanted)
    the_plan = plan(desired, seen)
    resources = _with_trigger_row(
        [_resource_state(step) for step in the_plan.steps], names, options.trigger, seen
    )
    notes = []
    if function is not None and queue is not None:
        visibility = as_int(queue.attributes.get("VisibilityTimeout"), 0)
        if visibility < function.timeout_s:
            notes.append(
                f"queue visibility timeout {visibility}s is below the function timeout "
                f"{function.timeout_s}s: AWS would reject the trigger"
            )
            resources = [
                replace(
                    r,
                    state="drifted",
                    details=(r.details + "; " if r.details else "")
                    + "VisibilityTimeout < function Timeout",
                )
                if r.kind == QUEUE.key and r.state == "exists"
                else r
                for r in resources
            ]
    ours = pick(queue.arn, MAPPING.seen_in(seen) or ()) if queue else None
    alarm = ALARM.seen_in(seen)
    return StackStatus(
        stack=names.stack,
        resources=tuple(resources),
        queue=queue_counts(queue.attributes) if queue else None,
        dlq_depth=as_int(dlq.attributes.get("ApproximateNumberOfMessages"), 0) if dlq else None,
        mapping_state=ours.state if ours else None,
        mapping_last_result=ours.last_result if ours else None,
        locks=count_locks(aws, names.table, now_ms) if TABLE.seen_in(seen) else None,
        alarm_state=alarm.state if alarm else None,
        notes=tuple(notes),
        trigger_wanted=options.trigger,
        recorded=recorded_in(function.tags) if function else {},
    )


def _with_trigger_row(
    resources: list[ResourceStatus], names: StackNames, trigger: bool, seen: ObservedStack
) -> list[ResourceStatus]:
    """The mapping row says why it is absent: on purpose (--no-trigger) or missing."""
    has_function = FUNCTION.seen_in(seen) is not None
    if any(r.kind == MAPPING.key for r in resources):
        return [
            replace(r, details=MISSING_TRIGGER_HINT)
            if r.kind == MAPPING.key and r.state == "missing" and has_function
            else r
            for r in resources
        ]
    if trigger:
        return resources
    at = next((i + 1 for i, r in enumerate(resources) if r.kind == FUNCTION.key), len(resources))
    row = ResourceStatus(MAPPING.key, MAPPING.name(names), "not-wanted", NOT_WANTED_NOTE)
    return [*resources[:at], row, *resources[at:]]


def count_locks(aws: Aws, table_name: str, now_ms: int | None = None) -> LockCounts:
    """Lock records by derived state (DESIGN 6.3), the same rules the consumer applies."""
    now = now_ms if now_ms is not None else wall_clock_ms()
    states, capped = lock_states(aws, table_name, now)
    return LockCounts(dict(states), truncated=capped)
