"""The live suite's targets: the shared ministack always, a real account only with `-m live`."""

from __future__ import annotations

import os
from collections.abc import Mapping

import pytest

from sqsidem.aws import Aws
from tests.backend import Ministack
from tests.support_live import Target, aws_target, restore

# Read once, before the autouse shield hides the machine's AWS settings from each test.
_ENV: Mapping[str, str] = dict(os.environ)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Only an -m expression that names `live` selects the live case: `-m slow` or
    `-m "not slow"` (which replace the default `-m "not live"`) still leave it out."""
    if "live" in (config.option.markexpr or ""):
        return
    kept = [item for item in items if item.get_closest_marker("live") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(
    params=[
        pytest.param("ministack"),
        # Deselected by default (addopts: -m "not live"): never runs in CI.
        pytest.param("aws", marks=pytest.mark.live),
    ]
)
def target(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Target:
    """Where the life cycle runs. The aws case refuses to start without its variables."""
    if request.param == "aws":
        restore(monkeypatch, _ENV)
        return aws_target(_ENV)
    ministack: Ministack = request.getfixturevalue("ministack")
    local_aws: Aws = request.getfixturevalue("local_aws")
    del ministack
    return Target("ministack", ("--local",), local_aws, on_aws=False)
