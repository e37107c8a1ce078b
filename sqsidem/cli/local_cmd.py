"""`sqsidem local up|down|status|logs|reset`: the embedded backend."""

from typing import Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.cli.options import YesOption
from sqsidem.render.consent import require_consent
from sqsidem.settings import DEFAULT_LOCAL_PORT

local_app = typer.Typer(
    help="Run the embedded AWS emulator (ministack) on 127.0.0.1, no AWS account needed.",
    no_args_is_help=True,
)


@local_app.command()
def up(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = DEFAULT_LOCAL_PORT,
    reset: Annotated[bool, typer.Option("--reset", help="Wipe the local state first.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait until it answers.")] = 30.0,
) -> None:
    """Start the local backend (idempotent: says so when it already runs)."""
    from sqsidem.local import LocalBackend
    from sqsidem.render import local as view

    app = app_context(ctx)
    status, started = LocalBackend().up(
        port, reset=reset, timeout_s=timeout, region=app.settings.region
    )
    view.show_started(app.render, status, started)


@local_app.command()
def down(ctx: typer.Context) -> None:
    """Stop the local backend and every process it started (idempotent)."""
    from sqsidem.local import LocalBackend
    from sqsidem.render import local as view

    view.show_stopped(app_context(ctx).render, LocalBackend().down())


@local_app.command()
def status(ctx: typer.Context) -> None:
    """Whether the local backend runs, where, and for how long."""
    from sqsidem.local import LocalBackend
    from sqsidem.render import local as view

    view.show_current(app_context(ctx).render, LocalBackend().status())


@local_app.command()
def logs(
    ctx: typer.Context,
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="Last N lines (0: all).")] = 50,
) -> None:
    """Print the emulator's own log."""
    from sqsidem.local import LocalBackend
    from sqsidem.render import local as view

    view.show_log(app_context(ctx).render, LocalBackend().log_tail(lines))


@local_app.command()
def reset(ctx: typer.Context, yes: YesOption = False) -> None:
    """Delete every resource of the local backend (it must be stopped)."""
    from sqsidem.local import LocalBackend
    from sqsidem.render import local as view

    render = app_context(ctx).render
    backend = LocalBackend()
    require_consent(render, yes=yes, action=view.reset_question(backend.data_dir))
    backend.wipe(consent=view.reset_consent(render, yes=yes))
    view.show_wiped(render)


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")
