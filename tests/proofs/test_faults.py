"""Fault injection (issue 8.2): throttling, partial batch failures and connection resets.

Faults come from botocore event handlers on the clients the CLI builds (moto answers the
rest) and from the loopback proxy of tests/netdelay.py in front of ministack, which resets a
TCP connection once some bytes have crossed it. Each test then counts what really is in the
queue or table and holds the command's own summary against it: retried or reported per
item, nothing lost, nothing silently dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from sqsidem.aws import Aws, ClientHook
from sqsidem.locks.delete import execute_clear
from sqsidem.locks.model import make_lock
from sqsidem.locks.plan import ClearPlan
from sqsidem.names import names_for
from tests.backend import Ministack
from tests.netdelay import DelayProxy, Fault
from tests.proofs.helpers import (
    count_items,
    drain_keys,
    error_response,
    key_attribute,
    queue_total,
    run_cli,
    with_handlers,
)

STACK = "faults"


def _make_table(aws: Aws, table: str, keys: list[str]) -> None:
    aws.dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for key in keys:
        aws.dynamodb.put_item(
            TableName=table,
            Item={"transaction_id": {"S": key}, "status": {"S": "COMPLETED"}},
        )


@pytest.fixture
def moto_locks(moto_aws: Aws) -> Iterator[Aws]:
    _make_table(moto_aws, names_for(STACK).table, [f"tx-{n:03d}" for n in range(60)])
    yield moto_aws


# -- DynamoDB: throttling and UnprocessedItems on `locks clear` ------------------------------


def test_locks_clear_survives_throttling_and_unprocessed_items(moto_locks: Aws) -> None:
    """Two throttled BatchWriteItem calls (retried by the client) and two answers that leave
    7 deletes unprocessed (resent by sqsidem): all 60 gone, and the summary says 60."""
    faults = {"throttled": 0, "unprocessed": 0}

    def throttle(request: Any, **_: Any) -> Any:
        if faults["throttled"] < 2:
            faults["throttled"] += 1
            return error_response(
                request, 400, "ProvisionedThroughputExceededException", "injected throttling"
            )
        return None

    def hold_back(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        for table, requests in params["RequestItems"].items():
            if faults["unprocessed"] < 2 and len(requests) == 25:
                faults["unprocessed"] += 1
                context["held"] = {table: requests[-7:]}
                params["RequestItems"][table] = requests[:-7]

    def report_held(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if "held" in context:
            parsed["UnprocessedItems"] = context["held"]

    hook = with_handlers(
        ("before-send.dynamodb.BatchWriteItem", throttle),
        ("before-parameter-build.dynamodb.BatchWriteItem", hold_back),
        ("after-call.dynamodb.BatchWriteItem", report_held),
    )
    result = run_cli(
        ["--stack", STACK, "-o", "json", "locks", "clear", "--all", "--yes"], on_client=hook
    )
    assert result.exit_code == 0, result.stderr
    assert faults == {"throttled": 2, "unprocessed": 2}
    summary = json.loads(result.stdout)
    assert summary["deleted"] == 60 and summary["failed"] == 0
    assert summary["batch_write_calls"] == 3 + 2  # 3 chunks of <= 25, plus 2 resends
    assert count_items(moto_locks, names_for(STACK).table) == 0


def test_locks_clear_reports_deletes_that_stay_unprocessed(moto_locks: Aws) -> None:
    """DynamoDB never takes 3 of the deletes: they are counted failed, not dropped, and
    exactly those 3 records are still in the table."""
    table = names_for(STACK).table
    stubborn = {"tx-005", "tx-030", "tx-059"}

    def refuse(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        requests = params["RequestItems"][table]
        kept = [
            r for r in requests if r["DeleteRequest"]["Key"]["transaction_id"]["S"] not in stubborn
        ]
        context["held"] = {table: [r for r in requests if r not in kept]}
        # A batch must not be empty: a delete of a key that never existed changes nothing.
        filler = {"DeleteRequest": {"Key": {"transaction_id": {"S": "no-such-lock"}}}}
        params["RequestItems"][table] = kept or [filler]

    def report_held(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if context.get("held", {}).get(table):
            parsed["UnprocessedItems"] = context["held"]

    client = moto_locks.dynamodb
    client.meta.events.register("before-parameter-build.dynamodb.BatchWriteItem", refuse)
    client.meta.events.register("after-call.dynamodb.BatchWriteItem", report_held)
    locks = [
        make_lock({"transaction_id": f"tx-{n:03d}", "status": "COMPLETED"}, 0) for n in range(60)
    ]
    result = execute_clear(
        client, table, ClearPlan(batch=locks), sleep=lambda _s: None, max_attempts=4
    )
    assert (result.deleted, result.failed) == (57, 3)
    assert result.errors and "unprocessed" in result.errors[0]
    left = {item["transaction_id"]["S"] for item in client.scan(TableName=table)["Items"]}
    assert left == stubborn


# -- SQS: partial batch failures and throttling on `send` -------------------------------------


@pytest.fixture
def moto_queue(moto_aws: Aws) -> str:
    return moto_aws.sqs.create_queue(
        QueueName=names_for(STACK).queue, Attributes={"FifoQueue": "true"}
    )["QueueUrl"]


def _entry_key(entry: dict[str, Any]) -> str:
    return str(entry["MessageAttributes"]["sqsidem-key"]["StringValue"])


def _partial_failures(
    *, transient: int, permanent_key: str | None
) -> tuple[dict[str, int], ClientHook]:
    """SendMessageBatch answers: the first ``transient`` calls drop their last 3 entries as
    InternalError (retryable); ``permanent_key`` always fails as the sender's fault; one call
    is throttled outright."""
    seen = {"transient": 0, "throttled": 0}

    def throttle(request: Any, **_: Any) -> Any:
        if seen["throttled"] == 0:
            seen["throttled"] += 1
            return error_response(request, 400, "ThrottlingException", "injected throttling")
        return None

    def drop(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        entries = params["Entries"]
        failed = [e for e in entries if _entry_key(e) == permanent_key]
        context["permanent"] = [e["Id"] for e in failed]
        rest = [e for e in entries if e not in failed]
        if seen["transient"] < transient and len(rest) > 3:
            seen["transient"] += 1
            context["transient"] = [e["Id"] for e in rest[-3:]]
            rest = rest[:-3]
        params["Entries"] = rest

    def answer(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        failed = parsed.setdefault("Failed", [])
        for ident in context.get("transient", []):
            failed.append(
                {"Id": ident, "SenderFault": False, "Code": "InternalError", "Message": "injected"}
            )
        for ident in context.get("permanent", []):
            failed.append(
                {
                    "Id": ident,
                    "SenderFault": True,
                    "Code": "InvalidParameterValue",
                    "Message": "injected",
                }
            )

    hook = with_handlers(
        ("before-send.sqs.SendMessageBatch", throttle),
        ("before-parameter-build.sqs.SendMessageBatch", drop),
        ("after-call.sqs.SendMessageBatch", answer),
    )
    return seen, hook


def _jsonl(tmp_path: Any, count: int) -> tuple[str, list[str]]:
    keys = [f"key-{n:03d}" for n in range(count)]
    path = tmp_path / "m.jsonl"
    path.write_text(
        "".join(
            json.dumps({"body": f"b{n}", "group_id": f"g{n % 7}", "key": k}) + "\n"
            for n, k in enumerate(keys)
        ),
        encoding="utf-8",
    )
    return str(path), keys


def test_send_retries_partial_batch_failures_and_throttling(
    moto_aws: Aws, moto_queue: str, tmp_path: Any
) -> None:
    seen, hook = _partial_failures(transient=4, permanent_key=None)
    path, keys = _jsonl(tmp_path, 95)
    result = run_cli(
        ["--stack", STACK, "send", "--file", path, "--concurrency", "3"], on_client=hook
    )
    assert result.exit_code == 0, result.stderr
    assert seen == {"transient": 4, "throttled": 1}
    assert "sent 95 of 95 message(s)" in result.stderr
    assert sorted(drain_keys(moto_aws, moto_queue)) == keys  # each once, none lost


def test_send_reports_the_message_that_cannot_be_sent(
    moto_aws: Aws, moto_queue: str, tmp_path: Any
) -> None:
    _, hook = _partial_failures(transient=2, permanent_key="key-042")
    path, keys = _jsonl(tmp_path, 95)
    result = run_cli(["--stack", STACK, "-o", "json", "send", "--file", path], on_client=hook)
    assert result.exit_code == 1, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 95
    assert [r["key"] for r in rows if not r["ok"]] == ["key-042"]
    summary = json.loads(result.stderr.splitlines()[0])
    assert (summary["sent"], summary["failed"]) == (94, 1)
    assert result.stderr.splitlines()[-1].startswith("error: 1 of 95 message(s) failed")
    assert sorted(drain_keys(moto_aws, moto_queue)) == [k for k in keys if k != "key-042"]


# -- connection resets through the loopback proxy, on ministack ---------------------------------


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")


def _through(proxy: DelayProxy, stack: str, *args: str) -> Any:
    return run_cli(["--endpoint-url", proxy.url, "--stack", stack, *args])


@pytest.mark.parametrize("after_bytes", [9_000, 40_000])
def test_send_through_a_connection_reset(
    local_aws: Aws,
    ministack: Ministack,
    stack_name: str,
    proxy_env: None,
    tmp_path: Any,
    after_bytes: int,
) -> None:
    """The reset hits one SendMessageBatch; the client resends it with the same dedup ids, so
    the queue holds each message exactly once and the summary says so."""
    stack = f"{stack_name}-{after_bytes}"
    url = local_aws.sqs.create_queue(
        QueueName=names_for(stack).queue, Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    path, keys = _jsonl(tmp_path, 150)
    with DelayProxy.to_url(
        ministack.endpoint, round_trip_s=0.0, faults=(Fault(connection=1, after_bytes=after_bytes),)
    ) as proxy:
        result = _through(proxy, stack, "send", "--file", path, "--concurrency", "1")
    assert proxy.stats.resets == 1, "the fault did not fire"
    assert result.exit_code == 0, result.stderr
    assert "sent 150 of 150 message(s)" in result.stderr
    assert sorted(drain_keys(local_aws, url)) == keys


def test_locks_clear_through_a_connection_reset(
    local_aws: Aws, ministack: Ministack, stack_name: str, proxy_env: None
) -> None:
    table = names_for(stack_name).table
    _make_table(local_aws, table, [f"tx-{n:03d}" for n in range(120)])
    with DelayProxy.to_url(
        ministack.endpoint, round_trip_s=0.0, faults=(Fault(connection=1, after_bytes=3_000),)
    ) as proxy:
        result = _through(proxy, stack_name, "-o", "json", "locks", "clear", "--all", "--yes")
    assert proxy.stats.resets == 1, "the fault did not fire"
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["deleted"], summary["failed"]) == (120, 0)
    assert count_items(local_aws, table) == 0


@pytest.mark.parametrize("after_bytes", [16_000, 40_000])
def test_dlq_redrive_through_a_connection_reset(
    local_aws: Aws, ministack: Ministack, stack_name: str, proxy_env: None, after_bytes: int
) -> None:
    """Whatever call the reset hits, every message ends in the source queue or (reported)
    still in the DLQ; none is lost, and `moved N` is what the source queue holds."""
    names = names_for(f"{stack_name}-{after_bytes}")
    sqs = local_aws.sqs
    dlq = sqs.create_queue(QueueName=names.dlq, Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    source = sqs.create_queue(
        QueueName=names.queue,
        Attributes={
            "FifoQueue": "true",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    keys = [f"dead-{n:02d}" for n in range(40)]
    for n, key in enumerate(keys):
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=f"b{n}",
            MessageGroupId=f"g{n % 4}",
            MessageDeduplicationId=key,
            MessageAttributes=key_attribute(key),
        )
    with DelayProxy.to_url(
        ministack.endpoint, round_trip_s=0.0, faults=(Fault(connection=1, after_bytes=after_bytes),)
    ) as proxy:
        result = _through(proxy, names.stack, "dlq", "redrive", "--yes")
    assert proxy.stats.resets == 1, "the fault did not fire"
    moved_keys = drain_keys(local_aws, source)
    assert len(moved_keys) == len(set(moved_keys)), "a message was moved twice"
    left = queue_total(local_aws, dlq)
    shown = f"exit {result.exit_code}, {left} left in the DLQ: {result.stderr}"
    if result.exit_code == 0:
        match = re.search(r"(\d+) message\(s\) moved back", result.stderr)
        assert match is not None, shown
        # Success must mean all of them: no message may be left behind unreported.
        assert int(match.group(1)) == len(moved_keys) == len(keys), shown
        assert left == 0, shown
    else:
        assert result.exit_code == 1, shown
        assert len(moved_keys) + left == len(keys), "a message was lost: " + shown
        assert str(left) in result.stderr, shown
