"""The CLI as a person sees it: help, version, errors, exit codes, the local backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sqsidem import __version__
from sqsidem.cli.app import app
from sqsidem.local import LocalBackend, free_port, port_in_use

runner = CliRunner()


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in getattr(group, "commands", {}).items():
        path = (*prefix, name)
        found.append(path)
        found.extend(_commands(command, path))
    return found


def _all_command_paths() -> list[tuple[str, ...]]:
    import typer.main

    return _commands(typer.main.get_command(app))


def test_every_command_has_help() -> None:
    """Each command and group answers --help with a description."""
    paths = _all_command_paths()
    assert ("local", "up") in paths
    assert ("doctor",) in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_version() -> None:
    """--version prints the package version."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"sqsidem {__version__}"


def test_the_console_script_answers_version_without_the_command_tree() -> None:
    """The entry point prints what the full app prints, without importing the commands."""
    code = (
        "import sys\n"
        "sys.argv = ['sqsidem', '--version']\n"
        "from sqsidem.cli.entry import main\n"
        "main()\n"
        "assert 'sqsidem.cli.app' not in sys.modules, 'the command tree was built'\n"
        "assert 'typer' not in sys.modules, 'typer imported'\n"
    )
    run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert run.stdout == runner.invoke(app, ["--version"]).stdout == f"sqsidem {__version__}\n"


def test_root_help_does_not_load_typers_rich_help() -> None:
    """The root help is drawn by render/help.py: Typer's rich_utils (Markdown, syntax
    highlighting) stays unloaded; every panel and command is still there."""
    code = (
        "import sys\n"
        "from sqsidem.cli.app import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'typer.rich_utils' not in sys.modules, 'rich_utils imported'\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
    )
    for title in ("Usage: sqsidem [OPTIONS] COMMAND [ARGS]...", "─ Options ", "─ Commands "):
        assert title in run.stdout
    assert "─ Global options (also accepted after the command) " in run.stdout
    for name in ("setup", "teardown", "send", "locks", "dlq", "watch", "--endpoint-url"):
        assert f"│ {name} " in run.stdout


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_does_not_import_boto3(flag: str) -> None:
    """Start-up stays fast: --help and --version never load the AWS SDK."""
    code = (
        "import sys\n"
        "from sqsidem.cli.app import app\n"
        f"try:\n    app([{flag!r}])\nexcept SystemExit:\n    pass\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'boto3 imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_help_does_not_read_the_package_metadata() -> None:
    """Only --version pays for importlib.metadata (a tenth of the start-up)."""
    code = (
        "import sys\n"
        "from sqsidem.cli.app import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'importlib.metadata' not in sys.modules, 'metadata read'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_version_is_the_package_metadata() -> None:
    """sqsidem.__version__ is what the installed distribution says."""
    from importlib.metadata import version

    assert __version__ == version("sqsidem")


def test_unknown_option_is_a_one_line_usage_error() -> None:
    """Click's usage errors become one line and exit 2."""
    result = runner.invoke(app, ["doctor", "--no-such-option"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "No such option" in lines[0]


def test_bad_output_value() -> None:
    """--output accepts only human or json."""
    result = runner.invoke(app, ["--output", "xml", "doctor"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_credentials_against_an_endpoint() -> None:
    """No credentials anywhere: doctor says so in one line, exit 1, no traceback."""
    result = runner.invoke(app, ["doctor", "--endpoint-url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "credentials" in result.stdout
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_endpoint(fake_credentials: None) -> None:
    """A dead endpoint is reported as unreachable with exit 1."""
    result = runner.invoke(app, ["doctor", "--endpoint-url", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 1
    assert "cannot reach" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_local_without_a_running_backend() -> None:
    """--local with nothing running tells the user to run `sqsidem local up` (exit 1)."""
    result = runner.invoke(app, ["doctor", "--local"])
    assert result.exit_code == 1
    assert "sqsidem local up" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_local_life_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """up twice, status, doctor --local, down twice; then no process and a free port."""
    monkeypatch.setenv("SQSIDEM_STATE_DIR", str(tmp_path))
    port = free_port()
    first = runner.invoke(app, ["local", "up", "--port", str(port)])
    try:
        assert first.exit_code == 0, first.output
        assert "started" in first.stderr
        again = runner.invoke(app, ["local", "up", "--port", str(port)])
        assert again.exit_code == 0
        assert "already running" in again.stderr
        status = runner.invoke(app, ["local", "status", "--output", "json"])
        assert status.exit_code == 0
        import json

        data = json.loads(status.stdout)
        assert data["running"] is True
        assert data["port"] == port
        assert set(data) == {"running", "endpoint", "pid", "port", "uptime_s", "state_dir"}
        doctor = runner.invoke(app, ["doctor", "--local"])
        assert doctor.exit_code == 0, doctor.output
        assert doctor.stdout.count("✓") == 9
        pid = data["pid"]
    finally:
        down = runner.invoke(app, ["local", "down"])
    assert down.exit_code == 0
    assert "stopped" in down.stderr
    second = runner.invoke(app, ["local", "down"])
    assert "was not running" in second.stderr
    assert not port_in_use(port)
    assert not Path(f"/proc/{pid}").exists()
    stopped = runner.invoke(app, ["local", "status", "-o", "json"])
    assert '"running":false' in stopped.stdout


def test_local_state_survives_down_and_up(tmp_path: Path) -> None:
    """A resource created before `down` is still there after `up`; --reset wipes it."""
    from sqsidem.aws import Aws
    from sqsidem.settings import Settings

    backend = LocalBackend(tmp_path)
    port = free_port()
    status, _ = backend.up(port)
    try:
        aws = Aws(Settings(local=True), endpoint_url=status.endpoint)
        aws.sqs.create_queue(QueueName="kept")
        backend.down()
        status, _ = backend.up(port)
        aws = Aws(Settings(local=True), endpoint_url=status.endpoint)
        assert any(u.endswith("/kept") for u in aws.sqs.list_queues().get("QueueUrls", []))
        status, _ = backend.up(port, reset=True)
        aws = Aws(Settings(local=True), endpoint_url=status.endpoint)
        assert not aws.sqs.list_queues().get("QueueUrls")
    finally:
        backend.down()


@pytest.fixture
def saved_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stopped backend's saved state: one file in its data directory."""
    monkeypatch.setenv("SQSIDEM_STATE_DIR", str(tmp_path))
    saved = tmp_path / "ministack" / "sqs.json"
    saved.parent.mkdir()
    saved.write_text("{}", encoding="utf-8")
    return saved


def test_local_reset_wipes_the_state_of_a_stopped_backend(saved_state: Path) -> None:
    """`local reset --yes` deletes the emulator's saved state and says so."""
    result = runner.invoke(app, ["local", "reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["local state wiped"]
    assert not saved_state.parent.exists()


def test_local_reset_without_yes_refuses_before_looking(saved_state: Path) -> None:
    """No --yes and nobody at the terminal: exit 2, one line, nothing deleted."""
    result = runner.invoke(app, ["local", "reset"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: delete all local state in {saved_state.parent}: refusing without --yes in a "
        "non-interactive shell: pass --yes to confirm"
    ]
    assert saved_state.exists()


def test_up_reports_a_busy_port(tmp_path: Path) -> None:
    """A port someone else holds is a clear error, not a hang."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = runner.invoke(
            app, ["local", "up", "--port", str(port)], env={"SQSIDEM_STATE_DIR": str(tmp_path)}
        )
    assert result.exit_code == 1
    assert "already in use" in result.stderr


def test_every_command_is_in_the_readme() -> None:
    """The README's reference names every command the CLI has."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for path in _all_command_paths():
        assert f"sqsidem {' '.join(path)}" in readme, path
