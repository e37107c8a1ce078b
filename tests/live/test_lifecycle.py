"""The life cycle on one uniquely named stack: on the shared ministack in every run, and on a
real account with `pytest -m live` (see the README: it costs well under one cent).

setup -> status -> send (a message, its duplicate, a poison message) -> lock COMPLETED ->
duplicate skipped -> poison in the DLQ (+ the alarm reaches the topic, on AWS) -> redrive ->
teardown, always, even on failure; then nothing tagged for the stack may be left.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import sqsidem
from sqsidem.names import StackNames, names_for
from tests.proofs.helpers import FAST_SETUP
from tests.support_live import Target, unique_stack
from tests.waiting import poll, wait_until

PROCESSOR = Path(sqsidem.__file__).parent / "demo" / "demo_processor.py"


def _setup_args() -> tuple[str, ...]:
    return ("setup", "--processor", f"{PROCESSOR}:process", *FAST_SETUP)


def _lock_status(target: Target, names: StackNames, key: str) -> str | None:
    item = target.aws.dynamodb.get_item(
        TableName=names.table, Key={"transaction_id": {"S": key}}, ConsistentRead=True
    ).get("Item")
    return None if item is None else item.get("status", {}).get("S", "COMPLETED")


def _decided(target: Target, names: StackNames, key: str, decision: str) -> bool:
    try:
        pages = target.aws.logs.get_paginator("filter_log_events").paginate(
            logGroupName=names.log_group
        )
        lines = [e["message"] for page in pages for e in page.get("events", [])]
    except ClientError:
        return False
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if record.get("transaction_id") == key and record.get("decision") == decision:
            return True
    return False


def _dlq_depth(target: Target, names: StackNames) -> int:
    url = target.aws.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]
    attributes = target.aws.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _alarm_reached_topic(target: Target, names: StackNames) -> bool:
    history = target.aws.cloudwatch.describe_alarm_history(
        AlarmName=names.alarm, HistoryItemType="Action", MaxRecords=10
    )["AlarmHistoryItems"]
    return any(names.topic in item.get("HistorySummary", "") for item in history)


def _leftovers(target: Target, names: StackNames) -> list[str]:
    """Anything still tagged for the stack (a key pending deletion is expected), and the role."""
    tagging = target.aws.client("resourcegroupstaggingapi")
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": "sqsidem:stack", "Values": [names.stack]}]
    )
    left = []
    for page in pages:
        for item in page.get("ResourceTagMappingList", []):
            arn = item["ResourceARN"]
            if ":kms:" in arn:
                state = target.aws.kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"]
                if state == "PendingDeletion":
                    continue
            left.append(arn)
    try:
        target.aws.iam.get_role(RoleName=names.role)
        left.append(f"role {names.role}")
    except ClientError:
        pass
    return left


@pytest.mark.slow
def test_life_cycle(target: Target, capsys: pytest.CaptureFixture[str]) -> None:
    """The whole life cycle; teardown runs even when a step fails."""
    stack = unique_stack()
    names = names_for(stack)
    try:
        _life_cycle(target, names)
    finally:
        teardown = target.run(stack, "teardown", "--yes", "--force", "--key-pending-days", "7")
        # AWS's tag index lags behind deletions: give it a bounded while to catch up.
        poll(lambda: not _leftovers(target, names), 180 if target.on_aws else 5, interval_s=5)
        left = _leftovers(target, names)
        with capsys.disabled():
            print(f"\nlive life cycle on {target.name}, stack {stack}: estimated cost")
            print("\n".join(target.cost_lines()))
    assert teardown.exit_code == 0, teardown.stderr
    assert left == [], f"left behind: {left}"


def _life_cycle(target: Target, names: StackNames) -> None:
    stack = names.stack
    wait = 300 if target.on_aws else 60
    target.ok(stack, *_setup_args())
    target.ok(stack, "status")
    target.ok(stack, "send", json.dumps({"n": 1}), "--group-id", "g1", "--repeat-key", "k-ok")
    wait_until(lambda: _lock_status(target, names, "k-ok") == "COMPLETED", wait, "the lock")
    target.ok(stack, "send", json.dumps({"n": 2}), "--group-id", "g1", "--repeat-key", "k-ok")
    wait_until(lambda: _decided(target, names, "k-ok", "duplicate"), wait, "a duplicate skip")
    poison = json.dumps({"poison": True})
    target.ok(stack, "send", poison, "--group-id", "poison", "--repeat-key", "k-poison")
    wait_until(lambda: _dlq_depth(target, names) == 1, wait, "the poison in the DLQ")
    listed = target.ok(stack, "-o", "json", "dlq", "list").stdout.splitlines()
    assert [json.loads(line)["key"] for line in listed] == ["k-poison"]
    if target.on_aws:  # emulators never fire alarms
        wait_until(lambda: _alarm_reached_topic(target, names), 600, "the alarm's SNS action")
    target.ok(stack, "dlq", "redrive", "--yes")
    assert _lock_status(target, names, "k-ok") == "COMPLETED"
