"""Apply a plan in dependency order; progress goes to a callback (the library never prints)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqsidem.aws import Aws
from sqsidem.errors import SqsidemError
from sqsidem.names import StackNames
from sqsidem.packaging import FunctionZip
from sqsidem.stack import alarm, function, kms_key, log_group, mapping, queues, role, table, topic
from sqsidem.stack.desired import DesiredStack, Refs, build
from sqsidem.stack.model import MUTATING, Plan, ResourceKind, Step
from sqsidem.stack.observe import ObservedStack
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.retry import Pacing

StepPhase = str  # "start" | "done"
OnStep = Callable[[Step, StepPhase], None]


@dataclass
class ApplyResult:
    applied: list[Step] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.applied)


class _Run:
    """One execution: keeps the ARNs learned so far, so later steps point at real resources."""

    def __init__(
        self,
        aws: Aws,
        names: StackNames,
        options: SetupOptions,
        code: FunctionZip,
        observed: ObservedStack,
        refs: Refs,
        pacing: Pacing,
    ) -> None:
        self.aws = aws
        self.names = names
        self.options = options
        self.code = code
        self.observed = observed
        self.refs = refs
        self.pacing = pacing

    def desired(self) -> DesiredStack:
        return build(self.names, self.options, self.refs, self.code)

    def key(self, step: Step) -> None:
        wanted, seen = self.desired().key, self.observed.key
        if seen is None or step.action == "replace":
            arn = kms_key.create(self.aws, wanted, replace_alias=seen is not None)
            self.refs = self.refs.with_(key_arn=arn)
            return
        if step.action == "adopt":
            kms_key.tag(self.aws, seen, wanted.tags)
        kms_key.update(self.aws, wanted, seen)

    def _queue(
        self, step: Step, wanted: queues.DesiredQueue, seen: queues.ObservedQueue | None
    ) -> str:
        if seen is None:
            return queues.create(self.aws, wanted, self.pacing).arn
        if step.action == "adopt":
            queues.tag(self.aws, seen, wanted.tags)
        queues.update(self.aws, wanted, seen)
        return seen.arn

    def dlq(self, step: Step) -> None:
        arn = self._queue(step, self.desired().dlq, self.observed.dlq)
        self.refs = self.refs.with_(dlq_arn=arn)

    def queue(self, step: Step) -> None:
        arn = self._queue(step, self.desired().queue, self.observed.queue)
        self.refs = self.refs.with_(queue_arn=arn)

    def table(self, step: Step) -> None:
        wanted, seen = self.desired().table, self.observed.table
        if seen is None:
            table.create(self.aws, wanted, self.pacing)
            return
        if step.action == "adopt":
            table.tag(self.aws, seen, wanted.tags)
        table.update(self.aws, wanted, seen, self.pacing)

    def log_group(self, step: Step) -> None:
        wanted, seen = self.desired().log_group, self.observed.log_group
        if seen is None:
            log_group.create(self.aws, wanted)
            return
        if step.action == "adopt":
            log_group.tag(self.aws, seen, wanted.tags)
        log_group.update(self.aws, wanted, seen)

    def role(self, step: Step) -> None:
        wanted, seen = self.desired().role, self.observed.role
        if seen is None:
            role.create(self.aws, wanted)
            return
        if step.action == "adopt":
            role.tag(self.aws, wanted.name, wanted.tags)
        role.update(self.aws, wanted, seen)

    def function(self, step: Step) -> None:
        wanted, seen = self.desired().function, self.observed.function
        if seen is None:
            function.create(self.aws, wanted, self.pacing)
            return
        if step.action == "adopt":
            function.tag(self.aws, seen, wanted.tags)
            # The adopt tags already carry the trigger marker: no second tag call.
            seen = replace(seen, tags={**seen.tags, **wanted.tags})
        function.update(self.aws, wanted, seen, self.pacing)

    def mapping(self, step: Step) -> None:
        del step
        wanted = self.desired().mapping
        if wanted is None:
            return
        ours = mapping.pick(wanted.queue_arn, list(self.observed.mappings))
        for stray in self.observed.mappings:
            if stray is not ours:
                mapping.delete(self.aws, stray, self.pacing)
        if ours is None:
            mapping.create(self.aws, wanted, self.pacing)
        elif mapping.diff(wanted, ours):
            mapping.update(self.aws, wanted, ours, self.pacing)

    def topic(self, step: Step) -> None:
        wanted, seen = self.desired().topic, self.observed.topic
        if seen is None:
            topic.create(self.aws, wanted)
            return
        if step.action == "adopt":
            topic.tag(self.aws, seen, wanted.tags)
        topic.update(self.aws, wanted, seen)

    def subscription(self, step: Step) -> None:
        del step
        desired = self.desired()
        if desired.notify_email:
            topic.subscribe_email(self.aws, desired.topic.arn, desired.notify_email)

    def alarm(self, step: Step) -> None:
        wanted, seen = self.desired().alarm, self.observed.alarm
        if seen is None:
            alarm.put(self.aws, wanted, with_tags=True)
            return
        if step.action == "adopt":
            alarm.tag(self.aws, seen, wanted.tags)
        if alarm.diff(wanted, seen):
            alarm.put(self.aws, wanted, with_tags=False)

    def handler(self, kind: ResourceKind) -> Callable[[Step], None]:
        handlers: dict[ResourceKind, Callable[[Step], None]] = {
            "key": self.key,
            "dlq": self.dlq,
            "queue": self.queue,
            "table": self.table,
            "log_group": self.log_group,
            "role": self.role,
            "function": self.function,
            "mapping": self.mapping,
            "topic": self.topic,
            "subscription": self.subscription,
            "alarm": self.alarm,
        }
        return handlers[kind]


def apply(
    aws: Aws,
    plan: Plan,
    *,
    names: StackNames,
    options: SetupOptions,
    code: FunctionZip,
    observed: ObservedStack,
    refs: Refs,
    pacing: Pacing,
    on_step: OnStep = lambda _step, _phase: None,
) -> ApplyResult:
    """Run the plan's mutating steps in order; refuses a plan with blocked steps."""
    if plan.blocked:
        raise blocked_error(plan)
    run = _Run(aws, names, options, code, observed, refs, pacing)
    result = ApplyResult()
    for step in plan.steps:
        if step.action not in MUTATING:
            continue
        on_step(step, "start")
        run.handler(step.kind)(step)
        result.applied.append(step)
        on_step(step, "done")
    return result


def blocked_error(plan: Plan) -> SqsidemError:
    listed = ", ".join(f"{s.kind} {s.name} ({s.note})" for s in plan.blocked)
    untagged_only = all("without tag" in s.note or "belongs to" in s.note for s in plan.blocked)
    hint = (
        "pass --adopt to tag them and let sqsidem manage them, or pick another --stack"
        if untagged_only
        else "pick another --stack, or remove them"
    )
    return SqsidemError(
        f"setup would touch resources that are not stack {plan.stack!r}'s: {listed}", hint
    )
