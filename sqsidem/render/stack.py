"""The views of `setup`, `status` and `teardown` (and the progress they report)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sqsidem.render.consent import confirm
from sqsidem.render.sink import Renderer, escape

if TYPE_CHECKING:
    from sqsidem.retry import Pacing
    from sqsidem.stack.calls import Call
    from sqsidem.stack.executor import ApplyResult
    from sqsidem.stack.kind import TeardownItem
    from sqsidem.stack.model import Plan, Step
    from sqsidem.stack.setup import Planned
    from sqsidem.stack.status import StackStatus
    from sqsidem.stack.teardown import TeardownPlan, TeardownResult

_VERBS = {"create": "creating", "update": "updating", "replace": "replacing", "adopt": "adopting"}


def pacing_for(render: Renderer) -> Pacing:
    """Real time, and every "still waiting, because..." shown as a note."""
    from sqsidem.retry import Pacing

    return Pacing(notify=render.note)


def show_plan(render: Renderer, plan: Plan, title: str) -> None:
    render.table(
        ["resource", "name", "action", "details"],
        [(s.kind, s.name, s.action, s.details) for s in plan.steps],
        title=title,
    )


def call_lines(plan: Plan) -> Iterator[str]:
    """The calls apply would make, per step: one line each, every parameter in full."""
    for step in plan.steps:
        if not step.calls:
            continue
        yield f"{step.kind} {step.name}"
        for call in step.calls:
            yield f"  {call.id}  {_parameters(call)}"


def _parameters(call: Call) -> str:
    """``Name=value`` pairs, values as compact JSON; a reference reads ``{"ref":..,"path":..}``."""
    from sqsidem.stack.calls import listing

    return " ".join(
        f"{name}={json.dumps(value, separators=(',', ':'), default=str)}"
        for name, value in listing(call.params).items()
    )


class SetupView:
    """What `setup` shows while it works, and its outcome."""

    def __init__(self, render: Renderer) -> None:
        self.render = render
        self.pacing = pacing_for(render)

    def warn(self, message: str) -> None:
        self.render.warn(message)

    def reading(self, stack: str) -> AbstractContextManager[object]:
        return self.render.spinner(f"reading stack {stack}")

    def on_step(self, step: Step, phase: str) -> None:
        if phase == "start":
            self.render.info(f"{_VERBS.get(step.action, step.action)} {step.kind} {step.name}")

    def show(self, planned: Planned, result: ApplyResult | None) -> None:
        from sqsidem.render.build import show_code_notes

        for note in planned.prepared.notes:
            self.render.note(note)
        if not planned.prepared.notes:
            show_code_notes(self.render, planned.prepared.code.manifest)
        if result is None:
            show_dry_run(self.render, planned.plan)
        else:
            report_setup(self.render, planned.plan, applied=tuple(result.applied))


def show_dry_run(render: Renderer, plan: Plan) -> None:
    from sqsidem.stack.executor import blocked_error

    if render.json:
        render.emit({**plan.as_dict(), "dry_run": True})
    else:
        show_plan(render, plan, f"plan for stack {plan.stack} (dry run)")
        lines = list(call_lines(plan))
        if lines:
            render.line("calls setup would make, in order:")
            for line in lines:
                render.line(f"  {line}")
        render.note("dry run: nothing changed")
    if plan.blocked:
        render.warn(blocked_error(plan).one_line())


def report_setup(render: Renderer, plan: Plan, applied: tuple[Step, ...]) -> None:
    from sqsidem.stack.mapping import KEPT_TRIGGER_NOTE, MAPPING

    kept = plan.step(MAPPING.key)
    if kept is not None and kept.note == KEPT_TRIGGER_NOTE and (render.json or not applied):
        render.warn(f"trigger {kept.name} {kept.note}")  # else the plan table shows it
    if render.json:
        render.emit(
            {**plan.as_dict(), "changed": bool(applied), "applied": [s.as_dict() for s in applied]}
        )
        return
    if not applied:
        render.success(f"stack {plan.stack} is up to date: no changes made")
        return
    show_plan(render, plan, f"stack {plan.stack}")
    render.success(f"stack {plan.stack} ready: {len(applied)} resource(s) changed")


def show_status(render: Renderer, report: StackStatus) -> bool:
    """The report; False (after one error line) when a resource is not as set up."""
    if render.json:
        render.emit(report.as_dict())
    else:
        _status_human(render, report)
    if report.ok:
        return True
    bad = [r for r in report.resources if not r.healthy]
    listed = ", ".join(f"{r.kind} {r.state}" for r in bad)
    render.error(f"stack {report.stack}: {len(bad)} resource(s) not as set up: {listed}")
    return False


def _status_human(render: Renderer, report: StackStatus) -> None:
    render.table(
        ["resource", "name", "state", "details"],
        [(r.kind, r.name, r.state, r.details) for r in report.resources],
        title=f"stack {report.stack}",
    )
    for line in _status_lines(report):
        render.line(line)
    for note in report.notes:
        render.warn(note)


def _status_lines(report: StackStatus) -> Iterator[str]:
    if report.queue is not None:
        q = report.queue
        counts = f"{q['visible']} visible, {q['in_flight']} in flight, {q['delayed']} delayed"
        yield f"queue      {counts}"
    if report.dlq_depth is not None:
        yield f"dlq        {report.dlq_depth} message(s)"
    if report.mapping_state is not None:
        last = report.mapping_last_result or "n/a"
        yield f"trigger    {report.mapping_state} (last result: {last})"
    elif not report.trigger_wanted:
        yield "trigger    not wanted (--no-trigger): `sqsidem worker` reads the queue"
    if report.locks is not None:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(report.locks.by_state.items()))
        more = " (counted the first 100000 only)" if report.locks.truncated else ""
        yield f"locks      {counts or 'none'}{more}"
    if report.alarm_state is not None:
        yield f"alarm      {report.alarm_state}"
    if report.recorded:
        # Tag values come from AWS: anyone may have written them.
        shown = ", ".join(f"{flag} {escape(value)}" for flag, value in report.recorded.items())
        yield f"set up with {shown}"


class TeardownView:
    """What `teardown` shows: the plan, what is left alone, the question, each deletion."""

    def __init__(self, render: Renderer, *, yes: bool) -> None:
        self.render = render
        self.yes = yes
        self.pacing = pacing_for(render)

    def reading(self, stack: str) -> AbstractContextManager[object]:
        return self.render.spinner(f"reading stack {stack}")

    def review(self, plan: TeardownPlan) -> None:
        """Show the observed plan and ask (``--yes`` answers); raises when refused."""
        render = self.render
        if not render.json:
            render.table(
                ["resource", "name", "action", "note"],
                [(i.kind, i.name, i.action, i.note) for i in plan.items],
                title=f"teardown of stack {plan.stack}",
            )
        for item in plan.not_ours:
            render.warn(f"{item.kind} {item.name}: {item.note}")
        if plan.to_delete:
            question = f"Delete {len(plan.to_delete)} resource(s) of stack {plan.stack}?"
            confirm(render, question, yes=self.yes)

    def on_item(self, item: TeardownItem, phase: str) -> None:
        if phase == "start":
            self.render.info(f"deleting {item.kind} {item.name}")

    def show(self, plan: TeardownPlan, result: TeardownResult) -> None:
        render = self.render
        if render.json:
            deleted: list[Any] = [i.as_dict() for i in result.deleted]
            render.emit({**plan.as_dict(), "deleted": deleted})
        elif result.deleted:
            render.success(f"stack {plan.stack}: {len(result.deleted)} resource(s) deleted")
        else:
            render.success(f"stack {plan.stack}: nothing to delete")
