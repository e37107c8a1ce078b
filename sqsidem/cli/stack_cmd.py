"""`sqsidem setup | status | teardown`: provision, inspect and remove the whole pipeline."""

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.cli.options import ArchitectureOption, RequirementsOption, YesOption
from sqsidem.render.consent import require_consent

if TYPE_CHECKING:
    from sqsidem.stack.options import SetupOptions

FUNCTION_PANEL = "Function"
QUEUE_PANEL = "Queue and trigger"
# setup's parameters that are not SetupOptions (everything else is passed to _options).
_NOT_OPTIONS = frozenset({"ctx", "dry_run", "app"})


def _options(
    *,
    timeout: int,
    memory: int,
    visibility_timeout: int | None,
    max_receive_count: int,
    batch_size: int,
    max_concurrency: int | None,
    no_trigger: bool,
    content_dedup: bool,
    log_retention_days: int,
    runtime: str,
    processor: str | None,
    key: str,
    lock_ttl: str | None,
    notify_email: str | None,
    adopt: bool,
    effects_table: list[str] | None = None,
    requirements: Path | None = None,
    architecture: str = "x86_64",
    local: bool = False,
) -> "SetupOptions":
    from sqsidem.build.sources import processor_option
    from sqsidem.stack.options import DEFAULT_LOCK_TTL_S, SetupOptions
    from sqsidem.timeparse import parse_duration

    ttl = DEFAULT_LOCK_TTL_S
    if lock_ttl is not None:
        ttl = int(parse_duration(lock_ttl, option="--lock-ttl"))
    return SetupOptions(
        timeout_s=timeout,
        memory_mb=memory,
        visibility_timeout_s=visibility_timeout,
        max_receive_count=max_receive_count,
        batch_size=batch_size,
        max_concurrency=max_concurrency,
        trigger=not no_trigger,
        content_dedup=content_dedup,
        log_retention_days=log_retention_days,
        runtime=runtime,
        processor=processor_option(processor, requirements, architecture, host=local),
        key_source=key,
        lock_ttl_s=ttl,
        notify_email=notify_email,
        adopt=adopt,
        effect_tables=tuple(sorted(set(effects_table or ()))),
    )


def _given(ctx: typer.Context, names: Iterable[str]) -> frozenset[str]:
    """The parameters given on the command line (or by environment), not left at defaults."""
    given = set()
    for name in names:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            given.add(name)
    return frozenset(given)


def setup(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    timeout: Annotated[
        int, typer.Option(help="Function timeout, seconds.", rich_help_panel=FUNCTION_PANEL)
    ] = 3,
    memory: Annotated[
        int, typer.Option(help="Function memory, MB.", rich_help_panel=FUNCTION_PANEL)
    ] = 128,
    runtime: Annotated[
        str, typer.Option(help="Python runtime.", rich_help_panel=FUNCTION_PANEL)
    ] = "python3.12",
    processor: Annotated[
        str | None,
        typer.Option(
            help="Your processing code (called once per record): path/file.py:function, "
            "package_dir/module.py:function (the folder ships whole) or dir:module.function.",
            rich_help_panel=FUNCTION_PANEL,
        ),
    ] = None,
    key: Annotated[
        str,
        typer.Option(
            help="Lock key when a message has no sqsidem-key attribute: dedup, message-id "
            "or body:<field>.",
            rich_help_panel=FUNCTION_PANEL,
        ),
    ] = "dedup",
    lock_ttl: Annotated[
        str | None,
        typer.Option(
            help="How long lock records live (e.g. 7d, 12h).", rich_help_panel=FUNCTION_PANEL
        ),
    ] = None,
    log_retention_days: Annotated[
        int, typer.Option(help="Log retention, days.", rich_help_panel=FUNCTION_PANEL)
    ] = 14,
    effects_table: Annotated[
        list[str] | None,
        typer.Option(
            "--effects-table",
            help="A table your processor writes with transactional effects; the function "
            "may write it (repeatable).",
            rich_help_panel=FUNCTION_PANEL,
        ),
    ] = None,
    visibility_timeout: Annotated[
        int | None,
        typer.Option(
            help="Queue visibility timeout, seconds (default 6x --timeout).",
            rich_help_panel=QUEUE_PANEL,
        ),
    ] = None,
    max_receive_count: Annotated[
        int,
        typer.Option(
            help="Receives before a message goes to the DLQ.", rich_help_panel=QUEUE_PANEL
        ),
    ] = 5,
    batch_size: Annotated[
        int, typer.Option(help="Records per invocation (1..10).", rich_help_panel=QUEUE_PANEL)
    ] = 3,
    max_concurrency: Annotated[
        int | None,
        typer.Option(help="Trigger's maximum concurrency (2..1000).", rich_help_panel=QUEUE_PANEL),
    ] = None,
    no_trigger: Annotated[
        bool,
        typer.Option(
            "--no-trigger/--trigger",
            help="No event source mapping (for `sqsidem worker`); recorded as function tag "
            "sqsidem:trigger=off so status knows it is on purpose; kept until --trigger.",
            rich_help_panel=QUEUE_PANEL,
        ),
    ] = False,
    content_dedup: Annotated[
        bool,
        typer.Option(
            "--content-dedup/--no-content-dedup",
            help="Content-based deduplication on the queue.",
            rich_help_panel=QUEUE_PANEL,
        ),
    ] = False,
    notify_email: Annotated[
        str | None, typer.Option(help="Email the DLQ alarm notifies (SNS subscription).")
    ] = None,
    adopt: Annotated[
        bool,
        typer.Option("--adopt", help="Tag and manage same-named resources built by hand."),
    ] = False,
    requirements: RequirementsOption = None,
    architecture: ArchitectureOption = "x86_64",
) -> None:
    """Build the pipeline, or bring it in line; a converged stack gets no change.

    The first Ctrl-C lets the step in flight finish and stops before the next (exit 130);
    running setup again finishes the job and makes nothing twice.
    """
    app = app_context(ctx)
    chosen = {k: v for k, v in locals().items() if k not in _NOT_OPTIONS}
    # Only flags given here change the stack; the rest keep what it was set up with.
    options = replace(_options(local=app.settings.local, **chosen), given=_given(ctx, chosen))
    from sqsidem.render.stack import SetupView
    from sqsidem.stack.setup import setup_stack

    view = SetupView(app.render)
    keep = processor is None  # only an explicit --processor changes it ("default" resets)
    planned, result = setup_stack(
        app.aws, app.names, options, dry_run=dry_run, progress=view, keep_processor=keep
    )
    view.show(planned, result)
    if result is not None:
        result.check()  # exit 130 after a Ctrl-C, once what was done is shown


def status(ctx: typer.Context) -> None:
    """Each resource (exists / missing / drifted), queue depths, trigger, locks, alarm."""
    from sqsidem.render.stack import show_status
    from sqsidem.stack.status import stack_status

    app = app_context(ctx)
    with app.render.spinner(f"reading stack {app.names.stack}"):
        report = stack_status(app.aws(), app.names)
    if not show_status(app.render, report):
        raise typer.Exit(1)


def teardown(
    ctx: typer.Context,
    yes: YesOption = False,
    keep_logs: Annotated[bool, typer.Option("--keep-logs", help="Keep the log group.")] = False,
    keep_table: Annotated[
        bool, typer.Option("--keep-table", help="Keep the lock table (and its records).")
    ] = False,
    key_pending_days: Annotated[
        int, typer.Option(help="Days before KMS deletes the key (7..30).")
    ] = 7,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Delete even when the queues hold messages or locks are in progress "
            "(--yes only answers the question).",
        ),
    ] = False,
) -> None:
    """Delete the stack's resources (only those tagged for this stack), in reverse order.

    Shows the queue, DLQ and in-progress lock counts first; refuses (exit 1) without
    --force when anything would be lost. The first Ctrl-C stops after the deletion in flight.
    """
    from sqsidem.render.stack import TeardownView
    from sqsidem.stack.kind import TeardownOptions
    from sqsidem.stack.teardown import teardown_stack, validate_pending_days

    app = app_context(ctx)
    days = validate_pending_days(key_pending_days)
    how = TeardownOptions(keep_logs, keep_table, days, force)
    action = f"delete the resources of stack {app.names.stack!r}?"
    require_consent(app.render, yes=yes, action=action)  # exit 2 before any AWS call
    view = TeardownView(app.render, yes=yes)
    plan, result = teardown_stack(app.aws, app.names, how, view)
    view.show(plan, result)
    result.check()  # exit 130 after a Ctrl-C, once what was deleted is shown


def register(app: typer.Typer) -> None:
    app.command()(setup)
    app.command()(status)
    app.command()(teardown)
