"""The customer managed key and its alias: found by alias, never by a state file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.errors import GONE
from sqsidem.stack import iam_policy
from sqsidem.stack.calls import Call, Calls, Json, Ref
from sqsidem.stack.iam_policy import PolicyDocument, normalize
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import TaggedKind, TeardownOptions, Where, unless_gone
from sqsidem.stack.model import Change, tag_dict, tag_list

if TYPE_CHECKING:
    from sqsidem.aws import Aws

DESCRIPTION_PREFIX = "sqsidem stack"
USABLE_STATES = {"Enabled"}
PENDING_STATES = ("PendingDeletion", "PendingReplicaDeletion")
# The key is the registry's first kind, so a new key is always the plan's first CreateKey.
NEW_KEY = "kms.CreateKey#1"
NEW_KEY_ARN = Ref(NEW_KEY, "KeyMetadata.Arn")


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
    alias: str


def needs_replace(observed: ObservedKey) -> bool:
    """A key pending deletion or disabled cannot serve the stack: make a new one."""
    return observed.state not in USABLE_STATES


class KeyKind(TaggedKind[DesiredKey, ObservedKey]):
    def wanted(self, inputs: Inputs) -> DesiredKey:
        names = inputs.names
        return DesiredKey(
            alias=names.key_alias,
            policy=iam_policy.key_policy(
                account=inputs.refs.account,
                root_arn=inputs.refs.arn("iam", "root", regional=False),
                topic_arn=inputs.topic_arn,
                alarm_arn=inputs.alarm_arn,
            ),
            description=f"{DESCRIPTION_PREFIX} {names.stack}: queues, topic",
            tags=names.tags,
        )

    def observe(self, aws: Aws, where: Where) -> ObservedKey | None:
        alias = where.names.key_alias
        meta = unless_gone(lambda: aws.kms.describe_key(KeyId=alias)["KeyMetadata"])
        if meta is None:
            return None
        key_id = meta["KeyId"]
        policy = aws.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
        tags = aws.kms.list_resource_tags(KeyId=key_id).get("Tags", [])
        state = meta.get("KeyState", "Enabled")
        found = tag_dict(tags, "TagKey", "TagValue")
        return ObservedKey(key_id, meta["Arn"], state, policy, found, alias)

    def diff(self, desired: DesiredKey, observed: ObservedKey) -> tuple[Change, ...]:
        changes = []
        if needs_replace(observed):
            changes.append(Change("KeyState", observed.state, "Enabled"))
        if normalize(observed.policy) != normalize(desired.policy):
            changes.append(Change("Policy", "(differs)", "root admin + SNS/CloudWatch use"))
        return tuple(changes)

    def create(self, desired: DesiredKey) -> Calls:
        return (_create_key(desired), _alias("CreateAlias", desired))

    def replaced(self, observed: ObservedKey) -> bool:
        return needs_replace(observed)

    def replace(self, desired: DesiredKey, observed: ObservedKey) -> Calls:
        """A new key takes over the alias (the old one stays scheduled or disabled)."""
        return (_create_key(desired), _alias("UpdateAlias", desired))

    def update(self, desired: DesiredKey, observed: ObservedKey) -> Calls:
        if normalize(observed.policy) == normalize(desired.policy):
            return ()
        params = {"KeyId": observed.key_id, "PolicyName": "default", "Policy": Json(desired.policy)}
        return (Call("kms", "PutKeyPolicy", params),)

    def tag(self, desired: DesiredKey, observed: ObservedKey) -> Calls:
        tags = tag_list(desired.tags, "TagKey", "TagValue")
        return (Call("kms", "TagResource", {"KeyId": observed.key_id, "Tags": tags}),)

    def delete(self, observed: ObservedKey, how: TeardownOptions) -> Calls:
        """Remove the alias, then schedule the key's deletion (KMS never deletes at once)."""
        alias = Call("kms", "DeleteAlias", {"AliasName": observed.alias}, tolerate=GONE)
        if observed.state in PENDING_STATES:
            return (alias,)
        params = {"KeyId": observed.key_id, "PendingWindowInDays": how.key_pending_days}
        # KMSInvalidStateException: already scheduled by an earlier, interrupted teardown.
        tolerate = GONE | {"KMSInvalidStateException"}
        return (alias, Call("kms", "ScheduleKeyDeletion", params, tolerate=tolerate))

    def teardown_note(self, observed: ObservedKey) -> str:
        if observed.state == "PendingDeletion":
            return "key already pending deletion; alias deleted"
        return "alias deleted, key deletion scheduled"


def _create_key(desired: DesiredKey) -> Call:
    params = {
        "Policy": Json(desired.policy),
        "Description": desired.description,
        "KeyUsage": "ENCRYPT_DECRYPT",
        "Tags": tag_list(desired.tags, "TagKey", "TagValue"),
    }
    return Call("kms", "CreateKey", params)


def _alias(operation: str, desired: DesiredKey) -> Call:
    target = Ref(NEW_KEY, "KeyMetadata.KeyId")
    return Call("kms", operation, {"AliasName": desired.alias, "TargetKeyId": target})


KEY = KeyKind("key", lambda names: names.key_alias)
