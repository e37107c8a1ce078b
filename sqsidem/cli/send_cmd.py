"""`sqsidem send`: push FIFO test messages in batches (issue 5)."""

from typing import Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.render.send import SendView


def send(
    ctx: typer.Context,
    body: Annotated[
        str | None, typer.Argument(help="Message body (default: generated JSON).")
    ] = None,
    body_file: Annotated[
        str | None, typer.Option("--body-file", help="Read the body from this file.")
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            "-f",
            help="JSON Lines: body, group_id, dedup_id, attributes, key per line ('-': stdin).",
        ),
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", "-n", help="Send N messages (generated or copies).")
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(help="Body template with {seq} {uuid} {ts} {group} placeholders."),
    ] = None,
    group_id: Annotated[
        str | None, typer.Option("--group-id", help="Message group id (default: sqsidem).")
    ] = None,
    groups: Annotated[
        int | None, typer.Option(help="Spread messages round-robin over K groups.")
    ] = None,
    dedup_id: Annotated[
        str | None,
        typer.Option("--dedup-id", help="Deduplication id (default: a fresh uuid each)."),
    ] = None,
    repeat_key: Annotated[
        str | None,
        typer.Option(
            "--repeat-key", help="Send under idempotency key K with a fresh dedup id (lock test)."
        ),
    ] = None,
    repeat_dedup_id: Annotated[
        str | None,
        typer.Option(
            "--repeat-dedup-id", help="Reuse this dedup id: SQS drops the copy (5-minute window)."
        ),
    ] = None,
    attr: Annotated[
        list[str] | None, typer.Option("--attr", help="Message attribute name=value (repeatable).")
    ] = None,
    queue: Annotated[
        str | None, typer.Option(help="Queue name or URL (default: the stack's queue).")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Parallel senders (1..32).")] = 8,
) -> None:
    """Send messages with SendMessageBatch; every one carries its sqsidem-key attribute."""
    from sqsidem.interrupt import stop_on_interrupt
    from sqsidem.messages import MessageSpec
    from sqsidem.messages.send import send as send_spec

    app = app_context(ctx)
    spec = MessageSpec.with_files(
        body=body,
        body_file=body_file,
        jsonl_file=file,
        count=count,
        template=template,
        group_id=group_id,
        groups=groups,
        dedup_id=dedup_id,
        repeat_key=repeat_key,
        repeat_dedup_id=repeat_dedup_id,
        attrs=attr or (),
    )
    view = SendView(app.render)
    with stop_on_interrupt(app.render.stopping) as stop:
        summary = send_spec(
            app.aws, app.names, spec, queue=queue, concurrency=concurrency, watch=view, stop=stop
        )
    view.summary(summary)
    summary.check()


def register(app: typer.Typer) -> None:
    app.command()(send)
