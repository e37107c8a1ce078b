"""send / locks / logs against the embedded backend (ministack).

The stack's queue and table are created here with plain calls, and the lock records and
decision lines the deployed function would write are written by the test, so these
commands are exercised on a real emulator independently of `setup`.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.logtail import follow_events
from sqsidem.names import StackNames, names_for
from tests.support_locks import create_lock_table

runner = CliRunner()


def _resources(aws: Aws, names: StackNames) -> str:
    url = aws.sqs.create_queue(
        QueueName=names.queue,
        Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"},
    )["QueueUrl"]
    create_lock_table(aws.dynamodb, names.table)
    return url


def _cli(stack: str, *args: str) -> Any:
    return runner.invoke(app, ["--local", "--stack", stack, *args])


def _complete_lock(aws: Aws, table: str, key: str, message_id: str, group: str) -> None:
    t = time.time_ns() // 1_000_000
    aws.dynamodb.put_item(
        TableName=table,
        Item={
            "transaction_id": {"S": key},
            "status": {"S": "COMPLETED"},
            "owner": {"S": f"owner-{key}"},
            "message_id": {"S": message_id},
            "group_id": {"S": group},
            "receive_count": {"N": "1"},
            "first_seen_ms": {"N": str(t - 50)},
            "completed_ms": {"N": str(t)},
            "in_progress_expiration": {"N": str(t + 3000)},
            "expiration": {"N": str(t // 1000 + 86400)},
        },
    )


def test_send_then_locks_and_logs(local_aws: Aws, stack_name: str) -> None:
    """send --count 20 lands 20 keyed messages; locks list/show/clear and logs work on them."""
    names = names_for(stack_name)
    url = _resources(local_aws, names)

    sent = _cli(stack_name, "send", "--count", "20", "--groups", "3", "-o", "json")
    assert sent.exit_code == 0, sent.output
    results = [json.loads(line) for line in sent.stdout.splitlines()]
    assert len(results) == 20 and all(r["ok"] and r["message_id"] for r in results)
    assert json.loads(sent.stderr)["api_calls"] == 3  # three groups -> three lanes of 7/7/6

    received: dict[str, Any] = {}
    deadline = time.monotonic() + 10
    while len(received) < 20 and time.monotonic() < deadline:
        for message in local_aws.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            received[message["MessageId"]] = message
            # FIFO holds back a group while one of its messages is in flight.
            local_aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert len(received) == 20
    keys = {m["MessageAttributes"]["sqsidem-key"]["StringValue"] for m in received.values()}
    assert keys == {r["key"] for r in results}

    # What the deployed consumer would write: a COMPLETED lock per message ...
    for r in results:
        _complete_lock(local_aws, names.table, r["key"], r["message_id"], r["group_id"])
    listed = _cli(stack_name, "locks", "list", "--status", "completed", "-o", "json")
    assert listed.exit_code == 0, listed.output
    assert len(listed.stdout.splitlines()) == 20
    assert json.loads(listed.stderr)["completed"] == 20
    one = results[0]["key"]
    shown = _cli(stack_name, "locks", "show", one)
    assert (
        shown.exit_code == 0 and "completed" in shown.stdout and "expires in 24 h" in shown.stdout
    )

    # ... and its decision lines, all stamped with one time as ministack does.
    local_aws.logs.create_log_group(logGroupName=names.log_group)
    local_aws.logs.create_log_stream(logGroupName=names.log_group, logStreamName="inv-1")
    t = time.time_ns() // 1_000_000
    decisions = [
        {"sqsidem": 1, "decision": d, "transaction_id": r["key"], "error": None}
        for r in results[:3]
        for d in ("acquired", "completed")
    ]
    local_aws.logs.put_log_events(
        logGroupName=names.log_group,
        logStreamName="inv-1",
        logEvents=[{"timestamp": t, "message": json.dumps(d)} for d in decisions],
    )
    logs = _cli(stack_name, "logs", "--transaction", one, "-o", "json")
    assert logs.exit_code == 0, logs.output
    seen = [json.loads(line)["decision"]["decision"] for line in logs.stdout.splitlines()]
    assert seen == ["acquired", "completed"]

    cleared = _cli(stack_name, "locks", "clear", "--all", "--yes", "-o", "json")
    assert cleared.exit_code == 0, cleared.output
    assert json.loads(cleared.stdout)["deleted"] == 20
    assert local_aws.dynamodb.scan(TableName=names.table)["Count"] == 0


def test_follow_on_ministack_keeps_same_millisecond_events(local_aws: Aws, stack_name: str) -> None:
    """Following the emulator's logs: events sharing a timestamp each appear once."""
    group = names_for(stack_name).log_group
    local_aws.logs.create_log_group(logGroupName=group)
    local_aws.logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = time.time_ns() // 1_000_000

    def put(*messages: str) -> None:
        local_aws.logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": t, "message": m} for m in messages],
        )

    put("a", "b")
    later = [lambda: put("c", "d"), lambda: put("e")]
    stop = threading.Event()

    def sleep(_: float) -> None:
        if later:
            later.pop(0)()
        else:
            stop.set()

    got = [
        e.message
        for e in follow_events(local_aws.logs, group, start_ms=t - 1, stop=stop, sleep=sleep)
    ]
    assert sorted(got) == ["a", "b", "c", "d", "e"]
