"""The planner as pure logic: wanted vs observed -> actions, no AWS at all."""

from __future__ import annotations

from dataclasses import replace

from sqsidem.names import names_for
from sqsidem.packaging import FunctionZip
from sqsidem.stack.alarm import ObservedAlarm
from sqsidem.stack.desired import DesiredStack, Refs, build
from sqsidem.stack.function import ObservedFunction
from sqsidem.stack.kms_key import ObservedKey
from sqsidem.stack.log_group import ObservedLogGroup
from sqsidem.stack.mapping import ObservedMapping
from sqsidem.stack.model import CREATE_ORDER, TRIGGER_TAG, Plan, trigger_wanted
from sqsidem.stack.observe import ObservedStack
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.planner import plan
from sqsidem.stack.queues import ObservedQueue
from sqsidem.stack.role import ObservedRole
from sqsidem.stack.status import inferred_options
from sqsidem.stack.table import ObservedTable
from sqsidem.stack.topic import ObservedTopic, Subscription

ACCOUNT, REGION = "111122223333", "eu-west-1"
CODE = FunctionZip(b"zip-bytes", ("sqsidem_consumer/handler.py",))
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234"


def wanted(options: SetupOptions | None = None, stack: str = "s1") -> DesiredStack:
    refs = Refs(ACCOUNT, REGION, key_arn=KEY_ARN)
    return build(names_for(stack), options or SetupOptions(), refs, CODE)


def nothing() -> ObservedStack:
    return ObservedStack(None, None, None, None, None, None, None, (), None, None)


def converged(desired: DesiredStack, tags: dict[str, str] | None = None) -> ObservedStack:
    """What AWS would report for a stack built exactly as desired."""
    t = desired.names.tags if tags is None else tags
    queue_arn = (
        desired.mapping.queue_arn
        if desired.mapping
        else desired.role.policies["sqsidem-queue"]["Statement"][0]["Resource"]
    )
    fn = desired.function
    return ObservedStack(
        key=ObservedKey("1234", KEY_ARN, "Enabled", desired.key.policy, t),
        dlq=ObservedQueue("u-dlq", "arn-dlq", dict(desired.dlq.attributes), t),
        queue=ObservedQueue("u-q", queue_arn, dict(desired.queue.attributes), t),
        table=ObservedTable(
            "arn-table",
            "ACTIVE",
            (("transaction_id", "HASH"),),
            {"transaction_id": "S"},
            "PAY_PER_REQUEST",
            True,
            "expiration",
            t,
        ),
        log_group=ObservedLogGroup("arn-lg", desired.log_group.retention_days, t),
        role=ObservedRole("arn-role", desired.role.trust, dict(desired.role.policies), (), t),
        function=ObservedFunction(
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
        mappings=(
            ObservedMapping(
                "uuid-1",
                queue_arn,
                desired.mapping.batch_size,
                desired.mapping.max_concurrency,
                ("ReportBatchItemFailures",),
                "Enabled",
                "OK",
            ),
        )
        if desired.mapping
        else (),
        topic=ObservedTopic(desired.topic.arn, desired.topic.key_alias, (), t),
        alarm=ObservedAlarm("arn-alarm", desired.alarm.settings(), "OK", t),
    )


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
    changed = wanted(
        SetupOptions(
            batch_size=5, timeout_s=4, memory_mb=256, log_retention_days=30, max_receive_count=7
        )
    )
    changed = replace(changed, function=replace(changed.function, code_sha256="other"))
    the_plan = plan(changed, seen)
    got = actions(the_plan)
    assert got["mapping"] == got["function"] == got["log_group"] == got["queue"] == "update"
    attributes = {c.attribute for s in the_plan.steps for c in s.changes}
    assert {"BatchSize", "Timeout", "MemorySize", "retentionInDays", "CodeSha256"} <= attributes
    assert "RedrivePolicy" in attributes and "VisibilityTimeout" in attributes


def test_missing_logging_config_is_not_drift() -> None:
    """moto drops LoggingConfig: unknown must not read as a change (setup would loop)."""
    desired = wanted()
    seen = converged(desired)
    assert seen.function is not None
    seen = replace(seen, function=replace(seen.function, log_group=None))
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
    seen = converged(desired)
    assert seen.key is not None
    seen = replace(seen, key=replace(seen.key, state="PendingDeletion"))
    assert actions(plan(desired, seen))["key"] == "replace"


def test_table_with_another_key_is_blocked() -> None:
    """A key schema cannot change in place and the table holds data: refuse, say why."""
    desired = wanted()
    seen = converged(desired)
    assert seen.table is not None
    seen = replace(seen, table=replace(seen.table, key_schema=(("id", "HASH"),)))
    step = plan(desired, seen).step("table")
    assert step is not None and step.action == "blocked" and "transaction_id" in step.note


def test_trigger_from_another_queue_is_replaced() -> None:
    """A mapping of our function that reads another queue is removed and ours created."""
    desired = wanted()
    seen = converged(desired)
    stray = replace(seen.mappings[0], uuid="uuid-2", source_arn="arn:aws:sqs:x:1:old.fifo")
    seen = replace(seen, mappings=(stray,))
    step = plan(desired, seen).step("mapping")
    assert step is not None and step.action == "replace" and "old.fifo" in step.note


def test_disabled_trigger_and_lost_concurrency_are_updates() -> None:
    """State and MaximumConcurrency are compared too."""
    desired = wanted(SetupOptions(max_concurrency=4))
    seen = converged(wanted())
    seen = replace(seen, mappings=(replace(seen.mappings[0], state="Disabled"),))
    step = plan(desired, seen).step("mapping")
    assert step is not None and step.action == "update"
    assert {c.attribute for c in step.changes} == {"MaximumConcurrency", "State"}


def test_email_subscription_create_then_unchanged() -> None:
    """An email subscription is created once; a pending one counts as there."""
    desired = wanted(SetupOptions(notify_email="ops@example.com"))
    seen = converged(desired)
    step = plan(desired, seen).step("subscription")
    assert step is not None and step.action == "create"
    assert seen.topic is not None
    pending = Subscription("PendingConfirmation", "email", "OPS@example.com")
    seen = replace(seen, topic=replace(seen.topic, subscriptions=(pending,)))
    step = plan(desired, seen).step("subscription")
    assert step is not None and step.action == "unchanged" and step.note == "pending confirmation"


def test_extra_role_permissions_are_drift() -> None:
    """An inline policy sqsidem did not write is removed (least privilege)."""
    desired = wanted()
    seen = converged(desired)
    assert seen.role is not None
    policies = {**seen.role.policies, "admin": {"Statement": []}}
    seen = replace(seen, role=replace(seen.role, policies=policies))
    step = plan(desired, seen).step("role")
    assert step is not None and step.action == "update"


def test_plan_as_dict_is_json_ready() -> None:
    """The plan serialises with resource, name, action, details per step."""
    data = plan(wanted(), nothing()).as_dict()
    assert data["converged"] is False
    assert data["steps"][0] == {
        "resource": "key",
        "name": "alias/sqsidem-s1",
        "action": "create",
        "details": "",
        "changes": [],
    }


def test_trigger_marker_tag_semantics() -> None:
    """Only sqsidem:trigger=off means "no trigger"; absent or on (any case) means one is wanted."""
    assert trigger_wanted({}) and trigger_wanted({TRIGGER_TAG: "on"})
    assert not trigger_wanted({TRIGGER_TAG: "off"}) and not trigger_wanted({TRIGGER_TAG: " OFF"})
    assert wanted(SetupOptions(trigger=False)).function.tags == {
        "sqsidem:stack": "s1",
        TRIGGER_TAG: "off",
    }
    assert wanted().function.tags == {"sqsidem:stack": "s1"}


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
