"""Whether the local backend's processes still run, and reaping the ones that are ours.

The emulator runs as the leader of its own process group (its Lambda workers are members).
A leader this process started is ours to reap: until ``waitpid`` collects it, it counts as
running, since /proc shows it as a zombie as soon as its main thread ends, while its other
threads may still hold the port. Other processes' leaders are judged by /proc alone.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def reap(pid: int) -> bool | None:
    """Collect our own child's exit status, so it does not linger as a zombie.

    True: it was our child and is gone now. False: it is our child and has not finished
    exiting: /proc may already show the leader as a zombie while its other threads still
    run, and only waitpid knows when it is done. None: not our child (another process
    started it), so /proc decides.
    """
    try:
        reaped, _status = os.waitpid(pid, os.WNOHANG)
    except OSError:  # ChildProcessError: not ours, or already reaped
        return None
    return reaped == pid


def stat_fields(process: int | Path) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (the state first, the
    process group third, the start time 20th), or None if unreadable. A Path: that stat
    file (a thread's, ``/proc/<pid>/task/<tid>/stat``)."""
    path = process if isinstance(process, Path) else Path(f"/proc/{process}/stat")
    try:
        return path.read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None


def _running(pid: int) -> bool:
    """Whether any thread of ``pid`` still runs (per /proc): its leader shows as a zombie
    as soon as the main thread ends, while the others may still be closing sockets."""
    try:
        stats = [task / "stat" for task in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        stats = [Path(f"/proc/{pid}/stat")]
    return any(_not_zombie(stat) for stat in stats)


def _not_zombie(stat: Path) -> bool:
    fields = stat_fields(stat)
    return fields is not None and (fields or [""])[0][:1] not in {"Z", "X"}


def leader_alive(pid: int) -> bool:
    """Whether the emulator recorded as ``pid`` still runs (a reused pid does not count)."""
    if reap(pid) is False:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        with contextlib.suppress(OSError):
            text = cmdline.read_bytes().replace(b"\0", b" ")
            if b"ministack" not in text:
                return False  # the pid was reused, or it is a zombie (whose cmdline is empty)
            return _running(pid)
    return True


def group_alive(pgid: int) -> bool:
    """Whether any process of the group ``pgid`` (leader or worker) still runs."""
    if reap(pgid) is False:
        return True  # the leader, our child, is still exiting
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(_running(pid) for pid in _group_members(pgid)) or not Path("/proc").is_dir()


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").glob("[0-9]*"):
        fields = stat_fields(entry / "stat")
        with contextlib.suppress(IndexError, ValueError):
            if fields is not None and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members
