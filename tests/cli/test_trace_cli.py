"""`sqsidem trace ID` through the CLI, on moto."""

from __future__ import annotations

import json
import time

from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from tests.support_dlq import build_stack, dead_letter
from tests.support_logs import decision_line, write_logs


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--stack", "t1", *args])
    return result.exit_code, result.stdout, result.stderr


def test_trace_json_and_human(moto_aws: Aws) -> None:
    """One JSON object with lock, DLQ position, decisions and story; human prints the story."""
    stack = build_stack(moto_aws)
    dead_letter(moto_aws, stack, "poison", "g1", "d1", key="tx-1")
    now = int(time.time() * 1000)
    write_logs(
        moto_aws,
        stack.names.log_group,
        [
            (now - 2000, decision_line("acquired", "tx-1", 1)),
            (now - 2000, decision_line("failed", "tx-1", 1, "E")),
        ],
    )
    code, out, err = run("trace", "tx-1", "--output", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [d["decision"] for d in data["decisions"]] == ["acquired", "failed"]
    assert data["in_dlq"][0]["body"] == "poison" and data["lock"] is None
    code, out, _ = run("trace", "tx-1", "--no-peek-queue")
    assert code == 0 and "story: received 1x" in out and "dead-lettered" in out


def test_trace_unknown_id_is_exit_1(moto_aws: Aws) -> None:
    """Nothing known anywhere: exit 1, one error line."""
    build_stack(moto_aws)
    code, _, err = run("trace", "nobody")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "nothing known" in err


def test_trace_bad_since_is_exit_2(moto_aws: Aws) -> None:
    """An unreadable --since is a usage error."""
    code, _, err = run("trace", "x", "--since", "yesterday-ish")
    assert code == 2 and len(err.strip().splitlines()) == 1
