"""`sqsidem stacks` on moto: two stacks side by side with their depths, JSON, and the
per-service listing when the tagging API is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import names_for
from tests.support_seam import ClientSpy


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _send(aws: Aws, queue: str, count: int) -> None:
    url = aws.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    for n in range(count):
        aws.sqs.send_message(
            QueueUrl=url, MessageBody=f"m{n}", MessageGroupId="g", MessageDeduplicationId=f"d{n}"
        )


@pytest.fixture
def two_stacks(moto_aws: Aws) -> Aws:
    """Stacks `alpha` (2 dead letters, trigger on) and `beta` (--no-trigger, 3 queued)."""
    for stack, flags in (("alpha", []), ("beta", ["--no-trigger"])):
        built = run("--stack", stack, "setup", *flags)
        assert built.exit_code == 0, built.stderr
    _send(moto_aws, names_for("alpha").dlq, 2)
    _send(moto_aws, names_for("beta").queue, 3)
    return moto_aws


def test_two_stacks_one_line_each_with_their_depths(two_stacks: Aws) -> None:
    """JSON: both stacks, all resources present, no drift, their own depths and trigger."""
    result = run("-o", "json", "stacks")
    assert result.exit_code == 0, result.stderr
    inventory = json.loads(result.stdout)
    assert inventory["found_by"] == "tagging API"
    rows = {row["stack"]: row for row in inventory["stacks"]}
    assert set(rows) == {"alpha", "beta"}
    alpha, beta = rows["alpha"], rows["beta"]
    assert alpha["resources_present"] == alpha["resources_expected"] == 10
    assert beta["resources_present"] == beta["resources_expected"] == 9
    assert alpha["drifted"] == beta["drifted"] == 0
    assert (alpha["queue_depth"], alpha["dlq_depth"]) == (0, 2)
    assert (beta["queue_depth"], beta["dlq_depth"]) == (3, 0)
    assert (alpha["trigger_state"], beta["trigger_state"]) == ("Enabled", None)
    assert beta["trigger_wanted"] is False
    assert alpha["alarm_state"] == "OK"
    human = run("stacks")
    assert human.exit_code == 0, human.stderr
    lines = [line for line in human.stdout.splitlines() if "alpha" in line or "beta" in line]
    assert len(lines) == 2
    assert "10/10" in lines[0] and "2" in lines[0].split("│")[5]
    assert "off (--no-trigger)" in lines[1]
    assert "2 stack(s)" in human.stderr


def _refuse(model: Any, **_: Any) -> None:
    raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetResources")


def test_without_the_tagging_api_it_lists_per_service(two_stacks: Aws) -> None:
    """GetResources refused: queues and functions are listed with their tags instead."""
    spy = ClientSpy(handlers=[("before-call.resource-groups-tagging-api.GetResources", _refuse)])
    result = spy.invoke(["-o", "json", "stacks"])
    assert result.exit_code == 0, result.stderr
    inventory = json.loads(result.stdout)
    assert inventory["found_by"] == "per-service listing"
    assert [row["stack"] for row in inventory["stacks"]] == ["alpha", "beta"]
    assert spy.counts.get("ListQueueTags", 0) >= 4


def test_no_stacks_is_an_empty_list(moto_aws: Aws) -> None:
    """Nothing tagged: an empty JSON list, and a note for a person."""
    result = run("-o", "json", "stacks")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["stacks"] == []
    assert "no sqsidem stacks" in run("stacks").stderr
