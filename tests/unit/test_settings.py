"""Settings precedence and validation (DESIGN 6.2), as pure logic."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqsidem.cli.app import hoist_global_options
from sqsidem.errors import UsageError
from sqsidem.names import names_for
from sqsidem.settings import GlobalFlags, resolve_settings, state_dir


def test_defaults_reproduce_the_tutorial(tmp_path: Path) -> None:
    """With nothing configured the stack is `test` and the names are the tutorial's."""
    settings = resolve_settings(GlobalFlags(), env={}, cwd=tmp_path)
    assert settings.stack == "test"
    assert settings.output == "human"
    assert settings.region is None  # left to the AWS chain, then ap-northeast-1
    names = settings.names
    assert (names.queue, names.table, names.function) == (
        "test-queue.fifo",
        "Idempotent-test",
        "test-sqs-receive",
    )


def test_every_name_derives_from_the_stack() -> None:
    """DESIGN 6.1, name by name."""
    names = names_for("s")
    assert names.dlq == "s-queue-dlq.fifo"
    assert names.role == "s-sqs-receive-role"
    assert names.log_group == "/aws/lambda/s-sqs-receive"
    assert names.topic == "s-dlq-alerts"
    assert names.alarm == "s-dlq-not-empty"
    assert names.key_alias == "alias/sqsidem-s"
    assert names.tags == {"sqsidem:stack": "s"}


def test_flag_beats_env_beats_file(tmp_path: Path) -> None:
    """flag > SQSIDEM_* > sqsidem.toml."""
    (tmp_path / "sqsidem.toml").write_text(
        'stack = "fromfile"\nregion = "eu-west-1"\noutput = "json"\n'
    )
    env = {"SQSIDEM_STACK": "fromenv"}
    settings = resolve_settings(GlobalFlags(stack="fromflag"), env=env, cwd=tmp_path)
    assert settings.stack == "fromflag"
    settings = resolve_settings(GlobalFlags(), env=env, cwd=tmp_path)
    assert settings.stack == "fromenv"
    assert settings.region == "eu-west-1"
    assert settings.output == "json"
    assert settings.sources["stack"] == "SQSIDEM_STACK"


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        (GlobalFlags(stack="Bad_Name"), {}, "invalid stack name"),
        (GlobalFlags(local=True, endpoint_url="http://127.0.0.1:1"), {}, "conflict"),
        (GlobalFlags(endpoint_url="127.0.0.1:4566"), {}, "invalid endpoint URL"),
        (GlobalFlags(), {"SQSIDEM_OUTPUT": "xml"}, "invalid output"),
        (GlobalFlags(), {"SQSIDEM_LOCAL": "maybe"}, "true or false"),
    ],
)
def test_bad_settings_are_usage_errors(
    tmp_path: Path, flags: GlobalFlags, env: dict[str, str], message: str
) -> None:
    """Anything wrong in the settings is exit 2 before any AWS call."""
    with pytest.raises(UsageError, match=message):
        resolve_settings(flags, env=env, cwd=tmp_path)


def test_unknown_key_in_config_file_is_named(tmp_path: Path) -> None:
    """A typo in sqsidem.toml is reported with the key."""
    (tmp_path / "sqsidem.toml").write_text('stak = "x"\n')
    with pytest.raises(UsageError, match="'stak'"):
        resolve_settings(GlobalFlags(), env={}, cwd=tmp_path)


def test_state_dir_follows_xdg() -> None:
    """SQSIDEM_STATE_DIR wins, else XDG_STATE_HOME/sqsidem."""
    assert state_dir({"SQSIDEM_STATE_DIR": "/x"}) == Path("/x")
    assert state_dir({"XDG_STATE_HOME": "/s"}) == Path("/s/sqsidem")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["locks", "list", "--local"], ["--local", "locks", "list"]),
        (["--local", "locks", "list"], ["--local", "locks", "list"]),
        (
            ["send", "hi", "--stack", "demo", "-o", "json"],
            ["--stack", "demo", "-o", "json", "send", "hi"],
        ),
        (["send", "--region=eu-west-1", "x"], ["--region=eu-west-1", "send", "x"]),
        (["send", "--", "--local"], ["send", "--", "--local"]),
    ],
)
def test_global_options_are_hoisted(argv: list[str], expected: list[str]) -> None:
    """Global options after the command mean the same as before it."""
    assert hoist_global_options(argv) == expected
