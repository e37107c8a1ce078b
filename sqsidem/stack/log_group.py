"""The function's log group, created before the function so its retention applies at once."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import error_code
from sqsidem.stack.model import Change

_GONE = {"ResourceNotFoundException"}


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


def observe(aws: Aws, name: str) -> ObservedLogGroup | None:
    pages = aws.logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
    for page in pages:
        for group in page.get("logGroups", []):
            if group.get("logGroupName") != name:
                continue
            arn = group.get("logGroupArn") or group.get("arn", "").removesuffix(":*")
            tags = aws.logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
            return ObservedLogGroup(arn, group.get("retentionInDays"), dict(tags))
    return None


def diff(desired: DesiredLogGroup, observed: ObservedLogGroup) -> tuple[Change, ...]:
    if observed.retention_days != desired.retention_days:
        return (Change("retentionInDays", observed.retention_days, desired.retention_days),)
    return ()


def create(aws: Aws, desired: DesiredLogGroup) -> None:
    try:
        aws.logs.create_log_group(logGroupName=desired.name, tags=desired.tags)
    except ClientError as exc:
        # A last invocation can re-create the group between observe and create.
        if error_code(exc) != "ResourceAlreadyExistsException":
            raise
    aws.logs.put_retention_policy(logGroupName=desired.name, retentionInDays=desired.retention_days)


def update(aws: Aws, desired: DesiredLogGroup, observed: ObservedLogGroup) -> None:
    if observed.retention_days != desired.retention_days:
        aws.logs.put_retention_policy(
            logGroupName=desired.name, retentionInDays=desired.retention_days
        )


def tag(aws: Aws, observed: ObservedLogGroup, tags: dict[str, str]) -> None:
    aws.logs.tag_resource(resourceArn=observed.arn, tags=tags)


def delete(aws: Aws, name: str) -> None:
    try:
        aws.logs.delete_log_group(logGroupName=name)
    except ClientError as exc:
        if error_code(exc) not in _GONE:
            raise
