"""What an operator needs, as data: each grant says its actions, its resources and who needs it.

A grant belongs to the narrowest profile that needs it; each profile includes the ones
before it (``read-only`` < ``operate`` < ``setup``). ``aws_only`` marks the checks only AWS
makes (emulators never ask for them): they are reviewed here and by unit tests, and stay out
of the emulator's one-action-at-a-time removal test. ``star_reason`` explains every
``"Resource": "*"``; docs/aws.md lists the same reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Profile = Literal["read-only", "operate", "setup"]
PROFILES: tuple[Profile, ...] = ("read-only", "operate", "setup")


@dataclass(frozen=True)
class Grant:
    sid: str
    profile: Profile
    actions: tuple[str, ...]
    resources: tuple[str, ...]  # resource keys of :class:`Scope`, or "*"
    condition: dict[str, dict[str, str]] = field(default_factory=dict)  # values: Scope keys
    aws_only: bool = False
    star_reason: str | None = None
    why: str = ""


_ON_THE_KEY = {"StringEquals": {"aws:ResourceTag/sqsidem:stack": "stack"}}
_FUNCTION_CONDITION = {"ArnLike": {"lambda:FunctionArn": "function"}}

GRANTS: tuple[Grant, ...] = (
    # -- read-only: status, locks list/show, dlq list, logs, trace, notify list -----------------
    Grant(
        "ReadQueues",
        "read-only",
        ("sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ListQueueTags"),
        ("queue", "dlq"),
        why="find the queues, their depths and tags",
    ),
    Grant(
        "PeekQueues",
        "read-only",
        ("sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"),
        ("queue", "dlq"),
        why="dlq list and trace look at messages and make them visible again at once",
    ),
    Grant(
        "ReadLocks",
        "read-only",
        (
            "dynamodb:DescribeTable",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:ListTagsOfResource",
            "dynamodb:GetItem",
            "dynamodb:Scan",
        ),
        ("table",),
        why="status, locks list/show, the lock states in dlq list and trace",
    ),
    Grant(
        "ReadFunction",
        "read-only",
        ("lambda:GetFunction", "lambda:GetFunctionConfiguration"),
        ("function",),
        why="status, and where logs and trace find the function's log group",
    ),
    Grant(
        "ReadFunctionTags",
        "read-only",
        ("lambda:ListTags",),
        ("function",),
        aws_only=True,
        why="AWS's GetFunction leaves out the tags unless the caller may ListTags",
    ),
    Grant(
        "ListTriggers",
        "read-only",
        ("lambda:ListEventSourceMappings",),
        ("*",),
        star_reason="ListEventSourceMappings has no resource: AWS lists mappings by account",
        why="status finds the trigger",
    ),
    Grant(
        "ReadTrigger",
        "read-only",
        ("lambda:GetEventSourceMapping",),
        ("mappings",),
        condition=_FUNCTION_CONDITION,
        why="teardown follows the trigger's deletion",
    ),
    Grant(
        "ReadRole",
        "read-only",
        (
            "iam:GetRole",
            "iam:GetRolePolicy",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:ListRoleTags",
        ),
        ("role",),
        why="status compares the function role's policies",
    ),
    Grant(
        "ReadLogGroup",
        "read-only",
        ("logs:FilterLogEvents", "logs:ListTagsForResource"),
        ("log_group", "log_group_streams"),
        why="logs and trace read the function's log group",
    ),
    Grant(
        "FindLogGroup",
        "read-only",
        ("logs:DescribeLogGroups",),
        ("*",),
        star_reason="DescribeLogGroups lists the account's log groups (by name prefix): no "
        "single log group is its resource",
        why="status finds the log group and its retention",
    ),
    Grant(
        "ReadTopic",
        "read-only",
        ("sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource"),
        ("topic",),
        why="status and notify list",
    ),
    Grant(
        "ReadAlarm",
        "read-only",
        ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
        ("alarm",),
        why="status shows the DLQ alarm's state",
    ),
    Grant(
        "ReadKey",
        "read-only",
        ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListResourceTags"),
        ("keys",),
        condition=_ON_THE_KEY,
        why="status checks the stack's key (found by its tag: its id is random)",
    ),
    Grant(
        "FindKeys",
        "read-only",
        ("kms:ListKeys",),
        ("*",),
        star_reason="ListKeys has no resource: AWS lists the account's key ids",
        why="setup and teardown find the stack's keys that no alias names (by their tag)",
    ),
    Grant(
        "ReadKeyByAlias",
        "read-only",
        ("kms:DescribeKey",),
        ("alias",),
        why="the key is looked up by its alias",
    ),
    Grant(
        "DecryptMessages",
        "read-only",
        ("kms:Decrypt",),
        ("keys",),
        condition=_ON_THE_KEY,
        aws_only=True,
        why="SQS decrypts received messages with the caller's permission on the key",
    ),
    # -- operate: send, locks clear, dlq redrive/purge, notify test/subscribe -------------------
    Grant(
        "SendMessages",
        "operate",
        ("sqs:SendMessage", "sqs:DeleteMessage"),
        ("queue", "dlq"),
        why="send, and redrive (send to the queue, delete from the DLQ; a move task does "
        "the same as the caller)",
    ),
    Grant(
        "MoveDeadLetters",
        "operate",
        (
            "sqs:StartMessageMoveTask",
            "sqs:ListMessageMoveTasks",
            "sqs:CancelMessageMoveTask",
            "sqs:PurgeQueue",
        ),
        ("dlq",),
        why="dlq redrive (a move task on AWS) and dlq purge",
    ),
    Grant(
        "EncryptMessages",
        "operate",
        ("kms:GenerateDataKey", "kms:Decrypt"),
        ("keys",),
        condition=_ON_THE_KEY,
        aws_only=True,
        why="SQS and SNS encrypt what the caller sends or publishes with the stack's key",
    ),
    Grant(
        "ClearLocks",
        "operate",
        ("dynamodb:DeleteItem", "dynamodb:BatchWriteItem"),
        ("table",),
        why="locks clear and redrive --clear-locks",
    ),
    Grant(
        "Notify",
        "operate",
        ("sns:Publish", "sns:Subscribe"),
        ("topic",),
        why="notify test and notify subscribe",
    ),
    # -- setup: setup and teardown --------------------------------------------------------------
    Grant(
        "BuildQueues",
        "setup",
        ("sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:DeleteQueue"),
        ("queue", "dlq"),
        why="setup and teardown of the queue and its DLQ",
    ),
    Grant(
        "BuildTable",
        "setup",
        (
            "dynamodb:CreateTable",
            "dynamodb:UpdateTable",
            "dynamodb:UpdateTimeToLive",
            "dynamodb:TagResource",
            "dynamodb:DeleteTable",
        ),
        ("table",),
        why="setup and teardown of the lock table",
    ),
    Grant(
        "BuildRole",
        "setup",
        (
            "iam:CreateRole",
            "iam:TagRole",
            "iam:PutRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:DetachRolePolicy",
            "iam:UpdateAssumeRolePolicy",
            "iam:DeleteRole",
        ),
        ("role",),
        why="setup and teardown of the function's role",
    ),
    Grant(
        "PassRoleToLambda",
        "setup",
        ("iam:PassRole",),
        ("role",),
        condition={"StringEquals": {"iam:PassedToService": "lambda_service"}},
        aws_only=True,
        why="CreateFunction hands the role to Lambda",
    ),
    Grant(
        "BuildFunction",
        "setup",
        (
            "lambda:CreateFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:TagResource",
            "lambda:UntagResource",
            "lambda:DeleteFunction",
        ),
        ("function",),
        why="setup and teardown of the function",
    ),
    Grant(
        "CreateTrigger",
        "setup",
        ("lambda:CreateEventSourceMapping",),
        ("*",),
        condition=_FUNCTION_CONDITION,
        star_reason="a new mapping has no ARN yet (its id is a UUID AWS assigns): the "
        "lambda:FunctionArn condition limits it to the stack's function",
        why="setup creates the trigger",
    ),
    Grant(
        "ChangeTrigger",
        "setup",
        ("lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"),
        ("mappings",),
        condition=_FUNCTION_CONDITION,
        why="setup --no-trigger, teardown",
    ),
    Grant(
        "BuildLogGroup",
        "setup",
        (
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:TagResource",
            "logs:DeleteLogGroup",
        ),
        ("log_group", "log_group_streams"),
        why="setup and teardown of the log group",
    ),
    Grant(
        "BuildTopic",
        "setup",
        (
            "sns:CreateTopic",
            "sns:SetTopicAttributes",
            "sns:TagResource",
            "sns:Unsubscribe",
            "sns:DeleteTopic",
        ),
        ("topic",),
        why="setup and teardown of the alert topic",
    ),
    Grant(
        "BuildAlarm",
        "setup",
        ("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:DeleteAlarms"),
        ("alarm",),
        why="setup and teardown of the DLQ alarm",
    ),
    Grant(
        "CreateKey",
        "setup",
        ("kms:CreateKey",),
        ("*",),
        condition={"StringEquals": {"aws:RequestTag/sqsidem:stack": "stack"}},
        star_reason="CreateKey names no key (the key does not exist yet); the "
        "aws:RequestTag condition lets it create only keys tagged for this stack",
        why="setup creates the stack's key, tagged as it is created",
    ),
    Grant(
        "TagNewKey",
        "setup",
        ("kms:TagResource",),
        ("*",),
        condition={"StringEquals": {"aws:RequestTag/sqsidem:stack": "stack"}},
        aws_only=True,
        star_reason="the tags of CreateKey are authorized as kms:TagResource on the key being "
        "created, which has no ARN yet; the aws:RequestTag condition limits it to this stack",
        why="AWS checks kms:TagResource for the tags CreateKey carries",
    ),
    Grant(
        "ManageKey",
        "setup",
        (
            "kms:PutKeyPolicy",
            "kms:UntagResource",
            "kms:CreateAlias",
            "kms:UpdateAlias",
            "kms:DeleteAlias",
            "kms:ScheduleKeyDeletion",
        ),
        ("keys",),
        condition=_ON_THE_KEY,
        why="setup and teardown of the key (only keys tagged for this stack)",
    ),
    Grant(
        "ManageAlias",
        "setup",
        ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"),
        ("alias",),
        why="an alias call needs the alias and the key (ManageKey)",
    ),
)


def grants_for(profile: Profile) -> list[Grant]:
    upto = PROFILES[: PROFILES.index(profile) + 1]
    return [grant for grant in GRANTS if grant.profile in upto]


def aws_only_actions() -> list[tuple[str, str]]:
    """(sid, action) for every check only AWS makes: the reviewed list."""
    return [(g.sid, a) for g in GRANTS if g.aws_only for a in g.actions]


def star_reasons() -> dict[str, str]:
    """Every action granted on "*", with the reason."""
    return {a: g.star_reason or "" for g in GRANTS if "*" in g.resources for a in g.actions}
