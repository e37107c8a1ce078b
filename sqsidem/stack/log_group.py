"""The function's log group, created before the function so its retention applies at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqsidem.errors import GONE
from sqsidem.stack.calls import Call, Calls
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import TaggedKind, TeardownOptions, Where
from sqsidem.stack.model import Change

if TYPE_CHECKING:
    from sqsidem.aws import Aws


@dataclass(frozen=True)
class DesiredLogGroup:
    name: str
    retention_days: int
    tags: dict[str, str]


@dataclass(frozen=True)
class ObservedLogGroup:
    arn: str  # without the trailing ":*" that describe_log_groups appends
    retention_days: int | None
    tags: dict[str, str]
    name: str


def _retention(desired: DesiredLogGroup) -> Call:
    params = {"logGroupName": desired.name, "retentionInDays": desired.retention_days}
    return Call("logs", "PutRetentionPolicy", params)


class LogGroupKind(TaggedKind[DesiredLogGroup, ObservedLogGroup]):
    def wanted(self, inputs: Inputs) -> DesiredLogGroup:
        names = inputs.names
        return DesiredLogGroup(names.log_group, inputs.options.log_retention_days, names.tags)

    def observe(self, aws: Aws, where: Where) -> ObservedLogGroup | None:
        name = where.names.log_group
        pages = aws.logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
        for page in pages:
            for group in page.get("logGroups", []):
                if group.get("logGroupName") != name:
                    continue
                arn = group.get("logGroupArn") or group.get("arn", "").removesuffix(":*")
                tags = aws.logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
                return ObservedLogGroup(arn, group.get("retentionInDays"), dict(tags), name)
        return None

    def diff(self, desired: DesiredLogGroup, observed: ObservedLogGroup) -> tuple[Change, ...]:
        if observed.retention_days != desired.retention_days:
            return (Change("retentionInDays", observed.retention_days, desired.retention_days),)
        return ()

    def create(self, desired: DesiredLogGroup) -> Calls:
        params = {"logGroupName": desired.name, "tags": desired.tags}
        # A last invocation can re-create the group between observe and create.
        tolerate = frozenset({"ResourceAlreadyExistsException"})
        return (Call("logs", "CreateLogGroup", params, tolerate=tolerate), _retention(desired))

    def update(self, desired: DesiredLogGroup, observed: ObservedLogGroup) -> Calls:
        return (_retention(desired),) if self.diff(desired, observed) else ()

    def tag(self, desired: DesiredLogGroup, observed: ObservedLogGroup) -> Calls:
        return (Call("logs", "TagResource", {"resourceArn": observed.arn, "tags": desired.tags}),)

    def kept(self, how: TeardownOptions) -> str | None:
        return "--keep-logs" if how.keep_logs else None

    def delete(self, observed: ObservedLogGroup, how: TeardownOptions) -> Calls:
        params = {"logGroupName": observed.name}
        return (Call("logs", "DeleteLogGroup", params, tolerate=GONE),)


LOG_GROUP = LogGroupKind("log_group", lambda names: names.log_group)
