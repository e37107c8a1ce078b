"""`setup`, `status`, `teardown` as a person sees them: output, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, ["--stack", "c1", *args])


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--batch-size", "11"], "--batch-size must be 1..10"),
        (["--timeout", "10", "--visibility-timeout", "5"], "below the function timeout"),
        (["--max-receive-count", "0"], "--max-receive-count must be 1..1000"),
        (["--timeout", "901"], "--timeout must be 1..900"),
        (["--memory", "64"], "--memory must be 128..10240"),
        (["--max-concurrency", "1"], "--max-concurrency must be 2..1000"),
        (["--notify-email", "nobody"], "is not an email address"),
        (["--key", "header:x"], "is not a key source"),
        (["--lock-ttl", "soon"], "invalid --lock-ttl"),
        (["--processor", "missing.py:handle"], "cannot read --processor file"),
        (["--log-retention-days", "13"], "not a CloudWatch Logs value"),
    ],
)
def test_setup_rejects_before_any_aws_call(args: list[str], fragment: str) -> None:
    """Exit 2 with one line; no credentials are configured, so an AWS call would exit 1."""
    result = run("setup", "--dry-run", *args)
    assert result.exit_code == 2, result.stderr
    assert fragment in one_error_line(result)


def test_processor_without_the_function(tmp_path: Path) -> None:
    """A processor file that does not define the function: exit 2, says which."""
    source = tmp_path / "p.py"
    source.write_text("def other(record):\n    pass\n")
    result = run("setup", "--processor", f"{source}:handle")
    assert result.exit_code == 2
    assert "no top-level function 'handle'" in one_error_line(result)


def test_dry_run_json_lists_every_resource_as_create(moto_aws: Aws) -> None:
    """--dry-run -o json: one JSON plan, all create, warnings on stderr only."""
    result = run("-o", "json", "setup", "--dry-run", "--timeout", "2", "--visibility-timeout", "4")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["dry_run"] is True and plan["converged"] is False
    assert {step["action"] for step in plan["steps"]} == {"create"}
    assert {step["resource"] for step in plan["steps"]} >= {"key", "queue", "function", "alarm"}
    assert "warning: visibility timeout 4s" in result.stderr
    assert moto_aws.sqs.list_queues().get("QueueUrls", []) == []


def test_dry_run_table(moto_aws: Aws) -> None:
    """Human dry run: a table with resource, name, action, details; the names are shown."""
    result = run("setup", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "c1-queue.fifo" in result.stdout and "Idempotent-c1" in result.stdout
    assert "action" in result.stdout and "create" in result.stdout
    assert "dry run: nothing changed" in result.stderr


def test_setup_twice_then_status_then_teardown(moto_aws: Aws) -> None:
    """The whole cycle through the CLI with its exit codes and messages."""
    first = run("setup")
    assert first.exit_code == 0, first.stderr
    assert "creating queue c1-queue.fifo" in first.stderr
    second = run("setup")
    assert second.exit_code == 0
    assert "up to date: no changes made" in second.stderr

    status = run("-o", "json", "status")
    assert status.exit_code == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["ok"] is True
    assert {r["state"] for r in report["resources"]} == {"exists"}

    refused = run("teardown")
    assert refused.exit_code == 2
    assert "--yes" in one_error_line(refused)

    down = run("-o", "json", "teardown", "--yes")
    assert down.exit_code == 0, down.stderr
    assert len(json.loads(down.stdout)["deleted"]) == 10

    missing = run("status")
    assert missing.exit_code == 1
    assert "missing" in missing.stdout
    assert "not as set up" in one_error_line(missing)


def test_setup_refuses_untagged_resources(moto_aws: Aws) -> None:
    """Hand-built resource with our name: exit 1, one line naming it and --adopt."""
    moto_aws.dynamodb.create_table(
        TableName="Idempotent-c1",
        AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    result = run("setup")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "table Idempotent-c1" in line and "--adopt" in line
    adopted = run("setup", "--adopt")
    assert adopted.exit_code == 0, adopted.stderr
    assert "adopting table Idempotent-c1" in adopted.stderr


def test_teardown_key_window_is_validated() -> None:
    """--key-pending-days outside 7..30: exit 2 before any AWS call."""
    result = run("teardown", "--yes", "--key-pending-days", "3")
    assert result.exit_code == 2
    assert "7..30" in one_error_line(result)


def test_no_trigger_stack_status_and_toggling(moto_aws: Aws) -> None:
    """setup --no-trigger: status exit 0, mapping "not wanted"; toggling explains itself."""
    first = run("setup", "--no-trigger")
    assert first.exit_code == 0, first.stderr
    assert "mapping" not in first.stderr

    status = run("status")
    assert status.exit_code == 0, status.stdout + status.stderr
    assert "not-wanted" in status.stdout and "--no-trigger" in status.stdout
    assert "trigger    not wanted (--no-trigger)" in status.stdout
    report = json.loads(run("-o", "json", "status").stdout)
    assert report["ok"] is True and report["mapping"]["wanted"] is False
    rows = {r["resource"]: r["state"] for r in report["resources"]}
    assert rows["mapping"] == "not-wanted"

    kept = run("setup")  # a bare setup keeps what the stack was set up with
    assert kept.exit_code == 0 and "kept from the last setup: --no-trigger" in kept.stderr
    on = run("setup", "--trigger")
    assert on.exit_code == 0, on.stderr
    assert "updating function c1-sqs-receive" in on.stderr
    assert "creating mapping c1-queue.fifo -> c1-sqs-receive" in on.stderr

    back = run("-o", "json", "setup", "--no-trigger", "--dry-run")
    assert back.exit_code == 0, back.stderr
    steps = {s["resource"]: s for s in json.loads(back.stdout)["steps"]}
    assert steps["function"]["action"] == "update"
    assert "sqsidem:trigger" in steps["function"]["details"]
    assert steps["mapping"]["action"] == "unchanged"
    assert "teardown" in steps["mapping"]["details"]
    off = run("setup", "--no-trigger")
    assert off.exit_code == 0, off.stderr
    assert run("status").exit_code == 0
    again = run("setup", "--no-trigger")  # converged, yet the kept trigger is worth a warning
    assert again.exit_code == 0, again.stderr
    assert "no changes made" in again.stderr
    assert "warning: trigger c1-queue.fifo -> c1-sqs-receive kept" in again.stderr


def test_dry_run_json_lists_the_calls_apply_will_make(moto_aws: Aws) -> None:
    """Per step, the mutating calls in order, with parameters; the new key is a reference."""
    result = run("-o", "json", "setup", "--dry-run")
    assert result.exit_code == 0, result.stderr
    steps = json.loads(result.stdout)["steps"]
    assert all(step["calls"] for step in steps)
    ids = [call["id"] for step in steps for call in step["calls"]]
    assert len(ids) == len(set(ids))
    assert steps[0]["calls"][1] == {
        "id": "kms.CreateAlias#1",
        "service": "kms",
        "operation": "CreateAlias",
        "params": {
            "AliasName": "alias/sqsidem-c1",
            "TargetKeyId": {"ref": "kms.CreateKey#1", "path": "KeyMetadata.KeyId"},
        },
    }
    log_group = next(step for step in steps if step["resource"] == "log_group")
    assert log_group["calls"] == [
        {
            "id": "logs.CreateLogGroup#1",
            "service": "logs",
            "operation": "CreateLogGroup",
            "params": {
                "logGroupName": "/aws/lambda/c1-sqs-receive",
                "tags": {"sqsidem:stack": "c1"},
            },
        },
        {
            "id": "logs.PutRetentionPolicy#1",
            "service": "logs",
            "operation": "PutRetentionPolicy",
            "params": {"logGroupName": "/aws/lambda/c1-sqs-receive", "retentionInDays": 14},
        },
    ]


def test_human_dry_run_shows_each_call_on_its_own_line(moto_aws: Aws) -> None:
    """Under the plan table: each step, then its calls with every parameter."""
    result = run("setup", "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    at = lines.index("calls setup would make, in order:")
    assert lines[at + 1] == "  key alias/sqsidem-c1"
    assert lines[at + 3] == (
        '    kms.CreateAlias#1  AliasName="alias/sqsidem-c1" '
        'TargetKeyId={"ref":"kms.CreateKey#1","path":"KeyMetadata.KeyId"}'
    )
    assert (
        '    logs.PutRetentionPolicy#1  logGroupName="/aws/lambda/c1-sqs-receive" '
        "retentionInDays=14"
    ) in lines


def test_converged_dry_run_lists_no_calls_and_teardown_goes_in_reverse(moto_aws: Aws) -> None:
    """After setup: a dry run has nothing to call; teardown walks the kinds backwards."""
    assert run("setup").exit_code == 0
    dry = run("setup", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "calls setup would make" not in dry.stdout
    down = run("-o", "json", "teardown", "--yes")
    assert down.exit_code == 0, down.stderr
    kinds = [item["resource"] for item in json.loads(down.stdout)["items"]]
    assert kinds == [
        "alarm",
        "topic",
        "mapping",
        "function",
        "role",
        "log_group",
        "table",
        "queue",
        "dlq",
        "key",
    ]
