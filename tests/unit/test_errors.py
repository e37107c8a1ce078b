"""The one error table: each failure becomes one line with a fix and the right exit code."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from sqsidem.errors import NotFoundError, UsageError, explain, note_denied_resource


def _client_error(code: str, message: str, operation: str = "SendMessage") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def test_access_denied_names_action_and_resource() -> None:
    """AccessDenied tells which call and which resource AWS refused."""
    exc = _client_error(
        "AccessDeniedException",
        "User: arn:aws:iam::1:user/x is not authorized to perform: dynamodb:Scan on resource: "
        "arn:aws:dynamodb:ap-northeast-1:1:table/Idempotent-test",
        "Scan",
    )
    explained = explain(exc)
    assert explained.exit_code == 1
    assert explained.line.startswith(
        "access denied: dynamodb:Scan on arn:aws:dynamodb:ap-northeast-1:1:table/Idempotent-test:"
    )
    assert "sqsidem policy" in explained.line and "AWS said" not in explained.line


def test_access_denied_without_a_resource_keeps_awss_words() -> None:
    """No resource in AWS's message: the action, and what AWS said."""
    exc = _client_error(
        "AccessDenied",
        "User: arn:aws:iam::1:user/x is not authorized to perform: cloudwatch:DescribeAlarms "
        "because no identity-based policy allows the cloudwatch:DescribeAlarms action",
        "DescribeAlarms",
    )
    line = explain(exc).line
    assert line.startswith("access denied: cloudwatch:DescribeAlarms: grant it")


def test_access_denied_names_the_resource_the_request_named() -> None:
    """AWS's message names no resource: the one the request named (noted by the client hook)."""
    exc = _client_error(
        "AccessDenied",
        "User: arn:aws:iam::1:user/x is not authorized to perform: sqs:CreateQueue because no "
        "identity-based policy allows the sqs:CreateQueue action",
        "CreateQueue",
    )
    note_denied_resource({"QueueName": "s-queue.fifo"}, exc.response)  # type: ignore[arg-type]
    line = explain(exc).line
    assert line.startswith("access denied: sqs:CreateQueue on s-queue.fifo: grant it")


def test_throttling_after_retries() -> None:
    """Throttling that outlived the retries says to slow down."""
    explained = explain(_client_error("ThrottlingException", "Rate exceeded"))
    assert "throttled" in explained.line
    assert "--concurrency" in explained.line


def test_credentials_region_endpoint() -> None:
    """The SDK's own failures map to fixes."""
    assert "--local" in explain(NoCredentialsError()).line
    assert explain(NoRegionError()).exit_code == 2
    assert explain(ProfileNotFound(profile="nope")).exit_code == 2
    unreachable = explain(EndpointConnectionError(endpoint_url="http://127.0.0.1:9/x?y=1"))
    assert "cannot reach http://127.0.0.1:9:" in unreachable.line


def test_domain_errors_keep_their_exit_codes() -> None:
    """UsageError exits 2, other domain errors 1; the hint follows the message."""
    assert explain(UsageError("bad", "do this")).exit_code == 2
    explained = explain(NotFoundError("no stack", "run setup"))
    assert (explained.line, explained.exit_code) == ("no stack: run setup", 1)


def test_every_line_is_one_line() -> None:
    """No explanation contains a newline."""
    for exc in (
        _client_error("Weird", "multi\nline"),
        RuntimeError("boom"),
        NoCredentialsError(),
    ):
        assert "\n" not in explain(exc).line
