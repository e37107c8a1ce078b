"""The bad-input matrix (issue 8.3): wrong invocations of every command fail cleanly.

Each case must exit 2 (usage: decidable before any AWS call) or 1 (learned from AWS), print
exactly one line on stderr, never a traceback, and leave every AWS resource as it was: a
snapshot of moto's queues (with depths), tables (with item counts), functions, mappings,
roles, keys, aliases, topics, subscriptions, log groups and alarms is compared around it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sqsidem.aws import Aws, ClientOptions
from sqsidem.local import free_port
from sqsidem.names import names_for
from sqsidem.settings import Settings
from tests.proofs.helpers import resource_snapshot, run_cli

REGION = "ap-northeast-1"
PRESENT = "present"  # a stack that exists (built by `sqsidem setup` on moto)
GHOST = "ghost"  # a stack that does not
USAGE, FAILURE = 2, 1


@dataclass(frozen=True)
class World:
    aws: Aws
    files: Path
    closed_port: int


def _fake_env(target: pytest.MonkeyPatch) -> None:
    target.setenv("AWS_ACCESS_KEY_ID", "testing")
    target.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    target.setenv("AWS_DEFAULT_REGION", REGION)


def _write_files(root: Path) -> None:
    (root / "bad.jsonl").write_text('{"body": "ok"}\n{"body": "unterminated\n', encoding="utf-8")
    (root / "nobody.jsonl").write_text('{"group_id": "g"}\n', encoding="utf-8")
    (root / "grouped.jsonl").write_text('{"body": "x", "group_id": "g"}\n', encoding="utf-8")
    (root / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    (root / "syntax.py").write_text("def process(record)\n    pass\n", encoding="utf-8")
    (root / "nofn.py").write_text("def other(record):\n    pass\n", encoding="utf-8")
    (root / "notes.txt").write_text("def process(record):\n    pass\n", encoding="utf-8")
    (root / "latin1.txt").write_bytes(b"caf\xe9")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One moto world for the whole matrix: stack `present` set up, a standard queue `plain`,
    a message in the DLQ and a lock record, so destructive commands reach their question."""
    from moto import mock_aws

    files = tmp_path_factory.mktemp("bad-input")
    home = tmp_path_factory.mktemp("bad-input-home")
    _write_files(files)
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(("AWS_", "SQSIDEM_")):
                mp.delenv(name)
        mp.setenv("AWS_CONFIG_FILE", str(home / "config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.setenv("SQSIDEM_STATE_DIR", str(home / "state"))
        _fake_env(mp)
        with mock_aws():
            aws = Aws(Settings(region=REGION), ClientOptions(max_attempts=2))
            built = run_cli(
                [
                    "--stack",
                    PRESENT,
                    "setup",
                    "--timeout",
                    "2",
                    "--visibility-timeout",
                    "4",
                    "--max-receive-count",
                    "2",
                ]
            )
            assert built.exit_code == 0, built.stderr
            names = names_for(PRESENT)
            aws.sqs.create_queue(QueueName="plain")
            dlq = aws.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]
            aws.sqs.send_message(
                QueueUrl=dlq, MessageBody="poison", MessageGroupId="p", MessageDeduplicationId="d1"
            )
            aws.dynamodb.put_item(
                TableName=names.table,
                Item={"transaction_id": {"S": "tx-1"}, "status": {"S": "COMPLETED"}},
            )
            yield World(aws, files, free_port())


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_env(monkeypatch)


# (id, arguments, exit code, environment change). {files} is the directory of test files,
# {port} a closed port on 127.0.0.1.
CASES: list[tuple[str, list[str], int, str]] = [
    # -- global options ---------------------------------------------------------------------
    ("bad-stack-name", ["--stack", "BAD_name", "status"], USAGE, ""),
    ("stack-name-too-long", ["--stack", "a" * 41, "locks", "list"], USAGE, ""),
    ("unknown-output", ["-o", "yaml", "status"], USAGE, ""),
    ("unknown-command", ["deploy"], USAGE, ""),
    ("unknown-option", ["status", "--verbose"], USAGE, ""),
    ("profile-not-found", ["--profile", "nosuch", "status"], USAGE, ""),
    # -- setup: what AWS would reject ---------------------------------------------------------
    ("setup-timeout-zero", ["setup", "--timeout", "0"], USAGE, ""),
    ("setup-timeout-over-900", ["setup", "--timeout", "901"], USAGE, ""),
    ("setup-timeout-not-int", ["setup", "--timeout", "abc"], USAGE, ""),
    ("setup-batch-size-11", ["setup", "--batch-size", "11"], USAGE, ""),
    ("setup-max-receive-0", ["setup", "--max-receive-count", "0"], USAGE, ""),
    ("setup-max-receive-1001", ["setup", "--max-receive-count", "1001"], USAGE, ""),
    (
        "setup-visibility-below-timeout",
        ["setup", "--timeout", "5", "--visibility-timeout", "4"],
        USAGE,
        "",
    ),
    ("setup-memory-64", ["setup", "--memory", "64"], USAGE, ""),
    ("setup-log-retention-2", ["setup", "--log-retention-days", "2"], USAGE, ""),
    ("setup-runtime-py27", ["setup", "--runtime", "python2.7"], USAGE, ""),
    ("setup-key-bogus", ["setup", "--key", "header:x"], USAGE, ""),
    ("setup-max-concurrency-1", ["setup", "--max-concurrency", "1"], USAGE, ""),
    (
        "setup-processor-missing-file",
        ["setup", "--processor", "{files}/nope.py:process"],
        USAGE,
        "",
    ),
    (
        "setup-processor-syntax-error",
        ["setup", "--processor", "{files}/syntax.py:process"],
        USAGE,
        "",
    ),
    (
        "setup-processor-no-function",
        ["setup", "--processor", "{files}/nofn.py:process"],
        USAGE,
        "",
    ),
    (
        "setup-processor-not-py",
        ["setup", "--processor", "{files}/notes.txt:process"],
        USAGE,
        "",
    ),
    ("setup-bad-email", ["setup", "--notify-email", "nobody"], USAGE, ""),
    ("setup-bad-lock-ttl", ["setup", "--lock-ttl", "soon"], USAGE, ""),
    # -- send ---------------------------------------------------------------------------------
    ("send-count-zero", ["--stack", PRESENT, "send", "--count", "0"], USAGE, ""),
    (
        "send-malformed-jsonl",
        ["--stack", PRESENT, "send", "--file", "{files}/bad.jsonl"],
        USAGE,
        "",
    ),
    (
        "send-jsonl-no-body",
        ["--stack", PRESENT, "send", "--file", "{files}/nobody.jsonl"],
        USAGE,
        "",
    ),
    (
        "send-jsonl-empty",
        ["--stack", PRESENT, "send", "--file", "{files}/empty.jsonl"],
        USAGE,
        "",
    ),
    (
        "send-missing-file",
        ["--stack", PRESENT, "send", "--file", "{files}/none.jsonl"],
        USAGE,
        "",
    ),
    (
        "send-body-file-not-utf8",
        ["--stack", PRESENT, "send", "--body-file", "{files}/latin1.txt"],
        USAGE,
        "",
    ),
    (
        "send-file-and-count",
        ["--stack", PRESENT, "send", "--file", "{files}/grouped.jsonl", "--count", "3"],
        USAGE,
        "",
    ),
    (
        "send-body-and-template",
        ["--stack", PRESENT, "send", "hi", "--template", "{{seq}}"],
        USAGE,
        "",
    ),
    (
        "send-group-to-standard-queue",
        ["send", "--queue", "plain", "--group-id", "g", "hi"],
        USAGE,
        "",
    ),
    (
        "send-jsonl-group-to-standard-queue",
        ["send", "--queue", "plain", "--file", "{files}/grouped.jsonl"],
        USAGE,
        "",
    ),
    (
        "send-repeated-dedup-id",
        ["--stack", PRESENT, "send", "--dedup-id", "same", "-n", "3"],
        USAGE,
        "",
    ),
    (
        "send-dedup-and-repeat-dedup",
        ["--stack", PRESENT, "send", "--dedup-id", "a", "--repeat-dedup-id", "b"],
        USAGE,
        "",
    ),
    ("send-concurrency-0", ["--stack", PRESENT, "send", "--concurrency", "0"], USAGE, ""),
    (
        "send-sets-key-attribute",
        ["--stack", PRESENT, "send", "--attr", "sqsidem-key=x"],
        USAGE,
        "",
    ),
    ("send-bad-attr", ["--stack", PRESENT, "send", "--attr", "novalue"], USAGE, ""),
    (
        "send-group-id-129-chars",
        ["--stack", PRESENT, "send", "--group-id", "g" * 129],
        USAGE,
        "",
    ),
    ("send-empty-body", ["--stack", PRESENT, "send", ""], USAGE, ""),
    ("send-no-queue", ["--stack", GHOST, "send", "hi"], FAILURE, ""),
    ("send-unknown-queue", ["send", "--queue", "nosuch.fifo", "hi"], FAILURE, ""),
    # -- locks --------------------------------------------------------------------------------
    ("locks-clear-nothing-selected", ["--stack", PRESENT, "locks", "clear"], USAGE, ""),
    (
        "locks-clear-all-and-stale",
        ["--stack", PRESENT, "locks", "clear", "--all", "--stale"],
        USAGE,
        "",
    ),
    (
        "locks-clear-ids-and-all",
        ["--stack", PRESENT, "locks", "clear", "tx-1", "--all"],
        USAGE,
        "",
    ),
    ("locks-clear-without-yes", ["--stack", PRESENT, "locks", "clear", "--all"], USAGE, ""),
    (
        "locks-list-bad-status",
        ["--stack", PRESENT, "locks", "list", "--status", "done"],
        USAGE,
        "",
    ),
    (
        "locks-list-bad-duration",
        ["--stack", PRESENT, "locks", "list", "--older-than", "5x"],
        USAGE,
        "",
    ),
    (
        "locks-list-segments-0",
        ["--stack", PRESENT, "locks", "list", "--segments", "0"],
        USAGE,
        "",
    ),
    ("locks-show-unknown-id", ["--stack", PRESENT, "locks", "show", "tx-nope"], FAILURE, ""),
    ("locks-list-missing-stack", ["--stack", GHOST, "locks", "list"], FAILURE, ""),
    (
        "locks-clear-missing-stack",
        ["--stack", GHOST, "locks", "clear", "--all", "--yes"],
        FAILURE,
        "",
    ),
    # -- teardown / dlq / notify / trace / logs -----------------------------------------------
    ("teardown-without-yes", ["--stack", PRESENT, "teardown"], USAGE, ""),
    (
        "teardown-pending-days-3",
        ["--stack", PRESENT, "teardown", "--yes", "--key-pending-days", "3"],
        USAGE,
        "",
    ),
    ("dlq-purge-without-yes", ["--stack", PRESENT, "dlq", "purge"], USAGE, ""),
    ("dlq-redrive-without-yes", ["--stack", PRESENT, "dlq", "redrive"], USAGE, ""),
    (
        "dlq-redrive-cancel-with-rate",
        ["--stack", PRESENT, "dlq", "redrive", "--cancel", "--rate", "5"],
        USAGE,
        "",
    ),
    (
        "dlq-redrive-rate-501",
        ["--stack", PRESENT, "dlq", "redrive", "--rate", "501"],
        USAGE,
        "",
    ),
    ("dlq-list-limit-0", ["--stack", PRESENT, "dlq", "list", "--limit", "0"], USAGE, ""),
    ("dlq-list-missing-stack", ["--stack", GHOST, "dlq", "list"], FAILURE, ""),
    (
        "notify-subscribe-bad-email",
        ["--stack", PRESENT, "notify", "subscribe", "nobody"],
        USAGE,
        "",
    ),
    ("notify-test-missing-stack", ["--stack", GHOST, "notify", "test"], FAILURE, ""),
    ("trace-empty-id", ["--stack", PRESENT, "trace", ""], USAGE, ""),
    ("trace-bad-since", ["--stack", PRESENT, "trace", "tx-1", "--since", "then"], USAGE, ""),
    ("logs-bad-since", ["--stack", PRESENT, "logs", "--since", "yesterday"], USAGE, ""),
    ("status-missing-stack", ["--stack", GHOST, "status"], FAILURE, ""),
    # -- worker -------------------------------------------------------------------------------
    ("worker-batch-size-11", ["--stack", PRESENT, "worker", "--batch-size", "11"], USAGE, ""),
    ("worker-concurrency-0", ["--stack", PRESENT, "worker", "--concurrency", "0"], USAGE, ""),
    ("worker-wait-time-21", ["--stack", PRESENT, "worker", "--wait-time", "21"], USAGE, ""),
    (
        "worker-processor-missing",
        ["--stack", PRESENT, "worker", "--processor", "{files}/nope.py:process"],
        USAGE,
        "",
    ),
    (
        "worker-key-bogus",
        ["--stack", PRESENT, "worker", "--key", "nope", "--idle-exit", "0", "--force"],
        USAGE,
        "",
    ),
    (
        "worker-while-mapping-enabled",
        ["--stack", PRESENT, "worker", "--idle-exit", "0"],
        FAILURE,
        "",
    ),
    (
        "worker-missing-stack",
        ["--stack", GHOST, "worker", "--idle-exit", "0", "--force"],
        FAILURE,
        "",
    ),
    # -- local backend ------------------------------------------------------------------------
    ("local-up-port-70000", ["local", "up", "--port", "70000"], USAGE, ""),
    ("local-reset-without-yes", ["local", "reset"], USAGE, ""),
    ("local-logs-negative-lines", ["local", "logs", "-n", "-1"], USAGE, ""),
    ("local-not-running", ["--local", "locks", "list"], FAILURE, ""),
    # -- the environment ----------------------------------------------------------------------
    ("missing-credentials", ["--stack", PRESENT, "locks", "list"], FAILURE, "no-credentials"),
    (
        "unreachable-endpoint",
        ["--endpoint-url", "http://127.0.0.1:{port}", "--stack", PRESENT, "locks", "list"],
        FAILURE,
        "fast-retries",
    ),
]


@pytest.mark.parametrize(("args", "code", "env"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_wrong_invocation_fails_cleanly_and_changes_nothing(
    world: World,
    creds: None,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    env: str,
) -> None:
    if env == "no-credentials":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    if env == "fast-retries":
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # 59 s of botocore's backoff otherwise
    argv = [a.format(files=world.files, port=world.closed_port) for a in args]
    before = resource_snapshot(world.aws)
    result = run_cli(argv)
    after = resource_snapshot(world.aws)
    shown = f"exit {result.exit_code}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.exception is None, shown
    assert result.exit_code == code, shown
    assert len(result.stderr_lines) == 1, shown
    assert result.stderr_lines[0].startswith("error: "), shown
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert before == after, "the failed call changed AWS resources"


def test_matrix_covers_every_command() -> None:
    """At least 30 cases, and every top-level command appears in the matrix."""
    assert len(CASES) >= 30
    commands = {
        "setup",
        "status",
        "teardown",
        "send",
        "logs",
        "worker",
        "trace",
        "local",
        "locks",
        "dlq",
        "notify",
    }
    used = {arg for case in CASES for arg in case[1]}
    assert commands <= used, commands - used
    assert {c[2] for c in CASES} == {USAGE, FAILURE}
