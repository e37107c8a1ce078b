"""`sqsidem doctor`: who and where you are, and whether every service answers."""

from __future__ import annotations

import typer

from sqsidem.cli.context import app_context


def doctor(ctx: typer.Context) -> None:
    """Check identity, region, endpoint and each service the pipeline needs."""
    from sqsidem.doctor import run_checks

    app = app_context(ctx)
    report = run_checks(app.aws())
    render = app.render
    if render.json:
        render.emit(report.as_dict())
    else:
        for key, value in report.context_lines():
            render.line(f"{key:<12} {value}")
        for probe in report.probes:
            render.check(probe.ok, probe.service, probe.detail)
    if not report.ok:
        first = report.failures[0]
        render.error(
            f"{len(report.failures)} check(s) failed; first: {first.service}: {first.detail}"
        )
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(doctor)
