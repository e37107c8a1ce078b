"""Shared fixtures: shield tests from real AWS, moto-backed clients, one shared ministack."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest

from sqsidem.aws import Aws, ClientOptions
from sqsidem.settings import Settings
from tests.backend import REGION, Ministack, running_ministack, without_aws
from tests.realism import Behaviours, Realism


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
def ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ministack]:
    """One emulator for the whole test session, started through `local up`'s own code."""
    root = tmp_path_factory.mktemp("ministack")
    with running_ministack(root, without_aws()) as backend:
        yield backend


@pytest.fixture
def local_aws(ministack: Ministack, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """An :class:`Aws` on the shared emulator; `--local` in CLI tests finds the same one."""
    monkeypatch.setenv("SQSIDEM_STATE_DIR", str(ministack.root))
    return Aws(Settings(local=True, region=REGION), endpoint_url=ministack.endpoint)


@pytest.fixture
def stack_name(request: pytest.FixtureRequest) -> str:
    """A stack name of its own per test, so tests can share one emulator."""
    digest = hashlib.sha1(request.node.nodeid.encode(), usedforsecurity=False).hexdigest()
    return f"t{digest[:10]}"


@pytest.fixture
def aws_realism() -> Realism:
    """The AWS-realism layer with every behaviour on, AWS's delays scaled down to seconds
    (tests/realism.py); hand it to ``Aws(on_client=...)`` or ``Seam(aws_factory=...)``."""
    return Realism(Behaviours.everything())
