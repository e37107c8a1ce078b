"""DLQ list / redrive / purge against moto."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from sqsidem.aws import Aws
from sqsidem.dlq.link import find_link
from sqsidem.dlq.listing import list_dlq
from sqsidem.dlq.move_task import cancel_move_task, move_task_timeout_s, wait_for_move_task
from sqsidem.dlq.purge import count_dlq, purge_dlq
from sqsidem.dlq.redrive import plan_redrive, redrive, release_locks
from sqsidem.errors import SqsidemError
from sqsidem.retry import Pacing
from tests.support_dlq import build_stack, dead_letter, drain, put_lock, visible


def test_list_shows_messages_and_leaves_them_visible(moto_aws: Aws) -> None:
    """dlq list returns every message with its key's lock state and leaves all visible."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "a" * 200, "g1", "d1", key="k1")
    dead_letter(moto_aws, stack, "b", "g2", "d2")
    put_lock(moto_aws, stack, "k1", "COMPLETED")

    listing = list_dlq(moto_aws, stack.names)

    rows = {row["message_id"]: row for row in listing.rows(width=20)}
    assert len(rows) == 2
    by_key = {row["key"]: row for row in rows.values()}
    assert by_key["k1"]["lock_state"] == "completed"
    assert by_key["k1"]["key_source"] == "attribute"
    assert by_key["k1"]["body"].endswith("…") and len(by_key["k1"]["body"]) == 20
    assert by_key["d2"]["key_source"] == "dedup-id"
    assert by_key["d2"]["lock_state"] == "none"
    assert by_key["d2"]["original_dedup_id"] == "d2"
    assert by_key["d2"]["receive_count"] == 0
    assert by_key["d2"]["source_queue"].endswith(stack.names.queue)
    assert listing.peek.not_shown == 0
    assert visible(moto_aws, stack.dlq_url) == 2
    assert len(drain(moto_aws, stack.dlq_url)) == 2


def test_list_reports_messages_hidden_behind_their_group(moto_aws: Aws) -> None:
    """Messages in flight elsewhere are counted as not shown."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "a", "g1", "d1")
    dead_letter(moto_aws, stack, "b", "g2", "d2")
    moto_aws.sqs.receive_message(
        QueueUrl=stack.dlq_url, MaxNumberOfMessages=1, VisibilityTimeout=60
    )

    listing = list_dlq(moto_aws, stack.names)

    assert len(listing.peek.messages) == 1
    assert listing.peek.not_shown == 1


def test_redrive_falls_back_to_copy_and_keeps_group_and_key(moto_aws: Aws) -> None:
    """moto has no move task: the copy keeps group id and key, and sets a new dedup id."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "first", "g1", "d1", key="k1")
    dead_letter(moto_aws, stack, "second", "g1", "d2")
    link = find_link(moto_aws, stack.names)
    progress: list[tuple[int, int | None]] = []

    result = redrive(moto_aws, link, on_progress=lambda m, t: progress.append((m, t)))

    assert result.method == "copy" and result.ok and result.moved == 2
    assert progress[-1] == (2, 2)
    assert visible(moto_aws, stack.dlq_url) == 0
    moved = drain(moto_aws, stack.queue_url)
    assert [m["Body"] for m in moved] == ["first", "second"]
    assert [m["Attributes"]["MessageGroupId"] for m in moved] == ["g1", "g1"]
    keys = [m["MessageAttributes"]["sqsidem-key"]["StringValue"] for m in moved]
    assert keys == ["k1", "d2"]
    assert {m["Attributes"]["MessageDeduplicationId"] for m in moved}.isdisjoint({"d1", "d2"})


def test_redrive_loses_nothing_when_a_send_fails_midway(moto_aws: Aws) -> None:
    """The second SendMessageBatch fails: its messages stay in the DLQ, with their group's rest."""
    stack = build_stack(moto_aws)
    for index in range(25):
        dead_letter(moto_aws, stack, f"m{index}", f"g{index % 3}", f"d{index}", key=f"k{index}")
    link = find_link(moto_aws, stack.names)
    calls = {"n": 0}

    def fail_second_batch(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ClientError(
                {"Error": {"Code": "InternalError", "Message": "injected"}}, "SendMessageBatch"
            )

    moto_aws.sqs.meta.events.register("before-call.sqs.SendMessageBatch", fail_second_batch)

    result = redrive(moto_aws, link)

    assert not result.ok
    assert result.failed and all("injected" in reason for _, reason in result.failed)
    assert result.moved == 10 and result.left_in_dlq == 15
    in_source = drain(moto_aws, stack.queue_url)
    left = drain(moto_aws, stack.dlq_url)
    keys = [m["MessageAttributes"]["sqsidem-key"]["StringValue"] for m in in_source + left]
    assert sorted(keys) == sorted(f"k{i}" for i in range(25))  # none lost, none doubled
    assert len(in_source) == result.moved
    for group in ("g0", "g1", "g2"):  # each group's order kept in the source queue
        bodies = [
            int(m["Body"][1:]) for m in in_source if m["Attributes"]["MessageGroupId"] == group
        ]
        assert bodies == sorted(bodies)


def test_redrive_plan_finds_blocking_locks_and_clears_them(moto_aws: Aws) -> None:
    """COMPLETED and live IN_PROGRESS locks are reported and released only if unchanged."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "a", "g1", "d1", key="done")
    dead_letter(moto_aws, stack, "b", "g2", "d2", key="busy")
    dead_letter(moto_aws, stack, "c", "g3", "d3", key="free")
    put_lock(moto_aws, stack, "done", "COMPLETED")
    put_lock(moto_aws, stack, "busy", "IN_PROGRESS")

    plan = plan_redrive(moto_aws, stack.names)
    assert sorted(lock.transaction_id for lock in plan.blocking) == ["busy", "done"]
    put_lock(moto_aws, stack, "busy", "IN_PROGRESS", owner="someone-else")

    released, changed = release_locks(moto_aws, stack.names, plan.blocking)

    assert (released, changed) == (1, 1)
    table = stack.names.table
    assert "Item" not in moto_aws.dynamodb.get_item(
        TableName=table, Key={"transaction_id": {"S": "done"}}
    )
    assert "Item" in moto_aws.dynamodb.get_item(
        TableName=table, Key={"transaction_id": {"S": "busy"}}
    )


def test_move_task_progress_until_done(moto_aws: Aws) -> None:
    """Where AWS has the move task, its progress is polled until it ends (Stubber)."""
    sqs = moto_aws.sqs
    arn = "arn:aws:sqs:ap-northeast-1:123456789012:t1-queue-dlq.fifo"
    running = {"TaskHandle": "h", "Status": "RUNNING", "SourceArn": arn}
    with Stubber(sqs) as stub:
        for moved, status in ((1, "RUNNING"), (3, "COMPLETED")):
            task = {
                **running,
                "Status": status,
                "ApproximateNumberOfMessagesMoved": moved,
                "ApproximateNumberOfMessagesToMove": 3,
            }
            stub.add_response("list_message_move_tasks", {"Results": [task]})
        seen: list[tuple[int, int | None]] = []
        sleeps: list[float] = []
        result = wait_for_move_task(
            sqs,
            arn,
            on_progress=lambda m, t: seen.append((m, t)),
            pacing=Pacing(sleep=sleeps.append),
            poll_s=2,
        )
    assert result.ok and result.moved == 3 and result.method == "move-task"
    assert seen == [(1, 3), (3, 3)] and sleeps == [2]


def test_move_task_wait_has_a_deadline(moto_aws: Aws) -> None:
    """A move task that never ends: the wait gives up at its deadline with a hint (Stubber)."""
    sqs = moto_aws.sqs
    arn = "arn:aws:sqs:ap-northeast-1:123456789012:t1-queue-dlq.fifo"
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    task = {"TaskHandle": "h", "Status": "RUNNING", "SourceArn": arn}
    with Stubber(sqs) as stub:
        for _ in range(4):
            stub.add_response("list_message_move_tasks", {"Results": [task]})
        with pytest.raises(SqsidemError, match="gave up after 5s") as raised:
            wait_for_move_task(
                sqs,
                arn,
                on_progress=None,
                pacing=Pacing(sleep=sleep, clock=lambda: now[0]),
                poll_s=2,
                timeout_s=5,
            )
        stub.assert_no_pending_responses()
    assert now[0] == 5 and "--cancel" in raised.value.one_line()


def test_move_task_deadline_grows_with_a_slow_rate() -> None:
    """An hour by default; a slow --rate gets twice the time it needs."""
    assert move_task_timeout_s(100, None) == 3600
    assert move_task_timeout_s(100, 500) == 3600
    assert move_task_timeout_s(100_000, 10) == 20_000


def test_cancel_move_task(moto_aws: Aws) -> None:
    """--cancel cancels the running task and says how many were moved."""
    sqs = moto_aws.sqs
    arn = "arn:aws:sqs:ap-northeast-1:123456789012:t1-queue-dlq.fifo"
    with Stubber(sqs) as stub:
        stub.add_response(
            "list_message_move_tasks",
            {"Results": [{"TaskHandle": "h1", "Status": "RUNNING", "SourceArn": arn}]},
        )
        stub.add_response(
            "cancel_message_move_task",
            {"ApproximateNumberOfMessagesMoved": 7},
            {"TaskHandle": "h1"},
        )
        assert cancel_move_task(sqs, arn) == 7


def test_cancel_without_move_tasks_is_a_clear_error(moto_aws: Aws) -> None:
    """moto raises NotImplementedError for the move-task calls: a one-line error."""
    with pytest.raises(SqsidemError, match="no message move tasks"):
        cancel_move_task(moto_aws.sqs, "arn:aws:sqs:ap-northeast-1:123456789012:x.fifo")


def test_purge_counts_and_empties(moto_aws: Aws) -> None:
    """purge empties the DLQ; the count before is reported."""
    stack = build_stack(moto_aws)
    for index in range(3):
        dead_letter(moto_aws, stack, "x", "g", f"d{index}")
    url, count = count_dlq(moto_aws, stack.names)
    purge_dlq(moto_aws, url, stack.names)
    assert count == 3
    assert visible(moto_aws, stack.dlq_url) == 0


def test_second_purge_within_60s_is_explained(moto_aws: Aws) -> None:
    """PurgeQueueInProgress becomes a clear message (moto enforces AWS's 60 s rule)."""
    stack = build_stack(moto_aws)
    purge_dlq(moto_aws, stack.dlq_url, stack.names)
    with pytest.raises(SqsidemError, match="one purge per 60 s"):
        purge_dlq(moto_aws, stack.dlq_url, stack.names)


def test_find_link_rejects_a_queue_without_the_redrive_policy(moto_aws: Aws) -> None:
    """A source that does not dead-letter into the DLQ is reported, not guessed."""
    stack = build_stack(moto_aws)
    moto_aws.sqs.set_queue_attributes(QueueUrl=stack.queue_url, Attributes={"RedrivePolicy": ""})
    with pytest.raises(SqsidemError, match="does not dead-letter"):
        find_link(moto_aws, stack.names)


def test_copy_redrive_fills_batches_up_to_the_1_mib_limit(moto_aws: Aws) -> None:
    """Ten 100 KiB dead letters go back in one SendMessageBatch (SQS's limit is 1 MiB now)."""
    stack = build_stack(moto_aws)
    for index in range(10):
        dead_letter(moto_aws, stack, f"{index}" * 100 * 1024, f"g{index}", f"d{index}")
    link = find_link(moto_aws, stack.names)
    batches: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        batches.append(len(params["Entries"]))

    moto_aws.sqs.meta.events.register("provide-client-params.sqs.SendMessageBatch", count)

    result = redrive(moto_aws, link)

    assert result.ok and result.moved == 10
    assert batches == [10]


def _probe_with(stub_errors: list[tuple[str, int]], *, succeed: bool) -> tuple[bool, list[float]]:
    """start_move_task against a stubbed SQS that answers ``stub_errors`` first."""
    from sqsidem.dlq.link import DlqLink
    from sqsidem.dlq.move_task import start_move_task
    from sqsidem.settings import Settings

    stubs: list[Stubber] = []

    def hook(service: str, client: Any) -> None:
        stub = Stubber(client)
        for code, status in stub_errors:
            stub.add_client_error(
                "start_message_move_task", service_error_code=code, http_status_code=status
            )
        if succeed:
            stub.add_response("start_message_move_task", {"TaskHandle": "h"})
        stub.activate()
        stubs.append(stub)

    arn = "arn:aws:sqs:ap-northeast-1:123456789012:t1-queue"
    link = DlqLink("https://q/dlq", arn + "-dlq.fifo", "https://q/src", arn + ".fifo", 5)
    sleeps: list[float] = []
    aws = Aws(Settings(region="ap-northeast-1"), on_client=hook)
    started = start_move_task(aws, link, rate=None, pacing=Pacing(sleep=sleeps.append))
    for stub in stubs:
        stub.assert_no_pending_responses()
    return started, sleeps


def test_move_task_probe_retries_throttles_and_server_errors(fake_credentials: None) -> None:
    """A throttle or a 5xx on StartMessageMoveTask is asked again, not taken as fatal."""
    errors = [("RequestThrottled", 400), ("InternalError", 500), ("ServiceUnavailable", 503)]
    started, sleeps = _probe_with(errors, succeed=True)
    assert started and len(sleeps) == 3


def test_move_task_probe_knows_the_json_protocol_unsupported_code(fake_credentials: None) -> None:
    """AWS.SimpleQueueService.UnsupportedOperation means: no move task, copy instead."""
    started, sleeps = _probe_with(
        [("AWS.SimpleQueueService.UnsupportedOperation", 400)], succeed=False
    )
    assert not started and sleeps == []


def _short_polls_come_back_empty(aws: Aws) -> list[int]:
    """Make every short poll (WaitTimeSeconds 0) answer nothing, as AWS may when it samples a
    subset of its servers; returns the wait times asked for."""
    from botocore.awsrequest import AWSResponse

    waits: list[int] = []

    def remember(params: dict[str, Any], **_: Any) -> None:
        waits.append(int(params.get("WaitTimeSeconds", 0)))

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if waits and waits[-1] == 0:
            return AWSResponse("https://sqs", 200, {}, None), {"Messages": []}
        return None

    aws.sqs.meta.events.register("provide-client-params.sqs.ReceiveMessage", remember)
    aws.sqs.meta.events.register("before-call.sqs.ReceiveMessage", answer)
    return waits


def test_list_and_redrive_long_poll(moto_aws: Aws) -> None:
    """Short polls may miss messages on AWS: list and redrive long-poll for 1-2 s."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "a", "g1", "d1")
    dead_letter(moto_aws, stack, "b", "g2", "d2")
    waits = _short_polls_come_back_empty(moto_aws)

    listing = list_dlq(moto_aws, stack.names)
    assert len(listing.peek.messages) == 2
    result = redrive(moto_aws, find_link(moto_aws, stack.names))

    assert result.moved == 2 and visible(moto_aws, stack.dlq_url) == 0
    assert waits and all(1 <= wait <= 2 for wait in waits)


def test_list_names_fifo_groups_whose_later_messages_the_look_hides(moto_aws: Aws) -> None:
    """FIFO: while the look holds g1's first message SQS hides the rest of g1: say so."""
    from sqsidem.render.dlq import show_dlq_listing
    from sqsidem.render.sink import Renderer

    stack = build_stack(moto_aws)
    for index in range(3):
        dead_letter(moto_aws, stack, f"m{index}", "g1", f"d{index}")

    def one_at_a_time(params: dict[str, Any], **_: Any) -> None:
        params["MaxNumberOfMessages"] = 1  # AWS may answer a FIFO receive with fewer

    moto_aws.sqs.meta.events.register("provide-client-params.sqs.ReceiveMessage", one_at_a_time)

    listing = list_dlq(moto_aws, stack.names)

    assert [m.body for m in listing.peek.messages] == ["m0"]
    assert listing.peek.not_shown == 2 and listing.peek.held_groups == ["g1"]
    err = io.StringIO()
    show_dlq_listing(Renderer("human", stdout=io.StringIO(), stderr=err), listing, full=False)
    said = " ".join(err.getvalue().split())
    assert "hides a group's later messages" in said and "held groups: g1" in said
