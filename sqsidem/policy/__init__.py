"""`sqsidem policy`: the least-privilege IAM policy an operator needs for one stack.

- :mod:`.grants`: what each profile needs (actions, resources, why), as data;
- :mod:`.document`: that data with one stack's ARNs, as an IAM policy document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqsidem.policy.document import Scope, check_account, compact_size, operator_policy
from sqsidem.policy.grants import PROFILES, Profile

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.names import StackNames
    from sqsidem.stack.iam_policy import PolicyDocument

__all__ = [
    "PROFILES",
    "Profile",
    "Scope",
    "compact_size",
    "operator_policy",
    "policy_for",
    "scope_of",
]


def scope_of(aws: Aws, names: StackNames, account: str | None) -> Scope:
    """The stack's scope: the caller's account and partition, or ``account`` given by an
    administrator (then no call: the partition follows the region)."""
    region = aws.region
    if account is None:
        return Scope(names, aws.account_id(), region, aws.partition())
    partition = aws.session.get_partition_for_region(region)
    return Scope(names, check_account(account), region, partition)


def policy_for(
    aws: Aws, names: StackNames, profile: Profile, account: str | None
) -> PolicyDocument:
    return operator_policy(scope_of(aws, names, account), profile)
