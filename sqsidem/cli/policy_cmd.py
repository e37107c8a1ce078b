"""`sqsidem policy`: print the least-privilege IAM policy for operating one stack."""

from enum import Enum
from typing import Annotated

import typer

from sqsidem.cli.context import app_context


class For(str, Enum):
    setup = "setup"
    operate = "operate"
    read_only = "read-only"


def policy(
    ctx: typer.Context,
    for_: Annotated[
        For,
        typer.Option(
            "--for",
            help="setup: everything (setup, teardown and the rest); operate: send, locks "
            "clear, dlq redrive/purge, notify, and read-only; read-only: status, logs, "
            "locks list/show, dlq list, trace.",
        ),
    ] = For.setup,
    account: Annotated[
        str | None,
        typer.Option(help="Account id of the stack (no AWS call: print it for another account)."),
    ] = None,
) -> None:
    """Print the IAM policy (JSON) an operator needs for one stack, scoped to its ARNs."""
    from sqsidem.policy import compact_size, policy_for
    from sqsidem.render.policy import show_policy

    app = app_context(ctx)
    document = policy_for(app.aws(), app.names, for_.value, account)
    size = compact_size(document)
    show_policy(app.render, document, profile=for_.value, stack=app.names.stack, size=size)


def register(app: typer.Typer) -> None:
    app.command()(policy)
