"""Shared fixtures: shield tests from real AWS, moto-backed clients, one shared ministack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqsidem.aws import Aws, ClientOptions
from sqsidem.settings import Settings

REGION = "ap-northeast-1"


@pytest.fixture(autouse=True)
def _shield_from_real_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test may see the machine's AWS configuration or reach real AWS."""
    home = tmp_path_factory.mktemp("aws-home")
    for name in list(os.environ):
        if name.startswith(("AWS_", "SQSIDEM_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("SQSIDEM_STATE_DIR", str(home / "state"))


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def moto_aws(fake_credentials: None) -> Iterator[Aws]:
    """An :class:`Aws` factory whose clients talk to moto's in-process mock."""
    from moto import mock_aws

    with mock_aws():
        yield Aws(Settings(region=REGION), ClientOptions(max_attempts=2))


@pytest.fixture(scope="session")
def ministack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ministack")
