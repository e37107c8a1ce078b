"""Sending against moto: batch call counts, per-entry results, retries of failed entries."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from sqsidem.aws import Aws
from sqsidem.errors import NotFoundError
from sqsidem.messages import KEY_ATTRIBUTE, MessageSpec, OutgoingMessage
from sqsidem.messages.send import SendResult, send, send_messages
from sqsidem.names import names_for
from tests.support_dlq import drain


class CallCounter:
    """Counts API calls by operation through botocore's event system (no patching)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1


def _fifo_queue(aws: Aws, name: str) -> str:
    return aws.sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]


def test_count_95_makes_ten_batch_calls_and_no_single_sends(moto_aws: Aws) -> None:
    """`send --count 95` = exactly 10 SendMessageBatch calls, no SendMessage."""
    names = names_for("s1")
    _fifo_queue(moto_aws, names.queue)
    counter = CallCounter()
    moto_aws.sqs.meta.events.register("before-call.sqs.*", counter)
    results: list[SendResult] = []
    summary = send(moto_aws, names, MessageSpec(count=95), on_result=results.append)
    assert counter.calls.get("SendMessageBatch") == 10
    assert "SendMessage" not in counter.calls
    assert (summary.sent, summary.failed, summary.api_calls) == (95, 0, 10)
    assert len(results) == 95 and all(r.ok and r.message_id and r.sequence_number for r in results)


def test_messages_arrive_with_key_attribute_in_group_order(moto_aws: Aws) -> None:
    """Every message carries sqsidem-key; a group's messages keep their order."""
    names = names_for("s2")
    url = _fifo_queue(moto_aws, names.queue)
    send(moto_aws, names, MessageSpec(count=30, groups=3, template="{group}:{seq}"))
    received = drain(moto_aws, url)
    assert len(received) == 30
    by_group: dict[str, list[int]] = {}
    for message in received:
        group, seq = message["Body"].split(":")
        by_group.setdefault(group, []).append(int(seq))
        key = message["MessageAttributes"][KEY_ATTRIBUTE]["StringValue"]
        assert key == message["Attributes"]["MessageDeduplicationId"]
    assert all(seqs == sorted(seqs) for seqs in by_group.values())


def test_repeat_dedup_id_copy_is_dropped_by_sqs(moto_aws: Aws) -> None:
    """--repeat-dedup-id: SQS accepts the copy but delivers one message."""
    names = names_for("s3")
    url = _fifo_queue(moto_aws, names.queue)
    send(moto_aws, names, MessageSpec(body="a", dedup_id="same"))
    send(moto_aws, names, MessageSpec(body="a", repeat_dedup_id="same"))
    assert len(drain(moto_aws, url)) == 1


def test_queue_by_url_and_by_name(moto_aws: Aws) -> None:
    """--queue takes a name or a URL."""
    names = names_for("s4")
    url = _fifo_queue(moto_aws, "other.fifo")
    assert send(moto_aws, names, MessageSpec(body="x"), queue="other.fifo").sent == 1
    assert send(moto_aws, names, MessageSpec(body="y"), queue=url).sent == 1
    assert len(drain(moto_aws, url)) == 2


def test_missing_queue_is_not_found(moto_aws: Aws) -> None:
    """A stack without a queue fails with NotFoundError (exit 1)."""
    with pytest.raises(NotFoundError):
        send(moto_aws, names_for("nostack"), MessageSpec(body="x"))


def _messages(n: int) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(index=i, body=f"b{i}", key=f"k{i}", group_id="g", dedup_id=f"d{i}")
        for i in range(n)
    ]


def test_retryable_failed_entries_are_resent_and_others_reported(moto_aws: Aws) -> None:
    """Throttled / server-side failures are resent; a sender fault is reported per entry."""
    client = moto_aws.sqs
    url = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/q.fifo"
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [
                    {"Id": "0", "MessageId": "m0", "MD5OfMessageBody": "x", "SequenceNumber": "1"}
                ],
                "Failed": [
                    {"Id": "1", "SenderFault": False, "Code": "InternalError"},
                    {"Id": "2", "SenderFault": True, "Code": "ThrottlingException"},
                    {"Id": "3", "SenderFault": True, "Code": "InvalidParameterValue"},
                ],
            },
        )
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [
                    {"Id": "1", "MessageId": "m1", "MD5OfMessageBody": "x"},
                    {"Id": "2", "MessageId": "m2", "MD5OfMessageBody": "x"},
                ],
                "Failed": [],
            },
        )
        results: list[SendResult] = []
        summary = send_messages(
            client, url, _messages(4), on_result=results.append, sleep=sleeps.append
        )
    assert (summary.sent, summary.failed, summary.api_calls) == (3, 1, 2)
    assert summary.retried_entries == 2
    [failed] = [r for r in results if not r.ok]
    assert (
        failed.index == 3 and failed.error is not None and "InvalidParameterValue" in failed.error
    )
    assert sleeps == [0.05]


def test_retries_give_up_after_max_attempts(moto_aws: Aws) -> None:
    """An entry that keeps failing is reported failed after the last attempt."""
    client = moto_aws.sqs
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response(
                "send_message_batch",
                {"Successful": [], "Failed": [{"Id": "0", "SenderFault": False, "Code": "X"}]},
            )
        summary = send_messages(client, "u", _messages(1), sleep=lambda _: None, max_attempts=3)
    assert (summary.failed, summary.api_calls) == (1, 3)
