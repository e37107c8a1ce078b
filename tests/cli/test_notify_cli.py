"""`sqsidem notify test|subscribe|list` through the CLI, on moto."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sqsidem.aws import Aws
from sqsidem.cli.app import app


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--stack", "t1", *args])
    return result.exit_code, result.stdout, result.stderr


def test_notify_round_trip(moto_aws: Aws) -> None:
    """test publishes; subscribe adds an email; list shows it (json)."""
    moto_aws.sns.create_topic(Name="t1-dlq-alerts")
    code, out, err = run("notify", "test", "--output", "json")
    assert code == 0, err
    assert json.loads(out)["topic_arn"].endswith(":t1-dlq-alerts")
    code, _, err = run("notify", "subscribe", "ops@example.com")
    assert code == 0 and "ops@example.com subscribed" in err
    code, out, _ = run("notify", "list", "--output", "json")
    subscriptions = json.loads(out)["subscriptions"]
    assert code == 0 and [s["endpoint"] for s in subscriptions] == ["ops@example.com"]
    code, out, _ = run("notify", "list")
    assert code == 0 and "│ email    │ ops@example.com │ confirmed │" in out.splitlines()


def test_bad_email_is_exit_2(moto_aws: Aws) -> None:
    """A malformed address is refused before any AWS call."""
    code, _, err = run("notify", "subscribe", "nope")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_missing_topic_is_exit_1(moto_aws: Aws) -> None:
    """No topic: exit 1 and one line."""
    code, _, err = run("notify", "test")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "setup" in err
