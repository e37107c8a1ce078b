"""The consumer package works as the zip ships it: top-level ``sqsidem_consumer``, alone."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3

import sqsidem.consumer

CONSUMER_DIR = Path(sqsidem.consumer.__file__).parent
SITE_PACKAGES = str(Path(boto3.__file__).parent.parent)

CHILD = textwrap.dedent(
    """
    import json, os, sys
    sys.path[:] = [sys.argv[1], sys.argv[2]] + [p for p in sys.path if "lib/python" in p
                                                and "site-packages" not in p]
    try:
        import sqsidem
    except ModuleNotFoundError:
        pass
    else:
        raise SystemExit("sqsidem is importable: the test proves nothing")
    from moto import mock_aws
    with mock_aws():
        import boto3
        ddb = boto3.client("dynamodb")
        ddb.create_table(
            TableName="Idempotent-test",
            KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        from sqsidem_consumer.handler import lambda_handler
        record = {
            "messageId": "m1", "receiptHandle": "rh", "body": "hello",
            "attributes": {"MessageDeduplicationId": "d1", "MessageGroupId": "g",
                           "ApproximateReceiveCount": "1"},
            "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:ap-northeast-1:123456789012:q.fifo",
            "awsRegion": "ap-northeast-1",
        }
        response = lambda_handler({"Records": [record, dict(record, messageId="m2")]}, None)
        print("RESPONSE " + json.dumps(response))
        loaded = sorted(m for m in sys.modules if m.startswith("sqsidem"))
        print("MODULES " + json.dumps(loaded))
    """
)


def test_consumer_imports_only_itself_stdlib_and_boto() -> None:
    """Static check: every absolute import is stdlib, boto3/botocore or typing-only."""
    allowed_roots = {"boto3", "botocore", "mypy_boto3_dynamodb"} | set(sys.stdlib_module_names)
    for path in CONSUMER_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert roots <= allowed_roots, f"{path.name} imports {roots - allowed_roots}"


def test_zip_layout_runs_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """Copied as top-level sqsidem_consumer + sqsidem_processor, the handler runs alone."""
    shutil.copytree(CONSUMER_DIR, tmp_path / "sqsidem_consumer", ignore=_no_cache)
    (tmp_path / "sqsidem_processor.py").write_text(
        "def handle(record):\n    print('PROCESSED ' + record['body'])\n", encoding="utf-8"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "SQSIDEM_TABLE": "Idempotent-test",
        "SQSIDEM_PROCESSOR": "sqsidem_processor:handle",
    }
    done = subprocess.run(
        # -I: no user site, no PYTHON* variables; -S: no .pth files (so no editable sqsidem).
        [sys.executable, "-I", "-S", "-c", CHILD, str(tmp_path), SITE_PACKAGES],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert "PROCESSED hello" in out
    response = json.loads(next(line for line in out if line.startswith("RESPONSE "))[9:])
    assert response == {"batchItemFailures": []}
    decisions = [json.loads(line)["decision"] for line in out if line.startswith('{"sqsidem"')]
    assert decisions == ["acquired", "completed", "duplicate"]
    modules = json.loads(next(line for line in out if line.startswith("MODULES "))[8:])
    assert "sqsidem" not in modules
    assert "sqsidem_consumer.handler" in modules


def _no_cache(directory: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__pycache__"]
