"""`sqsidem invoke`: records shaped as the queue delivers them, run in a subprocess on the zip."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from sqsidem.cli.app import app
from tests.support_wheels import code_with_dependency

PROCESS = (
    "import json\n\nimport zipdep\n\n\ndef handle(record):\n"
    "    if record['body'] == 'boom':\n        raise ValueError('boom')\n"
    "    shape = {k: record[k] for k in ('attributes', 'messageAttributes', 'eventSource')}\n"
    "    print(json.dumps({'from': zipdep.where(), **shape}))\n"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["--stack", "i1", *args])


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A processor folder whose dependency exists only in a local wheel folder."""
    monkeypatch.setenv("SQSIDEM_CACHE_DIR", str(tmp_path / "cache"))
    return f"{code_with_dependency(tmp_path, {'proc.py': PROCESS})}:proc.handle"


def printed(result: Result) -> list[dict[str, Any]]:
    prefix = "processor: "
    lines = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
    return [json.loads(line[len(prefix) :]) for line in lines]


def test_one_body_runs_through_the_consumer(spec: str) -> None:
    """A body: decisions and the partial batch response; the import came from the zip."""
    assert importlib.util.find_spec("zipdep") is None
    result = run("invoke", '{"order": 1}', "--processor", spec)
    assert result.exit_code == 0, result.stderr
    assert "acquired" in result.stdout and "completed" in result.stdout
    assert "partial batch response: batchItemFailures=[]" in result.stdout
    (seen,) = printed(result)
    assert str(seen["from"]).endswith("code/zipdep/__init__.py")
    attributes = seen["attributes"]
    assert isinstance(attributes, dict)
    assert (
        attributes["MessageGroupId"] == "sqsidem" and attributes["ApproximateReceiveCount"] == "1"
    )
    assert "sqsidem-key" in seen["messageAttributes"]  # type: ignore[operator]
    assert seen["eventSource"] == "aws:sqs"
    assert "key prefix" not in result.stderr  # no lock by default


def test_the_processor_sees_lambdas_environment_not_the_operators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token exported in the operator's shell does not reach the processor (it would not
    in Lambda); the AWS settings do (the processor's own AWS calls use them)."""
    monkeypatch.setenv("SECRET_TOKEN", "s3cr3t")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "7")
    (tmp_path / "envproc.py").write_text(
        "import json, os\n\nNAMES = ('SECRET_TOKEN', 'AWS_MAX_ATTEMPTS', 'TZ')\n\n\n"
        "def handle(record):\n"
        "    print(json.dumps({k: os.environ.get(k) for k in NAMES}))\n"
    )
    result = run("invoke", "{}", "--processor", f"{tmp_path / 'envproc.py'}:handle")
    assert result.exit_code == 0, result.stderr
    (seen,) = printed(result)
    assert seen == {"SECRET_TOKEN": None, "AWS_MAX_ATTEMPTS": "7", "TZ": ":UTC"}


def test_jsonl_file_one_json_object_per_record(spec: str, tmp_path: Path) -> None:
    """--file in send's format, -o json: one object per record; a failure exits 1."""
    lines = tmp_path / "m.jsonl"
    lines.write_text('{"body": "a", "key": "k-1"}\n{"body": "boom", "group_id": "g2"}\n')
    result = run("-o", "json", "invoke", "--file", str(lines), "--processor", spec)
    assert result.exit_code == 1, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["decision"] == "completed" and first["transaction_id"] == "k-1"
    assert second["decision"] == "failed" and second["failed"] is True
    assert second["error"] == "processor raised ValueError: boom"


def test_dlq_captured_event(spec: str, tmp_path: Path) -> None:
    """`dlq list --full -o json` lines replay with their ids, group, key and receive count."""
    captured = tmp_path / "dlq.jsonl"
    line = {
        "message_id": "m-dead-1",
        "body": "again",
        "group_id": "g9",
        "original_dedup_id": "tx-9",
        "key": "tx-9",
        "key_source": "attribute",
        "receive_count": 3,
    }
    captured.write_text(json.dumps(line) + "\n")
    result = run("-o", "json", "invoke", "--event", str(captured), "--processor", spec)
    assert result.exit_code == 0, result.stderr
    (record,) = (json.loads(x) for x in result.stdout.splitlines())
    assert record["message_id"] == "m-dead-1" and record["transaction_id"] == "tx-9"
    (seen,) = printed(result)
    assert seen["attributes"]["ApproximateReceiveCount"] == "3"


def test_bad_inputs_exit_2(spec: str) -> None:
    """No record source, or --real-key without --lock: one line, exit 2."""
    none = run("invoke", "--processor", spec)
    assert none.exit_code == 2 and "give exactly one of" in none.stderr
    real = run("invoke", "x", "--processor", spec, "--real-key")
    assert real.exit_code == 2 and "--real-key needs --lock" in real.stderr
