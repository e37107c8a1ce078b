"""The operator's IAM policy for one stack: the grants of a profile, with the stack's ARNs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqsidem.errors import UsageError
from sqsidem.policy.grants import Grant, Profile, grants_for
from sqsidem.stack.iam_policy import VERSION, PolicyDocument
from sqsidem.stack.inputs import Refs

if TYPE_CHECKING:
    from sqsidem.names import StackNames

_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Scope:
    """Where the policy applies: one stack in one account, region and partition."""

    names: StackNames
    account: str
    region: str
    partition: str

    def values(self) -> dict[str, str]:
        """Each resource key of the grants, as this stack's ARN (or value)."""
        n = self.names
        arn = Refs(self.account, self.region, self.partition).arn
        function = arn("lambda", f"function:{n.function}")
        return {
            "*": "*",
            "stack": n.stack,
            "queue": arn("sqs", n.queue),
            "dlq": arn("sqs", n.dlq),
            "table": arn("dynamodb", f"table/{n.table}"),
            "function": function,
            "mappings": arn("lambda", "event-source-mapping:*"),
            "role": arn("iam", f"role/{n.role}", regional=False),
            "log_group": arn("logs", f"log-group:{n.log_group}"),
            "log_group_streams": arn("logs", f"log-group:{n.log_group}:*"),
            "topic": arn("sns", n.topic),
            "alarm": arn("cloudwatch", f"alarm:{n.alarm}"),
            "keys": arn("kms", "key/*"),
            "alias": arn("kms", n.key_alias),
            "lambda_service": "lambda.amazonaws.com",
        }


def check_account(account: str) -> str:
    if not _ACCOUNT.fullmatch(account):
        raise UsageError(f"--account {account!r} is not an AWS account id", "give its 12 digits")
    return account


def statement(grant: Grant, values: dict[str, str]) -> dict[str, Any]:
    resources = [values[key] for key in grant.resources]
    out: dict[str, Any] = {
        "Sid": grant.sid,
        "Effect": "Allow",
        "Action": sorted(grant.actions),
        "Resource": resources[0] if len(resources) == 1 else resources,
    }
    if grant.condition:
        out["Condition"] = {
            operator: {key: values[value] for key, value in pairs.items()}
            for operator, pairs in grant.condition.items()
        }
    return out


def operator_policy(
    scope: Scope, profile: Profile, *, without: frozenset[str] = frozenset()
) -> PolicyDocument:
    """The least-privilege policy of ``profile`` for ``scope``'s stack.

    Grants on the same resources under the same condition share one statement, which keeps
    the document within IAM's size limits. ``without`` drops actions (the tests' removal).
    """
    values = scope.values()
    merged: dict[str, Grant] = {}
    for grant in grants_for(profile):
        kept = tuple(action for action in grant.actions if action not in without)
        if not kept:
            continue
        key = json.dumps([grant.resources, grant.condition], sort_keys=True)
        earlier = merged.get(key)
        actions = kept if earlier is None else earlier.actions + kept
        sid = grant.sid if earlier is None else earlier.sid
        merged[key] = replace(grant, sid=sid, actions=tuple(sorted(set(actions))))
    return {"Version": VERSION, "Statement": [statement(g, values) for g in merged.values()]}


def compact_size(document: PolicyDocument) -> int:
    """The size IAM counts against its limits (JSON without whitespace)."""
    return len(json.dumps(document, separators=(",", ":")))
