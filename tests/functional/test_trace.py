"""trace ID against moto: lock, queue/DLQ position and decision lines as a story."""

from __future__ import annotations

from sqsidem.aws import Aws
from sqsidem.trace import fetch_decisions, trace
from tests.support_dlq import build_stack, dead_letter, put_lock, visible
from tests.support_logs import decision_line, write_logs

NOW_MS = 1_795_900_000_000


def test_trace_tells_the_poison_story(moto_aws: Aws) -> None:
    """Decisions in time order, the DLQ position and the lock become one short story."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "poison", "g1", "d1", key="tx-1")
    dead_letter(moto_aws, stack, "other", "g2", "d2", key="tx-2")
    write_logs(
        moto_aws,
        stack.names.log_group,
        [
            (NOW_MS - 5000, decision_line("acquired", "tx-1", 1)),
            (NOW_MS - 5000, decision_line("failed", "tx-1", 1, "ValueError: bad amount")),
            (NOW_MS - 4000, decision_line("acquired", "tx-10", 1)),
            (NOW_MS - 3000, decision_line("acquired", "tx-1", 2)),
            (NOW_MS - 3000, decision_line("failed", "tx-1", 2, "ValueError: bad amount")),
        ],
    )

    result = trace(moto_aws, stack.names, "tx-1", now_ms=lambda: NOW_MS)

    assert [d.decision for d in result.decisions or []] == ["acquired", "failed"] * 2
    assert [m.body for m in result.in_dlq] == ["poison"]
    assert result.in_queue == [] and result.lock is None
    story = result.story()
    assert story[0].startswith("received 2x")
    assert any(s.startswith("failed 2x") and "ValueError: bad amount" in s for s in story)
    assert any(s.startswith("dead-lettered after the failure") for s in story)
    assert visible(moto_aws, stack.dlq_url) == 2  # looking did not consume
    assert result.as_dict()["decisions"][1]["error"] == "ValueError: bad amount"


def test_trace_completed_lock_and_queued_duplicate(moto_aws: Aws) -> None:
    """A completed lock and a waiting message with the same key (matched by dedup id)."""
    stack = build_stack(moto_aws)
    put_lock(moto_aws, stack, "tx-2", "COMPLETED")
    moto_aws.sqs.send_message(
        QueueUrl=stack.queue_url,
        MessageBody="again",
        MessageGroupId="g",
        MessageDeduplicationId="tx-2",
    )

    result = trace(moto_aws, stack.names, "tx-2", peek_queue=True)

    assert result.lock is not None and result.lock.state == "completed"
    assert [m.body for m in result.in_queue] == ["again"]
    assert result.decisions is None  # no log group yet
    assert "lock is completed" in result.story()
    assert result.found_anything


def test_fetch_decisions_missing_group(moto_aws: Aws) -> None:
    """A missing log group is None, not an error."""
    assert fetch_decisions(moto_aws, "/aws/lambda/none", "x", 0, NOW_MS) is None
