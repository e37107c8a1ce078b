"""The function's IAM role: Lambda trust plus least-privilege inline policies (no managed ones)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import error_code
from sqsidem.stack.iam_policy import PolicyDocument, normalize
from sqsidem.stack.model import Change, tag_list

_GONE = {"NoSuchEntity", "NoSuchEntityException"}


@dataclass(frozen=True)
class DesiredRole:
    name: str
    trust: PolicyDocument
    policies: dict[str, PolicyDocument]
    tags: dict[str, str]


@dataclass(frozen=True)
class ObservedRole:
    arn: str
    trust: Any
    policies: dict[str, Any]
    attached: tuple[str, ...]  # managed policy ARNs someone attached by hand
    tags: dict[str, str]


def observe(aws: Aws, name: str) -> ObservedRole | None:
    iam = aws.iam
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if error_code(exc) in _GONE:
            return None
        raise
    names = [
        policy
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
        for policy in page["PolicyNames"]
    ]
    policies = {
        policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        for policy in names
    }
    attached = tuple(
        policy["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
        for policy in page["AttachedPolicies"]
    )
    tags = {
        tag["Key"]: tag["Value"]
        for page in iam.get_paginator("list_role_tags").paginate(RoleName=name)
        for tag in page["Tags"]
    }
    return ObservedRole(role["Arn"], role.get("AssumeRolePolicyDocument"), policies, attached, tags)


def _policies_to_put(desired: DesiredRole, observed: ObservedRole) -> list[str]:
    return [
        name
        for name, document in desired.policies.items()
        if name not in observed.policies
        or normalize(observed.policies[name]) != normalize(document)
    ]


def _extra_policies(desired: DesiredRole, observed: ObservedRole) -> list[str]:
    return sorted(set(observed.policies) - set(desired.policies))


def diff(desired: DesiredRole, observed: ObservedRole) -> tuple[Change, ...]:
    changes = []
    if observed.trust is None or normalize(observed.trust) != normalize(desired.trust):
        changes.append(Change("AssumeRolePolicy", "(differs)", "lambda.amazonaws.com"))
    for name in _policies_to_put(desired, observed):
        have = "(differs)" if name in observed.policies else None
        changes.append(Change(f"policy {name}", have, "(least privilege)"))
    for name in _extra_policies(desired, observed):
        changes.append(Change(f"policy {name}", "(extra)", None))
    for arn in observed.attached:
        changes.append(Change("attached", arn, None))
    return tuple(changes)


def _put(aws: Aws, role: str, name: str, document: PolicyDocument) -> None:
    aws.iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))


def create(aws: Aws, desired: DesiredRole) -> str:
    arn = aws.iam.create_role(
        RoleName=desired.name,
        AssumeRolePolicyDocument=json.dumps(desired.trust),
        Description="sqsidem consumer function role (least privilege)",
        Tags=tag_list(desired.tags),
    )["Role"]["Arn"]
    for name, document in sorted(desired.policies.items()):
        _put(aws, desired.name, name, document)
    return arn


def update(aws: Aws, desired: DesiredRole, observed: ObservedRole) -> None:
    """Converge trust and inline policies; extra permissions are removed (least privilege)."""
    if observed.trust is None or normalize(observed.trust) != normalize(desired.trust):
        aws.iam.update_assume_role_policy(
            RoleName=desired.name, PolicyDocument=json.dumps(desired.trust)
        )
    for name in _policies_to_put(desired, observed):
        _put(aws, desired.name, name, desired.policies[name])
    for name in _extra_policies(desired, observed):
        aws.iam.delete_role_policy(RoleName=desired.name, PolicyName=name)
    for arn in observed.attached:
        aws.iam.detach_role_policy(RoleName=desired.name, PolicyArn=arn)


def tag(aws: Aws, name: str, tags: dict[str, str]) -> None:
    aws.iam.tag_role(RoleName=name, Tags=tag_list(tags))


def delete(aws: Aws, name: str, observed: ObservedRole) -> None:
    """Inline and attached policies first: IAM refuses to delete a role that has any."""
    for policy in observed.policies:
        _tolerate_gone(partial(aws.iam.delete_role_policy, RoleName=name, PolicyName=policy))
    for arn in observed.attached:
        _tolerate_gone(partial(aws.iam.detach_role_policy, RoleName=name, PolicyArn=arn))
    _tolerate_gone(partial(aws.iam.delete_role, RoleName=name))


def _tolerate_gone(call: Callable[[], object]) -> None:
    try:
        call()
    except ClientError as exc:
        if error_code(exc) not in _GONE:
            raise
