"""The event source mapping (the trigger): main queue -> function, partial batch responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.errors import GONE
from sqsidem.names import StackNames
from sqsidem.stack.calls import Call, Calls, Hook
from sqsidem.stack.eventual import mapping_create, wait_gone, while_in_use
from sqsidem.stack.function import FUNCTION
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import (
    DesiredStack,
    Follower,
    ObservedStack,
    TeardownItem,
    TeardownOptions,
    Where,
    unless_gone,
)
from sqsidem.stack.model import Change, Step

if TYPE_CHECKING:
    from sqsidem.aws import Aws

RESPONSE_TYPES = ("ReportBatchItemFailures",)
DELETE_TIMEOUT_S = 120.0
# --no-trigger never deletes a trigger (that would stop a running pipeline on a typo), but
# the Lambda then keeps consuming next to `sqsidem worker`: say what to do about it.
KEPT_TRIGGER_NOTE = (
    "kept: --no-trigger deletes no trigger, so Lambda still consumes the queue; "
    "remove it with `sqsidem teardown`, or re-run setup without --no-trigger"
)
Mappings = tuple["ObservedMapping", ...]


@dataclass(frozen=True)
class DesiredMapping:
    function: str
    queue_arn: str
    batch_size: int
    max_concurrency: int | None


@dataclass(frozen=True)
class ObservedMapping:
    uuid: str
    source_arn: str
    batch_size: int
    max_concurrency: int | None
    response_types: tuple[str, ...]
    state: str
    last_result: str | None  # not reported by moto


def _observed(data: Mapping[str, Any]) -> ObservedMapping:
    concurrency = (data.get("ScalingConfig") or {}).get("MaximumConcurrency")
    return ObservedMapping(
        uuid=str(data["UUID"]),
        source_arn=str(data.get("EventSourceArn", "")),
        batch_size=int(data.get("BatchSize", 10)),
        max_concurrency=int(concurrency) if concurrency else None,
        response_types=tuple(str(t) for t in data.get("FunctionResponseTypes") or ()),
        state=str(data.get("State", "")),
        last_result=str(data["LastProcessingResult"]) if data.get("LastProcessingResult") else None,
    )


def pick(desired_queue_arn: str, mappings: Mappings) -> ObservedMapping | None:
    return next((m for m in mappings if m.source_arn == desired_queue_arn), None)


def changes(desired: DesiredMapping, observed: ObservedMapping) -> tuple[Change, ...]:
    pairs: list[tuple[str, object, object]] = [
        ("BatchSize", observed.batch_size, desired.batch_size),
        ("MaximumConcurrency", observed.max_concurrency, desired.max_concurrency),
        ("FunctionResponseTypes", list(observed.response_types), list(RESPONSE_TYPES)),
    ]
    changes = [Change(name, have, want) for name, have, want in pairs if have != want]
    if observed.state in ("Disabled", "Disabling"):
        changes.append(Change("State", observed.state, "Enabled"))
    return tuple(changes)


def _scaling(desired: DesiredMapping) -> dict[str, int]:
    return (
        {} if desired.max_concurrency is None else {"MaximumConcurrency": desired.max_concurrency}
    )


def _gone(uuid: str) -> Hook:
    """Wait until the mapping is gone, so no last batch runs against a half-torn stack."""

    def gone(aws: Aws) -> bool:
        return unless_gone(lambda: aws.lambda_.get_event_source_mapping(UUID=uuid)) is None

    return wait_gone(f"trigger {uuid} to be deleted", gone, DELETE_TIMEOUT_S)


def label(names: StackNames) -> str:
    return f"{names.queue} -> {names.function}"


def teardown_label(found: ObservedMapping, names: StackNames) -> str:
    queue = found.source_arn.rsplit(":", 1)[-1]
    return f"{queue} -> {names.function} ({found.uuid})"


class MappingKind(Follower[DesiredMapping, Mappings]):
    """The trigger. It has no tags of its own: it belongs to whoever owns the function, and
    its observed value is every mapping of the function (ours reads the main queue)."""

    halt_on_failure = True
    parent = FUNCTION.key

    def wanted(self, inputs: Inputs) -> DesiredMapping | None:
        options = inputs.options
        if not options.trigger:
            return None
        return DesiredMapping(
            inputs.names.function, inputs.queue_arn, options.batch_size, options.max_concurrency
        )

    def observe(self, aws: Aws, where: Where) -> Mappings:
        if FUNCTION.seen_in(where.seen) is None:
            return ()
        pages = aws.lambda_.get_paginator("list_event_source_mappings").paginate(
            FunctionName=where.names.function
        )
        found = unless_gone(
            lambda: [_observed(m) for page in pages for m in page.get("EventSourceMappings", [])]
        )
        return tuple(sorted(found or [], key=lambda m: m.uuid))

    def diff(self, desired: DesiredMapping, observed: Mappings) -> tuple[Change, ...]:
        ours = pick(desired.queue_arn, observed)
        return () if ours is None else changes(desired, ours)

    def create(self, desired: DesiredMapping) -> Calls:
        params: dict[str, Any] = {
            "EventSourceArn": desired.queue_arn,
            "FunctionName": desired.function,
            "BatchSize": desired.batch_size,
            "FunctionResponseTypes": list(RESPONSE_TYPES),
            "Enabled": True,
        }
        if desired.max_concurrency:
            params["ScalingConfig"] = _scaling(desired)
        return (Call("lambda", "CreateEventSourceMapping", params, retry=mapping_create()),)

    def update(self, desired: DesiredMapping, observed: Mappings) -> Calls:
        """Strays (triggers from other queues) go; ours is created or brought in line."""
        ours = pick(desired.queue_arn, observed)
        calls = [self._delete_one(m) for m in observed if m is not ours]
        if ours is None:
            return (*calls, *self.create(desired))
        if changes(desired, ours):
            params = {
                "UUID": ours.uuid,
                "BatchSize": desired.batch_size,
                "FunctionResponseTypes": list(RESPONSE_TYPES),
                "ScalingConfig": _scaling(desired),  # empty removes a concurrency limit
                "Enabled": True,
            }
            retry = while_in_use("the trigger is still changing state")
            calls.append(Call("lambda", "UpdateEventSourceMapping", params, retry=retry))
        return tuple(calls)

    def delete(self, observed: Mappings, how: TeardownOptions) -> Calls:
        return tuple(self._delete_one(m) for m in observed)

    def _delete_one(self, found: ObservedMapping) -> Call:
        # A trigger still Creating/Updating refuses deletion (ResourceInUseException).
        return Call(
            "lambda",
            "DeleteEventSourceMapping",
            {"UUID": found.uuid},
            tolerate=GONE,
            retry=while_in_use("the trigger is still changing state and cannot be deleted yet"),
            after=_gone(found.uuid),
        )

    def plan(
        self, stack: DesiredStack, seen: ObservedStack, *, adopt: bool, earlier: Mapping[str, Step]
    ) -> Step | None:
        del adopt
        name, wanted, found = label(stack.names), self.wanted_in(stack), self.seen_in(seen) or ()
        if wanted is None:
            return Step(self.key, name, "unchanged", (), KEPT_TRIGGER_NOTE) if found else None
        orphaned = self.orphaned(name, stack.names.function, earlier)
        if orphaned is not None:
            return orphaned
        ours = pick(wanted.queue_arn, found)
        strays = [m for m in found if m is not ours]
        if strays:
            note = "remove triggers from " + ", ".join(m.source_arn for m in strays)
            return Step(self.key, name, "replace", (), note, self.update(wanted, found))
        if ours is None:
            return Step(self.key, name, "create", calls=self.create(wanted))
        diff = changes(wanted, ours)
        if not diff:
            return Step(self.key, name, "unchanged")
        return Step(self.key, name, "update", diff, calls=self.update(wanted, found))

    def teardown(
        self, names: StackNames, seen: ObservedStack, how: TeardownOptions
    ) -> list[TeardownItem]:
        function = FUNCTION.seen_in(seen)
        owner_tags = function.tags if function is not None else {}
        return [
            self.teardown_item(teardown_label(m, names), owner_tags, names.stack, (m,), how)
            for m in self.seen_in(seen) or ()
        ]


MAPPING = MappingKind("mapping", label)
