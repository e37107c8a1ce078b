"""The live suite's target (the shared ministack, or a real account) and its cost estimate.

Plain helpers: the fixtures that build a :class:`Target` live in tests/live/conftest.py.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.settings import Settings

LIVE_PROFILE = "SQSIDEM_LIVE_PROFILE"
LIVE_REGION = "SQSIDEM_LIVE_REGION"
_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")

# Rough USD prices (ap-northeast-1/us-east-1 list prices, 2026): enough to show the order.
PRICE_PER_CALL = {
    "sqs": 0.50 / 1e6,  # FIFO requests
    "sns": 0.50 / 1e6,
    "kms": 0.03 / 1e4,
    "dynamodb": 1.25 / 1e6,
    "lambda": 0.20 / 1e6,
    "logs": 0.0,  # control calls; ingestion of a few KB is negligible
}
PRICE_PER_HOUR = {"kms key": 1.0 / 730, "alarm": 0.10 / 730}


def live_settings(env: Mapping[str, str]) -> tuple[str | None, str]:
    """(profile, region) for the live suite, or a one-line refusal (pytest.exit)."""
    import pytest

    region = env.get(LIVE_REGION)
    profile = env.get(LIVE_PROFILE)
    has_keys = all(env.get(name) for name in _KEYS)
    if not region or not (profile or has_keys):
        pytest.exit(
            f"refusing to run the live suite: set {LIVE_REGION} and either {LIVE_PROFILE} "
            "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (it builds and deletes a real stack)",
            returncode=4,
        )
    return profile, region


def unique_stack() -> str:
    return f"live{uuid.uuid4().hex[:8]}"


@dataclass
class Target:
    """Where the life cycle runs: global options for the CLI, and clients for checks."""

    name: str
    args: tuple[str, ...]
    aws: Aws
    on_aws: bool
    calls: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def count(self, service: str, client: Any) -> None:
        def counted(**_: Any) -> None:
            self.calls[service] = self.calls.get(service, 0) + 1

        client.meta.events.register("before-call", counted)

    def run(self, stack: str, *args: str) -> Result:
        from sqsidem.cli.app import app
        from sqsidem.cli.context import Seam

        def factory(settings: Settings, *, endpoint_url: str | None = None) -> Aws:
            return Aws(settings, endpoint_url=endpoint_url, on_client=self.count)

        argv = [*self.args, "--stack", stack, *args]
        return CliRunner().invoke(app, argv, obj=Seam(aws_factory=factory))

    def ok(self, stack: str, *args: str) -> Result:
        result = self.run(stack, *args)
        assert result.exit_code == 0, f"{args}: {result.stderr}"
        return result

    def cost_lines(self) -> Sequence[str]:
        hours = (time.monotonic() - self.started) / 3600
        lines = []
        total = 0.0
        for service, count in sorted(self.calls.items()):
            price = count * PRICE_PER_CALL.get(service, 0.0)
            total += price
            lines.append(f"  {service:<10} {count:>5} calls  ~${price:.6f}")
        for item, per_hour in PRICE_PER_HOUR.items():
            price = max(hours, 1 / 60) * per_hour
            total += price
            lines.append(f"  {item:<10} {hours * 60:>5.1f} min    ~${price:.6f}")
        lines.append(
            f"  total (rough, sqsidem's own calls; the function adds a few): ~${total:.4f}"
        )
        return lines


def aws_target(env: Mapping[str, str]) -> Target:
    profile, region = live_settings(env)
    args = ("--region", region) + (("--profile", profile) if profile else ())
    aws = Aws(Settings(profile=profile, region=region))
    return Target("aws", args, aws, on_aws=True)


def restore(monkeypatch: Any, env: Mapping[str, str]) -> None:
    """Give a live test back the AWS settings the autouse shield took away."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
