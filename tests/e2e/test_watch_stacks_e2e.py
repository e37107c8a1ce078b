"""`sqsidem stacks` on the local backend: two stacks set up side by side, found by their tag
(ministack has the tagging API), each with its own depths; `watch --once -o json` on each
agrees with `status` and `dlq list`."""

from __future__ import annotations

import json

from sqsidem.aws import Aws
from sqsidem.names import names_for
from tests.proofs.helpers import run_cli


def test_stacks_lists_two_local_stacks_with_their_depths(local_aws: Aws, stack_name: str) -> None:
    """One stack with 2 dead letters, one without trigger and 3 queued: both listed right."""
    dead, queued = f"{stack_name}-a", f"{stack_name}-b"
    fast = ("--timeout", "2", "--visibility-timeout", "4")
    for stack, flags in ((dead, fast), (queued, (*fast, "--no-trigger"))):
        built = run_cli(["--local", "--stack", stack, "setup", *flags])
        assert built.exit_code == 0, built.stderr
    for queue, count in ((names_for(dead).dlq, 2), (names_for(queued).queue, 3)):
        url = local_aws.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        for n in range(count):
            local_aws.sqs.send_message(
                QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId=str(n)
            )
    result = run_cli(["--local", "-o", "json", "stacks"])
    assert result.exit_code == 0, result.stderr
    rows = {row["stack"]: row for row in json.loads(result.stdout)["stacks"]}
    assert {dead, queued} <= set(rows)
    assert (rows[dead]["dlq_depth"], rows[dead]["queue_depth"]) == (2, 0)
    assert (rows[queued]["dlq_depth"], rows[queued]["queue_depth"]) == (0, 3)
    assert rows[dead]["trigger_state"] == "Enabled" and rows[queued]["trigger_state"] is None
    for row in (rows[dead], rows[queued]):
        assert row["resources_present"] == row["resources_expected"] and row["drifted"] == 0
    for stack in (dead, queued):
        snap = json.loads(
            run_cli(["--local", "--stack", stack, "-o", "json", "watch", "--once"]).stdout
        )
        status = json.loads(run_cli(["--local", "--stack", stack, "-o", "json", "status"]).stdout)
        listed = run_cli(["--local", "--stack", stack, "-o", "json", "dlq", "list"]).stdout
        queue = {k: snap["queue"][k] for k in ("visible", "in_flight", "delayed")}
        assert queue == status["queue"]
        assert snap["dlq"]["depth"] == status["dlq_depth"] == len(listed.splitlines())
        assert snap["trigger"]["state"] == status["mapping"]["state"]
        assert snap["alarm"]["state"] == status["alarm_state"]
