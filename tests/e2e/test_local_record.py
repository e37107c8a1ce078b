"""The local backend's record is trustworthy (issue 13, item 6).

A stale record never makes another process pass for the emulator, nor get signalled;
`local up` is exclusive; the state directory is private; a crash is reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sqsidem.cli.app import app
from sqsidem.local import LocalBackend, free_port, port_in_use
from tests.backend import Ministack
from tests.waiting import wait_until

runner = CliRunner()


def _local(root: Path, *args: str) -> Result:
    return runner.invoke(app, ["local", *args], env={"SQSIDEM_STATE_DIR": str(root)})


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_state_directory_is_private(ministack: Ministack) -> None:
    """The shared emulator's directory (started by `local up`'s code): 0700, files 0600."""
    root = ministack.root
    assert _mode(root) == 0o700
    assert _mode(root / "ministack") == 0o700
    for name in ("local.json", "ministack.log"):
        assert _mode(root / name) == 0o600, name


# Started by a short-lived parent, so that (like any process `local` did not start) it is
# not a child of the process that runs `local status`.
_SPAWN = """
import subprocess, sys
decoy = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(120)", "tail", "-f", "ministack.log"],
    start_new_session=True,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
print(decoy.pid)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1]
    except OSError:
        return False
    return state not in "ZX"


@pytest.fixture
def decoy() -> Iterator[int]:
    """Someone else's process, leader of its own group, whose command line says ministack
    (a `tail -f ministack.log`, say)."""
    spawned = subprocess.run(
        [sys.executable, "-c", _SPAWN], capture_output=True, text=True, timeout=30, check=True
    )
    pid = int(spawned.stdout)
    yield pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def test_a_stale_record_never_passes_for_another_process(tmp_path: Path, decoy: int) -> None:
    """A record naming a reused pid: not running, never signalled, and the loss is said."""
    port = free_port()
    (tmp_path / "local.json").write_text(
        json.dumps(
            {
                "pid": decoy,
                "port": port,
                "endpoint": f"http://127.0.0.1:{port}",
                "started_at": 1_700_000_000.0,
                "state_dir": str(tmp_path / "ministack"),
                "log_file": str(tmp_path / "ministack.log"),
            }
        )
    )
    status = _local(tmp_path, "status", "-o", "json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["running"] is False
    assert "local state was lost" in status.stderr and "2023-11-14 22:13:20 UTC" in status.stderr
    down = _local(tmp_path, "down")
    assert down.exit_code == 0, down.output
    assert "was not running" in down.stderr
    assert _alive(decoy)  # never signalled


def test_up_is_exclusive_and_a_crash_is_reported(tmp_path: Path) -> None:
    """Two `local up` at once on two ports: one emulator, the other `up` finds it; after a
    SIGKILL, `local status` says the state was lost; `down` leaves nothing behind."""
    ports = [free_port(), free_port()]
    results: dict[int, Result] = {}

    def up(port: int) -> None:
        results[port] = subprocess.run(  # type: ignore[assignment]
            [sys.executable, "-m", "sqsidem", "local", "up", "--port", str(port)],
            env={**os.environ, "SQSIDEM_STATE_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    threads = [threading.Thread(target=up, args=(port,)) for port in ports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(130)
    backend = LocalBackend(tmp_path)
    try:
        codes = sorted(r.returncode for r in results.values())  # type: ignore[attr-defined]
        assert codes == [0, 0], [r.stderr for r in results.values()]  # type: ignore[attr-defined]
        said = sorted(r.stderr.splitlines()[0] for r in results.values())  # type: ignore[attr-defined]
        assert said == ["local backend already running", "local backend started"]
        assert [port_in_use(port) for port in ports].count(True) == 1
        status = backend.status()
        assert status.running and status.pid is not None
        os.killpg(status.pid, signal.SIGKILL)
        wait_until(lambda: not port_in_use(status.port or 0), 10, "the emulator to die")
        after = _local(tmp_path, "status")
        assert "local backend not running" in after.stderr
        assert "local state was lost" in after.stderr
    finally:
        backend.down()
    assert not any(port_in_use(port) for port in ports)
