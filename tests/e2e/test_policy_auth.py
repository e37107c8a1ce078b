"""`sqsidem policy` on a ministack that enforces IAM (AUTH=true): enough, and nothing extra.

Sufficiency: an IAM user holding only the printed policy runs the whole life cycle, and each
narrower profile runs its own commands. Minimality: with one action taken away, the command
that needs it fails with "access denied: <action> on <resource>". Checks only AWS makes
(iam:PassRole, the KMS calls SQS makes for the caller), the batch calls the emulator checks
under their own names (tests/support_policy.py) and the few calls it cannot decide
(NOT_ON_THE_EMULATOR) stay out of the removal test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import names_for
from sqsidem.policy.grants import aws_only_actions
from sqsidem.settings import Settings
from tests.backend import REGION, Ministack, running_ministack, without_aws
from tests.support_policy import BATCH_NAMES, allowance_statement
from tests.waiting import wait_until

FAST = ("--timeout", "2", "--visibility-timeout", "4", "--max-receive-count", "2")
EMAIL = ("--notify-email", "ops@example.com")
USER = "operator"
# Removing these proves nothing on the emulator: AWS-only checks, and the single calls whose
# batch form the emulator checks under the batch's own name. (An action of the emulator's
# allowance is taken away from the allowance too: the command must then fail.)
NOT_REMOVABLE = (
    {action for _, action in aws_only_actions()} | set(BATCH_NAMES) | set(BATCH_NAMES.values())
)


@dataclass
class AuthBackend:
    endpoint: str
    root: Aws  # test/test: the emulator's root
    key_id: str
    secret: str


@pytest.fixture(scope="module")
def auth_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthBackend]:
    """A ministack of our own with AUTH=true, and one IAM user with no policy yet."""
    root_dir = tmp_path_factory.mktemp("ministack-policy")
    with running_ministack(root_dir, without_aws(AUTH="true")) as backend:
        yield _with_user(backend)


def _with_user(backend: Ministack) -> AuthBackend:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")  # the root's session reads these
    root = Aws(Settings(local=True, region=REGION), endpoint_url=backend.endpoint)
    root.iam.create_user(UserName=USER)
    key = root.iam.create_access_key(UserName=USER)["AccessKey"]
    return AuthBackend(backend.endpoint, root, key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture
def operator(auth_backend: AuthBackend, monkeypatch: pytest.MonkeyPatch) -> AuthBackend:
    """The CLI runs as the IAM user (its keys in the environment)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", auth_backend.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", auth_backend.secret)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return auth_backend


def run(backend: AuthBackend, stack: str, *args: str) -> Result:
    argv = ["--endpoint-url", backend.endpoint, "--stack", stack, *args]
    return CliRunner().invoke(app, argv)


def ok(backend: AuthBackend, stack: str, *args: str) -> Result:
    result = run(backend, stack, *args)
    assert result.exit_code == 0, f"{args}: {result.stderr}"
    return result


def printed_policy(backend: AuthBackend, stack: str, profile: str) -> dict[str, Any]:
    """What `sqsidem policy` prints (run as the user: it needs no permission)."""
    document: dict[str, Any] = json.loads(ok(backend, stack, "policy", "--for", profile).stdout)
    return document


def hold_only(backend: AuthBackend, document: dict[str, Any], *, but: Collection[str] = ()) -> None:
    """The user's one policy: the given document plus the emulator's allowance (``but`` one)."""
    statements = [*document["Statement"], allowance_statement(but=but)]
    full = {"Version": document["Version"], "Statement": statements}
    backend.root.iam.put_user_policy(
        UserName=USER, PolicyName="sqsidem", PolicyDocument=json.dumps(full)
    )


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    statements = []
    for statement in document["Statement"]:
        actions = [a for a in statement["Action"] if a != action]
        if actions:
            statements.append({**statement, "Action": actions})
    return {"Version": document["Version"], "Statement": statements}


def dead_letter(backend: AuthBackend, stack: str, key: str) -> None:
    """A message in the DLQ, put there as root."""
    sqs = backend.root.sqs
    url = sqs.get_queue_url(QueueName=names_for(stack).dlq)["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody="poison",
        MessageGroupId="g",
        MessageDeduplicationId=key,
        MessageAttributes={"sqsidem-key": {"DataType": "String", "StringValue": key}},
    )


def wait_for_lock(backend: AuthBackend, stack: str, key: str) -> None:
    table = names_for(stack).table

    def completed() -> bool:
        item = backend.root.dynamodb.get_item(
            TableName=table, Key={"transaction_id": {"S": key}}, ConsistentRead=True
        ).get("Item")
        return item is not None and item.get("status", {}).get("S") == "COMPLETED"

    wait_until(completed, 30, f"the lock of {key} to complete")


@pytest.mark.slow
def test_the_printed_policies_are_enough(operator: AuthBackend) -> None:
    """The life cycle as the user: setup's policy for all of it, and each narrower profile
    for its own commands."""
    stack = "polok"
    hold_only(operator, printed_policy(operator, stack, "setup"))
    ok(operator, stack, "setup", *FAST, *EMAIL)
    ok(operator, stack, "status")
    ok(operator, stack, "send", "hello", "--group-id", "g1", "--repeat-key", "k1")
    wait_for_lock(operator, stack, "k1")
    dead_letter(operator, stack, "k2")

    hold_only(operator, printed_policy(operator, stack, "read-only"))
    for args in (
        ("status",),
        ("logs", "--since", "10m"),
        ("locks", "list"),
        ("locks", "show", "k1"),
        ("dlq", "list"),
        ("trace", "k1"),
        ("notify", "list"),
    ):
        ok(operator, stack, *args)

    hold_only(operator, printed_policy(operator, stack, "operate"))
    for args in (
        ("send", "again", "--group-id", "g2"),
        ("locks", "clear", "k1", "--yes"),
        ("locks", "clear", "--all", "--yes", "--force"),
        ("dlq", "redrive", "--yes"),
        ("dlq", "purge", "--yes"),
        ("notify", "test"),
        ("notify", "subscribe", "second@example.com"),
    ):
        ok(operator, stack, *args)

    hold_only(operator, printed_policy(operator, stack, "setup"))
    ok(operator, stack, "setup", *FAST, *EMAIL, "--no-trigger")
    ok(operator, stack, "teardown", "--yes", "--force")
    assert not operator.root.sqs.list_queues(QueueNamePrefix=stack).get("QueueUrls")


def _denied(
    backend: AuthBackend, stack: str, full: dict[str, Any], action: str, args: Sequence[str]
) -> None:
    hold_only(backend, without(full, action), but={action})
    result = run(backend, stack, *args)
    assert result.exit_code == 1, f"without {action}, {args} passed"
    line = " ".join(result.stderr.split())
    scoped = any(
        action in statement["Action"] and statement["Resource"] != "*"
        for statement in full["Statement"]
    )
    expected = f"access denied: {action} on " if scoped else f"access denied: {action}"
    # A bulk command reports the first failed item in its summary, in AWS's words.
    bulk = f"not authorized to perform: {action}" if args[0] == "locks" else expected
    assert expected in line or bulk in line, f"without {action}: {line}"


# The command that needs each action, on a stack that is up with one dead letter.
READ_AND_OPERATE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sqs:GetQueueUrl", ("dlq", "list")),
    ("sqs:GetQueueAttributes", ("dlq", "list")),
    ("sqs:ListQueueTags", ("status",)),
    ("sqs:ReceiveMessage", ("dlq", "list")),
    ("dynamodb:DescribeTable", ("locks", "list")),
    ("dynamodb:Scan", ("locks", "list")),
    ("dynamodb:GetItem", ("locks", "show", "k1")),
    ("dynamodb:DescribeTimeToLive", ("status",)),
    ("lambda:GetFunction", ("status",)),
    ("lambda:GetFunctionConfiguration", ("logs", "--since", "1m")),
    ("lambda:ListEventSourceMappings", ("status",)),
    ("iam:GetRole", ("status",)),
    ("iam:ListRolePolicies", ("status",)),
    ("iam:GetRolePolicy", ("status",)),
    ("iam:ListAttachedRolePolicies", ("status",)),
    ("iam:ListRoleTags", ("status",)),
    ("logs:DescribeLogGroups", ("status",)),
    ("logs:ListTagsForResource", ("status",)),
    ("logs:FilterLogEvents", ("logs", "--since", "1m")),
    ("sns:GetTopicAttributes", ("notify", "list")),
    ("sns:ListSubscriptionsByTopic", ("notify", "list")),
    ("kms:DescribeKey", ("status",)),
    ("kms:GetKeyPolicy", ("status",)),
    ("kms:ListResourceTags", ("status",)),
    ("dynamodb:ListTagsOfResource", ("status",)),
    ("sns:ListTagsForResource", ("status",)),
    ("cloudwatch:DescribeAlarms", ("status",)),
    ("cloudwatch:ListTagsForResource", ("status",)),
    ("sns:Publish", ("notify", "test")),
    ("sns:Subscribe", ("notify", "subscribe", "more@example.com")),
    ("sqs:PurgeQueue", ("dlq", "purge", "--yes")),
    ("dynamodb:DeleteItem", ("locks", "clear", "k2", "--yes", "--force")),
    ("dynamodb:BatchWriteItem", ("locks", "clear", "--all", "--yes", "--force")),
)
# setup's creations in the order it makes them: each run builds up to the missing action.
CREATIONS = (
    "kms:ListKeys",  # a stack without its alias looks for a key an interrupted run left
    "kms:CreateKey",
    "kms:CreateAlias",
    "kms:UntagResource",  # the new key is aliased: no longer pending
    "sqs:CreateQueue",
    "dynamodb:CreateTable",
    "dynamodb:UpdateTimeToLive",
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "lambda:CreateFunction",
    "lambda:CreateEventSourceMapping",
    "sns:CreateTopic",
    "sns:Subscribe",
    "cloudwatch:PutMetricAlarm",
)


@pytest.mark.slow
def test_each_action_is_needed(operator: AuthBackend) -> None:
    """Take one action away: the command that needs it names it and its resource."""
    stack = "polmin"
    full = printed_policy(operator, stack, "setup")
    for action in CREATIONS:
        _denied(operator, stack, full, action, ("setup", *FAST, *EMAIL))
    hold_only(operator, full)
    ok(operator, stack, "setup", *FAST, *EMAIL)
    table = names_for(stack).table
    operator.root.dynamodb.put_item(
        TableName=table, Item={"transaction_id": {"S": "k1"}, "status": {"S": "COMPLETED"}}
    )
    live = {"status": {"S": "IN_PROGRESS"}, "in_progress_expiration": {"N": "4102444800000"}}
    operator.root.dynamodb.put_item(TableName=table, Item={"transaction_id": {"S": "k2"}, **live})
    for action, args in READ_AND_OPERATE:
        dead_letter(operator, stack, f"d-{action}")
        _denied(operator, stack, full, action, args)
    drifted = _update_paths(operator, stack, full)
    listed = {a for s in full["Statement"] for a in s["Action"]}
    covered = set(CREATIONS) | {action for action, _ in READ_AND_OPERATE} | drifted
    assert listed - covered - NOT_REMOVABLE == PROVEN_BY_UPDATES_AND_TEARDOWN


def _update_paths(backend: AuthBackend, stack: str, full: dict[str, Any]) -> set[str]:
    """setup's update calls: change the stack (as root, or by an option), take the action away."""
    names, root = names_for(stack), backend.root
    setup = ("setup", *FAST, *EMAIL)
    _denied(backend, stack, full, "sqs:SetQueueAttributes", (*setup, "--visibility-timeout", "5"))
    _denied(backend, stack, full, "lambda:UpdateFunctionConfiguration", (*setup, "--memory", "256"))
    key_id = root.kms.describe_key(KeyId=names.key_alias)["KeyMetadata"]["KeyId"]
    policy = json.loads(root.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    root.kms.put_key_policy(
        KeyId=key_id, PolicyName="default", Policy=json.dumps({**policy, "Id": "changed"})
    )
    _denied(backend, stack, full, "kms:PutKeyPolicy", setup)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    root.iam.update_assume_role_policy(RoleName=names.role, PolicyDocument=json.dumps(trust))
    _denied(backend, stack, full, "iam:UpdateAssumeRolePolicy", setup)
    root.sqs.untag_queue(
        QueueUrl=root.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"],
        TagKeys=["sqsidem:stack"],
    )
    _denied(backend, stack, full, "sqs:TagQueue", (*setup, "--adopt"))
    return {
        "sqs:SetQueueAttributes",
        "lambda:UpdateFunctionConfiguration",
        "kms:PutKeyPolicy",
        "iam:UpdateAssumeRolePolicy",
        "sqs:TagQueue",
    }


# Actions only setup's update paths (drift, --adopt, --no-trigger), teardown, or a real move
# task use: test_update_and_teardown_actions_are_needed takes each away.
PROVEN_BY_UPDATES_AND_TEARDOWN = {
    "cloudwatch:DeleteAlarms",
    "kms:DeleteAlias",
    "sns:Unsubscribe",
    "sqs:StartMessageMoveTask",
    "cloudwatch:TagResource",
    "dynamodb:DeleteTable",
    "dynamodb:TagResource",
    "dynamodb:UpdateTable",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:TagRole",
    "kms:ScheduleKeyDeletion",
    "kms:UpdateAlias",
    "lambda:DeleteEventSourceMapping",
    "lambda:DeleteFunction",
    "lambda:GetEventSourceMapping",
    "lambda:TagResource",
    "lambda:UntagResource",
    "lambda:UpdateEventSourceMapping",
    "lambda:UpdateFunctionCode",
    "logs:DeleteLogGroup",
    "logs:TagResource",
    "sns:DeleteTopic",
    "sns:SetTopicAttributes",
    "sns:TagResource",
    "sqs:CancelMessageMoveTask",
    "sqs:DeleteQueue",
    "sqs:ListMessageMoveTasks",
}


@pytest.mark.slow
def test_update_and_teardown_actions_are_needed(operator: AuthBackend, tmp_path: Path) -> None:
    """setup's other update paths, then teardown one call at a time: each names its action."""
    stack = "polupd"
    full = printed_policy(operator, stack, "setup")
    hold_only(operator, full)
    setup = ("setup", *FAST, *EMAIL)
    ok(operator, stack, *setup)
    covered = _adopt_paths(operator, stack, full, setup)
    covered |= _drift_paths(operator, stack, full, setup, tmp_path)
    covered |= _teardown_calls(operator, stack, full)
    assert covered >= PROVEN_BY_UPDATES_AND_TEARDOWN - set(NOT_ON_THE_EMULATOR)


def _adopt_paths(
    backend: AuthBackend, stack: str, full: dict[str, Any], setup: Sequence[str]
) -> set[str]:
    """A resource that lost the stack's tag: `setup --adopt` tags it, and needs the action."""
    names, root = names_for(stack), backend.root
    tag = ["sqsidem:stack"]
    table_arn = root.dynamodb.describe_table(TableName=names.table)["Table"]["TableArn"]
    function_arn = root.lambda_.get_function(FunctionName=names.function)["Configuration"][
        "FunctionArn"
    ]
    group = root.logs.describe_log_groups(logGroupNamePrefix=names.log_group)["logGroups"][0]
    topic_arn = root.sns.create_topic(Name=names.topic)["TopicArn"]  # idempotent: its ARN
    alarms = root.cloudwatch.describe_alarms(AlarmNamePrefix=names.alarm)["MetricAlarms"]
    untag = {
        "dynamodb:TagResource": lambda: root.dynamodb.untag_resource(
            ResourceArn=table_arn, TagKeys=tag
        ),
        "iam:TagRole": lambda: root.iam.untag_role(RoleName=names.role, TagKeys=tag),
        "lambda:TagResource": lambda: root.lambda_.untag_resource(
            Resource=function_arn, TagKeys=tag
        ),
        "logs:TagResource": lambda: root.logs.untag_resource(
            resourceArn=group["arn"].removesuffix(":*"), tagKeys=tag
        ),
        "sns:TagResource": lambda: root.sns.untag_resource(ResourceArn=topic_arn, TagKeys=tag),
        "cloudwatch:TagResource": lambda: root.cloudwatch.untag_resource(
            ResourceARN=alarms[0]["AlarmArn"], TagKeys=tag
        ),
    }
    for action, take_tag_away in untag.items():
        take_tag_away()
        _denied(backend, stack, full, action, (*setup, "--adopt"))
        hold_only(backend, full)
        ok(backend, stack, *setup, "--adopt")
    return set(untag)


def _drift_paths(
    backend: AuthBackend,
    stack: str,
    full: dict[str, Any],
    setup: Sequence[str],
    tmp_path: Path,
) -> set[str]:
    """Each remaining update call of setup, reached by a drift (made as root) or an option."""
    names, root = names_for(stack), backend.root
    covered: set[str] = set()

    def needs(action: str, args: Sequence[str], drift: Any = None) -> None:
        if drift is not None:
            drift()
        _denied(backend, stack, full, action, args)
        hold_only(backend, full)
        ok(backend, stack, *args)
        covered.add(action)

    topic_arn = root.sns.create_topic(Name=names.topic)["TopicArn"]
    needs(
        "sns:SetTopicAttributes",
        setup,
        lambda: root.sns.set_topic_attributes(
            TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns"
        ),
    )
    needs(
        "dynamodb:UpdateTable",
        setup,
        lambda: root.dynamodb.update_table(
            TableName=names.table,
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        ),
    )
    processor = tmp_path / "other.py"
    processor.write_text("def process(record):\n    return None\n")
    needs("lambda:UpdateFunctionCode", (*setup, "--processor", f"{processor}:process"))
    # --no-trigger records the choice on the function; --trigger drops that record.
    ok(backend, stack, *setup, "--no-trigger")
    needs("lambda:UntagResource", (*setup, "--trigger"))
    key_id = root.kms.describe_key(KeyId=names.key_alias)["KeyMetadata"]["KeyId"]
    needs("kms:UpdateAlias", setup, lambda: root.kms.disable_key(KeyId=key_id))
    return covered


def _teardown_calls(backend: AuthBackend, stack: str, full: dict[str, Any]) -> set[str]:
    """Teardown's calls in order. Round n takes away the n-th action and every later one, so
    nothing past it is deleted yet; teardown's first failure must name the n-th action."""
    from sqsidem.stack.teardown import plan_teardown

    names, root = names_for(stack), backend.root
    arn = root.iam.create_policy(
        PolicyName=f"{stack}-attached", PolicyDocument=json.dumps(_NOTHING)
    )["Policy"]["Arn"]
    root.iam.attach_role_policy(RoleName=names.role, PolicyArn=arn)  # for DetachRolePolicy
    order: list[str] = []
    for item in plan_teardown(root, names).to_delete:
        for call in item.calls:
            action = f"{call.service.rstrip('_')}:{call.operation}"
            if action not in order and action not in NOT_REMOVABLE | set(NOT_ON_THE_EMULATOR):
                order.append(action)
    for index, action in enumerate(order):
        hold_only(backend, _without_all(full, order[index:]), but=order[index:])
        result = run(backend, stack, "teardown", "--yes")
        assert result.exit_code == 1, f"without {action}, teardown passed"
        line = " ".join(result.stderr.split())
        assert f"not authorized to perform: {action}" in line or (
            f"access denied: {action}" in line
        ), f"without {action}: {line}"
    hold_only(backend, full)
    ok(backend, stack, "teardown", "--yes")
    assert not root.sqs.list_queues(QueueNamePrefix=stack).get("QueueUrls")
    return set(order)


_NOTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "sqs:PurgeQueue", "Resource": "*"}],
}


def _without_all(document: dict[str, Any], actions: Sequence[str]) -> dict[str, Any]:
    for action in actions:
        document = without(document, action)
    return document


# Where the emulator cannot tell: each is exercised by the life cycle and the live suite.
NOT_ON_THE_EMULATOR = {
    "sqs:StartMessageMoveTask": "the emulator has no move task (its redrive falls back to a copy)",
    "sqs:ListMessageMoveTasks": "the emulator has no move task",
    "sqs:CancelMessageMoveTask": "the emulator has no move task",
    "lambda:UpdateEventSourceMapping": "the emulator checks no action on PUT of a mapping",
    "lambda:DeleteEventSourceMapping": "the emulator checks no action on DELETE of a mapping",
    "lambda:GetEventSourceMapping": "the emulator checks GET of a mapping as its List call",
}
