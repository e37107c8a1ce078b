"""Least privilege: every generated IAM statement names one ARN and only the listed actions."""

from __future__ import annotations

from typing import Any

from sqsidem.build.zipfile import FunctionZip
from sqsidem.names import names_for
from sqsidem.stack import iam_policy
from sqsidem.stack.desired import build
from sqsidem.stack.inputs import Refs
from sqsidem.stack.kms_key import KEY
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.role import ROLE

EXPECTED = {
    "sqsidem-queue": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
    "sqsidem-key": {"kms:Decrypt"},
    "sqsidem-table": {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
    },
    "sqsidem-logs": {"logs:CreateLogStream", "logs:PutLogEvents"},
}


def role_policies(account: str = "123456789012", region: str = "ap-northeast-1") -> Any:
    refs = Refs(account, region, "aws", key_arn=f"arn:aws:kms:{region}:{account}:key/k-1")
    desired = build(names_for("s1"), SetupOptions(), refs, FunctionZip(b"", ()))
    role = ROLE.wanted_in(desired)
    assert role is not None
    return role.policies


def test_every_statement_has_one_arn_and_only_listed_actions() -> None:
    """One Resource string per statement, Allow only, actions exactly as in DESIGN 3."""
    policies = role_policies()
    assert set(policies) == set(EXPECTED)
    for name, document in policies.items():
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow"
            assert isinstance(statement["Resource"], str), name
            assert statement["Resource"].startswith("arn:aws:")
            assert set(statement["Action"]) == EXPECTED[name]
            assert set(statement["Action"]) <= iam_policy.ALLOWED_ACTIONS
            assert "NotAction" not in statement and "NotResource" not in statement


def test_only_the_log_stream_arn_has_a_wildcard() -> None:
    """The one permitted '*': the function's log streams; no wildcard action either."""
    policies = role_policies()
    wildcards = [
        s["Resource"] for d in policies.values() for s in d["Statement"] if "*" in s["Resource"]
    ]
    assert wildcards == [
        "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/s1-sqs-receive:*"
    ]
    actions = [a for d in policies.values() for s in d["Statement"] for a in s["Action"]]
    assert not [a for a in actions if "*" in a]


def test_arns_come_from_the_account_and_region() -> None:
    """Never a hard-coded account: the ARNs follow the caller's account and region."""
    policies = role_policies("000000000000", "us-east-1")
    resources = {d["Statement"][0]["Resource"] for d in policies.values()}
    assert resources == {
        "arn:aws:sqs:us-east-1:000000000000:s1-queue.fifo",
        "arn:aws:kms:us-east-1:000000000000:key/k-1",
        "arn:aws:dynamodb:us-east-1:000000000000:table/Idempotent-s1",
        "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/s1-sqs-receive:*",
    }


def test_trust_policy_is_lambda_only() -> None:
    """Only Lambda may assume the role."""
    trust = iam_policy.lambda_trust_policy()
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"


def key_policy(account: str = "123456789012", region: str = "ap-northeast-1") -> Any:
    refs = Refs(account, region, "aws")
    desired = build(names_for("s1"), SetupOptions(), refs, FunctionZip(b"", ()))
    key = KEY.wanted_in(desired)
    assert key is not None
    return key.policy


def test_key_policy_root_admin_and_service_use() -> None:
    """The account administers the key; SNS and CloudWatch may only use it."""
    admin, sns, cloudwatch = key_policy()["Statement"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert sns["Principal"] == {"Service": "sns.amazonaws.com"}
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    for use in (sns, cloudwatch):
        assert set(use["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}


def test_key_policy_services_act_only_for_this_accounts_topic_and_alarm() -> None:
    """Confused deputy: SNS and CloudWatch may use the key only for the stack's own topic
    and alarm in this account (aws:SourceAccount and aws:SourceArn)."""
    _, sns, cloudwatch = key_policy("111122223333", "eu-west-1")["Statement"]
    assert sns["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:sns:eu-west-1:111122223333:s1-dlq-alerts"},
    }
    assert cloudwatch["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {
            "aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:s1-dlq-not-empty"
        },
    }


def test_normalize_ignores_aws_reserialisation() -> None:
    """A one-element list vs a string, or a URL-encoded document, is not drift."""
    document = {"Version": "2012-10-17", "Statement": [{"Action": ["a:B"], "Resource": "r"}]}
    same = {"Statement": [{"Resource": ["r"], "Action": "a:B"}], "Version": "2012-10-17"}
    assert iam_policy.normalize(document) == iam_policy.normalize(same)
    encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
    assert iam_policy.normalize(encoded) == {"Statement": [], "Version": "2012-10-17"}


def test_effect_tables_one_statement_each_and_read_back() -> None:
    """Each effects table gets one statement on its own ARN; status reads the names back."""
    policies = iam_policy.function_policies(
        queue_arn="arn:aws:sqs:r:1:q.fifo",
        key_arn="arn:aws:kms:r:1:key/k",
        table_arn="arn:aws:dynamodb:r:1:table/Idempotent-s",
        log_streams_arn="arn:aws:logs:r:1:log-group:/aws/lambda/f:*",
        effect_table_arns=("arn:aws:dynamodb:r:1:table/b", "arn:aws:dynamodb:r:1:table/a"),
    )
    effects = policies[iam_policy.EFFECTS_POLICY]["Statement"]
    assert [s["Resource"] for s in effects] == [
        "arn:aws:dynamodb:r:1:table/a",
        "arn:aws:dynamodb:r:1:table/b",
    ]
    assert all("*" not in s["Resource"] for s in effects)
    assert iam_policy.effect_tables_of(policies) == ("a", "b")
    assert iam_policy.effect_tables_of({}) == ()
