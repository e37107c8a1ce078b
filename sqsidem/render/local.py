"""Views of `sqsidem local`: the backend's status, its stop, its log, the reset's consent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqsidem.render.consent import confirm

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sqsidem.local import LocalStatus, WipePlan
    from sqsidem.render.sink import Renderer


def show_status(render: Renderer, status: LocalStatus, headline: str) -> None:
    """The status object (json), else the headline on stderr and where it runs on stdout.
    A lost state or a process that does not answer is a warning on stderr either way."""
    _warnings(render, status)
    if render.json:
        render.emit(status.as_dict())
        return
    render.info(headline)
    if status.running:
        render.line(f"endpoint   {status.endpoint}")
        render.line(f"pid        {status.pid}")
        render.line(f"uptime     {status.uptime_s:.0f} s")
    render.line(f"state dir  {status.state_dir}")


def _warnings(render: Renderer, status: LocalStatus) -> None:
    lost = status.lost
    if lost is not None:
        render.warn(
            f"local state was lost: the backend started {_when(lost.started_at)} (pid {lost.pid}) "
            f"ended at about {_when(lost.last_seen)} without `sqsidem local down`; ministack "
            "saves its state only on a clean stop, so what changed since that start is gone"
        )
    if status.unhealthy:
        render.warn(
            f"process {status.pid} runs, but nothing answers on {status.endpoint}: "
            "see `sqsidem local logs`, or restart it with `sqsidem local down` and `local up`"
        )


def _when(epoch_s: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def show_started(render: Renderer, status: LocalStatus, started: bool) -> None:
    show_status(
        render, status, "local backend started" if started else "local backend already running"
    )


def show_current(render: Renderer, status: LocalStatus) -> None:
    show_status(
        render, status, "local backend running" if status.running else "local backend not running"
    )


def show_stopped(render: Renderer, stopped: bool) -> None:
    if render.json:
        render.emit({"stopped": stopped})
    else:
        render.info("local backend stopped" if stopped else "local backend was not running")


def show_log(render: Renderer, lines: list[str]) -> None:
    for text in lines:
        render.line(text)


def reset_question(data_dir: Path) -> str:
    return f"delete all local state in {data_dir}?"


def reset_consent(render: Renderer, *, yes: bool) -> Callable[[WipePlan], None]:
    """Step 2 of the consent: shows what the wipe would delete, then asks (unless --yes)."""

    def ask(plan: WipePlan) -> None:
        size = f"{plan.files} file(s), {plan.size_bytes:,} bytes"
        confirm(render, reset_question(plan.data_dir), yes=yes, plan=[f"{size} to delete"])

    return ask


def show_wiped(render: Renderer) -> None:
    render.info("local state wiped")
