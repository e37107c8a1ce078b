"""Record the mutating calls a stack's clients make, through the client seam (no patching)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqsidem.aws import Aws
from sqsidem.stack.calls import Blob, Call, Json, Ref
from sqsidem.stack.model import Plan

MUTATING_PREFIXES = (
    "Create",
    "Update",
    "Put",
    "Delete",
    "Tag",
    "Untag",
    "Attach",
    "Detach",
    "Set",
    "Schedule",
    "Subscribe",
    "Unsubscribe",
)


@dataclass
class Made:
    """One mutating call as the client made it, and AWS's answer."""

    service: str
    operation: str
    params: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict)


class CallRecorder:
    """An ``on_client`` hook: every mutating call of every client, in order."""

    def __init__(self) -> None:
        self.made: list[Made] = []

    def hook(self, service: str, client: Any) -> None:
        def before(params: dict[str, Any], model: Any, **_: Any) -> None:
            if str(model.name).startswith(MUTATING_PREFIXES):
                self.made.append(Made(service, str(model.name), dict(params)))

        def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
            if str(model.name).startswith(MUTATING_PREFIXES) and self.made:
                self.made[-1].answer = parsed

        client.meta.events.register("before-parameter-build", before)
        client.meta.events.register("after-call", after)

    @property
    def operations(self) -> list[str]:
        return [made.operation for made in self.made]


def recording(aws: Aws) -> tuple[Aws, CallRecorder]:
    """A sibling of ``aws`` (same settings, same backend) whose clients are recorded."""
    recorder = CallRecorder()
    hooked = Aws(aws.settings, aws.options, endpoint_url=aws.endpoint_url, on_client=recorder.hook)
    return hooked, recorder


def planned_calls(plan: Plan) -> list[Call]:
    return [call for step in plan.steps for call in step.calls]


def same(planned: Any, sent: Any) -> bool:
    """Whether a sent parameter is the planned one (a reference matches any filled-in value)."""
    if isinstance(planned, Ref):
        return sent is not None and sent != ""
    if isinstance(planned, Json):
        return isinstance(sent, str) and same(planned.value, json.loads(sent))
    if isinstance(planned, Blob):
        return sent == planned.data
    if isinstance(planned, Mapping):
        return (
            isinstance(sent, Mapping)
            and set(planned) == set(sent)
            and all(same(planned[k], sent[k]) for k in planned)
        )
    if isinstance(planned, list | tuple):
        return (
            isinstance(sent, list | tuple)
            and len(planned) == len(sent)
            and all(same(p, s) for p, s in zip(planned, sent, strict=True))
        )
    return bool(planned == sent)


def assert_made_as_planned(plan: Plan, made: list[Made]) -> None:
    """Exactly the planned calls, in the planned order, with the planned parameters."""
    calls = planned_calls(plan)
    assert [(m.service, m.operation) for m in made] == [(c.service, c.operation) for c in calls]
    for call, sent in zip(calls, made, strict=True):
        assert same(call.params, sent.params), (call.id, sent.params)
