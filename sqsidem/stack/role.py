"""The function's IAM role: Lambda trust plus least-privilege inline policies (no managed ones)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.errors import GONE
from sqsidem.stack import iam_policy
from sqsidem.stack.calls import Call, Calls, Json
from sqsidem.stack.iam_policy import PolicyDocument, normalize
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import TaggedKind, TeardownOptions, Where, unless_gone
from sqsidem.stack.kms_key import NEW_KEY_ARN
from sqsidem.stack.model import Change, tag_dict, tag_list

if TYPE_CHECKING:
    from sqsidem.aws import Aws


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
    name: str


def _policies_to_put(desired: DesiredRole, observed: ObservedRole) -> list[str]:
    return [
        name
        for name, document in desired.policies.items()
        if name not in observed.policies
        or normalize(observed.policies[name]) != normalize(document)
    ]


def _extra_policies(desired: DesiredRole, observed: ObservedRole) -> list[str]:
    return sorted(set(observed.policies) - set(desired.policies))


def _trust_differs(desired: DesiredRole, observed: ObservedRole) -> bool:
    return observed.trust is None or normalize(observed.trust) != normalize(desired.trust)


def _put(role: str, name: str, document: PolicyDocument) -> Call:
    params = {"RoleName": role, "PolicyName": name, "PolicyDocument": Json(document)}
    return Call("iam", "PutRolePolicy", params)


def _read(aws: Aws, name: str) -> ObservedRole | None:
    iam = aws.iam
    role = unless_gone(lambda: iam.get_role(RoleName=name)["Role"])
    if role is None:
        return None

    def pages(operation: str, key: str) -> list[Any]:
        paginator = iam.get_paginator(operation)  # type: ignore[call-overload]
        return [item for page in paginator.paginate(RoleName=name) for item in page[key]]

    policies = {
        policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        for policy in pages("list_role_policies", "PolicyNames")
    }
    attached = tuple(
        p["PolicyArn"] for p in pages("list_attached_role_policies", "AttachedPolicies")
    )
    tags = tag_dict(pages("list_role_tags", "Tags"))
    trust = role.get("AssumeRolePolicyDocument")
    return ObservedRole(role["Arn"], trust, policies, attached, tags, name)


class RoleKind(TaggedKind[DesiredRole, ObservedRole]):
    halt_on_failure = True

    def wanted(self, inputs: Inputs) -> DesiredRole:
        names, refs = inputs.names, inputs.refs
        streams = iam_policy.log_stream_arn(refs, names.log_group)
        policies = iam_policy.function_policies(
            queue_arn=inputs.queue_arn,
            key_arn=refs.key_arn or NEW_KEY_ARN,  # the key this run creates
            table_arn=refs.arn("dynamodb", f"table/{names.table}"),
            log_streams_arn=streams,
            effect_table_arns=tuple(
                refs.arn("dynamodb", f"table/{name}") for name in inputs.options.effect_tables
            ),
        )
        return DesiredRole(names.role, iam_policy.lambda_trust_policy(), policies, names.tags)

    def observe(self, aws: Aws, where: Where) -> ObservedRole | None:
        return _read(aws, where.names.role)

    def diff(self, desired: DesiredRole, observed: ObservedRole) -> tuple[Change, ...]:
        changes = []
        if _trust_differs(desired, observed):
            changes.append(Change("AssumeRolePolicy", "(differs)", "lambda.amazonaws.com"))
        for name in _policies_to_put(desired, observed):
            have = "(differs)" if name in observed.policies else None
            changes.append(Change(f"policy {name}", have, "(least privilege)"))
        for name in _extra_policies(desired, observed):
            changes.append(Change(f"policy {name}", "(extra)", None))
        for arn in observed.attached:
            changes.append(Change("attached", arn, None))
        return tuple(changes)

    def create(self, desired: DesiredRole) -> Calls:
        params = {
            "RoleName": desired.name,
            "AssumeRolePolicyDocument": Json(desired.trust),
            "Description": "sqsidem consumer function role (least privilege)",
            "Tags": tag_list(desired.tags),
        }
        puts = [_put(desired.name, n, d) for n, d in sorted(desired.policies.items())]
        return (Call("iam", "CreateRole", params), *puts)

    def update(self, desired: DesiredRole, observed: ObservedRole) -> Calls:
        """Converge trust and inline policies; extra permissions are removed (least privilege)."""
        role = desired.name
        calls = []
        if _trust_differs(desired, observed):
            params = {"RoleName": role, "PolicyDocument": Json(desired.trust)}
            calls.append(Call("iam", "UpdateAssumeRolePolicy", params))
        for name in _policies_to_put(desired, observed):
            calls.append(_put(role, name, desired.policies[name]))
        for name in _extra_policies(desired, observed):
            calls.append(Call("iam", "DeleteRolePolicy", {"RoleName": role, "PolicyName": name}))
        for arn in observed.attached:
            calls.append(Call("iam", "DetachRolePolicy", {"RoleName": role, "PolicyArn": arn}))
        return tuple(calls)

    def tag(self, desired: DesiredRole, observed: ObservedRole) -> Calls:
        params = {"RoleName": desired.name, "Tags": tag_list(desired.tags)}
        return (Call("iam", "TagRole", params),)

    def delete(self, observed: ObservedRole, how: TeardownOptions) -> Calls:
        """Inline and attached policies first: IAM refuses to delete a role that has any."""
        role = observed.name
        policies = [
            Call("iam", "DeleteRolePolicy", {"RoleName": role, "PolicyName": p}, tolerate=GONE)
            for p in observed.policies
        ]
        detach = [
            Call("iam", "DetachRolePolicy", {"RoleName": role, "PolicyArn": a}, tolerate=GONE)
            for a in observed.attached
        ]
        return (*policies, *detach, Call("iam", "DeleteRole", {"RoleName": role}, tolerate=GONE))


ROLE = RoleKind("role", lambda names: names.role)
