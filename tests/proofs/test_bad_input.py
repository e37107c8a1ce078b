"""The bad-input matrix (issue 8.3): wrong invocations of every command fail cleanly.

Each case must exit 2 (usage: decidable before any AWS call) or 1 (learned from AWS), print
exactly one line on stderr, never a traceback, and leave every AWS resource as it was: a
snapshot of moto's queues (with depths), tables (with item counts), functions, mappings,
roles, keys, aliases, topics, subscriptions, log groups and alarms is compared around it.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sqsidem.aws import Aws, ClientOptions
from sqsidem.local import free_port
from sqsidem.names import names_for
from sqsidem.settings import Settings
from tests.proofs.helpers import FAST_SETUP, resource_snapshot, run_cli

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
            built = run_cli(["--stack", PRESENT, "setup", *FAST_SETUP])
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


# One case a line: id, exit code (2 usage, 1 failure), then the arguments as shell words.
# {files} is the directory of test files, {closed_endpoint} a closed port on 127.0.0.1.
MATRIX = """
bad-stack-name                     2 --stack BAD_name status
stack-name-too-long                2 --stack '{long_stack}' locks list
unknown-output                     2 -o yaml status
unknown-command                    2 deploy
unknown-option                     2 status --verbose
profile-not-found                  2 --profile nosuch status
setup-timeout-zero                 2 setup --timeout 0
setup-timeout-over-900             2 setup --timeout 901
setup-timeout-not-int              2 setup --timeout abc
setup-batch-size-11                2 setup --batch-size 11
setup-max-receive-0                2 setup --max-receive-count 0
setup-max-receive-1001             2 setup --max-receive-count 1001
setup-visibility-below-timeout     2 setup --timeout 5 --visibility-timeout 4
setup-memory-64                    2 setup --memory 64
setup-log-retention-2              2 setup --log-retention-days 2
setup-runtime-py27                 2 setup --runtime python2.7
setup-key-bogus                    2 setup --key header:x
setup-max-concurrency-1            2 setup --max-concurrency 1
setup-processor-missing-file       2 setup --processor '{files}/nope.py:process'
setup-processor-syntax-error       2 setup --processor '{files}/syntax.py:process'
setup-processor-no-function        2 setup --processor '{files}/nofn.py:process'
setup-processor-not-py             2 setup --processor '{files}/notes.txt:process'
setup-bad-email                    2 setup --notify-email nobody
setup-bad-lock-ttl                 2 setup --lock-ttl soon
send-count-zero                    2 --stack present send --count 0
send-malformed-jsonl               2 --stack present send --file '{files}/bad.jsonl'
send-jsonl-no-body                 2 --stack present send --file '{files}/nobody.jsonl'
send-jsonl-empty                   2 --stack present send --file '{files}/empty.jsonl'
send-missing-file                  2 --stack present send --file '{files}/none.jsonl'
send-body-file-not-utf8            2 --stack present send --body-file '{files}/latin1.txt'
send-file-and-count                2 --stack present send --file '{files}/grouped.jsonl' --count 3
send-body-and-template             2 --stack present send hi --template '{{seq}}'
send-group-to-standard-queue       2 send --queue plain --group-id g hi
send-jsonl-group-to-standard-queue 2 send --queue plain --file '{files}/grouped.jsonl'
send-repeated-dedup-id             2 --stack present send --dedup-id same -n 3
send-dedup-and-repeat-dedup        2 --stack present send --dedup-id a --repeat-dedup-id b
send-concurrency-0                 2 --stack present send --concurrency 0
send-sets-key-attribute            2 --stack present send --attr sqsidem-key=x
send-bad-attr                      2 --stack present send --attr novalue
send-group-id-129-chars            2 --stack present send --group-id '{long_group}'
send-empty-body                    2 --stack present send ''
send-no-queue                      1 --stack ghost send hi
send-unknown-queue                 1 send --queue nosuch.fifo hi
locks-clear-nothing-selected       2 --stack present locks clear
locks-clear-all-and-stale          2 --stack present locks clear --all --stale
locks-clear-ids-and-all            2 --stack present locks clear tx-1 --all
locks-clear-without-yes            2 --stack present locks clear --all
locks-list-bad-status              2 --stack present locks list --status done
locks-list-bad-duration            2 --stack present locks list --older-than 5x
locks-list-segments-0              2 --stack present locks list --segments 0
locks-show-unknown-id              1 --stack present locks show tx-nope
locks-list-missing-stack           1 --stack ghost locks list
locks-clear-missing-stack          1 --stack ghost locks clear --all --yes
teardown-without-yes               2 --stack present teardown
teardown-pending-days-3            2 --stack present teardown --yes --key-pending-days 3
dlq-purge-without-yes              2 --stack present dlq purge
dlq-redrive-without-yes            2 --stack present dlq redrive
dlq-redrive-cancel-with-rate       2 --stack present dlq redrive --cancel --rate 5
dlq-redrive-rate-501               2 --stack present dlq redrive --rate 501
dlq-list-limit-0                   2 --stack present dlq list --limit 0
dlq-list-missing-stack             1 --stack ghost dlq list
notify-subscribe-bad-email         2 --stack present notify subscribe nobody
notify-test-missing-stack          1 --stack ghost notify test
trace-empty-id                     2 --stack present trace ''
trace-bad-since                    2 --stack present trace tx-1 --since then
logs-bad-since                     2 --stack present logs --since yesterday
status-missing-stack               1 --stack ghost status
worker-batch-size-11               2 --stack present worker --batch-size 11
worker-concurrency-0               2 --stack present worker --concurrency 0
worker-wait-time-21                2 --stack present worker --wait-time 21
worker-processor-missing           2 --stack present worker --processor '{files}/nope.py:process'
worker-key-bogus                   2 --stack present worker --key nope --idle-exit 0 --force
worker-while-mapping-enabled       1 --stack present worker --idle-exit 0
worker-missing-stack               1 --stack ghost worker --idle-exit 0 --force
local-up-port-70000                2 local up --port 70000
local-reset-without-yes            2 local reset
local-logs-negative-lines          2 local logs -n -1
local-not-running                  1 --local locks list
missing-credentials                1 --stack present locks list
unreachable-endpoint               1 --endpoint-url {closed_endpoint} --stack present locks list
"""
# Cases that need the environment changed first.
ENVIRONMENT = {"missing-credentials": "no-credentials", "unreachable-endpoint": "fast-retries"}
LONG_VALUES = {"long_stack": "a" * 41, "long_group": "g" * 129}


def _case(line: str) -> tuple[str, list[str], int, str]:
    name, code, *args = shlex.split(line)
    args = [arg.format(**LONG_VALUES) if "{long_" in arg else arg for arg in args]
    return name, args, int(code), ENVIRONMENT.get(name, "")


CASES = [_case(line) for line in MATRIX.strip().splitlines()]


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
    closed = f"http://127.0.0.1:{world.closed_port}"
    argv = [a.format(files=world.files, closed_endpoint=closed) for a in args]
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
