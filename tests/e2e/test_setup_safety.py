"""Setup against itself and Ctrl-C for setup and teardown, with real `sqsidem` processes on
ministack (issue 13, item 5 and the interrupt contract): nothing leaks, nothing doubles."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sqsidem.aws import Aws
from sqsidem.names import names_for
from tests.backend import Ministack
from tests.netdelay import DelayProxy
from tests.support_interrupt import Child
from tests.support_locks import in_progress, put_all
from tests.support_stack import gone, leftovers, live_stack_keys
from tests.waiting import wait_until

NOTHING = dict.fromkeys(("keys", "queues", "tables", "roles", "functions", "mappings"), 0)
STEPS = re.compile(r"error: interrupted: (\d+) of (\d+) steps done; not done: (.+)")


def _run(ministack: Ministack, stack: str, *args: str) -> tuple[int, str]:
    return Child.start(ministack.endpoint, stack, *args).finish(timeout_s=120)


def _interrupted_once(
    ministack: Ministack, stack: str, args: tuple[str, ...], ready: Callable[[], bool], what: str
) -> dict[str, Any]:
    """`sqsidem -o json ARGS` through a slow link, one SIGINT once ``ready()``: exit 130, the
    "N of M steps done" line with 1 <= N < M, and the JSON object, which says the same."""
    with DelayProxy.to_url(ministack.endpoint, round_trip_s=0.05) as proxy:
        child = Child.start(proxy.url, stack, "-o", "json", *args)
        wait_until(ready, 60, what)
        child.interrupt()
        code, stderr = child.finish(timeout_s=60)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    said = STEPS.search(stderr)
    assert said is not None, stderr
    done, total = int(said.group(1)), int(said.group(2))
    assert 1 <= done < total, stderr
    shown = json.loads("".join(child.stdout))
    assert shown["interrupted"] is True
    assert len(shown["not_done"]) == total - done
    listed = [f"{item['resource']} {item['name']}" for item in shown["not_done"]]
    assert said.group(3) == ", ".join(listed)
    return shown


def test_two_setups_at_once_converge_or_fail_clearly_and_leak_nothing(
    local_aws: Aws, ministack: Ministack, stack_name: str
) -> None:
    """Two real processes set up one stack at once; teardown then leaves nothing at all."""
    runs = [Child.start(ministack.endpoint, stack_name, "setup") for _ in range(2)]
    results = [run.finish(timeout_s=120) for run in runs]
    assert any(code == 0 for code, _ in results), results
    for code, stderr in results:
        if code != 0:  # the loser says why, on one line, and what to do
            errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
            assert code == 1 and len(errors) == 1, stderr
            assert "another setup" in errors[0] and "run setup again" in errors[0], stderr
        assert "Traceback" not in stderr
    assert len(live_stack_keys(local_aws, stack_name)) == 1
    assert _run(ministack, stack_name, "setup")[0] == 0

    code, stderr = _run(ministack, stack_name, "teardown", "--yes", "--force")
    assert code == 0, stderr
    assert leftovers(local_aws, stack_name) == NOTHING


def test_ctrl_c_stops_setup_and_teardown_after_the_step_in_flight(
    local_aws: Aws, ministack: Ministack, stack_name: str
) -> None:
    """SIGINT once the key exists: exit 130, N of M steps said; the re-run makes no second key.
    The same for teardown once the alarm is gone; its re-run leaves nothing."""
    names = names_for(stack_name)
    shown = _interrupted_once(
        ministack,
        stack_name,
        ("setup",),
        lambda: not gone(lambda: local_aws.kms.describe_key(KeyId=names.key_alias)),
        "setup to alias the key",
    )
    assert shown["applied"][0]["resource"] == "key"
    assert gone(lambda: local_aws.lambda_.get_function(FunctionName=names.function))
    code, stderr = _run(ministack, stack_name, "setup")
    assert code == 0, stderr
    assert "creating key" not in stderr  # the key of the interrupted run is the stack's key
    assert len(live_stack_keys(local_aws, stack_name)) == 1

    _hold_work(local_aws, stack_name)
    code, stderr = _run(ministack, stack_name, "teardown", "--yes")
    assert code == 1, stderr
    error = stderr.strip().splitlines()[-1]
    assert f"2 message(s) in {names.dlq}" in error and "1 in-progress lock(s)" in error, error
    assert "--force" in error

    shown = _interrupted_once(
        ministack,
        stack_name,
        ("teardown", "--yes", "--force"),
        lambda: not local_aws.cloudwatch.describe_alarms(AlarmNames=[names.alarm])["MetricAlarms"],
        "teardown to delete the alarm",
    )
    assert shown["deleted"][0]["resource"] == "alarm"
    assert not gone(lambda: local_aws.sqs.get_queue_url(QueueName=names.queue))
    assert shown["contents"]["dlq_messages"] == 2
    code, stderr = _run(ministack, stack_name, "teardown", "--yes", "--force")
    assert code == 0, stderr
    assert leftovers(local_aws, stack_name) == NOTHING


def _hold_work(aws: Aws, stack: str) -> None:
    """Two dead letters and a lock in progress: what teardown must not destroy unasked."""
    names = names_for(stack)
    url = aws.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]
    for n in range(2):
        aws.sqs.send_message(
            QueueUrl=url, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId=f"d{n}"
        )
    put_all(aws, [in_progress("busy", 600)], names.table)
