"""`sqsidem demo`: the whole pipeline on the laptop, with live output, in under a minute."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sqsidem.cli.context import app_context

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.demo import Progress, TourMessages
    from sqsidem.names import StackNames
    from sqsidem.render import Renderer


def demo(
    ctx: typer.Context,
    teardown: Annotated[
        bool, typer.Option("--teardown", help="Remove the demo stack at the end.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the pipeline to settle.")
    ] = 120.0,
) -> None:
    """Set up stack `demo` on the local backend (starting it if needed), send, watch, explain."""
    from dataclasses import replace

    from sqsidem.demo import DEMO_STACK, dlq_depth, ensure_backend
    from sqsidem.errors import UsageError
    from sqsidem.names import names_for

    app = app_context(ctx)
    render = app.render
    if app.settings.endpoint_url:
        raise UsageError("the demo runs on the local backend", "drop --endpoint-url")
    stack = app.settings.stack if "stack" in app.settings.sources else DEMO_STACK
    names = names_for(stack)
    backend = ensure_backend()
    render.info(
        f"local backend {'started' if backend.started else 'running'} at {backend.endpoint}"
    )
    settings = replace(app.settings, local=True, stack=stack)
    aws = app.aws_for(settings, endpoint_url=backend.endpoint)
    _setup(render, aws, names)
    dead_before = dlq_depth(aws, names)
    tour = _send(render, aws, names)
    settled = _wait(render, aws, names, tour, timeout, dead_before)
    if render.json:
        render.emit(
            {
                "stack": names.stack,
                "endpoint": backend.endpoint,
                "run": tour.run,
                "elapsed_s": round(settled.elapsed_s, 1),
                "completed": settled.completed,
                "dead_lettered": settled.dead_lettered - dead_before,
                "locks": settled.states,
                "duplicate_key": tour.repeated_key,
                "dropped_dedup_id": tour.dropped_dedup_id,
                "poison_key": tour.poison_key,
            }
        )
    else:
        _explain(render, aws, names, tour)
    if teardown:
        _teardown(render, aws, names)


def _setup(render: Renderer, aws: Aws, names: StackNames) -> None:
    from sqsidem.demo import DEMO_OPTIONS
    from sqsidem.render.stack import pacing_for
    from sqsidem.stack.setup import converge, prepare

    render.info(f"\n1. setup: stack {names.stack} (function timeout 2 s, max receive count 2)")
    prepared = prepare(names, DEMO_OPTIONS)  # its low values are deliberate: no warnings
    _, result = converge(
        aws,
        prepared,
        pacing=pacing_for(render),
        on_step=lambda step, phase: (
            render.note(f"   {step.action} {step.kind} {step.name}") if phase == "start" else None
        ),
    )
    changed = len(result.applied) if result else 0
    render.success(f"stack {names.stack} ready ({changed or 'no'} resource(s) changed)")


def _send(render: Renderer, aws: Aws, names: StackNames) -> TourMessages:
    from sqsidem.demo import tour_messages, tour_spec
    from sqsidem.messages.send import SendResult, send

    tour, text = tour_messages()
    render.info(f"\n2. send: 8 messages to {names.queue}")
    ids: dict[str, list[str]] = {}

    def on_result(result: SendResult) -> None:
        if result.ok and result.dedup_id:
            ids.setdefault(result.dedup_id, []).append(str(result.message_id))

    summary = send(aws, names, tour_spec(text), on_result=on_result)
    copies = ids.get(tour.dropped_dedup_id, [])
    render.note(f"   {len(tour.processed)} new transactions in groups orders-a and orders-b")
    render.note(
        f"   dedup id {tour.dropped_dedup_id} sent twice: SQS kept one copy "
        f"(both sends answered message id {copies[0] if copies else '?'})"
    )
    render.note(f"   key {tour.repeated_key} sent again, new dedup id: the lock must skip it")
    render.note(f"   {tour.poison_key} in its own group: the processor always rejects it")
    render.success(f"{summary.sent} sent, {summary.failed} failed")
    return tour


def _wait(
    render: Renderer,
    aws: Aws,
    names: StackNames,
    tour: TourMessages,
    timeout: float,
    dead_before: int,
) -> Progress:
    from sqsidem.demo import wait_until_processed

    render.info("\n3. wait for the function (the poison message needs 2 failed receives)")
    with render.progress("processing", total=len(tour.processed)) as bar:

        def on_progress(seen: Progress) -> None:
            dead = seen.dead_lettered - dead_before
            bar.update(description=f"{dead} dead-lettered, {seen.queue_left} queued")
            bar.advance(seen.completed - bar.done)

        done = wait_until_processed(
            aws,
            names,
            tour,
            deadline_s=timeout,
            dead_before=dead_before,
            on_progress=on_progress,
        )
    render.success(
        f"settled after {done.elapsed_s:.1f} s: {done.completed} completed, "
        f"{done.dead_lettered - dead_before} more in the dead-letter queue"
    )
    return done


def _explain(render: Renderer, aws: Aws, names: StackNames, tour: TourMessages) -> None:
    from sqsidem.demo import next_steps
    from sqsidem.dlq import list_dlq
    from sqsidem.locks.scan import LockFilter, LockScan
    from sqsidem.logtail import EventFilter, log_group_for, read_events
    from sqsidem.render.dlq import show_dlq_listing
    from sqsidem.render.locks import show_locks
    from sqsidem.render.logs import show_event
    from sqsidem.render.trace import show_trace
    from sqsidem.trace import trace

    render.info(f"\n4. the locks of this run (`locks list --prefix demo-{tour.run}`)")
    scan = LockScan(aws.dynamodb, names.table, where=LockFilter(prefix=f"demo-{tour.run}"))
    show_locks(render, scan)
    render.info(f"\n5. the duplicate: decisions for key {tour.repeated_key} (`logs --transaction`)")
    group = log_group_for(aws.lambda_, names.function)
    where = EventFilter(transaction=tour.repeated_key)
    for event in read_events(aws.logs, group, start_ms=0, where=where):
        show_event(render, event)
    render.info("\n6. the dead-letter queue (`dlq list`)")
    show_dlq_listing(render, list_dlq(aws, names), full=False)
    render.info(f"\n7. what happened to the poison message (`trace {tour.poison_key}`)")
    show_trace(render, trace(aws, names, tour.poison_key, peek_queue=False))
    render.info("\nwhat to try next:")
    for line in next_steps(names.stack):
        render.info(f"  {line}")


def _teardown(render: Renderer, aws: Aws, names: StackNames) -> None:
    from sqsidem.render.stack import pacing_for
    from sqsidem.stack.teardown import plan_teardown, run_teardown

    render.info(f"\n8. teardown: stack {names.stack}")
    result = run_teardown(aws, names, plan_teardown(aws, names), pacing=pacing_for(render))
    render.success(f"{len(result.deleted)} resource(s) deleted")


def register(app: typer.Typer) -> None:
    app.command()(demo)
