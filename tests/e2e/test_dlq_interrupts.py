"""A copying `dlq redrive` interrupted between send and delete doubles nothing (ministack).

ministack drops a FIFO send whose dedup id it saw in the last 5 minutes, in SendMessageBatch
too, and answers it as a success with the first copy's message id, as SQS does; moto answers
with a new message id. So these run on ministack. The child talks to it through a delay
proxy: the send's answer and the delete each take half a round trip, which is the window the
SIGINTs land in, found by watching the source queue from outside the proxy.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.dlq.link import find_link
from sqsidem.dlq.peek import approximate_total
from sqsidem.dlq.redrive import redrive
from tests.backend import Ministack
from tests.netdelay import DelayProxy
from tests.support_dlq import Stack, build_stack, dead_letter, drain, visible
from tests.support_interrupt import Child
from tests.waiting import wait_until

COUNT = 15


def _dead_letters(aws: Aws, stack: Stack) -> list[str]:
    bodies = [f"b{n:02d}" for n in range(COUNT)]
    for n, body in enumerate(bodies):
        dead_letter(aws, stack, body, f"g{n % 3}", f"d{n}", key=f"k{n}")
    return bodies


def _held(aws: Aws, url: str) -> int:
    """Visible + in flight + delayed: every message the queue holds."""
    return approximate_total(aws.sqs, url)


def _bodies(messages: list[dict[str, Any]]) -> list[str]:
    return sorted(message["Body"] for message in messages)


def _interrupt_after_the_first_send(aws: Aws, stack: Stack, child: Child, presses: int) -> None:
    """SIGINT(s) as soon as the first copies are in the source queue, before their delete."""
    wait_until(lambda: _held(aws, stack.queue_url) > 0, 60, "the first copies", interval_s=0.01)
    for press in range(presses):
        if press:
            time.sleep(0.05)  # two presses of Ctrl-C, a twentieth of a second apart
        child.interrupt()


def test_a_copy_sent_again_after_a_lost_delete_is_dropped(local_aws: Aws, stack_name: str) -> None:
    """The first run's delete fails after its send; the re-run sends the same copies again:
    SQS drops them by their dedup id, so each message is in the source queue once."""
    stack = build_stack(local_aws, stack_name)
    bodies = _dead_letters(local_aws, stack)
    link = find_link(local_aws, stack.names)

    def lose(**_: object) -> None:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, "DeleteMessage")

    local_aws.sqs.meta.events.register("before-call.sqs.DeleteMessageBatch", lose)
    with pytest.raises(ClientError):
        redrive(local_aws, link)
    local_aws.sqs.meta.events.unregister("before-call.sqs.DeleteMessageBatch", lose)
    sent = _held(local_aws, stack.queue_url)
    assert sent > 0 and _held(local_aws, stack.dlq_url) == COUNT  # in both queues now

    result = redrive(local_aws, link)

    assert result.ok and result.moved == COUNT
    assert _bodies(drain(local_aws, stack.queue_url)) == bodies


def test_first_ctrl_c_between_send_and_delete_finishes_the_batch(
    local_aws: Aws, ministack: Ministack, stack_name: str
) -> None:
    """One SIGINT after a send: its delete still runs, nothing more is sent, exit 130, and the
    JSON count is what the source queue holds; every message is in exactly one queue."""
    stack = build_stack(local_aws, stack_name)
    bodies = _dead_letters(local_aws, stack)
    with DelayProxy.to_url(ministack.endpoint, round_trip_s=0.3) as proxy:
        child = Child.start(proxy.url, stack_name, "dlq", "redrive", "--yes", "-o", "json")
        _interrupt_after_the_first_send(local_aws, stack, child, presses=1)
        code, stderr = child.finish(timeout_s=60)
    assert code == 130, stderr
    report = json.loads("".join(child.stdout))
    moved = report["moved"]
    assert report["interrupted"] is True and report["total"] == COUNT and 0 < moved < COUNT
    assert f"error: interrupted: redriven {moved} of {COUNT}" in stderr, stderr
    assert "Traceback" not in stderr
    in_source = drain(local_aws, stack.queue_url)
    left = drain(local_aws, stack.dlq_url)  # released: visible again at once
    assert len(in_source) == moved and len(left) == COUNT - moved
    assert _bodies(in_source + left) == bodies


def test_abort_between_send_and_delete_then_rerun_converges(
    local_aws: Aws, ministack: Ministack, stack_name: str
) -> None:
    """Two SIGINTs after a send abort before its delete: the copies are in both queues. A
    re-run, once the hold is over, sends them again with the same dedup ids: SQS drops them,
    so each message ends in the source queue exactly once and the DLQ is empty."""
    stack = build_stack(local_aws, stack_name)
    bodies = _dead_letters(local_aws, stack)
    args = ("dlq", "redrive", "--yes", "--hold", "2", "-o", "json")
    with DelayProxy.to_url(ministack.endpoint, round_trip_s=0.6) as proxy:
        child = Child.start(proxy.url, stack_name, *args)
        _interrupt_after_the_first_send(local_aws, stack, child, presses=2)
        code, stderr = child.finish(timeout_s=30)
    assert code == 130 and "Traceback" not in stderr, stderr
    assert _held(local_aws, stack.queue_url) > 0
    assert _held(local_aws, stack.dlq_url) == COUNT  # copied, not deleted: in both queues

    wait_until(lambda: visible(local_aws, stack.dlq_url) == COUNT, 10, "the end of the hold")
    rerun = Child.start(ministack.endpoint, stack_name, *args)
    code, stderr = rerun.finish(timeout_s=60)

    assert code == 0, stderr
    assert json.loads("".join(rerun.stdout))["moved"] == COUNT
    assert _bodies(drain(local_aws, stack.queue_url)) == bodies
    assert _held(local_aws, stack.dlq_url) == 0
