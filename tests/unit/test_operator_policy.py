"""`sqsidem policy` as data: scoped to the stack, reasons for every *, the AWS-only list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sqsidem.cli.app import app
from sqsidem.names import names_for
from sqsidem.policy import PROFILES, Scope, compact_size, operator_policy
from sqsidem.policy.grants import GRANTS, aws_only_actions, grants_for, star_reasons

SCOPE = Scope(names_for("s1"), "111122223333", "eu-west-1", "aws")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "aws.md"


def _actions(document: dict[str, Any]) -> set[str]:
    return {a for statement in document["Statement"] for a in statement["Action"]}


def _resources(statement: dict[str, Any]) -> list[str]:
    value = statement["Resource"]
    return [value] if isinstance(value, str) else list(value)


def test_aws_only_checks_are_the_reviewed_list() -> None:
    """What only AWS checks (no emulator proves it): reviewed here, by name and reason."""
    assert sorted(aws_only_actions()) == [
        ("DecryptMessages", "kms:Decrypt"),
        ("EncryptMessages", "kms:Decrypt"),
        ("EncryptMessages", "kms:GenerateDataKey"),
        ("PassRoleToLambda", "iam:PassRole"),
        ("ReadFunctionTags", "lambda:ListTags"),
        ("TagNewKey", "kms:TagResource"),
    ]
    (pass_role,) = [g for g in GRANTS if g.sid == "PassRoleToLambda"]
    assert pass_role.resources == ("role",)
    assert pass_role.condition == {"StringEquals": {"iam:PassedToService": "lambda_service"}}


def test_every_star_has_a_reason_and_is_in_the_guide() -> None:
    """The remaining * are the ones AWS allows nothing else for, each explained in docs/aws.md."""
    reasons = star_reasons()
    assert sorted(reasons) == [
        "kms:CreateKey",
        "kms:ListKeys",
        "kms:TagResource",
        "lambda:CreateEventSourceMapping",
        "lambda:ListEventSourceMappings",
        "logs:DescribeLogGroups",
    ]
    guide = DOCS.read_text(encoding="utf-8")
    for action, reason in reasons.items():
        assert reason, action
        assert f"`{action}`" in guide, f"{action} not explained in docs/aws.md"


def test_every_resource_is_the_stacks_own() -> None:
    """Each ARN names this stack's resource in this account, region and partition."""
    cn = Scope(names_for("s1"), "111122223333", "cn-north-1", "aws-cn")
    document = operator_policy(cn, "setup")
    for statement in document["Statement"]:
        for resource in _resources(statement):
            if resource == "*":
                continue
            assert resource.startswith("arn:aws-cn:"), resource
            assert ":111122223333:" in resource, resource
            shared = resource.endswith((":key/*", ":event-source-mapping:*"))
            assert "s1" in resource or shared, resource
            if resource.endswith(":key/*") or resource.endswith("event-source-mapping:*"):
                assert "Condition" in statement, statement["Sid"]  # tag or function scoped


def test_profiles_nest_and_fit_iams_size_limits() -> None:
    """read-only < operate < setup; the biggest fits a managed policy (6,144 characters)."""
    sets = [_actions(operator_policy(SCOPE, profile)) for profile in PROFILES]
    assert sets[0] < sets[1] < sets[2]
    assert "sqs:SendMessage" not in sets[0] and "sqs:CreateQueue" not in sets[1]
    assert compact_size(operator_policy(SCOPE, "setup")) < 6144
    assert len(grants_for("setup")) == len(GRANTS)


def test_read_only_writes_nothing_but_message_visibility() -> None:
    """read-only may only receive and make visible again (the peek), never send or delete."""
    actions = _actions(operator_policy(SCOPE, "read-only"))
    writes = {a for a in actions if a.split(":")[1].startswith(("Create", "Delete", "Put", "Send"))}
    assert writes == set()


def test_cli_prints_json_for_another_account_without_any_call() -> None:
    """--account: no credentials needed; the partition follows the region."""
    result = CliRunner().invoke(
        app, ["--region", "cn-north-1", "policy", "--for", "operate", "--account", "111122223333"]
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    queue = next(s for s in document["Statement"] if s["Sid"] == "ReadQueues")
    assert _resources(queue) == [
        "arn:aws-cn:sqs:cn-north-1:111122223333:test-queue.fifo",
        "arn:aws-cn:sqs:cn-north-1:111122223333:test-queue-dlq.fifo",
    ]
    assert "create-policy" in result.stderr


@pytest.mark.parametrize("account", ["12345", "abcdefghijkl"])
def test_a_bad_account_is_a_usage_error(account: str) -> None:
    result = CliRunner().invoke(app, ["--region", "eu-west-1", "policy", "--account", account])
    assert result.exit_code == 2
    assert "12 digits" in result.stderr
