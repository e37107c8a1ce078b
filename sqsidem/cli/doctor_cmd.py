"""`sqsidem doctor`: who and where you are, and whether every service answers."""

import typer

from sqsidem.cli.context import app_context


def doctor(ctx: typer.Context) -> None:
    """Check identity, region, endpoint and each service the pipeline needs."""
    from sqsidem.doctor import run_checks
    from sqsidem.render.doctor import show_report

    app = app_context(ctx)
    report = run_checks(app.aws())
    show_report(app.render, report)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(doctor)
