"""No region anywhere: a command bound for AWS refuses before any call (DESIGN 6.2)."""

from __future__ import annotations

import pytest

from sqsidem.aws import Aws
from sqsidem.settings import Settings
from tests.support_seam import ClientSpy


@pytest.mark.parametrize("args", [["status"], ["setup", "--dry-run"], ["locks", "list"]])
def test_no_region_refuses_with_one_line_and_no_call(
    args: list[str], fake_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials but no region: exit 2, one line saying how to set one, no API call."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    spy = ClientSpy()
    result = spy.invoke(args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "no AWS region configured" in line and "--region" in line and "AWS_REGION" in line
    assert spy.counts == {}


def test_local_and_an_emulator_endpoint_keep_the_tutorials_region() -> None:
    """--local (and an explicit emulator endpoint) use ap-northeast-1 when nothing is set."""
    assert Aws(Settings(local=True)).region == "ap-northeast-1"
    assert Aws(Settings(), endpoint_url="http://127.0.0.1:4566").region == "ap-northeast-1"


def test_the_aws_chain_region_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS_REGION from the environment is a region: no refusal."""
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert Aws(Settings()).region == "eu-west-1"
