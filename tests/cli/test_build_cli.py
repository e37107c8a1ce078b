"""`sqsidem build` and setup's code options as a person sees them: bytes, manifest, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.names import names_for
from tests.support_wheels import code_with_dependency, requirements_for

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, ["--stack", "b1", *args])


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A processor folder with a sibling module, a dependency and two planted secrets."""
    monkeypatch.setenv("SQSIDEM_CACHE_DIR", str(tmp_path / "cache"))
    files = {
        "app.py": "import helper\n\ndef handle(record):\n    helper.go()\n",
        "helper.py": "import zipdep\n\ndef go():\n    print(zipdep.where())\n",
        ".env": "DB_PASSWORD=hunter2\n",
        "id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    }
    return code_with_dependency(tmp_path, files)


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_build_twice_gives_identical_bytes(code: Path, tmp_path: Path) -> None:
    """Same inputs, same zip; -o json gives the manifest with files, packages and CodeSha256."""
    first = run("build", "--processor", f"{code / 'app.py'}:handle", "--out", str(tmp_path / "a"))
    assert first.exit_code == 0, first.stderr
    assert "vendored: zipdep 1.0" in first.stderr and "CodeSha256" in first.stderr
    second = run(
        "-o", "json", "build", "--processor", f"{code}:app.handle", "--out", str(tmp_path / "b")
    )
    assert second.exit_code == 0, second.stderr
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    manifest = json.loads(second.stdout)
    assert manifest["code_sha256"] == sha256_b64((tmp_path / "b").read_bytes())
    assert manifest["packages"] == [{"name": "zipdep", "version": "1.0"}]
    assert {"app.py", "helper.py", "zipdep/__init__.py"} <= {f["path"] for f in manifest["files"]}
    assert set(manifest["excluded"]) == {".env", "id_rsa", "requirements.txt"}


def test_dry_run_names_the_excluded_secrets(moto_aws: Aws, code: Path) -> None:
    """The setup dry run says .env and id_rsa stay out, and that requirements were picked up."""
    result = run("setup", "--dry-run", "--processor", f"{code}:app.handle")
    assert result.exit_code == 0, result.stderr
    assert "not shipped (ignore rules): .env, id_rsa" in result.stderr
    assert (
        "picked up" in result.stderr and "boto3, botocore: provided by the runtime" in result.stderr
    )


def test_build_bytes_are_the_deployed_bytes(moto_aws: Aws, code: Path, tmp_path: Path) -> None:
    """build's zip has the CodeSha256 setup deploys; a second setup changes nothing."""
    spec = f"{code}:app.handle"
    built = run("build", "--processor", spec, "--out", str(tmp_path / "f.zip"))
    assert built.exit_code == 0, built.stderr
    setup = run("setup", "--processor", spec)
    assert setup.exit_code == 0, setup.stderr
    config = moto_aws.lambda_.get_function(FunctionName=names_for("b1").function)["Configuration"]
    assert config["CodeSha256"] == sha256_b64((tmp_path / "f.zip").read_bytes())
    assert config["Environment"]["Variables"]["SQSIDEM_PROCESSOR"] == "app:handle"
    again = run("setup", "--processor", spec)
    assert again.exit_code == 0 and "up to date: no changes made" in again.stderr


def test_setup_refuses_before_any_aws_call(code: Path, tmp_path: Path) -> None:
    """No wheel, or too big: one line, exit 2 (no credentials: an AWS call would exit 1)."""
    (code / "requirements.txt").write_text(requirements_for(tmp_path / "wheels", "nosuchpkg"))
    missing = run("setup", "--processor", f"{code}:app.handle")
    assert missing.exit_code == 2, missing.stderr
    assert missing.stderr.strip().splitlines() == [
        "error: requirement 'nosuchpkg' has no wheel for lambda python3.12 x86_64 and is not a "
        "pure-Python source distribution: pin a version that publishes a manylinux wheel for "
        "this runtime and architecture"
    ]
    (code / "requirements.txt").unlink()
    with (code / "weights.bin").open("wb") as sparse:
        sparse.truncate(300 * 1024 * 1024)
    big = run("setup", "--processor", f"{code}:app.handle")
    assert big.exit_code == 2, big.stderr
    (line,) = big.stderr.strip().splitlines()
    assert "over Lambda's 250 MB limit; largest: weights.bin 300.0 MB" in line


def test_arm64_function_gets_arm64_wheels(moto_aws: Aws, code: Path) -> None:
    """--architecture arm64: aarch64 wheels, an arm64 function; a re-run converges."""
    spec = f"{code}:app.handle"
    dry = run("setup", "--dry-run", "--processor", spec, "--architecture", "arm64")
    assert "lambda python3.12 arm64" in dry.stderr
    assert run("setup", "--processor", spec, "--architecture", "arm64").exit_code == 0
    name = names_for("b1").function
    config = moto_aws.lambda_.get_function(FunctionName=name)["Configuration"]
    assert config["Architectures"] == ["arm64"]
    again = run("setup", "--processor", spec, "--architecture", "arm64")
    assert again.exit_code == 0 and "up to date: no changes made" in again.stderr
    status = json.loads(run("-o", "json", "status").stdout)
    (row,) = [r for r in status["resources"] if r["resource"] == "function"]
    assert row["state"] == "exists", row
    alone = run("setup", "--architecture", "arm64")
    assert alone.exit_code == 2 and "need --processor" in alone.stderr
    bad = run("setup", "--processor", spec, "--architecture", "sparc")
    assert bad.exit_code == 2 and "--architecture 'sparc' is not one of x86_64, arm64" in bad.stderr


def test_bare_setup_keeps_the_deployed_processor(moto_aws: Aws, code: Path) -> None:
    """No --processor on a stack with a custom one: kept, 0 changes; `default` resets it."""
    assert run("setup", "--processor", f"{code}:app.handle").exit_code == 0
    bare = run("setup")
    assert bare.exit_code == 0, bare.stderr
    assert "processor: keeping the deployed app:handle (--processor default resets it)" in (
        bare.stderr
    )
    assert "up to date: no changes made" in bare.stderr
    name = names_for("b1").function
    env = moto_aws.lambda_.get_function(FunctionName=name)["Configuration"]["Environment"]
    assert env["Variables"]["SQSIDEM_PROCESSOR"] == "app:handle"
    reset = run("setup", "--processor", "default")
    assert reset.exit_code == 0 and "updating function" in reset.stderr
    env = moto_aws.lambda_.get_function(FunctionName=name)["Configuration"]["Environment"]
    assert "SQSIDEM_PROCESSOR" not in env["Variables"]


def test_worker_runs_the_same_folder_and_dependencies(
    moto_aws: Aws, code: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """worker --processor dir:module.fn: the sibling module and zipdep import from the build."""
    # The worker runs in this process: its import path and the modules it imported from the
    # build (zipdep, app, helper) go back afterwards, so later tests cannot see them.
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("zipdep", "app", "helper"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    spec = f"{code}:app.handle"
    assert run("setup", "--no-trigger", "--processor", spec).exit_code == 0
    queue = moto_aws.sqs.get_queue_url(QueueName=names_for("b1").queue)["QueueUrl"]
    moto_aws.sqs.send_message(
        QueueUrl=queue, MessageBody="m1", MessageGroupId="g", MessageDeduplicationId="w-1"
    )
    args = ["-o", "json", "worker", "--processor", spec, "--wait-time", "0", "--idle-exit", "0"]
    result = run(*args)
    for name in ("zipdep", "app", "helper"):
        sys.modules.pop(name, None)
    assert result.exit_code == 0, result.stderr
    printed, summary = result.stdout.splitlines()  # the processor prints zipdep.where()
    assert json.loads(summary)["processed"] == 1
    assert printed.endswith("zipdep/__init__.py") and "/cache/code/" in printed
