"""`sqsidem notify test|subscribe|list`: the stack's DLQ alert topic."""

from __future__ import annotations

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

    app = app_context(ctx)
    sent = publish_test(app.aws(), app.names)
    if app.render.json:
        app.render.emit(sent)
    else:
        app.render.success(f"test notification {sent['message_id']} sent to {sent['topic_arn']}")


@notify_app.command()
def subscribe(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Address that receives the DLQ alerts.")],
) -> None:
    """Subscribe an email address (AWS sends it a confirmation link first)."""
    from sqsidem.notify import subscribe_email, validate_email

    app = app_context(ctx)
    validate_email(email)
    subscription = subscribe_email(app.aws(), app.names, email)
    if app.render.json:
        app.render.emit(subscription.as_dict())
    elif subscription.pending:
        app.render.success(
            f"{subscription.endpoint} subscribed, pending confirmation: "
            "open the link AWS emailed to it"
        )
    else:
        app.render.success(f"{subscription.endpoint} subscribed ({subscription.arn})")


@notify_app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the topic's subscriptions."""
    from sqsidem.notify import list_subscriptions

    app = app_context(ctx)
    arn, subscriptions = list_subscriptions(app.aws(), app.names)
    render = app.render
    if render.json:
        render.emit({"topic_arn": arn, "subscriptions": [s.as_dict() for s in subscriptions]})
        return
    if not subscriptions:
        render.info(f"no subscriptions on {arn}: add one with `sqsidem notify subscribe EMAIL`")
        return
    render.table(
        ["protocol", "endpoint", "status"],
        [
            [s.protocol, s.endpoint, "pending confirmation" if s.pending else "confirmed"]
            for s in subscriptions
        ],
        title=arn,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
