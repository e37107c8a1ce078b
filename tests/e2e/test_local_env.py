"""The local function gets a clean environment (issue 13, item 11): what Lambda gives it,
the emulator's own settings and the function's configured variables, nothing of the
operator's (a token exported in the operator's shell must not reach processing code)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import boto3

from sqsidem.local_env import EMULATOR_SETTINGS, LAMBDA_BASE
from tests.backend import REGION, running_ministack, without_aws

_CODE = """
import os

def handle(event, context):
    return {"names": sorted(os.environ), "token": os.environ.get("SECRET_TOKEN"),
            "setting": os.environ.get("MY_SETTING"), "home": os.environ.get("HOME")}
"""
# What ministack injects as Lambda does (region, function, credentials, code root, endpoint).
_INJECTED_PREFIXES = ("AWS_", "_LAMBDA_", "LAMBDA_", "_HANDLER", "_MINISTACK_")
# Python's own: where LANG's locale is not installed it coerces LC_CTYPE (PEP 538).
_PYTHON_SET = {"LC_CTYPE"}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("envdump.py", _CODE)
    return buffer.getvalue()


def test_the_local_function_sees_no_operator_variable(tmp_path: Path) -> None:
    """A SECRET_TOKEN and a PYTHONPATH in the operator's environment never reach the code."""
    operator = without_aws(SECRET_TOKEN="s3cr3t", PYTHONPATH=str(tmp_path), EDITOR="vi")
    with running_ministack(tmp_path / "state", operator) as backend:
        client = boto3.client(
            "lambda",
            endpoint_url=backend.endpoint,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        client.create_function(
            FunctionName="envdump",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/envdump",
            Handler="envdump.handle",
            Code={"ZipFile": _zip()},
            Environment={"Variables": {"MY_SETTING": "on"}},
        )
        client.get_waiter("function_active_v2").wait(FunctionName="envdump")
        answer = json.loads(client.invoke(FunctionName="envdump")["Payload"].read())
    assert answer["token"] is None
    assert answer["setting"] == "on"
    names = set(answer["names"])
    assert "PYTHONPATH" not in names and "EDITOR" not in names
    assert {"AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "AWS_ACCESS_KEY_ID"} <= names
    assert set(LAMBDA_BASE) <= names
    allowed = set(LAMBDA_BASE) | set(EMULATOR_SETTINGS) | {"MY_SETTING"} | _PYTHON_SET
    foreign = {n for n in names if n not in allowed and not n.startswith(_INJECTED_PREFIXES)}
    assert foreign == set()
    assert not Path(answer["home"]).resolve().is_relative_to(Path.home().resolve())
