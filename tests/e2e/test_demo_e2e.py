"""`sqsidem demo` on the embedded backend: the whole tour, as the README's main command runs it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.demo.tour import tour_messages
from sqsidem.names import names_for

runner = CliRunner()


def test_tour_messages_cover_every_case() -> None:
    """The tour sends new keys, a repeated dedup id, a repeated key and one poison message."""
    tour, text = tour_messages("r1")
    lines = [json.loads(line) for line in text.splitlines()]
    dedup_ids = [line["dedup_id"] for line in lines]
    assert dedup_ids.count(tour.dropped_dedup_id) == 2
    assert [line.get("key") for line in lines].count(tour.repeated_key) == 1
    poison = [line for line in lines if line["group_id"] == "poison"]
    assert len(poison) == 1
    assert json.loads(poison[0]["body"])["poison"] is True
    assert len(set(tour.processed)) == 5


def test_demo_runs_the_whole_tour(local_aws: Aws, stack_name: str) -> None:
    """Processed messages, the duplicate skipped, the poison message in the DLQ, exit 0."""
    result = runner.invoke(app, ["--stack", stack_name, "demo", "--timeout", "90"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("completed") >= 5
    assert "duplicate" in out
    assert "poison" in out
    assert "dead-lettered" in out
    assert "what to try next" in result.stderr
    names = names_for(stack_name)
    dlq = local_aws.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]
    depth = local_aws.sqs.get_queue_attributes(
        QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert depth == "1"

    again = runner.invoke(app, ["--stack", stack_name, "-o", "json", "demo", "--teardown"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["completed"] == 5
    assert summary["dead_lettered"] == 1
    assert summary["locks"][summary["duplicate_key"]] == "completed"
    queues = local_aws.sqs.list_queues(QueueNamePrefix=stack_name).get("QueueUrls", [])
    assert queues == []
