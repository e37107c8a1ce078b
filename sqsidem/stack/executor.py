"""Run a plan's calls as planned, in order; progress goes to a callback (never printed here).

Nothing is re-read or re-diffed at apply time: what ``--dry-run`` listed is what runs.
References to earlier calls' answers are filled in from this run's answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqsidem.errors import EXISTS, Interrupted, SqsidemError, error_code
from sqsidem.interrupt import never
from sqsidem.retry import Pacing
from sqsidem.stack.calls import Call, resolve
from sqsidem.stack.model import Plan, Step

if TYPE_CHECKING:
    from sqsidem.aws import Aws

StepPhase = str  # "start" | "done"
OnStep = Callable[[Step, StepPhase], None]
Answers = dict[str, Any]


@dataclass
class ApplyResult:
    applied: list[Step] = field(default_factory=list)
    not_done: list[Step] = field(default_factory=list)  # stopped by Ctrl-C before these

    @property
    def changed(self) -> bool:
        return bool(self.applied)

    @property
    def interrupted(self) -> bool:
        return bool(self.not_done)

    def check(self) -> None:
        """Exit 130 when stopped, once what was done has been shown."""
        if self.not_done:
            done, rest = len(self.applied), [f"{s.kind} {s.name}" for s in self.not_done]
            raise interrupted(done, rest, done + len(rest))


def run_call(aws: Aws, call: Call, answers: Answers, pacing: Pacing) -> Any:
    """One planned call: wait before if asked, call (retrying if asked), wait after."""
    from botocore import xform_name
    from botocore.exceptions import ClientError

    params = resolve(call.params, answers)
    method = getattr(aws.client(call.service), xform_name(call.operation))
    if call.before is not None:
        call.before(aws, pacing)

    def once() -> Any:
        try:
            return method(**params)
        except ClientError as exc:
            if error_code(exc) in call.tolerate:
                return {}
            if call.settle is not None:
                return call.settle(aws, exc, params)
            raise

    answer = once() if call.retry is None else call.retry.run(once, pacing)
    if call.after is not None:
        call.after(aws, pacing)
    answers[call.id] = answer
    return answer


def run_calls(aws: Aws, calls: Iterable[Call], pacing: Pacing, answers: Answers) -> None:
    for call in calls:
        run_call(aws, call, answers, pacing)


def apply(
    aws: Aws,
    plan: Plan,
    *,
    pacing: Pacing,
    on_step: OnStep = lambda _step, _phase: None,
    stop: threading.Event | None = None,
) -> ApplyResult:
    """Run the mutating steps' calls in order; refuses a plan with blocked steps.

    Once ``stop`` is set (the first Ctrl-C) the step in flight finishes and no other starts:
    the result lists the steps not done, and its :meth:`ApplyResult.check` raises
    :class:`Interrupted` (a re-run converges).
    """
    if plan.blocked:
        raise blocked_error(plan)
    stop = stop or never()
    answers: Answers = {}
    result = ApplyResult()
    todo = plan.mutating
    for done, step in enumerate(todo):
        if stop.is_set():
            result.not_done = list(todo[done:])
            break
        on_step(step, "start")
        _run_step(aws, step, pacing, answers, plan.stack)
        result.applied.append(step)
        on_step(step, "done")
    return result


def _run_step(aws: Aws, step: Step, pacing: Pacing, answers: Answers, stack: str) -> None:
    """A create that finds its name taken means another run is at work: one clear line."""
    from botocore.exceptions import ClientError

    try:
        run_calls(aws, step.calls, pacing, answers)
    except ClientError as exc:
        if step.action != "create" or error_code(exc) not in EXISTS:
            raise
        raise SqsidemError(
            f"{step.kind} {step.name} was created by someone else while this setup ran "
            f"(another setup of stack {stack!r}?)",
            "wait for it to finish, then run setup again: it plans from what exists then",
        ) from exc


def interrupted(done: int, remaining: list[str], total: int) -> Interrupted:
    """`interrupted: N of M steps done; not done: ...` (setup and teardown say the same)."""
    return Interrupted(f"{done} of {total} steps done; not done: {', '.join(remaining)}")


def _ownership(step: Step) -> bool:
    return any(word in step.note for word in ("without tag", "belongs to", "tagged "))


def blocked_error(plan: Plan) -> SqsidemError:
    if not any(_ownership(step) for step in plan.blocked):
        # Ours, but not changeable in place: each note says what to do.
        listed = "; ".join(f"{s.kind} {s.name}: {s.note}" for s in plan.blocked)
        return SqsidemError(f"setup cannot bring stack {plan.stack!r} in line: {listed}")
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
