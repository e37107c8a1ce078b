"""The interrupt contract with real SIGINTs to a real `sqsidem` process (README "Interrupting").

The child talks to the shared emulator through a delay proxy, so the work takes long
enough to be interrupted in the middle; the queue and the table are then compared with
what the child printed.
"""

from __future__ import annotations

import json
import re
import time

from sqsidem.aws import Aws
from sqsidem.names import names_for
from tests.backend import Ministack
from tests.netdelay import DelayProxy
from tests.support_interrupt import Child
from tests.support_locks import completed, create_lock_table, put_all
from tests.waiting import wait_until


def _queue(aws: Aws, stack: str) -> str:
    return aws.sqs.create_queue(
        QueueName=names_for(stack).queue,
        Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"},
    )["QueueUrl"]


def _depth(aws: Aws, url: str) -> int:
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _count(aws: Aws, table: str) -> int:
    return sum(
        page["Count"]
        for page in aws.dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
    )


def test_ctrl_c_stops_send_and_the_json_lines_match_the_queue(
    local_aws: Aws, ministack: Ministack, stack_name: str
) -> None:
    """One SIGINT: nothing is sent after it, exit 130, and lines == messages in the queue."""
    url = _queue(local_aws, stack_name)
    with DelayProxy.to_url(ministack.endpoint, round_trip_s=0.02) as proxy:
        child = Child.start(
            proxy.url, stack_name, "send", "--count", "5000", "--concurrency", "2", "-o", "json"
        )
        child.wait_for_lines(40, timeout_s=60)
        child.interrupt()
        code, stderr = child.finish(timeout_s=30)
    assert code == 130, stderr
    results = [json.loads(line) for line in child.stdout]
    sent = len(results)
    assert 40 <= sent < 5000
    assert all(result["ok"] for result in results)
    assert len({result["message_id"] for result in results}) == sent
    assert f"error: interrupted: sent {sent:,} of 5,000" in stderr, stderr
    assert "Traceback" not in stderr
    assert _depth(local_aws, url) == sent


def test_second_ctrl_c_aborts_at_once_without_a_traceback(
    local_aws: Aws, ministack: Ministack, stack_name: str
) -> None:
    """Two SIGINTs: the child leaves before its calls in flight (1.5 s each) could return."""
    _queue(local_aws, stack_name)
    with DelayProxy.to_url(ministack.endpoint, round_trip_s=1.5) as proxy:
        child = Child.start(
            proxy.url, stack_name, "send", "--count", "400", "--concurrency", "4", "-o", "json"
        )
        child.wait_for_lines(1, timeout_s=60)
        child.interrupt()
        # The second press once the first was taken (its calls in flight for 1.5 s).
        child.wait_for_stderr("stopping:", timeout_s=10)
        pressed = time.monotonic()
        child.interrupt()
        code, stderr = child.finish(timeout_s=30)
        took = time.monotonic() - pressed
    assert code == 130, stderr
    assert took < 1.0, f"the second Ctrl-C took {took:.2f} s to end the command"
    assert "Traceback" not in stderr and "error: interrupted" in stderr, stderr


def test_ctrl_c_stops_locks_clear_with_exact_counts(
    local_aws: Aws, ministack: Ministack, stack_name: str
) -> None:
    """One SIGINT mid-clear: the JSON count says exactly how many locks are gone."""
    table = names_for(stack_name).table
    create_lock_table(local_aws.dynamodb, table)
    total = 3000
    put_all(local_aws, [completed(f"k{n:05d}") for n in range(total)], table)
    with DelayProxy.to_url(ministack.endpoint, round_trip_s=0.25) as proxy:
        child = Child.start(proxy.url, stack_name, "locks", "clear", "--all", "--yes", "-o", "json")
        wait_until(lambda: _count(local_aws, table) < total, 60, "the first deletes")
        child.interrupt()
        code, stderr = child.finish(timeout_s=30)
    assert code == 130, stderr
    report = json.loads("".join(child.stdout))
    deleted = report["deleted"]
    assert report["interrupted"] is True and 0 < deleted < total
    assert re.search(rf"error: interrupted: deleted {deleted:,}\b", stderr), stderr
    assert _count(local_aws, table) == total - deleted
