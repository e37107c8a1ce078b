"""AWS-only in-between states (emulators never show them), faked with botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from sqsidem.aws import Aws
from sqsidem.retry import Pacing
from sqsidem.stack.calls import Calls
from sqsidem.stack.eventual import FUNCTION_IAM_TIMEOUT_S, IAM_BACKOFF, MAPPING_IAM_TIMEOUT_S
from sqsidem.stack.executor import run_calls
from sqsidem.stack.function import FUNCTION, DesiredFunction
from sqsidem.stack.kind import TeardownOptions
from sqsidem.stack.mapping import MAPPING, DesiredMapping, ObservedMapping
from sqsidem.stack.queues import QUEUE, DesiredQueue

UUID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
ROLE_NOT_READY = "The role defined for the function cannot be assumed by Lambda."
NO_RECEIVE = "The provided execution role does not have permissions to call ReceiveMessage on SQS"


class Recorder:
    """An injected sleep and notify that only remember what they were asked."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.notes: list[str] = []
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def pacing(self) -> Pacing:
        return Pacing(sleep=self.sleep, notify=self.notes.append, clock=lambda: self.now)

    def run(self, aws: Aws, calls: Calls) -> dict[str, object]:
        """The calls as apply makes them, with this recorder's pacing; their answers."""
        answers: dict[str, object] = {}
        run_calls(aws, calls, self.pacing(), answers)
        return answers


@pytest.fixture
def stubbed(moto_aws: Aws) -> Iterator[tuple[Aws, Stubber, Stubber]]:
    with Stubber(moto_aws.sqs) as sqs, Stubber(moto_aws.lambda_) as lam:
        yield moto_aws, sqs, lam
        sqs.assert_no_pending_responses()
        lam.assert_no_pending_responses()


def fn() -> DesiredFunction:
    return DesiredFunction(
        name="f",
        runtime="python3.12",
        role_arn="arn:aws:iam::123456789012:role/r",
        handler="h.h",
        timeout_s=3,
        memory_mb=128,
        environment={},
        log_group="/aws/lambda/f",
        tags={},
        zip_bytes=b"zip",
        code_sha256="x",
    )


def test_queue_deleted_recently_waits_and_says_so(stubbed: tuple[Aws, Stubber, Stubber]) -> None:
    """QueueDeletedRecently: wait (bounded), tell why, then create."""
    aws, sqs, _ = stubbed
    recorder = Recorder()
    for _ in range(2):
        sqs.add_client_error(
            "create_queue", "AWS.SimpleQueueService.QueueDeletedRecently", http_status_code=400
        )
    sqs.add_response("create_queue", {"QueueUrl": "https://q/1/x.fifo"})
    answers = recorder.run(aws, QUEUE.create(DesiredQueue("x.fifo", {"FifoQueue": "true"}, {})))
    assert answers[""] == {"QueueUrl": "https://q/1/x.fifo"}
    assert recorder.sleeps == [5.0, 5.0]
    assert "60 s" in recorder.notes[0]


def test_create_function_retries_iam_propagation(stubbed: tuple[Aws, Stubber, Stubber]) -> None:
    """'cannot be assumed' is retried with growing delays, then the function is created."""
    aws, _, lam = stubbed
    recorder = Recorder()
    for _ in range(3):
        lam.add_client_error("create_function", "InvalidParameterValueException", ROLE_NOT_READY)
    lam.add_response("create_function", {"FunctionArn": "arn:aws:lambda:r:1:function:f"})
    lam.add_response("get_function", {"Configuration": {"State": "Active"}})
    answers = recorder.run(aws, FUNCTION.create(fn()))
    assert answers[""] == {"FunctionArn": "arn:aws:lambda:r:1:function:f"}
    assert recorder.sleeps == [1.0, 2.0, 4.0]
    assert "IAM propagation" in recorder.notes[0]


def test_other_invalid_parameters_are_not_retried(stubbed: tuple[Aws, Stubber, Stubber]) -> None:
    """A genuine parameter error fails at once (no minute of pointless waiting)."""
    aws, _, lam = stubbed
    recorder = Recorder()
    lam.add_client_error("create_function", "InvalidParameterValueException", "bad handler")
    with pytest.raises(ClientError):
        recorder.run(aws, FUNCTION.create(fn()))
    assert recorder.sleeps == []


def attempts_within(timeout_s: float) -> int:
    """How many calls a retry bounded by ``timeout_s`` makes with the IAM backoff."""
    waited, attempt = 0.0, 0
    while waited + IAM_BACKOFF.delay(attempt) <= timeout_s:
        waited += IAM_BACKOFF.delay(attempt)
        attempt += 1
    return attempt + 1


@pytest.mark.parametrize(
    ("kind", "timeout_s"),
    [("function", FUNCTION_IAM_TIMEOUT_S), ("mapping", MAPPING_IAM_TIMEOUT_S)],
)
def test_iam_retry_is_bounded_by_time(
    stubbed: tuple[Aws, Stubber, Stubber], kind: str, timeout_s: float
) -> None:
    """IAM propagation is waited for by time (2 min for the function, 5 for the trigger),
    not by a count of attempts; then the error surfaces, and every wait was announced."""
    aws, _, lam = stubbed
    recorder = Recorder()
    calls = FUNCTION.create(fn())
    operation, message = "create_function", ROLE_NOT_READY
    if kind == "mapping":
        calls = MAPPING.create(DesiredMapping("f", "arn:aws:sqs:r:1:q.fifo", 3, None))
        operation, message = "create_event_source_mapping", NO_RECEIVE
    for _ in range(attempts_within(timeout_s)):
        lam.add_client_error(operation, "InvalidParameterValueException", message)
    with pytest.raises(ClientError):
        recorder.run(aws, calls)
    assert timeout_s - 10 <= recorder.now <= timeout_s
    assert len(recorder.notes) == len(recorder.sleeps)
    assert f"up to {timeout_s / 60:g} min" in recorder.notes[-1]


def test_mapping_create_retries_missing_queue_permission(
    stubbed: tuple[Aws, Stubber, Stubber],
) -> None:
    """The mapping's own propagation error (role cannot ReceiveMessage yet) is retried."""
    aws, _, lam = stubbed
    recorder = Recorder()
    lam.add_client_error(
        "create_event_source_mapping", "InvalidParameterValueException", NO_RECEIVE
    )
    lam.add_response("create_event_source_mapping", {"UUID": UUID})
    desired = DesiredMapping("f", "arn:aws:sqs:r:1:q.fifo", 3, 2)
    assert recorder.run(aws, MAPPING.create(desired))[""] == {"UUID": UUID}
    assert recorder.sleeps == [1.0]


def observed_mapping() -> ObservedMapping:
    return ObservedMapping(UUID, "arn:aws:sqs:r:1:q.fifo", 3, None, (), "Enabled", None)


def test_mapping_delete_waits_until_gone(stubbed: tuple[Aws, Stubber, Stubber]) -> None:
    """Deleting -> Deleting -> gone: teardown goes on only once it is gone, and says why."""
    aws, _, lam = stubbed
    recorder = Recorder()
    lam.add_response("delete_event_source_mapping", {"UUID": UUID, "State": "Deleting"})
    lam.add_response("get_event_source_mapping", {"UUID": UUID, "State": "Deleting"})
    lam.add_response("get_event_source_mapping", {"UUID": UUID, "State": "Deleting"})
    lam.add_client_error("get_event_source_mapping", "ResourceNotFoundException")
    recorder.run(aws, MAPPING.delete((observed_mapping(),), TeardownOptions()))
    assert recorder.sleeps == [1.0]
    assert recorder.notes == [f"waiting for trigger {UUID} to be deleted (up to 2 min)"]


def test_update_of_a_busy_trigger_waits_until_it_settles(
    stubbed: tuple[Aws, Stubber, Stubber],
) -> None:
    """ResourceInUseException (mapping still Creating/Updating) is retried, bounded."""
    aws, _, lam = stubbed
    recorder = Recorder()
    lam.add_client_error("update_event_source_mapping", "ResourceInUseException")
    lam.add_response("update_event_source_mapping", {"UUID": UUID})
    larger = DesiredMapping("f", "arn:aws:sqs:r:1:q.fifo", 9, None)
    recorder.run(aws, MAPPING.update(larger, (observed_mapping(),)))
    assert recorder.sleeps == [1.0]
    assert "still changing state" in recorder.notes[0]
