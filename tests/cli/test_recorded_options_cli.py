"""A re-run of `setup` keeps what the stack was set up with (issue 15, item 6): the options
are recorded in the function's tags, a bare setup keeps them with 0 mutating calls and says
so, only an explicit flag changes one, and `status` shows them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqsidem.aws import Aws
from sqsidem.names import names_for
from tests.backend import REGION
from tests.support_seam import ClientSpy

STACK = "r1"
_READS = ("Get", "List", "Describe")
TUNED = (
    "--timeout", "5", "--memory", "256", "--batch-size", "5", "--key", "message-id",
    "--visibility-timeout", "40", "--max-receive-count", "6", "--no-trigger",
)  # fmt: skip


def _setup(*args: str) -> tuple[int, str, dict[str, int]]:
    spy = ClientSpy()
    result = spy.invoke(["--region", REGION, "--stack", STACK, "setup", *args])
    mutating = {name: n for name, n in spy.counts.items() if not name.startswith(_READS)}
    return result.exit_code, result.stderr, mutating


def test_a_bare_setup_keeps_the_recorded_options(
    moto_aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tuned once; a bare setup changes nothing and names what it kept."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("def handle(record):\n    print(record)\n")
    code, err, _ = _setup("--processor", "app.py:handle", *TUNED)
    assert code == 0, err
    code, err, mutating = _setup()
    assert code == 0, err
    assert mutating == {}, err
    assert "up to date: no changes made" in err
    assert "kept from the last setup: --timeout 5, --memory 256, --key message-id" in err
    names = names_for(STACK)
    config = moto_aws.lambda_.get_function_configuration(FunctionName=names.function)
    assert (config["Timeout"], config["MemorySize"]) == (5, 256)
    assert config["Environment"]["Variables"]["SQSIDEM_KEY"] == "message-id"
    assert (
        moto_aws.lambda_.list_event_source_mappings(FunctionName=names.function)[
            "EventSourceMappings"
        ]
        == []
    )
    spy = ClientSpy()
    status = spy.invoke(["--region", REGION, "--stack", STACK, "-o", "json", "status"])
    recorded = json.loads(status.stdout)["recorded_options"]
    assert recorded["--processor"] == "app.py:handle" and recorded["--batch-size"] == "5"
    assert recorded["--visibility-timeout"] == "40"


def test_only_an_explicit_flag_changes_a_recorded_value(
    moto_aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--timeout 6 changes the timeout (and its record); the rest stays as recorded."""
    monkeypatch.chdir(tmp_path)
    code, err, _ = _setup(*TUNED)
    assert code == 0, err
    code, err, mutating = _setup("--timeout", "6")
    assert code == 0, err
    assert mutating, err
    names = names_for(STACK)
    config = moto_aws.lambda_.get_function_configuration(FunctionName=names.function)
    assert (config["Timeout"], config["MemorySize"]) == (6, 256)
    queue = moto_aws.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    attributes = moto_aws.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "40"
    tags = moto_aws.lambda_.list_tags(Resource=config["FunctionArn"])["Tags"]
    assert tags["sqsidem:setup:timeout"] == "6" and tags["sqsidem:setup:batch-size"] == "5"
    _, _, again = _setup()
    assert again == {}


def test_a_stack_set_up_before_recording_keeps_what_aws_holds(
    moto_aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No record yet: a bare setup keeps the deployed settings and records them."""
    monkeypatch.chdir(tmp_path)
    code, err, _ = _setup("--timeout", "5", "--batch-size", "5")
    assert code == 0, err
    names = names_for(STACK)
    arn = moto_aws.lambda_.get_function_configuration(FunctionName=names.function)["FunctionArn"]
    tags = moto_aws.lambda_.list_tags(Resource=arn)["Tags"]
    moto_aws.lambda_.untag_resource(Resource=arn, TagKeys=[k for k in tags if ":setup:" in k])
    code, err, mutating = _setup()
    assert code == 0, err
    assert "kept from the last setup: --timeout 5, --batch-size 5" in err
    assert mutating == {"TagResource": 1}, err
    config = moto_aws.lambda_.get_function_configuration(FunctionName=names.function)
    assert config["Timeout"] == 5
    assert moto_aws.lambda_.list_tags(Resource=arn)["Tags"]["sqsidem:setup:timeout"] == "5"
