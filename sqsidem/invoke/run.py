"""`sqsidem invoke`: build the zip for this interpreter, extract it, run the consumer on the
records in a subprocess (:mod:`.child`), and collect each record's decisions."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqsidem.build.package import build_function_zip
from sqsidem.build.sources import ProcessorRef
from sqsidem.errors import SqsidemError
from sqsidem.local_env import invoke_env

if TYPE_CHECKING:
    from sqsidem.aws import Aws

INVOKE_PREFIX = "sqsidem-invoke#"  # lock keys a trial run writes, apart from the real ones


@dataclass(frozen=True)
class InvokeRequest:
    processor: ProcessorRef | None  # its target is this host (options.invoke_request)
    records: list[dict[str, Any]]
    key: str = "dedup"
    table: str | None = None  # --lock: the stack's lock table
    real_key: bool = False
    lock_ttl_s: int = 7 * 24 * 3600
    runtime: str = "python3.12"
    env: dict[str, str] = field(default_factory=dict)  # AWS settings for --lock


@dataclass
class RecordRun:
    """One record: its message id, the decisions the consumer made, whether it failed."""

    message_id: str
    decisions: list[dict[str, Any]] = field(default_factory=list)
    failed: bool = False  # in the partial batch response's failures

    def as_dict(self) -> dict[str, Any]:
        # The outcome is the last decision; a release only follows a failure.
        telling = [d for d in self.decisions if d.get("decision") != "released"]
        last = telling[-1] if telling else {}
        return {
            "message_id": self.message_id,
            "decision": last.get("decision"),
            "transaction_id": last.get("transaction_id"),
            "error": last.get("error"),
            "decisions": [d.get("decision") for d in self.decisions],
            "failed": self.failed,
        }


@dataclass
class InvokeResult:
    records: list[RecordRun]
    response: dict[str, Any]
    output: list[str]  # what the processor printed
    code_sha256: str
    prefix: str  # the lock key prefix ("" without --lock, or with --real-key)
    real_key: bool = False


def _split(stdout: str, records: list[RecordRun]) -> list[str]:
    by_id = {r.message_id: r for r in records}
    output = []
    for line in stdout.splitlines():
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) and "decision" in parsed and "sqsidem" in parsed:
            run = by_id.get(str(parsed.get("message_id")))
            if run is not None:
                run.decisions.append(parsed)
                continue
        output.append(line)
    return output


def invoke(request: InvokeRequest) -> InvokeResult:
    """Run the records through the consumer and the processor as the zip holds them."""
    built = build_function_zip(request.processor, runtime=request.runtime)
    prefix = "" if request.real_key else INVOKE_PREFIX
    payload = {
        "processor": request.processor.spec if request.processor else "",
        "key": request.key,
        "table": request.table,
        "prefix": prefix,
        "lock_ttl_s": request.lock_ttl_s,
        "event": {"Records": request.records},
    }
    with tempfile.TemporaryDirectory(prefix="sqsidem-invoke-") as scratch:
        root = Path(scratch)
        with zipfile.ZipFile(io.BytesIO(built.data)) as archive:
            archive.extractall(root / "code")
        (root / "request.json").write_text(json.dumps(payload), encoding="utf-8")
        child = Path(__file__).with_name("child.py")
        command = [sys.executable, "-I", str(child), str(root / "code")]
        command += [str(root / "request.json"), str(root / "result.json")]
        env = invoke_env(os.environ, request.env)
        # Our own interpreter on our own child script: no untrusted input in the command.
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, check=False, env=env
        )
        if done.returncode != 0 or not (root / "result.json").is_file():
            tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise SqsidemError(f"the processor's process failed: {tail}")
        response = json.loads((root / "result.json").read_text(encoding="utf-8"))
    failures = {f.get("itemIdentifier") for f in response.get("batchItemFailures", [])}
    runs = [
        RecordRun(str(r.get("messageId")), failed=r.get("messageId") in failures)
        for r in request.records
    ]
    output = _split(done.stdout, runs) + done.stderr.splitlines()
    prefix = prefix if request.table else ""
    return InvokeResult(runs, response, output, built.code_sha256, prefix, request.real_key)


def aws_env(aws: Aws) -> dict[str, str]:
    """The child's AWS settings for --lock: the same account, region and endpoint as ours."""
    env = {"AWS_DEFAULT_REGION": aws.region}
    if aws.endpoint_url:
        env["AWS_ENDPOINT_URL"] = aws.endpoint_url
    credentials = aws.session.get_credentials()
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        env["AWS_ACCESS_KEY_ID"] = frozen.access_key or ""
        env["AWS_SECRET_ACCESS_KEY"] = frozen.secret_key or ""
        if frozen.token:
            env["AWS_SESSION_TOKEN"] = frozen.token
    return env
