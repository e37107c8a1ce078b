"""A copying redrive doubles nothing: derived dedup ids, and the locks `--clear-locks` keeps."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.dlq.copy import copy_dedup_id
from sqsidem.dlq.link import find_link
from sqsidem.dlq.redrive import redrive
from tests.support_dlq import build_stack, dead_letter, drain, put_lock

DLQ_ARN = "arn:aws:sqs:ap-northeast-1:123456789012:t1-queue-dlq.fifo"


def test_copy_dedup_id_is_derived_from_the_dead_letter() -> None:
    """Same DLQ message -> same id; another message or queue -> another; SQS's rules kept."""
    first = copy_dedup_id(DLQ_ARN, "m-1")
    assert first == copy_dedup_id(DLQ_ARN, "m-1")
    assert first != copy_dedup_id(DLQ_ARN, "m-2")
    assert first != copy_dedup_id(DLQ_ARN.replace("t1-", "t2-"), "m-1")
    assert len(first) <= 128 and re.fullmatch(r"[a-zA-Z0-9!-/:-@\[-`{-~]+", first)


def test_every_copy_carries_its_dead_letters_dedup_id(moto_aws: Aws) -> None:
    """Both copies of a batch carry the id derived from the DLQ's ARN and their message id."""
    stack = build_stack(moto_aws)
    ids = [dead_letter(moto_aws, stack, f"b{n}", "g1", f"d{n}", key=f"k{n}") for n in range(2)]
    link = find_link(moto_aws, stack.names)

    assert redrive(moto_aws, link).ok

    copies = drain(moto_aws, stack.queue_url)
    assert [m["Attributes"]["MessageDeduplicationId"] for m in copies] == [
        copy_dedup_id(link.dlq_arn, message_id) for message_id in ids
    ]


def test_clear_locks_keeps_a_lock_another_message_took(moto_aws: Aws) -> None:
    """Only locks the dead letters took (or not written by our consumer) are released."""
    stack = build_stack(moto_aws)
    own = dead_letter(moto_aws, stack, "a", "g1", "d1", key="own")
    dead_letter(moto_aws, stack, "b", "g2", "d2", key="copied")
    dead_letter(moto_aws, stack, "c", "g3", "d3", key="foreign")
    put_lock(moto_aws, stack, "own", "COMPLETED", message_id=own)
    # An earlier redrive's copy (a new message id) completed this key: keep its record.
    put_lock(moto_aws, stack, "copied", "COMPLETED", message_id="id-of-an-earlier-copy")
    put_lock(moto_aws, stack, "foreign", "COMPLETED")  # the tutorial's handler records no id

    result = CliRunner().invoke(
        app, ["--stack", "t1", "dlq", "redrive", "--yes", "--clear-locks", "-o", "json"]
    )

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["moved"] == 3
    assert "released 2 lock(s)" in result.stderr
    assert "--clear-locks keeps the lock of copied: message id-of-an-earlier-copy" in " ".join(
        result.stderr.split()
    )
    left = moto_aws.dynamodb.scan(TableName=stack.names.table)["Items"]
    assert [item["transaction_id"]["S"] for item in left] == ["copied"]
