"""`sqsidem invoke`: run the processor locally on records shaped as the queue delivers them."""

from pathlib import Path
from typing import Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.cli.options import ProcessorOption, RequirementsOption


def invoke(
    ctx: typer.Context,
    body: Annotated[str | None, typer.Argument(help="One message body.")] = None,
    body_file: Annotated[str | None, typer.Option(help="One message body, from a file.")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="JSON Lines, as `send --file`.")
    ] = None,
    event: Annotated[
        Path | None,
        typer.Option(help="A captured Lambda event, record, or `dlq list --full -o json` lines."),
    ] = None,
    processor: ProcessorOption = None,
    requirements: RequirementsOption = None,
    key: Annotated[
        str, typer.Option(help="Lock key source: dedup, message-id, body:<f>.")
    ] = "dedup",
    lock: Annotated[bool, typer.Option("--lock", help="Use the stack's lock table.")] = False,
    real_key: Annotated[
        bool, typer.Option("--real-key", help="With --lock: the real keys, no prefix.")
    ] = False,
) -> None:
    """Run the processor through the consumer in a subprocess that imports what the zip holds."""
    from sqsidem.invoke.options import invoke_request
    from sqsidem.invoke.run import invoke as run_invoke
    from sqsidem.render.invoke import show_invoke

    app = app_context(ctx)
    sources = {"body": body, "body_file": body_file, "jsonl_file": file, "event_file": event}
    request = invoke_request(
        sources,
        processor,
        requirements,
        key,
        names=app.names,
        region=app.settings.region,
        aws=app.aws if lock else None,
        real_key=real_key,
    )
    if not show_invoke(app.render, run_invoke(request)):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(invoke)
