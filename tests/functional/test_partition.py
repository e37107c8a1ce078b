"""No partition is assumed: under an aws-cn caller every ARN sqsidem builds is in aws-cn."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from botocore.stub import Stubber
from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.cli.context import Seam
from sqsidem.settings import Settings

CN_CALLER = {
    "UserId": "AIDAEXAMPLE",
    "Account": "123456789012",
    "Arn": "arn:aws-cn:iam::123456789012:user/operator",
}
_ARN = re.compile(r"arn:[^\s\"']*")


def _cn_factory(settings: Settings, *, endpoint_url: str | None = None) -> Aws:
    """moto for every service but STS, which says the caller lives in the aws-cn partition."""

    def hook(service: str, client: Any) -> None:
        if service == "sts":
            stub = Stubber(client)
            for _ in range(5):
                stub.add_response("get_caller_identity", CN_CALLER)
            stub.activate()

    return Aws(settings, endpoint_url=endpoint_url, on_client=hook)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_every_planned_arn_takes_the_callers_partition(moto_aws: Aws, tmp_path: Path) -> None:
    """setup --dry-run under an aws-cn identity: each ARN in the plan and in every policy
    document it carries (role, key policy) starts with arn:aws-cn:."""
    result = CliRunner().invoke(
        app, ["-o", "json", "setup", "--dry-run"], obj=Seam(aws_factory=_cn_factory)
    )
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    arns: list[str] = []
    for text in _strings(plan):
        # Policy documents travel as JSON strings inside the plan: look inside them too.
        arns.extend(_ARN.findall(text))
    assert any(":iam::123456789012:root" in arn for arn in arns), "key policy not in the plan"
    assert any(":log-group:" in arn for arn in arns), "role policies not in the plan"
    assert any(":sns:" in arn for arn in arns) and any(":cloudwatch:" in arn for arn in arns)
    wrong = sorted({arn for arn in arns if not arn.startswith("arn:aws-cn:")})
    assert wrong == []
