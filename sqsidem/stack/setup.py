"""`setup`: validate, build the zip, observe, plan, and (unless a dry run) apply."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from sqsidem.aws import Aws
from sqsidem.names import StackNames
from sqsidem.packaging import FunctionZip, build_function_zip
from sqsidem.stack.desired import build
from sqsidem.stack.executor import ApplyResult, OnStep, apply, blocked_error
from sqsidem.stack.model import Plan
from sqsidem.stack.observe import ObservedStack, observe_stack
from sqsidem.stack.options import SetupOptions, validate
from sqsidem.stack.planner import plan
from sqsidem.stack.retry import Pacing


@dataclass(frozen=True)
class Prepared:
    """Everything decided before the first AWS call."""

    names: StackNames
    options: SetupOptions
    code: FunctionZip
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Planned:
    prepared: Prepared
    observed: ObservedStack
    plan: Plan
    account: str
    region: str


def prepare(names: StackNames, options: SetupOptions) -> Prepared:
    """Validate (UsageError, exit 2) and build the zip; no AWS call."""
    warnings = validate(options)
    code = build_function_zip(options.processor.path if options.processor else None)
    return Prepared(names, options, code, tuple(warnings))


def plan_setup(aws: Aws, prepared: Prepared) -> Planned:
    """Read-only: observe the stack and compare it with what is wanted."""
    account, region = aws.account_id(), aws.region
    observed = observe_stack(aws, prepared.names)
    desired = build(prepared.names, prepared.options, observed.refs(account, region), prepared.code)
    the_plan = plan(desired, observed, adopt=prepared.options.adopt, warnings=prepared.warnings)
    return Planned(prepared, observed, the_plan, account, region)


def run_setup(
    aws: Aws, planned: Planned, *, pacing: Pacing | None = None, on_step: OnStep | None = None
) -> ApplyResult:
    """Apply the plan (a converged stack gets no mutating call at all)."""
    prepared = planned.prepared
    return apply(
        aws,
        planned.plan,
        names=prepared.names,
        options=prepared.options,
        code=prepared.code,
        observed=planned.observed,
        refs=planned.observed.refs(planned.account, planned.region),
        pacing=pacing or Pacing(),
        on_step=on_step or (lambda _step, _phase: None),
    )


def converge(
    aws: Aws,
    prepared: Prepared,
    *,
    dry_run: bool = False,
    reading: AbstractContextManager[object] | None = None,
    pacing: Pacing | None = None,
    on_step: OnStep | None = None,
) -> tuple[Planned, ApplyResult | None]:
    """Plan, refuse what is not ours, apply: the one setup sequence every command runs.

    `reading` wraps the read-only part (a CLI spinner); a dry run returns the plan and no
    result, without raising for blocked steps (the caller shows them). A converged stack
    gets an empty result and no mutating call.
    """
    with reading if reading is not None else nullcontext():
        planned = plan_setup(aws, prepared)
    if dry_run:
        return planned, None
    if planned.plan.blocked:
        raise blocked_error(planned.plan)
    return planned, run_setup(aws, planned, pacing=pacing, on_step=on_step)
