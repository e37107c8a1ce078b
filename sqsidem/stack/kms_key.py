"""The customer managed key and its alias: found by alias (or by tag), never by a state file.

A new key is created tagged ``sqsidem:pending=1``, aliased, then untagged; a run that
stops in between leaves a pending key the next run adopts instead of creating another
(:mod:`sqsidem.stack.kms_scan`). Two runs racing for the alias: the loser schedules the
deletion of the key it made and stops with one clear line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.errors import GONE, SqsidemError, error_code
from sqsidem.stack import iam_policy
from sqsidem.stack.calls import Call, Calls, Json, Ref
from sqsidem.stack.iam_policy import PolicyDocument, normalize
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import TaggedKind, TeardownOptions, Where, unless_gone
from sqsidem.stack.kms_scan import PENDING_STATES, PENDING_TAG, pending_key, stack_keys
from sqsidem.stack.model import Change, tag_dict, tag_list

if TYPE_CHECKING:
    from sqsidem.aws import Aws

DESCRIPTION_PREFIX = "sqsidem stack"
USABLE_STATES = {"Enabled"}
# The key is the registry's first kind, so a new key is always the plan's first CreateKey.
NEW_KEY = "kms.CreateKey#1"
NEW_KEY_ARN = Ref(NEW_KEY, "KeyMetadata.Arn")
NEW_KEY_ID = Ref(NEW_KEY, "KeyMetadata.KeyId")
MIN_PENDING_DAYS, MAX_PENDING_DAYS = 7, 30  # the window KMS allows for a key's deletion


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
    alias: str  # "": a pending key of an interrupted run, adopted but not aliased yet
    # The alias, when it names another key that cannot serve (the pending key replaces it).
    stale_alias: str = ""


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
        alias, stale = where.names.key_alias, ""
        meta = unless_gone(lambda: aws.kms.describe_key(KeyId=alias)["KeyMetadata"])
        found: dict[str, str] | None = None
        if meta is None or meta.get("KeyState", "Enabled") not in USABLE_STATES:
            # No usable key behind the alias: an interrupted run may have made its successor.
            keys = where.keys() if where.keys is not None else stack_keys(aws, where.names.stack)
            pending = pending_key(keys)
            if pending is not None:
                stale = alias if meta is not None else ""
                meta, alias, found = {"KeyId": pending.key_id, "Arn": pending.arn}, "", pending.tags
        if meta is None:
            return None
        key_id = meta["KeyId"]
        policy = aws.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
        if found is None:
            tags = aws.kms.list_resource_tags(KeyId=key_id).get("Tags", [])
            found = tag_dict(tags, "TagKey", "TagValue")
        state = meta.get("KeyState", "Enabled")
        return ObservedKey(key_id, meta["Arn"], state, policy, found, alias, stale)

    def diff(self, desired: DesiredKey, observed: ObservedKey) -> tuple[Change, ...]:
        changes = []
        if not observed.alias:
            changes.append(Change("Alias", None, f"{desired.alias} (adopt pending key)"))
        if PENDING_TAG in observed.tags:
            changes.append(Change(f"Tag {PENDING_TAG}", observed.tags[PENDING_TAG], None))
        if needs_replace(observed):
            changes.append(Change("KeyState", observed.state, "Enabled"))
        if normalize(observed.policy) != normalize(desired.policy):
            changes.append(Change("Policy", "(differs)", "root admin + SNS/CloudWatch use"))
        return tuple(changes)

    def create(self, desired: DesiredKey) -> Calls:
        return (_create_key(desired), _alias("CreateAlias", desired), _untag(NEW_KEY_ID))

    def replaced(self, observed: ObservedKey) -> bool:
        return needs_replace(observed)

    def replace(self, desired: DesiredKey, observed: ObservedKey) -> Calls:
        """A new key takes over the alias (the old one stays scheduled or disabled)."""
        return (_create_key(desired), _alias("UpdateAlias", desired), _untag(NEW_KEY_ID))

    def update(self, desired: DesiredKey, observed: ObservedKey) -> Calls:
        calls: list[Call] = []
        if not observed.alias:
            operation = "UpdateAlias" if observed.stale_alias else "CreateAlias"
            calls.append(_alias(operation, desired, observed.key_id))
        if normalize(observed.policy) != normalize(desired.policy):
            policy = Json(desired.policy)
            params = {"KeyId": observed.key_id, "PolicyName": "default", "Policy": policy}
            calls.append(Call("kms", "PutKeyPolicy", params))
        if PENDING_TAG in observed.tags:
            calls.append(_untag(observed.key_id))
        return tuple(calls)

    def tag(self, desired: DesiredKey, observed: ObservedKey) -> Calls:
        tags = tag_list(desired.tags, "TagKey", "TagValue")
        return (Call("kms", "TagResource", {"KeyId": observed.key_id, "Tags": tags}),)

    def delete(self, observed: ObservedKey, how: TeardownOptions) -> Calls:
        """Remove the alias, then schedule the key's deletion (KMS never deletes at once)."""
        calls = []
        alias = observed.alias or observed.stale_alias
        if alias:
            calls.append(Call("kms", "DeleteAlias", {"AliasName": alias}, tolerate=GONE))
        if observed.state not in PENDING_STATES:
            calls.append(schedule_deletion(observed.key_id, how.key_pending_days))
        return tuple(calls)

    def teardown_note(self, observed: ObservedKey) -> str:
        if not observed.alias:
            return f"pending key {observed.key_id} (no alias): deletion scheduled"
        if observed.state == "PendingDeletion":
            return "key already pending deletion; alias deleted"
        return "alias deleted, key deletion scheduled"


def schedule_deletion(key_id: object, days: int) -> Call:
    params = {"KeyId": key_id, "PendingWindowInDays": days}
    # KMSInvalidStateException: already scheduled by an earlier, interrupted teardown.
    tolerate = GONE | {"KMSInvalidStateException"}
    return Call("kms", "ScheduleKeyDeletion", params, tolerate=tolerate)


def _create_key(desired: DesiredKey) -> Call:
    params = {
        "Policy": Json(desired.policy),
        "Description": desired.description,
        "KeyUsage": "ENCRYPT_DECRYPT",
        "Tags": tag_list({**desired.tags, PENDING_TAG: "1"}, "TagKey", "TagValue"),
    }
    return Call("kms", "CreateKey", params)


def _alias(operation: str, desired: DesiredKey, target: object = NEW_KEY_ID) -> Call:
    params = {"AliasName": desired.alias, "TargetKeyId": target}
    settle = _lost_alias_race if operation == "CreateAlias" else None
    return Call("kms", operation, params, settle=settle)


def _untag(key_id: object) -> Call:
    """The key is aliased: it is no longer pending (the last call of the key's step)."""
    return Call("kms", "UntagResource", {"KeyId": key_id, "TagKeys": [PENDING_TAG]})


def _lost_alias_race(aws: Aws, exc: BaseException, params: Mapping[str, Any]) -> Any:
    """CreateAlias found the alias taken: by our key (a concurrent run adopted it: fine), or
    by another run's key, in which case ours is scheduled for deletion and this run stops."""
    if error_code(exc) != "AlreadyExistsException":
        raise exc
    alias, ours = str(params["AliasName"]), str(params["TargetKeyId"])
    meta = aws.kms.describe_key(KeyId=alias)["KeyMetadata"]
    if ours in (meta["KeyId"], meta["Arn"]):
        return {}
    from sqsidem.retry import Pacing
    from sqsidem.stack.executor import run_call

    run_call(aws, schedule_deletion(ours, MIN_PENDING_DAYS), {}, Pacing())
    raise SqsidemError(
        f"another setup of this stack got there first: {alias} now names key "
        f"{meta['KeyId']}; this run scheduled its own key {ours} for deletion and stopped",
        "wait for the other setup to finish, then run setup again",
    )


KEY = KeyKind("key", lambda names: names.key_alias)
