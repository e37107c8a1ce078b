"""The embedded local backend: ministack as our own child process (DESIGN 6.9).

We start it in a new process session bound to 127.0.0.1, remember its pid and port in
``$SQSIDEM_STATE_DIR/local.json`` and stop the whole process group (the emulator runs
Lambda functions in worker subprocesses) gracefully, then forcibly.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from sqsidem.errors import LocalBackendError, SqsidemError, UsageError
from sqsidem.local_env import emulator_env
from sqsidem.local_state import (
    LocalRecord,
    LostState,
    RecordFiles,
    is_same_process,
    open_private_log,
    private_dir,
    restrict_tree,
    start_ticks,
)
from sqsidem.process_group import group_alive, reap
from sqsidem.retry import Pacing, poll_until
from sqsidem.settings import DEFAULT_LOCAL_PORT

if TYPE_CHECKING:
    import subprocess

# Every command imports this module (`--local`, `local`'s options): the modules only some
# of its functions need (sockets, HTTP, subprocesses) are imported where they are used.

DEFAULT_PORT = DEFAULT_LOCAL_PORT
HOST = "127.0.0.1"
HEALTH_PATH = "/_ministack/health"
INSTALL_HINT = "install it with: pip install 'sqsidem[local]'"
POLL_S = 0.05  # how often start and stop look again: both take well under a second locally
MAX_TIMEOUT_S = 3600.0
# A dead port refuses at once; this only bounds a process that accepts and never answers,
# and leaves a busy emulator (a loaded test machine) time to answer.
HEALTH_TIMEOUT_S = 3.0
LOCK_SLACK_S = 30.0  # a concurrent `up` holds the lock for its own timeout, plus this
T = TypeVar("T")


@dataclass(frozen=True)
class LocalStatus:
    running: bool
    endpoint: str | None = None
    pid: int | None = None
    port: int | None = None
    uptime_s: float | None = None
    state_dir: str | None = None
    log_file: str | None = None
    lost: LostState | None = None  # the emulator once ended without saving its state
    unhealthy: bool = False  # our process runs, but its health endpoint does not answer

    def as_dict(self) -> dict[str, object]:
        """DESIGN 6.6's shape; ``lost`` and ``unhealthy`` are said on stderr."""
        data = asdict(self)
        for extra in ("log_file", "lost", "unhealthy"):
            data.pop(extra)
        return data


@dataclass(frozen=True)
class WipePlan:
    """What `local reset` would delete."""

    data_dir: Path
    files: int
    size_bytes: int


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on right now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def healthy(endpoint: str, timeout_s: float = HEALTH_TIMEOUT_S) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(endpoint + HEALTH_PATH, timeout=timeout_s) as answer:  # noqa: S310 - our own loopback URL
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def ministack_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("ministack") is not None


class LocalBackend:
    """Start, stop and inspect one embedded backend whose record lives in ``root``."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if root is None:
            from sqsidem.settings import state_dir

            root = state_dir()
        self.root = root
        self._pacing = Pacing(sleep=sleep, clock=clock)
        self._wall = wall
        self._env = os.environ if env is None else env
        self.files = RecordFiles(root)

    @property
    def data_dir(self) -> Path:
        return self.root / "ministack"

    @property
    def log_path(self) -> Path:
        return self.root / "ministack.log"

    # -- queries -------------------------------------------------------------------------
    def _ours_running(self, record: LocalRecord) -> bool:
        """The recorded process is the one we started (same pid AND start time), and runs."""
        if reap(record.pid) is False:
            return True  # our own child, still exiting
        return is_same_process(record.pid, record.start_ticks) and group_alive(record.pid)

    def status(self) -> LocalStatus:
        """Running means: our process AND its health endpoint on the recorded port answer."""
        record = self.files.read()
        if record is not None and not self._ours_running(record):
            self._lost(record)
            record = None
        lost = self.files.lost()
        if record is None:
            return LocalStatus(
                running=False, state_dir=str(self.data_dir), log_file=str(self.log_path), lost=lost
            )
        answers = healthy(record.endpoint)
        return LocalStatus(
            running=answers,
            endpoint=record.endpoint,
            pid=record.pid,
            port=record.port,
            uptime_s=round(max(0.0, self._wall() - record.started_at), 1),
            state_dir=record.state_dir,
            log_file=record.log_file,
            lost=lost,
            unhealthy=not answers,
        )

    def _lost(self, record: LocalRecord) -> None:
        """The recorded emulator is gone without `local down`: its unsaved state is lost."""
        try:
            last_seen = self.log_path.stat().st_mtime
        except OSError:
            last_seen = self._wall()
        self.files.mark_lost(record, last_seen)
        self.files.forget()

    def endpoint(self) -> str:
        current = self.status()
        if not current.running or current.endpoint is None:
            raise LocalBackendError(
                "the local backend is not running", "run `sqsidem local up` first"
            )
        return current.endpoint

    def log_tail(self, lines: int) -> list[str]:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return text.splitlines()[-lines:] if lines > 0 else text.splitlines()

    # -- life cycle ----------------------------------------------------------------------
    def up(
        self,
        port: int = DEFAULT_PORT,
        *,
        reset: bool = False,
        timeout_s: float = 30.0,
        region: str | None = None,
    ) -> tuple[LocalStatus, bool]:
        """Start the backend unless it runs; returns (status, started_now).

        Exclusive: a second `up` at the same time waits for this one, then finds it running.
        """
        if not 1 <= port <= 65535:
            raise UsageError(f"invalid port {port}", "use a port between 1 and 65535")
        if not (math.isfinite(timeout_s) and 0 < timeout_s <= MAX_TIMEOUT_S):
            raise UsageError(
                f"invalid --timeout {timeout_s}", f"use seconds between 0 and {MAX_TIMEOUT_S:g}"
            )
        with self.files.exclusive(timeout_s + LOCK_SLACK_S, self._pacing):
            return self._up(port, reset=reset, timeout_s=timeout_s, region=region)

    def _up(
        self, port: int, *, reset: bool, timeout_s: float, region: str | None
    ) -> tuple[LocalStatus, bool]:
        import subprocess

        from sqsidem.settings import DEFAULT_REGION

        current = self.status()
        if current.running and not reset:
            return current, False
        if not ministack_installed():
            raise LocalBackendError("the local backend (ministack) is not installed", INSTALL_HINT)
        if current.pid is not None:
            self._down()
        if reset:
            self.wipe()
        if port_in_use(port):
            raise LocalBackendError(
                f"port {port} on {HOST} is already in use",
                "stop what listens there or pass --port",
            )
        restrict_tree(private_dir(self.root))
        private_dir(self.data_dir)
        endpoint = f"http://{HOST}:{port}"
        log = open_private_log(self.log_path)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "ministack"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._child_env(port, region or DEFAULT_REGION),
                cwd=self.root,
                start_new_session=True,
                umask=0o077,  # the emulator's state files: the owner's only
            )
        finally:
            os.close(log)
        record = LocalRecord(
            pid=process.pid,
            port=port,
            endpoint=endpoint,
            started_at=self._wall(),
            state_dir=str(self.data_dir),
            log_file=str(self.log_path),
            start_ticks=start_ticks(process.pid),
        )
        self.files.write(record)
        outcome = self._await(
            lambda: _started(endpoint, process), timeout_s, "the local backend to answer"
        )
        if outcome == "exited":
            self.files.forget()
            tail = " | ".join(self.log_tail(3)) or "no output"
            raise LocalBackendError(
                f"the local backend exited at start (code {process.returncode}): {tail}",
                f"see {self.log_path}",
            )
        if outcome is None:
            self._stop_group(process.pid, grace_s=2.0)
            self.files.forget()
            raise LocalBackendError(
                f"the local backend did not become healthy within {timeout_s:.0f} s",
                f"see {self.log_path}",
            )
        return self.status(), True

    def _child_env(self, port: int, region: str) -> dict[str, str]:
        # The emulator hands its environment to every function process: none of ours.
        return emulator_env(
            self._env, host=HOST, port=port, region=region, root=self.root, data=self.data_dir
        )

    def down(self, timeout_s: float = 10.0) -> bool:
        """Stop the backend and every process of its group; returns whether one was running.

        Only what we started is signalled: the recorded pid must still be the process we
        started (same start time), or be gone with only its group's workers left.
        """
        with self.files.exclusive(timeout_s + LOCK_SLACK_S, self._pacing):
            return self._down(timeout_s)

    def _down(self, timeout_s: float = 10.0) -> bool:
        record = self.files.read()
        if record is None:
            return False
        ours = self._ours_running(record)
        # A group outlives its leader, and no new process gets the pid while the group
        # exists: with no process of that pid at all, the group's members are our workers.
        orphans = start_ticks(record.pid) is None and group_alive(record.pid)
        if ours or orphans:
            self._stop_group(record.pid, grace_s=timeout_s)
            self.files.clear_lost()
        else:
            self._lost(record)
        self.files.forget()
        return ours

    def _stop_group(self, pgid: int, *, grace_s: float) -> None:
        # SIGINT lets hypercorn run its lifespan shutdown, which persists the state.
        for sig, wait_s in ((signal.SIGINT, grace_s), (signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
            if self._await(lambda: not group_alive(pgid) or None, wait_s, "the group to exit"):
                return
        if group_alive(pgid):
            raise LocalBackendError(
                f"could not stop the local backend's process group {pgid}",
                f"kill it by hand: kill -9 -{pgid}",
            )

    def _await(self, check: Callable[[], T | None], timeout_s: float, what: str) -> T | None:
        """``check``'s first answer, or None when ``timeout_s`` passes first."""
        try:
            return poll_until(
                check, timeout_s=timeout_s, interval=POLL_S, pacing=self._pacing, what=what
            )
        except SqsidemError:  # the deadline: the caller says what it means
            return None

    def wipe(self, consent: Callable[[WipePlan], None] | None = None) -> None:
        """Forget every resource of the local backend (only while it is stopped).

        ``consent`` sees what would be deleted first, and may refuse by raising.
        """
        if self.status().pid is not None:
            raise LocalBackendError(
                "the local backend is running", "run `sqsidem local down` first"
            )
        if consent is not None:
            consent(self.wipe_plan())
        import shutil

        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.files.clear_lost()

    def wipe_plan(self) -> WipePlan:
        files = [path for path in self.data_dir.rglob("*") if path.is_file()]
        size = 0
        for path in files:
            with contextlib.suppress(OSError):
                size += path.stat().st_size
        return WipePlan(self.data_dir, len(files), size)


def _started(
    endpoint: str, process: subprocess.Popen[bytes]
) -> Literal["healthy", "exited"] | None:
    if healthy(endpoint):
        return "healthy"
    return "exited" if process.poll() is not None else None


def require_endpoint() -> str:
    """The running backend's endpoint for --local, or a clear error saying how to start it."""
    return LocalBackend().endpoint()
