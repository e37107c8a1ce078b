"""Wanted vs observed -> a plan of steps, each with its calls. Pure: no AWS calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqsidem.stack.calls import numbered
from sqsidem.stack.kind import DesiredStack, ObservedStack
from sqsidem.stack.model import Plan, Step
from sqsidem.stack.registry import KINDS


def plan(
    desired: DesiredStack,
    observed: ObservedStack,
    *,
    adopt: bool = False,
    warnings: Sequence[str] = (),
) -> Plan:
    """One step per kind, in registry order; calls get their ids in that order."""
    steps: dict[str, Step] = {}
    for kind in KINDS:
        step = kind.plan(desired, observed, adopt=adopt, earlier=steps)
        if step is not None:
            steps[kind.key] = step
    ordered = list(steps.values())
    calls = numbered([step.calls for step in ordered])
    named = tuple(replace(step, calls=c) for step, c in zip(ordered, calls, strict=True))
    return Plan(desired.names.stack, named, tuple(warnings))
