"""The customer managed key and its alias: found by alias, never by a state file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import error_code
from sqsidem.stack.iam_policy import PolicyDocument, normalize
from sqsidem.stack.model import Change, tag_list

DESCRIPTION_PREFIX = "sqsidem stack"
_GONE = {"NotFoundException"}
USABLE_STATES = {"Enabled"}


@dataclass(frozen=True)
class DesiredKey:
    alias: str
    policy: PolicyDocument
    description: str
    tags: dict[str, str]


@dataclass(frozen=True)
class ObservedKey:
    key_id: str
    arn: str
    state: str
    policy: Any
    tags: dict[str, str]


def observe(aws: Aws, alias: str) -> ObservedKey | None:
    try:
        meta = aws.kms.describe_key(KeyId=alias)["KeyMetadata"]
    except ClientError as exc:
        if error_code(exc) in _GONE:
            return None
        raise
    key_id = meta["KeyId"]
    policy = aws.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    tags = {
        tag["TagKey"]: tag["TagValue"]
        for tag in aws.kms.list_resource_tags(KeyId=key_id).get("Tags", [])
    }
    return ObservedKey(key_id, meta["Arn"], meta.get("KeyState", "Enabled"), policy, tags)


def needs_replace(observed: ObservedKey) -> bool:
    """A key pending deletion or disabled cannot serve the stack: make a new one."""
    return observed.state not in USABLE_STATES


def diff(desired: DesiredKey, observed: ObservedKey) -> tuple[Change, ...]:
    changes = []
    if needs_replace(observed):
        changes.append(Change("KeyState", observed.state, "Enabled"))
    if normalize(observed.policy) != normalize(desired.policy):
        changes.append(Change("Policy", "(differs)", "root admin + SNS/CloudWatch use"))
    return tuple(changes)


def create(aws: Aws, desired: DesiredKey, *, replace_alias: bool = False) -> str:
    """Create the key and point the alias at it; returns the key ARN."""
    meta = aws.kms.create_key(
        Policy=json.dumps(desired.policy),
        Description=desired.description,
        KeyUsage="ENCRYPT_DECRYPT",
        Tags=tag_list(desired.tags, "TagKey", "TagValue"),
    )["KeyMetadata"]
    if replace_alias:
        aws.kms.update_alias(AliasName=desired.alias, TargetKeyId=meta["KeyId"])
    else:
        aws.kms.create_alias(AliasName=desired.alias, TargetKeyId=meta["KeyId"])
    return meta["Arn"]


def update(aws: Aws, desired: DesiredKey, observed: ObservedKey) -> None:
    if normalize(observed.policy) != normalize(desired.policy):
        aws.kms.put_key_policy(
            KeyId=observed.key_id, PolicyName="default", Policy=json.dumps(desired.policy)
        )


def tag(aws: Aws, observed: ObservedKey, tags: dict[str, str]) -> None:
    aws.kms.tag_resource(KeyId=observed.key_id, Tags=tag_list(tags, "TagKey", "TagValue"))


def delete(aws: Aws, alias: str, observed: ObservedKey, pending_days: int) -> None:
    """Remove the alias, then schedule the key's deletion (KMS never deletes at once)."""
    try:
        aws.kms.delete_alias(AliasName=alias)
    except ClientError as exc:
        if error_code(exc) not in _GONE:
            raise
    if observed.state in ("PendingDeletion", "PendingReplicaDeletion"):
        return
    try:
        aws.kms.schedule_key_deletion(KeyId=observed.key_id, PendingWindowInDays=pending_days)
    except ClientError as exc:
        # KMSInvalidStateException: already scheduled by an earlier, interrupted teardown.
        if error_code(exc) not in _GONE | {"KMSInvalidStateException"}:
            raise
