"""`sqsidem stacks`: every sqsidem stack in the account and region, found by the
``sqsidem:stack`` tag, each summed up in one line (resources, drift, depths, trigger, alarm).

The tagging API (``GetResources``) finds them in one paginated call; where it is missing
(or refused), each service's own listing and tag calls do (queues and functions: every
stack has both unless half torn down). Each stack's line comes from `status`'s reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.jsondata import fields
from sqsidem.names import STACK_NAME_RE, names_for

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.stack.status import StackStatus

STACK_TAG = "sqsidem:stack"


@dataclass(frozen=True)
class StackLine:
    stack: str
    present: int  # resources that exist (in any state but missing)
    expected: int
    drifted: int
    queue: dict[str, int] | None
    dlq_depth: int | None
    trigger_state: str | None
    trigger_wanted: bool
    alarm_state: str | None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            **fields(
                self,
                "stack",
                resources_present="present",
                resources_expected="expected",
                drifted="drifted",
                queue="queue",
            ),
            "queue_depth": None if self.queue is None else self.queue.get("visible"),
            **fields(self, "dlq_depth", "trigger_state", "trigger_wanted", "alarm_state", "error"),
        }


@dataclass(frozen=True)
class Inventory:
    region: str
    found_by: str  # "tagging API" or "per-service listing"
    stacks: tuple[StackLine, ...]
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        stacks = [line.as_dict() for line in self.stacks]
        return {**fields(self, "region", "found_by"), "stacks": stacks, "notes": list(self.notes)}


def _by_tagging_api(aws: Aws) -> set[str]:
    client = aws.client("resourcegroupstaggingapi")
    found: set[str] = set()
    for page in client.get_paginator("get_resources").paginate(TagFilters=[{"Key": STACK_TAG}]):
        for resource in page.get("ResourceTagMappingList", []):
            for tag in resource.get("Tags", []):
                if tag.get("Key") == STACK_TAG:
                    found.add(str(tag.get("Value", "")))
    return found


def _by_service(aws: Aws) -> set[str]:
    found: set[str] = set()
    for page in aws.sqs.get_paginator("list_queues").paginate():
        for url in page.get("QueueUrls", []):
            found.update(
                v
                for k, v in aws.sqs.list_queue_tags(QueueUrl=url).get("Tags", {}).items()
                if k == STACK_TAG
            )
    for listed in aws.lambda_.get_paginator("list_functions").paginate():
        for function in listed.get("Functions", []):
            tags = aws.lambda_.list_tags(Resource=function["FunctionArn"]).get("Tags", {})
            if STACK_TAG in tags:
                found.add(tags[STACK_TAG])
    return found


def find_stacks(aws: Aws) -> tuple[set[str], str]:
    """The stack names tagged in this account and region, and how they were found."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _by_tagging_api(aws), "tagging API"
    except (ClientError, BotoCoreError, NotImplementedError):
        return _by_service(aws), "per-service listing"


def _line(stack: str, status: StackStatus) -> StackLine:
    resources = [r for r in status.resources if r.state != "not-wanted"]
    return StackLine(
        stack=stack,
        present=sum(1 for r in resources if r.state != "missing"),
        expected=len(resources),
        drifted=sum(1 for r in resources if r.state in ("drifted", "not-ours")),
        queue=status.queue,
        dlq_depth=status.dlq_depth,
        trigger_state=status.mapping_state,
        trigger_wanted=status.trigger_wanted,
        alarm_state=status.alarm_state,
    )


def list_stacks(aws: Aws) -> Inventory:
    """Every tagged stack with its one-line summary (a stack that cannot be read says why)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from sqsidem.errors import explain
    from sqsidem.stack.status import stack_status

    names, found_by = find_stacks(aws)
    notes = [
        f"ignored tag value {n!r}: not a stack name"
        for n in sorted(names)
        if not STACK_NAME_RE.fullmatch(n)
    ]
    lines = []
    for stack in sorted(n for n in names if STACK_NAME_RE.fullmatch(n)):
        try:
            lines.append(_line(stack, stack_status(aws, names_for(stack))))
        except (ClientError, BotoCoreError) as exc:
            lines.append(StackLine(stack, 0, 0, 0, None, None, None, True, None, explain(exc).line))
    return Inventory(aws.region, found_by, tuple(lines), tuple(notes))
