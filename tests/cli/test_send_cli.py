"""`sqsidem send` as a person sees it: output formats, exit codes, validation errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from sqsidem.aws import Aws
from sqsidem.names import names_for
from tests.support_seam import ClientSpy

Run = Callable[..., Result]
STACK = "clisend"


@pytest.fixture
def spy(moto_aws: Aws) -> ClientSpy:
    """Counts every API call the CLI's own clients make (through the seam)."""
    moto_aws.sqs.create_queue(QueueName=names_for(STACK).queue, Attributes={"FifoQueue": "true"})
    moto_aws.sqs.create_queue(QueueName="plain")
    return ClientSpy()


@pytest.fixture
def calls(spy: ClientSpy) -> dict[str, int]:
    return spy.counts


@pytest.fixture
def run(spy: ClientSpy) -> Run:
    def invoke(*args: str, stdin: str | None = None) -> Result:
        return spy.invoke(["--stack", STACK, "send", *args], stdin=stdin)

    return invoke


def test_count_95_is_ten_batch_calls(run: Run, calls: dict[str, int]) -> None:
    """The done-when figure: 95 messages -> 10 SendMessageBatch calls, no SendMessage."""
    result = run("--count", "95")
    assert result.exit_code == 0, result.output
    assert calls.get("SendMessageBatch") == 10
    assert "SendMessage" not in calls
    assert "sent 95 of 95 message(s)" in result.stderr
    assert "10 SendMessageBatch call(s)" in result.stderr
    assert result.stdout == ""  # more than 20: only failures would be listed


def test_json_output_is_one_line_per_message(run: Run) -> None:
    """--output json: JSON Lines on stdout with the DESIGN 6.6 keys; summary on stderr."""
    result = run("--count", "3", "--group-id", "g", "-o", "json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    for line in lines:
        assert set(line) == {
            "message_id",
            "sequence_number",
            "group_id",
            "dedup_id",
            "key",
            "ok",
            "error",
        }
        assert line["group_id"] == "g" and line["key"] == line["dedup_id"] and line["ok"]
    assert json.loads(result.stderr)["sent"] == 3


def test_human_output_lists_small_sends(run: Run) -> None:
    """A few messages are listed one line each with their ids and key."""
    result = run("hello", "--repeat-key", "K1")
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert re.fullmatch(r"sent [0-9a-f-]{36}  group=sqsidem  dedup=[0-9a-f-]{36}  key=K1", line)
    assert re.fullmatch(
        r"sent 1 of 1 message\(s\) in \d+\.\d\d s \(\d+ msgs/s, 1 SendMessageBatch call\(s\)\)",
        result.stderr.strip(),
    )


def test_jsonl_from_stdin_and_attributes(run: Run, moto_aws: Aws) -> None:
    """--file - reads JSON Lines from stdin; --attr adds attributes."""
    stdin = '{"body": "a", "dedup_id": "d1"}\n{"body": "b", "group_id": "g2"}\n'
    result = run("--file", "-", "--attr", "env=dev", "-o", "json", stdin=stdin)
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout.splitlines()[0])
    assert first["dedup_id"] == "d1" and first["key"] == "d1"
    url = moto_aws.sqs.get_queue_url(QueueName=names_for(STACK).queue)["QueueUrl"]
    got = moto_aws.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert got[0]["MessageAttributes"]["env"]["StringValue"] == "dev"


def test_body_file_and_standard_queue(run: Run, tmp_path: Path) -> None:
    """--body-file sends the file's text; --queue picks a standard queue by name."""
    body = tmp_path / "body.json"
    body.write_text('{"a": 1}', encoding="utf-8")
    result = run("--body-file", str(body), "--queue", "plain", "-o", "json")
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout)
    assert line["group_id"] is None and line["ok"]


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (["--count", "0"], None, "invalid --count"),
        ([""], None, "empty body"),
        (["x" * 1_048_577], None, "over the 1048576-byte SQS limit"),
        (["--group-id", "g" * 129], None, "group id is 129 characters"),
        (["--dedup-id", "bad id"], None, "characters SQS rejects"),
        (["--group-id", "g", "--queue", "plain"], None, "--group-id needs a FIFO queue"),
        (["--dedup-id", "d", "--queue", "plain"], None, "--dedup-id needs a FIFO queue"),
        (["--groups", "2", "--queue", "plain"], None, "--groups needs a FIFO queue"),
        (["--repeat-dedup-id", "d", "--queue", "plain"], None, "needs a FIFO queue"),
        (["--file", "-"], '{"body": "a"}\nnot json\n', "stdin line 2: not valid JSON"),
        (["--file", "-"], '{"body": 1, "extra": 2}\n', "stdin line 1: unknown field"),
        (["--file", "/nonexistent/x.jsonl"], None, "no such file"),
        (["--body-file", "/nonexistent/b"], None, "no such file"),
        (["a", "--template", "{seq}"], None, "conflict"),
        (["--attr", "oops"], None, "invalid --attr"),
        (["--concurrency", "0"], None, "invalid --concurrency"),
        (["--count", "2", "--dedup-id", "same"], None, "would repeat"),
    ],
)
def test_validation_errors_exit_2_before_any_call(
    run: Run, spy: ClientSpy, args: list[str], stdin: str | None, fragment: str
) -> None:
    """Bad input: exit 2, one stderr line, and not a single API call (not even a client)."""
    result = run(*args, stdin=stdin)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert spy.counts == {} and spy.clients == []


def test_missing_queue_exits_1(spy: ClientSpy) -> None:
    """A queue that does not exist is learned from AWS: exit 1, one line."""
    result = spy.invoke(["--stack", "nosuch", "send", "x"])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
