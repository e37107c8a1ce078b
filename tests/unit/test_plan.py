"""The planner as pure logic: wanted vs observed -> actions, no AWS at all."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqsidem.build.zipfile import FunctionZip
from sqsidem.names import names_for
from sqsidem.stack.alarm import ALARM, ObservedAlarm
from sqsidem.stack.calls import Ref
from sqsidem.stack.desired import build
from sqsidem.stack.function import FUNCTION, ObservedFunction
from sqsidem.stack.inputs import Refs
from sqsidem.stack.kind import AnyKind, DesiredStack, ObservedStack
from sqsidem.stack.kms_key import KEY, NEW_KEY_ARN, ObservedKey
from sqsidem.stack.log_group import LOG_GROUP, ObservedLogGroup
from sqsidem.stack.mapping import MAPPING, ObservedMapping
from sqsidem.stack.model import TRIGGER_TAG, Plan, trigger_wanted
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.planner import plan
from sqsidem.stack.queues import DLQ, QUEUE, ObservedQueue
from sqsidem.stack.registry import CREATE_ORDER, KINDS
from sqsidem.stack.role import ROLE, ObservedRole
from sqsidem.stack.status import inferred_options
from sqsidem.stack.subscription import SUBSCRIPTION
from sqsidem.stack.table import TABLE, ObservedTable
from sqsidem.stack.topic import TOPIC, ObservedTopic, Subscription

ACCOUNT, REGION = "111122223333", "eu-west-1"
CODE = FunctionZip(b"zip-bytes", ("sqsidem_consumer/handler.py",))
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234"


def wanted(
    options: SetupOptions | None = None, stack: str = "s1", key_arn: str | None = KEY_ARN
) -> DesiredStack:
    refs = Refs(ACCOUNT, REGION, "aws", key_arn=key_arn)
    return build(names_for(stack), options or SetupOptions(), refs, CODE)


def want(kind: AnyKind, desired: DesiredStack) -> Any:
    found = kind.wanted_in(desired)
    assert found is not None
    return found


def seen_as(kind: AnyKind, seen: ObservedStack) -> Any:
    found = kind.seen_in(seen)
    assert found is not None
    return found


def nothing() -> ObservedStack:
    return ObservedStack()


def converged(desired: DesiredStack, tags: dict[str, str] | None = None) -> ObservedStack:
    """What AWS would report for a stack built exactly as desired."""
    t = desired.names.tags if tags is None else tags
    wanted_mapping = MAPPING.wanted_in(desired)
    role = want(ROLE, desired)
    queue_arn = (
        wanted_mapping.queue_arn
        if wanted_mapping
        else role.policies["sqsidem-queue"]["Statement"][0]["Resource"]
    )
    fn = want(FUNCTION, desired)
    key, topic = want(KEY, desired), want(TOPIC, desired)
    found: dict[str, object] = {
        KEY.key: ObservedKey("1234", KEY_ARN, "Enabled", key.policy, t, key.alias),
        DLQ.key: ObservedQueue("u-dlq", "arn-dlq", dict(want(DLQ, desired).attributes), t),
        QUEUE.key: ObservedQueue("u-q", queue_arn, dict(want(QUEUE, desired).attributes), t),
        TABLE.key: ObservedTable(
            "arn-table",
            "ACTIVE",
            (("transaction_id", "HASH"),),
            {"transaction_id": "S"},
            "PAY_PER_REQUEST",
            True,
            "expiration",
            t,
        ),
        LOG_GROUP.key: ObservedLogGroup(
            "arn-lg", want(LOG_GROUP, desired).retention_days, t, desired.names.log_group
        ),
        ROLE.key: ObservedRole("arn-role", role.trust, dict(role.policies), (), t, role.name),
        FUNCTION.key: ObservedFunction(
            arn="arn-fn",
            runtime=fn.runtime,
            role_arn=fn.role_arn,
            handler=fn.handler,
            timeout_s=fn.timeout_s,
            memory_mb=fn.memory_mb,
            environment=dict(fn.environment),
            code_sha256=fn.code_sha256,
            log_group=fn.log_group,
            state="Active",
            last_update_status="Successful",
            tags=dict(fn.tags) if tags is None else tags,  # with the trigger marker, if any
        ),
        MAPPING.key: (
            ObservedMapping(
                "uuid-1",
                queue_arn,
                wanted_mapping.batch_size,
                wanted_mapping.max_concurrency,
                ("ReportBatchItemFailures",),
                "Enabled",
                "OK",
            ),
        )
        if wanted_mapping
        else (),
        TOPIC.key: ObservedTopic(topic.arn, topic.key_alias, (), t),
        SUBSCRIPTION.key: (),
        ALARM.key: ObservedAlarm(
            "arn-alarm", want(ALARM, desired).settings(), "OK", t, desired.names.alarm
        ),
    }
    return ObservedStack(found)


def changed(seen: ObservedStack, kind: AnyKind, **changes: Any) -> ObservedStack:
    """``seen`` with one kind's observation changed."""
    return seen.with_(kind.key, replace(seen_as(kind, seen), **changes))


def actions(the_plan: Plan) -> dict[str, str]:
    return {step.kind: step.action for step in the_plan.steps}


def test_empty_account_is_all_create_in_dependency_order() -> None:
    """Nothing exists: every resource is created, key first, alarm last."""
    the_plan = plan(wanted(SetupOptions(notify_email="a@example.com")), nothing())
    assert [s.kind for s in the_plan.steps] == list(CREATE_ORDER)
    assert set(actions(the_plan).values()) == {"create"}


def test_no_trigger_plans_no_mapping() -> None:
    """--no-trigger provisions everything but the mapping."""
    the_plan = plan(wanted(SetupOptions(trigger=False)), nothing())
    assert "mapping" not in actions(the_plan)


def test_converged_stack_is_all_unchanged() -> None:
    """A stack as built: nothing to do."""
    desired = wanted()
    the_plan = plan(desired, converged(desired))
    assert set(actions(the_plan).values()) == {"unchanged"}
    assert the_plan.converged and not the_plan.mutating


def test_changed_settings_are_updates_in_place() -> None:
    """Batch size, timeout, memory, retention, max receive count, code: update."""
    desired = wanted()
    seen = converged(desired)
    other = wanted(
        SetupOptions(
            batch_size=5, timeout_s=4, memory_mb=256, log_retention_days=30, max_receive_count=7
        )
    )
    other = other.with_(FUNCTION.key, replace(want(FUNCTION, other), code_sha256="other"))
    the_plan = plan(other, seen)
    got = actions(the_plan)
    assert got["mapping"] == got["function"] == got["log_group"] == got["queue"] == "update"
    attributes = {c.attribute for s in the_plan.steps for c in s.changes}
    assert {"BatchSize", "Timeout", "MemorySize", "retentionInDays", "CodeSha256"} <= attributes
    assert "RedrivePolicy" in attributes and "VisibilityTimeout" in attributes


def test_missing_logging_config_is_not_drift() -> None:
    """moto drops LoggingConfig: unknown must not read as a change (setup would loop)."""
    desired = wanted()
    seen = changed(converged(desired), FUNCTION, log_group=None)
    assert actions(plan(desired, seen))["function"] == "unchanged"


def test_untagged_resources_block_unless_adopt() -> None:
    """Same names, no tag: blocked; --adopt tags them (mapping follows its function)."""
    desired = wanted()
    seen = converged(desired, tags={})
    blocked = plan(desired, seen)
    assert {s.action for s in blocked.steps} == {"blocked"}
    assert not blocked.converged
    adopted = plan(desired, seen, adopt=True)
    got = actions(adopted)
    assert got["queue"] == "adopt" and got["mapping"] == "unchanged"


def test_other_stacks_resources_are_never_adopted() -> None:
    """A resource tagged for another stack stays blocked even with --adopt."""
    desired = wanted()
    seen = converged(desired, tags={"sqsidem:stack": "other"})
    the_plan = plan(desired, seen, adopt=True)
    assert all(s.action == "blocked" for s in the_plan.steps)
    assert "other" in the_plan.steps[0].note


def test_key_pending_deletion_is_replaced() -> None:
    """A key scheduled for deletion cannot serve: a new key takes over the alias."""
    desired = wanted()
    seen = changed(converged(desired), KEY, state="PendingDeletion")
    step = plan(desired, seen).step("key")
    assert step is not None and step.action == "replace"
    assert [(c.operation, c.id) for c in step.calls] == [
        ("CreateKey", "kms.CreateKey#1"),
        ("UpdateAlias", "kms.UpdateAlias#1"),
        ("UntagResource", "kms.UntagResource#1"),
    ]


def test_table_with_another_key_is_blocked() -> None:
    """A key schema cannot change in place and the table holds data: refuse, say why."""
    desired = wanted()
    seen = changed(converged(desired), TABLE, key_schema=(("id", "HASH"),))
    step = plan(desired, seen).step("table")
    assert step is not None and step.action == "blocked" and "transaction_id" in step.note


def test_trigger_from_another_queue_is_replaced() -> None:
    """A mapping of our function that reads another queue is removed and ours created."""
    desired = wanted()
    seen = converged(desired)
    ours = seen_as(MAPPING, seen)[0]
    stray = replace(ours, uuid="uuid-2", source_arn="arn:aws:sqs:x:1:old.fifo")
    seen = seen.with_(MAPPING.key, (stray,))
    step = plan(desired, seen).step("mapping")
    assert step is not None and step.action == "replace" and "old.fifo" in step.note
    assert [(c.operation, c.params.get("UUID")) for c in step.calls] == [
        ("DeleteEventSourceMapping", "uuid-2"),
        ("CreateEventSourceMapping", None),
    ]


def test_disabled_trigger_and_lost_concurrency_are_updates() -> None:
    """State and MaximumConcurrency are compared too."""
    desired = wanted(SetupOptions(max_concurrency=4))
    seen = converged(wanted())
    seen = seen.with_(MAPPING.key, (replace(seen_as(MAPPING, seen)[0], state="Disabled"),))
    step = plan(desired, seen).step("mapping")
    assert step is not None and step.action == "update"
    assert {c.attribute for c in step.changes} == {"MaximumConcurrency", "State"}


def test_email_subscription_create_then_unchanged() -> None:
    """An email subscription is created once; a pending one counts as there."""
    desired = wanted(SetupOptions(notify_email="ops@example.com"))
    seen = converged(desired)
    step = plan(desired, seen).step("subscription")
    assert step is not None and step.action == "create"
    pending = Subscription("PendingConfirmation", "email", "OPS@example.com")
    seen = seen.with_(SUBSCRIPTION.key, (pending,))
    step = plan(desired, seen).step("subscription")
    assert step is not None and step.action == "unchanged" and step.note == "pending confirmation"


def test_extra_role_permissions_are_drift() -> None:
    """An inline policy sqsidem did not write is removed (least privilege)."""
    desired = wanted()
    seen = converged(desired)
    policies = {**seen_as(ROLE, seen).policies, "admin": {"Statement": []}}
    step = plan(desired, changed(seen, ROLE, policies=policies)).step("role")
    assert step is not None and step.action == "update"
    assert [(c.operation, c.params["PolicyName"]) for c in step.calls] == [
        ("DeleteRolePolicy", "admin")
    ]


def test_plan_as_dict_is_json_ready() -> None:
    """The plan serialises with resource, name, action, details and the calls per step."""
    data = plan(wanted(key_arn=None), nothing()).as_dict()
    assert data["converged"] is False
    key_policy = want(KEY, wanted()).policy
    assert data["steps"][0] == {
        "resource": "key",
        "name": "alias/sqsidem-s1",
        "action": "create",
        "details": "",
        "changes": [],
        "calls": [
            {
                "id": "kms.CreateKey#1",
                "service": "kms",
                "operation": "CreateKey",
                "params": {
                    "Policy": key_policy,
                    "Description": "sqsidem stack s1: queues, topic",
                    "KeyUsage": "ENCRYPT_DECRYPT",
                    "Tags": [
                        {"TagKey": "sqsidem:pending", "TagValue": "1"},
                        {"TagKey": "sqsidem:stack", "TagValue": "s1"},
                    ],
                },
            },
            {
                "id": "kms.CreateAlias#1",
                "service": "kms",
                "operation": "CreateAlias",
                "params": {
                    "AliasName": "alias/sqsidem-s1",
                    "TargetKeyId": {"ref": "kms.CreateKey#1", "path": "KeyMetadata.KeyId"},
                },
            },
            {
                "id": "kms.UntagResource#1",
                "service": "kms",
                "operation": "UntagResource",
                "params": {
                    "KeyId": {"ref": "kms.CreateKey#1", "path": "KeyMetadata.KeyId"},
                    "TagKeys": ["sqsidem:pending"],
                },
            },
        ],
    }


def test_trigger_marker_tag_semantics() -> None:
    """Only sqsidem:trigger=off means "no trigger"; absent or on (any case) means one is wanted."""
    assert trigger_wanted({}) and trigger_wanted({TRIGGER_TAG: "on"})
    assert not trigger_wanted({TRIGGER_TAG: "off"}) and not trigger_wanted({TRIGGER_TAG: " OFF"})
    off = want(FUNCTION, wanted(SetupOptions(trigger=False))).tags
    on = want(FUNCTION, wanted()).tags
    # The recorded setup options (sqsidem:setup:*) ride along: tested in test_recorded_options.
    unrecorded = ({k: v for k, v in t.items() if ":setup:" not in k} for t in (off, on))
    assert next(unrecorded) == {"sqsidem:stack": "s1", TRIGGER_TAG: "off"}
    assert next(unrecorded) == {"sqsidem:stack": "s1"}


def test_converged_no_trigger_stack_is_all_unchanged() -> None:
    """A --no-trigger stack as built (function tagged off, no mapping): nothing to do."""
    desired = wanted(SetupOptions(trigger=False))
    the_plan = plan(desired, converged(desired))
    assert the_plan.converged and "mapping" not in actions(the_plan)


def test_switching_to_no_trigger_tags_and_keeps_the_mapping_with_advice() -> None:
    """trigger -> no trigger: the function gets the marker; the mapping stays, note says why."""
    seen = converged(wanted())
    the_plan = plan(wanted(SetupOptions(trigger=False)), seen)
    function_step, mapping_step = the_plan.step("function"), the_plan.step("mapping")
    assert function_step is not None and function_step.action == "update"
    assert [str(c) for c in function_step.changes] == ["tag sqsidem:trigger: - -> off"]
    assert [(c.operation, c.params) for c in function_step.calls] == [
        ("TagResource", {"Resource": "arn-fn", "Tags": {TRIGGER_TAG: "off"}})
    ]
    assert mapping_step is not None and mapping_step.action == "unchanged"
    assert "teardown" in mapping_step.note and "without --no-trigger" in mapping_step.note


def test_switching_back_to_a_trigger_untags_and_creates_it() -> None:
    """no trigger -> trigger: the marker goes (update) and the mapping is created."""
    seen = converged(wanted(SetupOptions(trigger=False)))
    got = actions(plan(wanted(), seen))
    assert got["function"] == "update" and got["mapping"] == "create"


def test_status_reads_the_trigger_choice_back_from_the_tag() -> None:
    """inferred_options: the function's marker decides; no function means the default."""
    names = names_for("s1")
    assert inferred_options(names, converged(wanted(SetupOptions(trigger=False)))).trigger is False
    assert inferred_options(names, converged(wanted())).trigger is True
    assert inferred_options(names, nothing()).trigger is True


def test_every_registered_kind_plans_in_registry_order() -> None:
    """The registry is the one list: a fresh plan has one step per kind, in its order."""
    the_plan = plan(wanted(SetupOptions(notify_email="a@example.com")), nothing())
    assert tuple(s.kind for s in the_plan.steps) == tuple(k.key for k in KINDS) == CREATE_ORDER


def test_a_new_key_is_referenced_not_guessed() -> None:
    """Unknown key ARN: the role's grant points at the plan's CreateKey answer."""
    the_plan = plan(wanted(key_arn=None), nothing())
    role = the_plan.step("role")
    assert role is not None
    key_grant = next(c for c in role.calls if c.params.get("PolicyName") == "sqsidem-key")
    resource = key_grant.params["PolicyDocument"].value["Statement"][0]["Resource"]
    assert resource == NEW_KEY_ARN == Ref("kms.CreateKey#1", "KeyMetadata.Arn")
    ids = [c.id for s in the_plan.steps for c in s.calls]
    assert ids.index("kms.CreateKey#1") < ids.index(key_grant.id)
    assert len(ids) == len(set(ids))


def test_unchanged_and_blocked_steps_carry_no_calls() -> None:
    """Only create/update/replace/adopt steps list calls; a refused plan lists none to make."""
    desired = wanted()
    assert all(not s.calls for s in plan(desired, converged(desired)).steps)
    blocked = plan(desired, converged(desired, tags={"sqsidem:stack": "other"}))
    assert all(not s.calls for s in blocked.steps)


def test_adopt_tags_then_repairs_in_one_step() -> None:
    """--adopt: the tag call first, then the same repair calls an update would make."""
    desired = wanted()
    seen = changed(converged(desired, tags={}), LOG_GROUP, retention_days=1)
    step = plan(desired, seen, adopt=True).step("log_group")
    assert step is not None and step.action == "adopt"
    assert [c.operation for c in step.calls] == ["TagResource", "PutRetentionPolicy"]
