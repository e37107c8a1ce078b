"""What tests share about their backends: the region, and the session's emulator.

Fixtures live in ``tests/conftest.py``; test modules import these names from here, never
from a conftest.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqsidem.aws import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

REGION = "ap-northeast-1"


@dataclass(frozen=True)
class Ministack:
    """The shared emulator of a test session (the ``ministack`` fixture)."""

    endpoint: str
    root: Path


def without_aws(**extra: str) -> dict[str, str]:
    """This process's environment without any AWS or sqsidem setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SQSIDEM_"))}
    env.update(extra)
    return env


@contextlib.contextmanager
def running_ministack(root: Path, env: Mapping[str, str]) -> Iterator[Ministack]:
    """A ministack of our own on a free port, started and stopped through `local`'s code."""
    from sqsidem.local import LocalBackend, free_port

    backend = LocalBackend(root, env=env)
    status, _ = backend.up(free_port(), timeout_s=60)
    assert status.endpoint is not None
    try:
        yield Ministack(status.endpoint, root)
    finally:
        backend.down()


def child_env(access_key: str = LOCAL_ACCESS_KEY, secret: str = LOCAL_SECRET_KEY) -> dict[str, str]:
    """The environment of a child `sqsidem` run against an endpoint: only these credentials."""
    return without_aws(
        AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION=REGION
    )


def sqsidem_command(endpoint: str, stack: str, *args: str) -> list[str]:
    """`python -m sqsidem --endpoint-url ENDPOINT --stack STACK ARGS...` as a child's argv."""
    return [sys.executable, "-m", "sqsidem", "--endpoint-url", endpoint, "--stack", stack, *args]
