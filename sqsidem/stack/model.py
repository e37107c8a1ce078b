"""The plan as data: what a step does to which resource, and why (frozen, printable)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqsidem.jsondata import fields
from sqsidem.names import STACK_TAG
from sqsidem.stack.calls import Call

# A kind's key in the registry ("key", "queue", ...); the registry holds the order.
ResourceKind = str
# blocked: the resource carries our name but not our tag (or cannot be fixed in place);
# setup refuses, --adopt turns the tag case into "adopt".
Action = Literal["create", "update", "unchanged", "replace", "adopt", "blocked"]
MUTATING: frozenset[str] = frozenset({"create", "update", "replace", "adopt"})
# The function records `--no-trigger` in AWS itself (no local state): status must know the
# missing mapping is deliberate. Absent or "on": a trigger is wanted.
TRIGGER_TAG = "sqsidem:trigger"
TRIGGER_OFF = "off"


@dataclass(frozen=True)
class Change:
    """One attribute that differs: what AWS has and what the stack wants."""

    attribute: str
    have: object
    want: object

    def __str__(self) -> str:
        return f"{self.attribute}: {_short(self.have)} -> {_short(self.want)}"


def _short(value: object) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Step:
    kind: ResourceKind
    name: str
    action: Action
    changes: tuple[Change, ...] = ()
    note: str = ""
    # The mutating calls apply makes for this step, in order (empty unless it mutates).
    calls: tuple[Call, ...] = ()

    @property
    def details(self) -> str:
        parts = [str(change) for change in self.changes]
        if self.note:
            parts.insert(0, self.note)
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        changes = [fields(c, "attribute", "have", "want") for c in self.changes]
        return {
            **fields(self, resource="kind", name="name", action="action", details="details"),
            "changes": changes,
            "calls": [call.as_dict() for call in self.calls],
        }


@dataclass(frozen=True)
class Plan:
    stack: str
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def mutating(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.action in MUTATING)

    @property
    def blocked(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.action == "blocked")

    @property
    def converged(self) -> bool:
        return not self.mutating and not self.blocked

    def step(self, kind: ResourceKind) -> Step | None:
        return next((step for step in self.steps if step.kind == kind), None)

    def as_dict(self) -> dict[str, Any]:
        steps = [step.as_dict() for step in self.steps]
        return {
            **fields(self, "stack", "converged"),
            "steps": steps,
            "warnings": list(self.warnings),
        }


def owner_of(tags: Mapping[str, str]) -> str | None:
    """The stack a resource belongs to, from its tag (None: nobody's)."""
    return tags.get(STACK_TAG)


def trigger_wanted(tags: Mapping[str, str]) -> bool:
    """False only when the function was set up with --no-trigger (tag sqsidem:trigger=off)."""
    return tags.get(TRIGGER_TAG, "on").strip().lower() != TRIGGER_OFF


def function_tags(stack_tags: Mapping[str, str], *, trigger: bool) -> dict[str, str]:
    """The function's tags: the stack's, plus the no-trigger marker when there is none."""
    return dict(stack_tags) if trigger else {**stack_tags, TRIGGER_TAG: TRIGGER_OFF}


def tag_list(tags: Mapping[str, str], key: str = "Key", value: str = "Value") -> list[Any]:
    """Tags in the list-of-pairs shape most AWS APIs use."""
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def tag_dict(pairs: Any, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """The list-of-pairs shape read back into a dict."""
    return {pair[key]: pair[value] for pair in pairs}
