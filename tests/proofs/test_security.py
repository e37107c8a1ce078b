"""Security checks as tests (issue 8.4).

- every IAM statement sqsidem generates names one resource, no wildcard but the log streams;
- the queue, the DLQ and the topic are encrypted with the stack's own KMS key;
- the deployed function works on a ministack that enforces IAM (AUTH=true), and stops
  working when one of its role's policies is taken away (so enforcement really was on);
- nothing sqsidem prints (stdout, stderr, --debug output, decision lines) contains the
  secret access key.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sqsidem.aws import Aws
from sqsidem.names import StackNames, names_for
from sqsidem.settings import Settings
from sqsidem.stack.iam_policy import (
    ALLOWED_ACTIONS,
    function_policies,
    key_policy,
    lambda_trust_policy,
    log_stream_arn,
)
from sqsidem.stack.inputs import Refs
from tests.backend import (
    REGION,
    Ministack,
    child_env,
    running_ministack,
    sqsidem_command,
    without_aws,
)
from tests.proofs.helpers import run_cli
from tests.waiting import wait_until

FAST = ["--timeout", "2", "--visibility-timeout", "4", "--max-receive-count", "2"]
SECRET = "sqsidemProofSecret/7Hq2+ZkW9vNx4RtY0bLmCdEfGhIjK"  # distinctive, 40 characters
ACCESS_KEY = "AKIAPROOFLEAKCHECK01"


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def assert_least_privilege(policies: dict[str, dict[str, Any]], log_streams: str) -> None:
    """One ARN per statement; the only `*` is the log-stream suffix; known actions only."""
    assert policies, "no policies"
    for name, document in policies.items():
        for statement in _statements(document):
            assert statement["Effect"] == "Allow", name
            assert "NotResource" not in statement and "NotAction" not in statement, name
            resources = _as_list(statement["Resource"])
            assert len(resources) == 1, f"{name}: {resources}"
            resource = resources[0]
            assert resource.startswith("arn:"), f"{name}: {resource}"
            if "*" in resource:
                assert resource == log_streams, f"{name}: wildcard in {resource}"
                assert resource.count("*") == 1 and resource.endswith(":*")
            for action in _as_list(statement["Action"]):
                assert "*" not in action, f"{name}: wildcard action {action}"
                assert action in ALLOWED_ACTIONS, f"{name}: unexpected action {action}"


def test_policy_builder_scopes_every_statement_to_one_arn() -> None:
    streams = log_stream_arn(Refs("123456789012", REGION, "aws"), "/aws/lambda/s-sqs-receive")
    policies = function_policies(
        queue_arn="arn:aws:sqs:ap-northeast-1:123456789012:s-queue.fifo",
        key_arn="arn:aws:kms:ap-northeast-1:123456789012:key/0000-1111",
        table_arn="arn:aws:dynamodb:ap-northeast-1:123456789012:table/Idempotent-s",
        log_streams_arn=streams,
    )
    assert_least_privilege(policies, streams)
    # The consumer decrypts; it never produces, so no GenerateDataKey (DESIGN 2, item 7).
    actions = {a for d in policies.values() for s in _statements(d) for a in _as_list(s["Action"])}
    assert "kms:Decrypt" in actions and not any("GenerateDataKey" in a for a in actions)
    trust = _statements(lambda_trust_policy())
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]


def test_key_policy_grants_only_the_account_and_the_two_notifying_services() -> None:
    """In a key policy `"Resource": "*"` means this key; what matters is who gets it."""
    policy = key_policy(
        account="123456789012",
        root_arn="arn:aws:iam::123456789012:root",
        topic_arn="arn:aws:sns:ap-northeast-1:123456789012:s-dlq-alerts",
        alarm_arn="arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:s-dlq-not-empty",
    )
    principals = []
    for statement in _statements(policy):
        assert statement["Resource"] == "*"  # the key policy's way to say "this key"
        principals.append(statement["Principal"])
        if statement["Principal"] != {"AWS": "arn:aws:iam::123456789012:root"}:
            assert set(_as_list(statement["Action"])) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert {"AWS": "arn:aws:iam::123456789012:root"} in principals
    services = [p["Service"] for p in principals if "Service" in p]
    assert sorted(s for group in services for s in _as_list(group)) == [
        "cloudwatch.amazonaws.com",
        "sns.amazonaws.com",
    ]


def _role_policies(aws: Aws, role: str) -> dict[str, dict[str, Any]]:
    names = aws.iam.list_role_policies(RoleName=role)["PolicyNames"]
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        document: Any = aws.iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        out[name] = json.loads(document) if isinstance(document, str) else dict(document)
    return out


def _key_id(aws: Aws, alias_or_id: str) -> str:
    return aws.kms.describe_key(KeyId=alias_or_id)["KeyMetadata"]["KeyId"]


def test_deployed_stack_is_least_privilege_and_encrypted(moto_aws: Aws) -> None:
    """After `setup` on moto: the role as built, and KMS on queue, DLQ and topic."""
    stack = "sec"
    built = run_cli(["--stack", stack, "setup", *FAST])
    assert built.exit_code == 0, built.stderr
    names = names_for(stack)
    aws = moto_aws
    account = aws.account_id()
    streams = log_stream_arn(Refs(account, aws.region, aws.partition()), names.log_group)
    policies = _role_policies(aws, names.role)
    assert set(policies) == {"sqsidem-queue", "sqsidem-key", "sqsidem-table", "sqsidem-logs"}
    assert_least_privilege(policies, streams)
    assert aws.iam.list_attached_role_policies(RoleName=names.role)["AttachedPolicies"] == []
    trust: Any = aws.iam.get_role(RoleName=names.role)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert [s["Principal"] for s in _statements(trust)] == [{"Service": "lambda.amazonaws.com"}]

    key = _key_id(aws, names.key_alias)
    meta = aws.kms.describe_key(KeyId=key)["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["KeyManager"] == "CUSTOMER"
    # Each resource the role names is the stack's own.
    resources = {d["Statement"][0]["Resource"] for d in policies.values()}
    queue_url = aws.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    queue_arn = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    table_arn = aws.dynamodb.describe_table(TableName=names.table)["Table"]["TableArn"]
    assert resources == {queue_arn, meta["Arn"], table_arn, streams}

    for queue in (names.queue, names.dlq):
        url = aws.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
            "Attributes"
        ]
        assert attributes.get("KmsMasterKeyId"), f"{queue} is not KMS-encrypted"
        assert _key_id(aws, attributes["KmsMasterKeyId"]) == key, queue
    topic = next(
        t["TopicArn"]
        for t in aws.sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(names.topic)
    )
    topic_key = aws.sns.get_topic_attributes(TopicArn=topic)["Attributes"].get("KmsMasterKeyId")
    assert topic_key, "the topic is not KMS-encrypted"
    assert _key_id(aws, topic_key) == key


# -- IAM enforced on the local backend ---------------------------------------------------------


@pytest.fixture(scope="module")
def auth_ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ministack]:
    """A ministack of our own with AUTH=true (LocalBackend passes AUTH through to the child)."""
    root = tmp_path_factory.mktemp("ministack-auth")
    with running_ministack(root, without_aws(AUTH="true")) as backend:
        yield backend


def _lock_status(aws: Aws, names: StackNames, key: str) -> str | None:
    item = aws.dynamodb.get_item(
        TableName=names.table, Key={"transaction_id": {"S": key}}, ConsistentRead=True
    ).get("Item")
    return None if item is None else item.get("status", {}).get("S", "COMPLETED")


def _send(aws: Aws, names: StackNames, key: str) -> None:
    url = aws.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    aws.sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"key": key}),
        MessageGroupId=key,
        MessageDeduplicationId=key,
        MessageAttributes={"sqsidem-key": {"DataType": "String", "StringValue": key}},
    )


@pytest.mark.slow
def test_function_works_with_iam_enforced_and_needs_its_policies(
    auth_ministack: Ministack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AUTH=true: the function's own role (assumed-role credentials) must allow its calls."""
    monkeypatch.setenv("SQSIDEM_STATE_DIR", str(auth_ministack.root))
    aws = Aws(Settings(local=True, region=REGION), endpoint_url=auth_ministack.endpoint)
    stack = "authz"
    names = names_for(stack)
    built = run_cli(["--local", "--stack", stack, "setup", *FAST])
    assert built.exit_code == 0, built.stderr

    _send(aws, names, "tx-allowed")
    wait_until(
        lambda: _lock_status(aws, names, "tx-allowed") == "COMPLETED",
        30,
        "the function to complete a lock under its role's policies",
    )

    # Negative control: without the table policy the same function may not take a lock.
    aws.iam.delete_role_policy(RoleName=names.role, PolicyName="sqsidem-table")
    _send(aws, names, "tx-denied")
    dlq_url = aws.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]

    def dead_lettered() -> bool:
        count = aws.sqs.get_queue_attributes(
            QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        return int(count) == 1

    wait_until(dead_lettered, 40, "the denied message to be dead-lettered")
    assert _lock_status(aws, names, "tx-denied") is None
    events = aws.logs.filter_log_events(logGroupName=names.log_group)["events"]
    assert any("AccessDenied" in e["message"] for e in events), "no access-denied decision"


# -- no secret in anything sqsidem prints ------------------------------------------------------


def _secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


def test_nothing_printed_in_process_contains_the_secret(
    moto_aws: Aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Success, failure and --debug traceback paths of many commands, on moto."""
    _secret_env(monkeypatch)
    stack = "leak"
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text('{"body": "x", "group_id": "g", "key": "tx-1"}\n', encoding="utf-8")
    runs = [
        ["--stack", stack, "--debug", "setup", *FAST],
        ["--stack", stack, "--debug", "doctor"],
        ["--stack", stack, "--debug", "status"],
        ["--stack", stack, "--debug", "-o", "json", "status"],
        ["--stack", stack, "--debug", "send", "--file", str(jsonl)],
        ["--stack", stack, "--debug", "locks", "list"],
        ["--stack", stack, "--debug", "locks", "show", "nosuch"],
        ["--stack", stack, "--debug", "dlq", "list"],
        ["--stack", "ghost", "--debug", "locks", "list"],
        ["--stack", "ghost", "--debug", "send", "hi"],
        ["--stack", stack, "--debug", "trace", "tx-1", "--no-peek-queue"],
        ["--stack", stack, "--debug", "teardown", "--yes", "--force"],
    ]
    outputs = []
    for args in runs:
        result = run_cli(args)
        outputs.append(result.stdout + result.stderr)
        assert SECRET not in result.stdout + result.stderr, args
    # The failure paths really ran with --debug (so a traceback was printed and checked).
    assert any("Traceback" in text for text in outputs)


def test_worker_subprocess_output_and_decisions_do_not_contain_the_secret(
    local_aws: Aws, ministack: Ministack, stack_name: str, tmp_path: Path
) -> None:
    """A real `sqsidem --debug worker` process: decision lines (incl. a failed record's error)
    and the summary on stderr; the emulator accepts any key when AUTH is off."""
    names = names_for(stack_name)
    sqs = local_aws.sqs
    url = sqs.create_queue(QueueName=names.queue, Attributes={"FifoQueue": "true"})["QueueUrl"]
    local_aws.dynamodb.create_table(
        TableName=names.table,
        KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for n, body in enumerate(("ok", "boom")):
        sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId=f"g{n}", MessageDeduplicationId=f"d{n}"
        )
    processor = tmp_path / "proc.py"
    processor.write_text(
        "import os\n"
        "def process(record):\n"
        "    if record['body'] == 'boom':\n"
        "        raise RuntimeError('refused ' + record['messageId'])\n",
        encoding="utf-8",
    )
    completed = subprocess.run(
        sqsidem_command(
            ministack.endpoint,
            stack_name,
            "--debug",
            "worker",
            "--processor",
            f"{processor}:process",
            "--force",
            "--wait-time",
            "1",
            "--idle-exit",
            "2",
            "--visibility-timeout",
            "30",
        ),
        env=child_env(ACCESS_KEY, SECRET),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    decisions = [json.loads(line) for line in completed.stderr.splitlines() if line.startswith("{")]
    assert {d["decision"] for d in decisions} >= {"completed", "failed"}
    assert SECRET not in completed.stdout + completed.stderr
    assert ACCESS_KEY not in completed.stdout + completed.stderr
