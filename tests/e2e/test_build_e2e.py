"""A real processor on the local backend: a folder with a sibling module and a dependency."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import names_for
from tests.support_locks import lock_status
from tests.support_wheels import code_with_dependency
from tests.waiting import wait_until

FAST = ["--timeout", "2", "--visibility-timeout", "4", "--max-receive-count", "2"]
APP = "import helper\n\n\ndef handle(record):\n    helper.report(record)\n"
HELPER = (
    "import zipdep\n\n\ndef report(record):\n"
    "    print('zipdep imported from ' + zipdep.where(), flush=True)\n"
)


def cli(stack: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["--local", "--stack", stack, *args])


def test_processor_folder_with_a_dependency_completes(
    local_aws: Aws, stack_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sibling module + a wheel not installed here: COMPLETED, and the log shows the zip's copy."""
    monkeypatch.setenv("SQSIDEM_CACHE_DIR", str(tmp_path / "cache"))
    assert importlib.util.find_spec("zipdep") is None  # the import can only come from the zip
    code = code_with_dependency(tmp_path, {"app.py": APP, "helper.py": HELPER})
    up = cli(stack_name, "setup", "--processor", f"{code / 'app.py'}:handle", *FAST)
    assert up.exit_code == 0, up.stderr
    assert "dependencies vendored for host" in up.stderr

    names = names_for(stack_name)
    url = local_aws.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    local_aws.sqs.send_message(
        QueueUrl=url, MessageBody='{"n": 1}', MessageGroupId="g", MessageDeduplicationId="dep-1"
    )

    wait_until(
        lambda: lock_status(local_aws, names.table, "dep-1") == "COMPLETED",
        30,
        "the processor with a dependency to complete the lock",
    )

    def imported_from_zip() -> list[str]:
        events = local_aws.logs.filter_log_events(logGroupName=names.log_group)["events"]
        return [e["message"] for e in events if "zipdep imported from" in e["message"]]

    wait_until(lambda: bool(imported_from_zip()), 20, "the processor's log line")
    where = imported_from_zip()[0].split("zipdep imported from ", 1)[1].strip()
    assert where.endswith("zipdep/__init__.py") and not where.startswith(str(tmp_path))

    # invoke --lock: the stack's table, under invoke's own prefix; the real key stays free.
    body = '{"n": 2}'
    tried = cli(stack_name, "invoke", body, "--processor", f"{code}:app.handle", "--lock")
    assert tried.exit_code == 0, tried.stderr
    assert "locks written under the key prefix 'sqsidem-invoke#'" in tried.stderr
    key = tried.stdout.split("key=", 1)[1].split()[0]
    assert lock_status(local_aws, names.table, f"sqsidem-invoke#{key}") == "COMPLETED"
    assert lock_status(local_aws, names.table, key) is None
    real = cli(
        stack_name, "invoke", body, "--processor", f"{code}:app.handle", "--lock", "--real-key"
    )
    assert real.exit_code == 0 and "warning: --real-key: a COMPLETED lock" in real.stderr
    real_key = real.stdout.split("key=", 1)[1].split()[0]
    assert lock_status(local_aws, names.table, real_key) == "COMPLETED"
    # Several records: their locks are taken and completed as batches, under the prefix too.
    many = tmp_path / "many.jsonl"
    entries = [
        {"body": json.dumps({"n": n}), "key": f"many-{n}", "group_id": f"g{n}"} for n in range(3)
    ]
    many.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    batch = cli(
        stack_name, "invoke", "--file", str(many), "--processor", f"{code}:app.handle", "--lock"
    )
    assert batch.exit_code == 0, batch.stderr
    for n in range(3):
        assert lock_status(local_aws, names.table, f"sqsidem-invoke#many-{n}") == "COMPLETED"
        assert lock_status(local_aws, names.table, f"many-{n}") is None
    assert cli(stack_name, "teardown", "--yes", "--force").exit_code == 0
