"""The local backend's record on disk, and how we know the process it names is ours.

- ``local.json`` names the emulator we started: its pid, port and the pid's start time
  (``/proc/<pid>/stat`` field 22), so a pid reused by another process never passes for it.
- ``local.lock`` makes `local up` / `local down` exclusive (``flock``): a second `up`
  waits for the first, then finds it running.
- ``lost.json`` remembers that the emulator ended without a clean stop: its state since
  the last clean start was not saved. `local status` says so, and when.
- The directory is 0700 and every file 0600: they hold messages, locks and logs.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from sqsidem.errors import LocalBackendError, SqsidemError
from sqsidem.process_group import stat_fields
from sqsidem.retry import Pacing, poll_until

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
LOCK_POLL_S = 0.05


@dataclass(frozen=True)
class LocalRecord:
    pid: int
    port: int
    endpoint: str
    started_at: float
    state_dir: str
    log_file: str
    start_ticks: int | None = None  # None: a record from before start times were kept


@dataclass(frozen=True)
class LostState:
    """The emulator ended without saving: since ``started_at``, until about ``last_seen``."""

    pid: int
    started_at: float
    last_seen: float


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot), or None if there is no such process."""
    fields = stat_fields(pid)
    try:
        return None if fields is None else int(fields[19])
    except (IndexError, ValueError):
        return None


def is_same_process(pid: int, ticks: int | None) -> bool:
    """Whether ``pid`` is still the process that started at ``ticks`` (never for None)."""
    return ticks is not None and start_ticks(pid) == ticks


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    path.chmod(PRIVATE_DIR)
    return path


def write_private(path: Path, text: str) -> None:
    """Write atomically, readable by the owner only."""
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.chmod(PRIVATE_FILE)
    tmp.replace(path)


def open_private_log(path: Path) -> int:
    """The emulator's log, appended to, owner-only: a raw descriptor for Popen."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return fd


def restrict_tree(root: Path) -> None:
    """Tighten what an older version (or the emulator) left readable to others."""
    if not root.is_dir():
        return
    private_dir(root)
    for path in root.rglob("*"):
        with contextlib.suppress(OSError):
            path.chmod(PRIVATE_DIR if path.is_dir() else PRIVATE_FILE)


class RecordFiles:
    """The record, the lost-state marker and the lock of one state directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def record_path(self) -> Path:
        return self.root / "local.json"

    @property
    def lost_path(self) -> Path:
        return self.root / "lost.json"

    def read(self) -> LocalRecord | None:
        try:
            return LocalRecord(**json.loads(self.record_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def write(self, record: LocalRecord) -> None:
        write_private(self.record_path, json.dumps(asdict(record), indent=2))

    def forget(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.record_path.unlink()

    def mark_lost(self, record: LocalRecord, last_seen: float) -> None:
        lost = LostState(record.pid, record.started_at, last_seen)
        write_private(self.lost_path, json.dumps(asdict(lost)))

    def lost(self) -> LostState | None:
        try:
            return LostState(**json.loads(self.lost_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def clear_lost(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.lost_path.unlink()

    @contextlib.contextmanager
    def exclusive(self, timeout_s: float, pacing: Pacing) -> Iterator[None]:
        """Hold ``local.lock`` (waiting up to ``timeout_s`` for another `up` or `down`)."""
        import fcntl

        private_dir(self.root)
        fd = os.open(self.root / "local.lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)

        def take() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        try:
            try:
                poll_until(
                    take,
                    timeout_s=timeout_s,
                    interval=LOCK_POLL_S,
                    pacing=pacing,
                    what="another `sqsidem local up` or `local down` to finish",
                )
            except SqsidemError as exc:
                raise LocalBackendError(exc.message, "wait for it, then try again") from None
            yield
        finally:
            os.close(fd)  # closing releases the lock
