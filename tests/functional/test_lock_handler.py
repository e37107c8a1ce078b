"""lambda_handler driven by its environment, as the deployed function is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sqsidem.aws import Aws
from sqsidem.consumer.config import ConsumerConfig
from sqsidem.consumer.handler import lambda_handler
from tests.functional.support_consumer import FakeContext, get_lock, sqs_record


def decisions(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"sqsidem"')]


def test_handler_reads_env_and_prints_decisions(
    ddb: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Configured via to_env(): processes, prints one decision line per decision."""
    for name, value in ConsumerConfig(table="Idempotent-test", lock_ttl_s=60).to_env().items():
        monkeypatch.setenv(name, value)
    event = {"Records": [sqs_record("m1", key="k1"), sqs_record("m2", key="k1", group="g2")]}
    response = lambda_handler(event, FakeContext(2000))
    assert response == {"batchItemFailures": []}
    lines = decisions(capsys.readouterr().out)
    assert [line["decision"] for line in lines] == ["acquired", "completed", "duplicate"]
    assert lines[0]["transaction_id"] == "k1" and lines[0]["receive_count"] == 1
    item = get_lock(ddb, "k1")
    assert item is not None and item["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({}, "SQSIDEM_TABLE is required"),
        ({"SQSIDEM_TABLE": "T", "SQSIDEM_PROCESSOR": "no_such_module:f"}, "ModuleNotFoundError"),
    ],
)
def test_bad_configuration_fails_every_record_with_a_reason(
    moto_aws: Aws,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    reason: str,
) -> None:
    """A broken environment never raises: the batch is reported failed, lines say why."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    event = {"Records": [sqs_record("m1"), sqs_record("m2")]}
    response = lambda_handler(event, FakeContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    lines = decisions(capsys.readouterr().out)
    assert [line["decision"] for line in lines] == ["failed", "failed"]
    assert reason in lines[0]["error"]
