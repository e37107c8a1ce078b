"""setup, re-run, status, a message becomes a lock, teardown, setup again: on ministack."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import names_for
from sqsidem.retry import instant
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.setup import plan_setup, prepare, run_setup
from tests.functional.stack_recorder import assert_made_as_planned, recording
from tests.support_stack import assert_nothing_left
from tests.waiting import wait_until

FAST = ["--timeout", "2", "--visibility-timeout", "4", "--max-receive-count", "2"]


def cli(stack: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["--local", "--stack", stack, *args])


@pytest.mark.slow
def test_full_life_cycle(local_aws: Aws, stack_name: str) -> None:
    """The deployed function writes a COMPLETED lock; teardown leaves nothing; setup works again."""
    options = SetupOptions(timeout_s=2, visibility_timeout_s=4, max_receive_count=2)
    aws, recorder = recording(local_aws)
    fresh = plan_setup(aws, prepare(names_for(stack_name), options))
    run_setup(aws, fresh, pacing=instant())
    assert_made_as_planned(fresh.plan, recorder.made)  # what --dry-run lists is what ran

    recorder.made.clear()
    planned = plan_setup(aws, prepare(names_for(stack_name), options))
    assert planned.plan.converged, planned.plan.as_dict()
    run_setup(aws, planned, pacing=instant())
    assert recorder.made == []
    again = cli(stack_name, "setup", *FAST)
    assert again.exit_code == 0, again.stderr
    assert "no changes" in again.stderr

    status = cli(stack_name, "status")
    assert status.exit_code == 0, status.stdout + status.stderr

    names = names_for(stack_name)
    url = local_aws.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    local_aws.sqs.send_message(
        QueueUrl=url, MessageBody='{"n": 1}', MessageGroupId="g1", MessageDeduplicationId="tx-1"
    )

    def completed() -> bool:
        item = local_aws.dynamodb.get_item(
            TableName=names.table, Key={"transaction_id": {"S": "tx-1"}}, ConsistentRead=True
        ).get("Item")
        return item is not None and item.get("status", {}).get("S") == "COMPLETED"

    wait_until(completed, 20, "the deployed function to complete the lock")

    tuned = ["--timeout", "3", "--visibility-timeout", "6", "--batch-size", "4", "--memory", "256"]
    changed = cli(stack_name, "setup", "--max-receive-count", "2", *tuned)
    assert changed.exit_code == 0, changed.stderr
    assert "updating function" in changed.stderr and "updating mapping" in changed.stderr
    options = SetupOptions(
        timeout_s=3, visibility_timeout_s=6, batch_size=4, memory_mb=256, max_receive_count=2
    )
    assert plan_setup(local_aws, prepare(names, options)).plan.converged

    # --no-trigger on a live stack: the function records it (tag), the mapping is kept.
    off = cli(stack_name, "setup", "--max-receive-count", "2", *tuned, "--no-trigger")
    assert off.exit_code == 0, off.stderr
    assert "updating function" in off.stderr and "updating mapping" not in off.stderr
    config = local_aws.lambda_.get_function(FunctionName=names.function)["Configuration"]
    tags = local_aws.lambda_.list_tags(Resource=config["FunctionArn"])["Tags"]
    assert tags.get("sqsidem:trigger") == "off"
    assert cli(stack_name, "status").exit_code == 0

    down = cli(stack_name, "teardown", "--yes", "--force")
    assert down.exit_code == 0, down.stderr
    assert_nothing_left(local_aws, stack_name)

    up_again = cli(stack_name, "setup", *FAST)
    assert up_again.exit_code == 0, up_again.stderr
    assert cli(stack_name, "teardown", "--yes", "--force").exit_code == 0
