"""`setup`: validate, build the zip, observe, plan, and (unless a dry run) apply."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from sqsidem.build.package import FunctionZip, build_function_zip
from sqsidem.build.sources import kept_processor
from sqsidem.consumer.config import ENV_PROCESSOR
from sqsidem.names import StackNames
from sqsidem.retry import Pacing
from sqsidem.stack.desired import build
from sqsidem.stack.executor import ApplyResult, OnStep, apply, blocked_error
from sqsidem.stack.function import FUNCTION
from sqsidem.stack.kind import ObservedStack
from sqsidem.stack.model import Plan, Step
from sqsidem.stack.observe import observe_stack, refs_of
from sqsidem.stack.options import SetupOptions, check_new_function, validate
from sqsidem.stack.planner import plan
from sqsidem.stack.recorded import keep_recorded
from sqsidem.stack.runtimes import today_utc

if TYPE_CHECKING:
    from sqsidem.aws import Aws


@dataclass(frozen=True)
class Prepared:
    """Everything decided before the first AWS call."""

    names: StackNames
    options: SetupOptions
    code: FunctionZip
    warnings: tuple[str, ...]
    today: dt.date = field(default_factory=today_utc)  # the runtime's dates are checked against it
    keep_processor: bool = False  # no --processor: a deployed custom processor stays
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Planned:
    prepared: Prepared
    observed: ObservedStack
    plan: Plan


class SetupProgress(Protocol):
    """How a caller follows setup: warnings first, a wrapper for the reading, each step."""

    pacing: Pacing

    def warn(self, message: str) -> None: ...

    def reading(self, stack: str) -> AbstractContextManager[object]: ...

    def on_step(self, step: Step, phase: str) -> None: ...

    def changing(self) -> AbstractContextManager[threading.Event]:
        """The scope of the changes: the first Ctrl-C in it sets the event (stop after the
        step in flight) instead of raising."""
        ...


def prepare(
    names: StackNames,
    options: SetupOptions,
    today: dt.date | None = None,
    *,
    keep_processor: bool = False,
) -> Prepared:
    """Validate (UsageError, exit 2) and build the zip; no AWS call."""
    today = today or today_utc()
    warnings = validate(options, today)
    code = build_function_zip(options.processor, runtime=options.runtime)
    return Prepared(names, options, code, tuple(warnings), today, keep_processor)


def keep_deployed_processor(prepared: Prepared, observed: ObservedStack) -> Prepared:
    """A setup without --processor keeps the custom processor the function runs (and its code)."""
    function = FUNCTION.seen_in(observed)
    spec = function.environment.get(ENV_PROCESSOR, "") if function is not None else ""
    if not prepared.keep_processor or prepared.options.processor or function is None or not spec:
        return prepared
    ref = kept_processor(spec, function.architecture)
    note = f"processor: keeping the deployed {spec} (--processor default resets it)"
    options = replace(prepared.options, processor=ref)
    return replace(prepared, options=options, notes=(*prepared.notes, note))


def plan_setup(aws: Aws, prepared: Prepared) -> Planned:
    """Read-only: observe the stack and compare it with what is wanted."""
    observed = observe_stack(aws, prepared.names)
    prepared = keep_deployed_processor(prepared, observed)
    options, kept = keep_recorded(prepared.options, observed, prepared.names)
    if kept:  # values taken from the record are checked as given ones are
        validate(options, prepared.today)
    prepared = replace(prepared, options=options, notes=(*prepared.notes, *kept))
    if FUNCTION.seen_in(observed) is None:
        check_new_function(prepared.options, prepared.today)
    refs = refs_of(observed, aws)
    desired = build(prepared.names, prepared.options, refs, prepared.code)
    the_plan = plan(desired, observed, adopt=prepared.options.adopt, warnings=prepared.warnings)
    return Planned(prepared, observed, the_plan)


def run_setup(
    aws: Aws,
    planned: Planned,
    *,
    pacing: Pacing | None = None,
    on_step: OnStep | None = None,
    stop: threading.Event | None = None,
) -> ApplyResult:
    """Make the plan's calls (a converged stack gets no mutating call at all)."""
    return apply(
        aws,
        planned.plan,
        pacing=pacing or Pacing(),
        on_step=on_step or (lambda _step, _phase: None),
        stop=stop,
    )


def converge(
    aws: Aws,
    prepared: Prepared,
    *,
    dry_run: bool = False,
    reading: AbstractContextManager[object] | None = None,
    pacing: Pacing | None = None,
    on_step: OnStep | None = None,
    changing: AbstractContextManager[threading.Event] | None = None,
) -> tuple[Planned, ApplyResult | None]:
    """Plan, refuse what is not ours, apply: the one setup sequence every command runs.

    `reading` wraps the read-only part (a CLI spinner); a dry run returns the plan and no
    result, without raising for blocked steps (the caller shows them). A converged stack
    gets an empty result and no mutating call. `changing` wraps the changes (the CLI's
    Ctrl-C scope: its event stops setup after the step in flight).
    """
    with reading if reading is not None else nullcontext():
        planned = plan_setup(aws, prepared)
    if dry_run:
        return planned, None
    if planned.plan.blocked:
        raise blocked_error(planned.plan)
    with changing if changing is not None else nullcontext(None) as stop:
        return planned, run_setup(aws, planned, pacing=pacing, on_step=on_step, stop=stop)


def setup_stack(
    aws: Callable[[], Aws],
    names: StackNames,
    options: SetupOptions,
    *,
    dry_run: bool,
    progress: SetupProgress,
    keep_processor: bool = False,
) -> tuple[Planned, ApplyResult | None]:
    """`sqsidem setup`: validate before any AWS call, say the warnings, then converge."""
    prepared = prepare(names, options, keep_processor=keep_processor)
    for warning in prepared.warnings:
        progress.warn(warning)
    return converge(
        aws(),
        prepared,
        dry_run=dry_run,
        reading=progress.reading(names.stack),
        pacing=progress.pacing,
        on_step=progress.on_step,
        changing=progress.changing(),
    )
