"""`sqsidem setup | status | teardown`: provision, inspect and remove the whole pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.render import Renderer
from sqsidem.render.consent import confirm

if TYPE_CHECKING:
    from sqsidem.stack.model import Plan, Step
    from sqsidem.stack.options import SetupOptions
    from sqsidem.stack.retry import Pacing
    from sqsidem.stack.status import StackStatus
    from sqsidem.stack.teardown import TeardownItem, TeardownPlan

FUNCTION_PANEL = "Function"
QUEUE_PANEL = "Queue and trigger"
_VERBS = {
    "create": "creating",
    "update": "updating",
    "replace": "replacing",
    "adopt": "adopting",
}


def pacing_for(render: Renderer) -> Pacing:
    from sqsidem.stack.retry import Pacing

    return Pacing(notify=render.note)


def show_plan(render: Renderer, plan: Plan, title: str) -> None:
    render.table(
        ["resource", "name", "action", "details"],
        [(s.kind, s.name, s.action, s.details) for s in plan.steps],
        title=title,
    )


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
    effects_tables: list[str] | None = None,
) -> SetupOptions:
    from sqsidem.stack.options import DEFAULT_LOCK_TTL_S, SetupOptions, parse_processor
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
        processor=parse_processor(processor) if processor else None,
        key_source=key,
        lock_ttl_s=ttl,
        notify_email=notify_email,
        adopt=adopt,
        effect_tables=tuple(sorted(set(effects_tables or ()))),
    )


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
            help="Your processing code, path/file.py:function (called once per record).",
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
            "--no-trigger",
            help="No event source mapping (for `sqsidem worker`); recorded as function tag "
            "sqsidem:trigger=off so status knows it is on purpose.",
            rich_help_panel=QUEUE_PANEL,
        ),
    ] = False,
    content_dedup: Annotated[
        bool,
        typer.Option(
            "--content-dedup",
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
) -> None:
    """Build the pipeline, or bring it in line; a converged stack gets no change."""
    from sqsidem.stack.executor import blocked_error
    from sqsidem.stack.setup import converge, prepare

    app = app_context(ctx)
    render = app.render
    options = _options(
        timeout=timeout,
        memory=memory,
        visibility_timeout=visibility_timeout,
        max_receive_count=max_receive_count,
        batch_size=batch_size,
        max_concurrency=max_concurrency,
        no_trigger=no_trigger,
        content_dedup=content_dedup,
        log_retention_days=log_retention_days,
        runtime=runtime,
        processor=processor,
        key=key,
        lock_ttl=lock_ttl,
        notify_email=notify_email,
        adopt=adopt,
        effects_tables=effects_table,
    )
    prepared = prepare(app.names, options)
    for warning in prepared.warnings:
        render.warn(warning)

    def on_step(step: Step, phase: str) -> None:
        if phase == "start":
            render.info(f"{_VERBS.get(step.action, step.action)} {step.kind} {step.name}")

    planned, result = converge(
        app.aws(),
        prepared,
        dry_run=dry_run,
        reading=render.spinner(f"reading stack {app.names.stack}"),
        pacing=pacing_for(render),
        on_step=on_step,
    )
    plan = planned.plan
    if result is None:
        if render.json:
            render.emit({**plan.as_dict(), "dry_run": True})
        else:
            show_plan(render, plan, f"plan for stack {plan.stack} (dry run)")
            render.note("dry run: nothing changed")
        if plan.blocked:
            render.warn(blocked_error(plan).one_line())
        return
    report_setup(render, plan, applied=tuple(result.applied))


def report_setup(render: Renderer, plan: Plan, applied: tuple[Step, ...]) -> None:
    from sqsidem.stack.planner import KEPT_TRIGGER_NOTE

    kept = plan.step("mapping")
    if kept is not None and kept.note == KEPT_TRIGGER_NOTE and (render.json or not applied):
        render.warn(f"trigger {kept.name} {kept.note}")  # else the plan table shows it
    if render.json:
        render.emit(
            {**plan.as_dict(), "changed": bool(applied), "applied": [s.as_dict() for s in applied]}
        )
        return
    if not applied:
        render.success(f"stack {plan.stack} is up to date: no changes made")
        return
    show_plan(render, plan, f"stack {plan.stack}")
    render.success(f"stack {plan.stack} ready: {len(applied)} resource(s) changed")


def status(ctx: typer.Context) -> None:
    """Each resource (exists / missing / drifted), queue depths, trigger, locks, alarm."""
    from sqsidem.stack.status import stack_status

    app = app_context(ctx)
    with app.render.spinner(f"reading stack {app.names.stack}"):
        report = stack_status(app.aws(), app.names)
    _show_status(app.render, report)
    if not report.ok:
        bad = [r for r in report.resources if not r.healthy]
        listed = ", ".join(f"{r.kind} {r.state}" for r in bad)
        app.render.error(f"stack {report.stack}: {len(bad)} resource(s) not as set up: {listed}")
        raise typer.Exit(1)


def _show_status(render: Renderer, report: StackStatus) -> None:
    if render.json:
        render.emit(report.as_dict())
        return
    render.table(
        ["resource", "name", "state", "details"],
        [(r.kind, r.name, r.state, r.details) for r in report.resources],
        title=f"stack {report.stack}",
    )
    if report.queue is not None:
        q = report.queue
        render.line(
            f"queue      {q['visible']} visible, {q['in_flight']} in flight, {q['delayed']} delayed"
        )
    if report.dlq_depth is not None:
        render.line(f"dlq        {report.dlq_depth} message(s)")
    if report.mapping_state is not None:
        last = report.mapping_last_result or "n/a"
        render.line(f"trigger    {report.mapping_state} (last result: {last})")
    elif not report.trigger_wanted:
        render.line("trigger    not wanted (--no-trigger): `sqsidem worker` reads the queue")
    if report.locks is not None:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(report.locks.by_state.items()))
        more = " (counted the first 100000 only)" if report.locks.truncated else ""
        render.line(f"locks      {counts or 'none'}{more}")
    if report.alarm_state is not None:
        render.line(f"alarm      {report.alarm_state}")
    for note in report.notes:
        render.warn(note)


def teardown(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    keep_logs: Annotated[bool, typer.Option("--keep-logs", help="Keep the log group.")] = False,
    keep_table: Annotated[
        bool, typer.Option("--keep-table", help="Keep the lock table (and its records).")
    ] = False,
    key_pending_days: Annotated[
        int, typer.Option(help="Days before KMS deletes the key (7..30).")
    ] = 7,
) -> None:
    """Delete the stack's resources (only those tagged for this stack), in reverse order."""
    from sqsidem.stack.teardown import plan_teardown, run_teardown, validate_pending_days

    app = app_context(ctx)
    render = app.render
    validate_pending_days(key_pending_days)
    question = f"delete the resources of stack {app.names.stack!r}?"
    if not render.interactive:
        confirm(render, question, yes=yes)  # refuses (exit 2) before any AWS call
    with render.spinner(f"reading stack {app.names.stack}"):
        plan = plan_teardown(app.aws(), app.names, keep_logs=keep_logs, keep_table=keep_table)
    if not render.json:
        _show_teardown(render, plan)
    for item in plan.not_ours:
        render.warn(f"{item.kind} {item.name}: {item.note}")
    if plan.to_delete:
        confirm(render, f"Delete {len(plan.to_delete)} resource(s) of stack {plan.stack}?", yes=yes)

    def on_item(item: TeardownItem, phase: str) -> None:
        if phase == "start":
            render.info(f"deleting {item.kind} {item.name}")

    result = run_teardown(
        app.aws(),
        app.names,
        plan,
        key_pending_days=key_pending_days,
        pacing=pacing_for(render),
        on_item=on_item,
    )
    if render.json:
        render.emit({**plan.as_dict(), "deleted": [i.as_dict() for i in result.deleted]})
    elif result.deleted:
        render.success(f"stack {plan.stack}: {len(result.deleted)} resource(s) deleted")
    else:
        render.success(f"stack {plan.stack}: nothing to delete")


def _show_teardown(render: Renderer, plan: TeardownPlan) -> None:
    render.table(
        ["resource", "name", "action", "note"],
        [(i.kind, i.name, i.action, i.note) for i in plan.items],
        title=f"teardown of stack {plan.stack}",
    )


def register(app: typer.Typer) -> None:
    app.command()(setup)
    app.command()(status)
    app.command()(teardown)
