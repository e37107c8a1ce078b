"""`sqsidem send`: push FIFO test messages in batches (issue 5)."""

from __future__ import annotations

from typing import Annotated

import typer

from sqsidem.cli.context import app_context

_SHOW_EACH_UP_TO = 20  # human mode lists every message only for small sends
_PROGRESS_FROM = 10


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
    from sqsidem.errors import PartialFailure
    from sqsidem.messages import MessageSpec, read_text_input
    from sqsidem.messages_send import SendResult, check_concurrency, prepare, resolve_queue
    from sqsidem.messages_send import send_messages as send_batches
    from sqsidem.render import to_json

    app = app_context(ctx)
    render = app.render
    check_concurrency(concurrency)
    spec = MessageSpec(
        body=body,
        body_file_text=read_text_input(body_file, "--body-file") if body_file else None,
        jsonl_text=read_text_input(file, "--file") if file else None,
        jsonl_name="stdin" if file == "-" else (file or "--file"),
        count=count,
        template=template,
        group_id=group_id,
        groups=groups,
        dedup_id=dedup_id,
        repeat_key=repeat_key,
        repeat_dedup_id=repeat_dedup_id,
        attrs=attr or (),
    )
    messages = prepare(spec, queue, app.names)
    aws = app.aws()
    url = resolve_queue(aws, queue, app.names)
    show_each = len(messages) <= _SHOW_EACH_UP_TO

    def on_result(result: SendResult) -> None:
        if render.json:
            render.emit_line(result.as_dict())
        elif not result.ok:
            render.warn(f"message {result.index + 1} (key {result.key}) failed: {result.error}")
        elif show_each:
            render.line(
                f"sent {result.message_id}  group={result.group_id or '-'}  "
                f"dedup={result.dedup_id or '-'}  key={result.key}"
            )

    total = len(messages) if len(messages) > _PROGRESS_FROM else None
    with render.progress("sending", total=total) as progress:
        summary = send_batches(
            aws.sqs, url, messages, concurrency=concurrency, on_result=on_result, progress=progress
        )
    line = (
        f"sent {summary.sent} of {len(messages)} message(s) in {summary.elapsed_s:.2f} s "
        f"({summary.msgs_per_s:.0f} msgs/s, {summary.api_calls} SendMessageBatch call(s))"
    )
    if render.json:
        render.info(to_json(summary.as_dict()))
    else:
        render.info(line)
    if summary.failed:
        raise PartialFailure(
            f"{summary.failed} of {len(messages)} message(s) failed; first: {summary.errors[0]}"
        )


def register(app: typer.Typer) -> None:
    app.command()(send)
