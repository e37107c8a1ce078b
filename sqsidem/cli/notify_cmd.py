"""`sqsidem notify test|subscribe|list`: the stack's DLQ alert topic."""

from typing import Annotated

import typer

from sqsidem.cli.context import app_context

notify_app = typer.Typer(
    help="The stack's DLQ alert topic: send a test, subscribe an email, list subscribers.",
    no_args_is_help=True,
)


@notify_app.command()
def test(ctx: typer.Context) -> None:
    """Publish a test notification to the stack's topic."""
    from sqsidem.notify import publish_test
    from sqsidem.render.notify import show_published

    app = app_context(ctx)
    show_published(app.render, publish_test(app.aws(), app.names))


@notify_app.command()
def subscribe(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Address that receives the DLQ alerts.")],
) -> None:
    """Subscribe an email address (AWS sends it a confirmation link first)."""
    from sqsidem.notify import subscribe_email, validate_email
    from sqsidem.render.notify import show_subscribed

    app = app_context(ctx)
    validate_email(email)
    show_subscribed(app.render, subscribe_email(app.aws(), app.names, email))


@notify_app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the topic's subscriptions."""
    from sqsidem.notify import list_subscriptions
    from sqsidem.render.notify import show_subscriptions

    app = app_context(ctx)
    show_subscriptions(app.render, *list_subscriptions(app.aws(), app.names))


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
