"""The Lambda-shaped event and context the worker builds."""

from __future__ import annotations

from sqsidem.worker.event import WorkerContext, lambda_event, lambda_record

ARN = "arn:aws:sqs:us-east-2:123456789012:orders"


def test_record_from_a_standard_queue_without_attributes() -> None:
    """No message attributes: empty dict and no md5OfMessageAttributes, like Lambda."""
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "MD5OfBody": "abc",
        "Body": "hi",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "Other": "x"},
    }
    assert lambda_record(message, queue_arn=ARN) == {
        "messageId": "m1",
        "receiptHandle": "rh",
        "body": "hi",
        "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1"},
        "messageAttributes": {},
        "md5OfBody": "abc",
        "eventSource": "aws:sqs",
        "eventSourceARN": ARN,
        "awsRegion": "us-east-2",
    }


def test_binary_attributes_are_base64_like_lambda() -> None:
    """Binary values arrive as bytes from boto3 and leave as base64 text."""
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "Body": "",
        "MD5OfMessageAttributes": "def",
        "MessageAttributes": {"blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
    }
    event = lambda_event([message], queue_arn=ARN)
    (record,) = event["Records"]
    assert record["md5OfMessageAttributes"] == "def"
    assert record["messageAttributes"]["blob"] == {
        "binaryValue": "AAE=",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "Binary",
    }


def test_context_remaining_time_follows_its_deadline() -> None:
    """Remaining time counts down to the deadline and never goes negative."""
    now = [1_000]
    context = WorkerContext(5_000, lambda: now[0])
    assert context.get_remaining_time_in_millis() == 4_000
    now[0] = 9_000
    assert context.get_remaining_time_in_millis() == 0
    context.deadline_ms = 20_000
    assert context.get_remaining_time_in_millis() == 11_000
