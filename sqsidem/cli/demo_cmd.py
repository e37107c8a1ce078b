"""`sqsidem demo`: the whole pipeline on the laptop, with live output, in under a minute."""

from typing import Annotated

import typer

from sqsidem.cli.context import app_context

MAX_DEMO_TIMEOUT_S = 3600


def demo(
    ctx: typer.Context,
    teardown: Annotated[
        bool, typer.Option("--teardown", help="Remove the demo stack at the end.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the pipeline to settle (1..3600).")
    ] = 120.0,
) -> None:
    """Set up stack `demo` on the local backend (starting it if needed), send, watch, explain."""
    from sqsidem.demo.run import TourRequest, run_tour
    from sqsidem.render.demo import DemoView
    from sqsidem.validate import finite

    app = app_context(ctx)
    finite(timeout, "--timeout", low=1, high=MAX_DEMO_TIMEOUT_S)
    request = TourRequest.of(app.settings, timeout_s=timeout, teardown=teardown)
    run_tour(request, app.aws_for, DemoView(app.render))


def register(app: typer.Typer) -> None:
    app.command()(demo)
