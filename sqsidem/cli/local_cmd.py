"""`sqsidem local up|down|status|logs|reset`: the embedded backend."""

from __future__ import annotations

from typing import Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.local import DEFAULT_PORT, LocalBackend, LocalStatus
from sqsidem.render import Renderer
from sqsidem.render.consent import confirm

local_app = typer.Typer(
    help="Run the embedded AWS emulator (ministack) on 127.0.0.1, no AWS account needed.",
    no_args_is_help=True,
)


def _show(render: Renderer, status: LocalStatus, headline: str) -> None:
    if render.json:
        render.emit(status.as_dict())
        return
    render.info(headline)
    if status.running:
        render.line(f"endpoint   {status.endpoint}")
        render.line(f"pid        {status.pid}")
        render.line(f"uptime     {status.uptime_s:.0f} s")
    render.line(f"state dir  {status.state_dir}")


@local_app.command()
def up(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = DEFAULT_PORT,
    reset: Annotated[bool, typer.Option("--reset", help="Wipe the local state first.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait until it answers.")] = 30.0,
) -> None:
    """Start the local backend (idempotent: says so when it already runs)."""
    app = app_context(ctx)
    status, started = LocalBackend().up(
        port, reset=reset, timeout_s=timeout, region=app.settings.region or "ap-northeast-1"
    )
    _show(
        app.render, status, "local backend started" if started else "local backend already running"
    )


@local_app.command()
def down(ctx: typer.Context) -> None:
    """Stop the local backend and every process it started (idempotent)."""
    app = app_context(ctx)
    stopped = LocalBackend().down()
    if app.render.json:
        app.render.emit({"stopped": stopped})
    else:
        app.render.info("local backend stopped" if stopped else "local backend was not running")


@local_app.command()
def status(ctx: typer.Context) -> None:
    """Whether the local backend runs, where, and for how long."""
    app = app_context(ctx)
    current = LocalBackend().status()
    _show(
        app.render,
        current,
        "local backend running" if current.running else "local backend not running",
    )


@local_app.command()
def logs(
    ctx: typer.Context,
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="Last N lines (0: all).")] = 50,
) -> None:
    """Print the emulator's own log."""
    render = app_context(ctx).render
    for text in LocalBackend().log_tail(lines):
        render.line(text)


@local_app.command()
def reset(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete every resource of the local backend (it must be stopped)."""
    render = app_context(ctx).render
    backend = LocalBackend()
    confirm(render, f"delete all local state in {backend.data_dir}?", yes=yes)
    backend.wipe()
    render.info("local state wiped")


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")
