"""setup -> send -> teardown -> setup -> send -> teardown, with AWS's slowness on.

Written once for any backend: the ``backend`` fixture says how to reach it. Here its only
value is the shared ministack with every behaviour of the AWS-realism layer on (delays
scaled down); a live AWS value can join it without changing the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.cli.context import Seam
from sqsidem.names import names_for
from tests.realism import Realism
from tests.support_stack import assert_nothing_left
from tests.waiting import wait_until

MESSAGES = 4
FAST = ["--timeout", "2", "--visibility-timeout", "4", "--max-receive-count", "2"]
# What the realism layer must have done for the run to prove anything.
EXPECTED = ("iam", "queue-ghost", "table-deleting", "mapping-deleting", "throttle")


@dataclass(frozen=True)
class Backend:
    """A place to run the lifecycle: the CLI options that select it, the seam its clients
    come through, plain clients for the checks, and the realism layer (None on AWS)."""

    name: str
    options: tuple[str, ...]
    seam: Seam
    aws: Aws
    realism: Realism | None
    settle_s: float = 60.0  # how long the pipeline may take to drain

    def cli(self, stack: str, *args: str) -> Result:
        argv = [*self.options, "--stack", stack, *args]
        return CliRunner().invoke(app, argv, obj=self.seam)


@pytest.fixture(params=["ministack"])
def backend(request: pytest.FixtureRequest, local_aws: Aws, aws_realism: Realism) -> Backend:
    del request  # one value here; the live suite adds its own
    return Backend("ministack", ("--local",), Seam(aws_realism.factory), local_aws, aws_realism)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def queue_depth(aws: Aws, name: str) -> int:
    url = aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    found = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]  # type: ignore[arg-type]
    return sum(int(found.get(n, "0")) for n in names)


def completed_locks(backend: Backend, stack: str) -> Callable[[], bool]:
    def check() -> bool:
        listed = ok(backend.cli(stack, "--output", "json", "locks", "list"))
        states = [json.loads(line)["state"] for line in listed.stdout.splitlines() if line]
        return states.count("completed") == MESSAGES

    return check


def one_round(backend: Backend, stack: str) -> str:
    """setup (healthy) -> send -> every message COMPLETED, none left or dead-lettered;
    what setup said on stderr."""
    names = names_for(stack)
    said = ok(backend.cli(stack, "setup", *FAST)).stderr
    ok(backend.cli(stack, "status"))
    sent = ok(backend.cli(stack, "--output", "json", "send", "--count", str(MESSAGES)))
    assert len(sent.stdout.splitlines()) == MESSAGES
    wait_until(completed_locks(backend, stack), backend.settle_s, "every message's lock")
    wait_until(lambda: queue_depth(backend.aws, names.queue) == 0, backend.settle_s, "drain")
    assert queue_depth(backend.aws, names.dlq) == 0
    ok(backend.cli(stack, "status"))
    return said


@pytest.mark.slow
def test_lifecycle_twice_ends_healthy_with_nothing_lost(backend: Backend, stack_name: str) -> None:
    """Teardown waits until things are really gone, so the next setup builds anew, and
    every message of both rounds is processed exactly once."""
    said = ""
    for _ in range(2):
        said += one_round(backend, stack_name)
        down = ok(backend.cli(stack_name, "teardown", "--yes", "--force"))
        assert_nothing_left(backend.aws, stack_name)
    if backend.realism is not None:
        missing = [b for b in EXPECTED if not backend.realism.fired(b)]
        assert missing == [], backend.realism.events
        # Each wait is shown while it lasts (Pacing.notify -> the render layer's note).
        assert "IAM propagation); waiting up to 2 min; retrying in" in said
        assert "waiting for trigger" in down.stderr
