"""sqsidem worker against moto's SQS FIFO queue and DynamoDB."""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from typing import Any

import pytest
from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.cli.context import Seam
from sqsidem.consumer.lock import LockAttempt, LockTable
from sqsidem.errors import SqsidemError, UsageError
from sqsidem.settings import Settings
from sqsidem.worker.config import load_processor_spec
from sqsidem.worker.event import WorkerContext
from sqsidem.worker.heartbeat import Heartbeat
from sqsidem.worker.model import WorkerClients, WorkerOptions, WorkerStats
from sqsidem.worker.poller import run_worker
from tests.functional.support_consumer import TABLE, FakeClock, Lines, Recorder, get_lock
from tests.functional.support_worker import (
    CONFIG,
    counts,
    make_queue,
    options,
    send,
    ticking,
    work,
)

NOTE = "polling {}; Ctrl-C stops after the batches in flight (twice aborts)"


@pytest.fixture
def queue(moto_aws: Aws) -> str:
    return make_queue(moto_aws)


def invoke(aws: Aws, args: list[str]) -> Any:
    """`sqsidem <args>` with every client from ``aws`` (moto)."""

    def factory(_settings: Settings, *, endpoint_url: str | None = None) -> Aws:
        return aws

    return CliRunner().invoke(app, args, obj=Seam(aws_factory=factory))


def test_worker_processes_deletes_successes_and_leaves_failures(moto_aws: Aws, queue: str) -> None:
    """New, duplicate and poison messages: only the poison (and its group) stays."""
    send(moto_aws, queue, "a1", group="a", key="ka1")
    send(moto_aws, queue, "a2", group="a", key="ka1")  # same key: a duplicate
    send(moto_aws, queue, "p1", group="p", key="kp1")  # poison in its own group
    send(moto_aws, queue, "b1", group="b", key="kb1")
    processor = Recorder(fail_bodies={"p1"})
    lines = Lines()
    progress: list[WorkerStats] = []
    stats = work(
        moto_aws, queue, processor, emit=lines, on_progress=progress.append, visibility_timeout_s=30
    )
    assert sorted(processor.calls) == ["a1", "b1", "p1"]
    assert (stats.received, stats.processed, stats.duplicates, stats.failed) == (4, 2, 1, 1)
    assert stats.stop_reason == "idle"
    assert progress and progress[-1].received == stats.received
    assert counts(moto_aws, queue) == (0, 1)  # only the poison is left (in flight)
    assert set(lines.kinds()) == {
        "acquired",
        "completed",
        "duplicate",
        "failed",
        "released",
    }
    item = get_lock(moto_aws.dynamodb, "ka1")
    assert item is not None and item["status"] == "COMPLETED"


def test_worker_record_has_the_lambda_event_shape(moto_aws: Aws, queue: str) -> None:
    """The processor sees exactly the fields Lambda would give it."""
    send(moto_aws, queue, "m1", key="k1")
    seen: list[dict[str, Any]] = []
    work(moto_aws, queue, seen.append)
    (record,) = seen
    assert list(record) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":test-queue.fifo")
    assert record["awsRegion"] == "ap-northeast-1"
    assert record["attributes"]["MessageGroupId"] == "g1"
    assert record["attributes"]["MessageDeduplicationId"] == "d-m1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["sqsidem-key"] == {
        "stringValue": "k1",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }


def test_fifo_failure_in_a_batch_keeps_the_rest_of_the_group(moto_aws: Aws, queue: str) -> None:
    """Batch of 3 in one group, the 2nd fails: 1 deleted, 2 and 3 stay."""
    for body in ("m1", "m2", "m3"):
        send(moto_aws, queue, body)
    processor = Recorder(fail_bodies={"m2"})
    stats = work(moto_aws, queue, processor, batch_size=3, max_messages=3)
    assert processor.calls == ["m1", "m2"]
    assert (stats.processed, stats.failed, stats.stop_reason) == (1, 2, "max-messages")
    assert counts(moto_aws, queue) == (0, 2)


def test_worker_honours_the_stop_event_after_the_batch_in_flight(moto_aws: Aws, queue: str) -> None:
    """Stop asked during a batch: the batches held (the one running and the one received
    ahead while it ran) finish, nothing more is received."""
    for i in range(5):
        send(moto_aws, queue, f"m{i}", group=f"g{i}")
    stop = threading.Event()
    calls: list[str] = []

    def process(record: dict[str, Any]) -> None:
        calls.append(record["body"])
        stop.set()

    stats = work(moto_aws, queue, process, stop=stop, batch_size=2, idle_exit_s=None)
    assert stats.received in (2, 4) and len(calls) == stats.received
    assert stats.stop_reason == "stopped"
    assert counts(moto_aws, queue) == (5 - stats.received, 0)


def test_idle_exit_on_an_empty_queue(moto_aws: Aws, queue: str) -> None:
    """No messages: exits once idle_exit_s has passed on the injected clock."""
    stats = work(moto_aws, queue, Recorder(), idle_exit_s=5, concurrency=2)
    assert stats.received == 0 and stats.stop_reason == "idle"


def _enabled_mapping(aws: Aws, queue_url: str) -> None:
    role = aws.iam.create_role(
        RoleName="test-sqs-receive-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("h.py", "def h(e, c):\n    return None\n")
    aws.lambda_.create_function(
        FunctionName="test-sqs-receive",
        Runtime="python3.12",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": buffer.getvalue()},
    )
    arn = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws.lambda_.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="test-sqs-receive", BatchSize=3
    )


def test_worker_refuses_while_an_enabled_mapping_consumes_the_queue(
    moto_aws: Aws, queue: str
) -> None:
    """Competing with the mapping would split the queue; --force overrides."""
    _enabled_mapping(moto_aws, queue)
    clients = WorkerClients.from_aws(moto_aws)
    with pytest.raises(SqsidemError, match="event source mapping"):
        run_worker(clients, CONFIG, options(queue), processor=Recorder(), pacing=ticking())
    stats = work(moto_aws, queue, Recorder())
    assert stats.stop_reason == "idle"


def test_worker_starts_when_no_mapping_exists(moto_aws: Aws, queue: str) -> None:
    """Without force, the mapping check passes on a queue nobody consumes."""
    stats = work(moto_aws, queue, Recorder(), force=False)
    assert stats.received == 0


def test_heartbeat_extends_visibility_and_the_held_lock(moto_aws: Aws, queue: str) -> None:
    """A beat moves the context deadline and our lock's deadline, not someone else's."""
    send(moto_aws, queue, "m1")
    message = moto_aws.sqs.receive_message(QueueUrl=queue, VisibilityTimeout=10)["Messages"][0]
    clock = FakeClock()
    lock = LockTable(moto_aws.dynamodb, TABLE, ttl_s=60, now_ms=clock)
    lock.acquire("mine", LockAttempt("me"), clock.ms + 10_000)
    lock.acquire("theirs", LockAttempt("them"), clock.ms + 10_000)
    context = WorkerContext(clock.ms + 10_000, clock)
    heartbeat = Heartbeat(
        moto_aws.sqs,
        queue,
        [message["ReceiptHandle"]],
        lock,
        context,
        visibility_timeout_s=10,
        now_ms=clock,
    )
    heartbeat.lock_held("mine", "me")
    clock.advance(6_000)
    heartbeat.beat()
    assert heartbeat.errors == 0
    assert context.get_remaining_time_in_millis() == 10_000
    mine = get_lock(moto_aws.dynamodb, "mine")
    theirs = get_lock(moto_aws.dynamodb, "theirs")
    assert mine is not None and mine["in_progress_expiration"] == clock.ms + 10_000
    assert theirs is not None and theirs["in_progress_expiration"] == clock.ms + 4_000


def test_heartbeat_thread_beats_at_half_the_visibility_timeout(moto_aws: Aws, queue: str) -> None:
    """Run as a context manager, it beats by itself while the batch is in flight."""
    send(moto_aws, queue, "m1")
    message = moto_aws.sqs.receive_message(QueueUrl=queue, VisibilityTimeout=1)["Messages"][0]
    lock = LockTable(moto_aws.dynamodb, TABLE, ttl_s=60)
    beaten = threading.Event()
    heartbeat = Heartbeat(
        moto_aws.sqs,
        queue,
        [message["ReceiptHandle"]],
        lock,
        WorkerContext(0, lambda: 0),
        visibility_timeout_s=1,
        now_ms=lambda: 0,
        on_beat=lambda _n: beaten.set(),
    )
    with heartbeat:
        assert beaten.wait(10)
    assert heartbeat.beats >= 1


def test_processor_spec_from_a_file(tmp_path: Any) -> None:
    """--processor path/to/file.py:function loads the user's file."""
    path = tmp_path / "proc.py"
    path.write_text("SEEN = []\ndef handle(record):\n    SEEN.append(record)\n", encoding="utf-8")
    processor: Any = load_processor_spec(f"{path}:handle")  # the one-parameter form
    processor({"body": "x"})
    with pytest.raises(UsageError, match="no function"):
        load_processor_spec(f"{path}:missing")
    with pytest.raises(UsageError, match="does not exist"):
        load_processor_spec(f"{tmp_path / 'nope.py'}:handle")


def test_worker_options_are_validated() -> None:
    """AWS limits are refused before any call."""
    with pytest.raises(UsageError, match="--batch-size 11"):
        WorkerOptions(queue_url="q", batch_size=11)
    with pytest.raises(UsageError, match="concurrency"):
        WorkerOptions(queue_url="q", concurrency=0)


def test_max_messages_is_shared_by_concurrent_threads(moto_aws: Aws, queue: str) -> None:
    """Three threads, limit 7 of 12 messages: exactly 7 received, the rest untouched."""
    for i in range(12):
        send(moto_aws, queue, f"m{i}", group=f"g{i}")
    stats = work(
        moto_aws, queue, Recorder(), batch_size=3, concurrency=3, max_messages=7, idle_exit_s=None
    )
    assert (stats.received, stats.processed, stats.stop_reason) == (7, 7, "max-messages")
    assert counts(moto_aws, queue) == (5, 0)


def test_max_messages_counts_received_not_reserved_messages(moto_aws: Aws, queue: str) -> None:
    """Threads whose receive comes back empty (the group is in flight) must not end the run:
    all N of N messages are processed (the run used to stop when the *asked-for* count
    reached N)."""
    for i in range(6):
        send(moto_aws, queue, f"m{i}", group="g1", key=f"k{i}")
    processor = Recorder()
    stats = work(
        moto_aws, queue, processor, batch_size=2, concurrency=3, max_messages=6, idle_exit_s=None
    )
    assert processor.calls == [f"m{i}" for i in range(6)]
    assert (stats.received, stats.processed, stats.stop_reason) == (6, 6, "max-messages")
    assert counts(moto_aws, queue) == (0, 0)


def test_worker_command_keeps_its_output_contract(moto_aws: Aws, queue: str, tmp_path: Any) -> None:
    """`sqsidem -o json worker`: the note, the decision lines and the summary on stderr, the
    stats as one JSON object on stdout."""
    send(moto_aws, queue, "m1", key="k1")
    path = tmp_path / "proc.py"
    path.write_text("def process(record):\n    return None\n", encoding="utf-8")
    args = ["-o", "json", "worker", "--force", "--queue", queue, "--processor", f"{path}:process"]
    result = invoke(moto_aws, [*args, "--wait-time", "0", "--idle-exit", "0"])
    assert result.exit_code == 0, result.output
    (summary,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(summary) == {*WorkerStats.__dataclass_fields__, "msgs_per_s"}
    expected = {"received": 1, "processed": 1, "duplicates": 0, "failed": 0, "busy": 0}
    assert {name: summary[name] for name in expected} == expected
    assert (summary["batches"], summary["delete_calls"], summary["stop_reason"]) == (1, 1, "idle")
    first, *decisions, last = result.stderr.splitlines()
    assert first == NOTE.format(queue)
    assert [json.loads(line)["decision"] for line in decisions] == ["acquired", "completed"]
    pattern = r"worker stopped \(idle\): received 1, processed 1, duplicates 0, failed 0, "
    assert re.fullmatch(pattern + r"\d+\.\d msgs/s", last)


def test_worker_command_in_human_mode_prints_nothing_on_stdout(moto_aws: Aws, queue: str) -> None:
    """An empty queue: the note and the summary line on stderr, stdout stays empty."""
    args = ["worker", "--force", "--queue", queue, "--wait-time", "0", "--idle-exit", "0"]
    result = invoke(moto_aws, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        NOTE.format(queue),
        "worker stopped (idle): received 0, processed 0, duplicates 0, failed 0, 0.0 msgs/s",
    ]
    refused = invoke(moto_aws, [*args, "--batch-size", "11"])
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        "error: invalid --batch-size 11: use a number between 1 and 10"
    ]
