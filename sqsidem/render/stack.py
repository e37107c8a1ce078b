"""The views of `setup`, `status` and `teardown` (and the progress they report)."""

from __future__ import annotations

import json
import threading
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


def interruptible(render: Renderer) -> AbstractContextManager[threading.Event]:
    """The Ctrl-C scope of a change: the first press says so and stops after the step."""
    from sqsidem.interrupt import stop_on_interrupt

    return stop_on_interrupt(render.stopping)


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

    def changing(self) -> AbstractContextManager[threading.Event]:
        return interruptible(self.render)

    def show(self, planned: Planned, result: ApplyResult | None) -> None:
        from sqsidem.render.build import show_code_notes

        for note in planned.prepared.notes:
            self.render.note(note)
        if not planned.prepared.notes:
            show_code_notes(self.render, planned.prepared.code.manifest)
        if result is None:
            show_dry_run(self.render, planned.plan)
        else:
            report_setup(self.render, planned.plan, result)


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


def report_setup(render: Renderer, plan: Plan, result: ApplyResult) -> None:
    """The outcome; an interrupted run lists what it applied and leaves the rest to the
    "interrupted" line (the caller's ``result.check()``)."""
    from sqsidem.stack.mapping import KEPT_TRIGGER_NOTE, MAPPING

    applied = result.applied
    kept = plan.step(MAPPING.key)
    if kept is not None and kept.note == KEPT_TRIGGER_NOTE and (render.json or not applied):
        render.warn(f"trigger {kept.name} {kept.note}")  # else the plan table shows it
    if render.json:
        render.emit(
            {
                **plan.as_dict(),
                "changed": bool(applied),
                "applied": [s.as_dict() for s in applied],
                "interrupted": result.interrupted,
                "not_done": [s.as_dict() for s in result.not_done],
            }
        )
        return
    if result.interrupted:
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


def _contents_lines(plan: TeardownPlan) -> Iterator[str]:
    contents = plan.contents
    if contents is None:
        return
    if contents.queue_messages is not None:
        yield f"queue      {contents.queue_messages:,} message(s) (visible, in flight, delayed)"
    if contents.dlq_messages is not None:
        yield f"dlq        {contents.dlq_messages:,} message(s)"
    if contents.live_locks is not None:
        yield f"locks      {contents.locks_text()}"


class TeardownView:
    """What `teardown` shows: the plan, what is left alone, the question, each deletion."""

    def __init__(self, render: Renderer, *, yes: bool) -> None:
        self.render = render
        self.yes = yes
        self.pacing = pacing_for(render)

    def reading(self, stack: str) -> AbstractContextManager[object]:
        return self.render.spinner(f"reading stack {stack}")

    def review(self, plan: TeardownPlan, refused: bool) -> None:
        """Show the observed plan and what would go with it (a refused plan too, in JSON)."""
        render = self.render
        if render.json and refused:
            render.emit({**plan.as_dict(), "deleted": [], "refused": True})
        if not render.json:
            render.table(
                ["resource", "name", "action", "note"],
                [(i.kind, i.name, i.action, i.note) for i in plan.items],
                title=f"teardown of stack {plan.stack}",
            )
            for line in _contents_lines(plan):
                render.line(line)
        for item in plan.not_ours:
            render.warn(f"{item.kind} {item.name}: {item.note}")
        contents = plan.contents
        if contents is not None and contents.at_risk and not refused:
            render.warn(f"--force: teardown destroys {contents.held()}")

    def confirm(self, plan: TeardownPlan) -> None:
        """Ask (``--yes`` answers); raises when refused."""
        if not plan.to_delete:
            return
        contents = plan.contents
        held = f", destroying {contents.held()}" if contents and contents.at_risk else ""
        question = f"Delete {len(plan.to_delete)} resource(s) of stack {plan.stack}{held}?"
        confirm(self.render, question, yes=self.yes)

    def changing(self) -> AbstractContextManager[threading.Event]:
        return interruptible(self.render)

    def on_item(self, item: TeardownItem, phase: str) -> None:
        if phase == "start":
            self.render.info(f"deleting {item.kind} {item.name}")

    def show(self, plan: TeardownPlan, result: TeardownResult) -> None:
        render = self.render
        if render.json:
            deleted: list[Any] = [i.as_dict() for i in result.deleted]
            not_done: list[Any] = [i.as_dict() for i in result.not_done]
            interrupted = bool(not_done)
            render.emit(
                {
                    **plan.as_dict(),
                    "deleted": deleted,
                    "interrupted": interrupted,
                    "not_done": not_done,
                }
            )
        elif result.deleted:
            render.success(f"stack {plan.stack}: {len(result.deleted)} resource(s) deleted")
        else:
            render.success(f"stack {plan.stack}: nothing to delete")
