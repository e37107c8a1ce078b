"""`sqsidem stacks`: every sqsidem stack in the account and region, one line each."""

import typer

from sqsidem.cli.context import app_context


def stacks(ctx: typer.Context) -> None:
    """List the stacks tagged sqsidem:stack here: resources present, drift, queue and DLQ
    depth, trigger state, alarm (-o json: one object)."""
    from sqsidem.render.stacks import show_inventory
    from sqsidem.stacks import list_stacks

    app = app_context(ctx)
    show_inventory(app.render, list_stacks(app.aws()))


def register(app: typer.Typer) -> None:
    app.command()(stacks)
