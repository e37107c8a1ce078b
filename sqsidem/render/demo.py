"""The demo tour as a person watches it: numbered stages on stderr, the findings on stdout.

With ``-o json`` the stages stay on stderr and stdout carries one summary object.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from sqsidem.render.sink import Renderer

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.demo.run import Backend, Settled
    from sqsidem.demo.settle import Progress
    from sqsidem.demo.tour import TourMessages
    from sqsidem.messages.send import SendResult, SendSummary
    from sqsidem.names import StackNames
    from sqsidem.retry import Pacing
    from sqsidem.stack.model import Step


class DemoView:
    """Implements :class:`sqsidem.demo.run.TourView` on a :class:`Renderer`."""

    def __init__(self, render: Renderer) -> None:
        self.render = render
        self._endpoint = ""
        self._ids: dict[str, list[str]] = {}
        self._bar = ExitStack()

    def pacing(self) -> Pacing:
        from sqsidem.render.stack import pacing_for

        return pacing_for(self.render)

    def backend(self, backend: Backend) -> None:
        self._endpoint = backend.endpoint
        state = "started" if backend.started else "running"
        self.render.info(f"local backend {state} at {backend.endpoint}")

    def setup_started(self, names: StackNames) -> None:
        self.render.info(
            f"\n1. setup: stack {names.stack} (function timeout 2 s, max receive count 2)"
        )

    def setup_step(self, step: Step, phase: str) -> None:
        if phase == "start":
            self.render.note(f"   {step.action} {step.kind} {step.name}")

    def setup_done(self, names: StackNames, changed: int) -> None:
        self.render.success(f"stack {names.stack} ready ({changed or 'no'} resource(s) changed)")

    def send_started(self, names: StackNames) -> Callable[[SendResult], None]:
        self.render.info(f"\n2. send: 8 messages to {names.queue}")

        def on_result(result: SendResult) -> None:
            if result.ok and result.dedup_id:
                self._ids.setdefault(result.dedup_id, []).append(str(result.message_id))

        return on_result

    def sent(self, tour: TourMessages, summary: SendSummary) -> None:
        copies = self._ids.get(tour.dropped_dedup_id, [])
        note = self.render.note
        note(f"   {len(tour.processed)} new transactions in groups orders-a and orders-b")
        note(
            f"   dedup id {tour.dropped_dedup_id} sent twice: SQS kept one copy "
            f"(both sends answered message id {copies[0] if copies else '?'})"
        )
        note(f"   key {tour.repeated_key} sent again, new dedup id: the lock must skip it")
        note(f"   {tour.poison_key} in its own group: the processor always rejects it")
        self.render.success(f"{summary.sent} sent, {summary.failed} failed")

    def waiting(self, tour: TourMessages, dead_before: int) -> Callable[[Progress], None]:
        self.render.info("\n3. wait for the function (the poison message needs 2 failed receives)")
        bar = self._bar.enter_context(self.render.progress("processing", total=len(tour.processed)))

        def on_progress(seen: Progress) -> None:
            dead = seen.dead_lettered - dead_before
            bar.update(description=f"{dead} dead-lettered, {seen.queue_left} queued")
            bar.advance(seen.completed - bar.done)

        return on_progress

    def close_waiting(self) -> None:
        self._bar.close()

    def settled(self, settled: Settled) -> None:
        self.render.success(
            f"settled after {settled.progress.elapsed_s:.1f} s: {settled.progress.completed} "
            f"completed, {settled.dead_lettered} more in the dead-letter queue"
        )

    def explain(self, aws: Aws, settled: Settled) -> None:
        if self.render.json:
            self.render.emit(_summary(settled, self._endpoint))
        else:
            _explain(self.render, aws, settled)

    def teardown_started(self, names: StackNames) -> None:
        self.render.info(f"\n8. teardown: stack {names.stack}")

    def teardown_done(self, deleted: int) -> None:
        self.render.success(f"{deleted} resource(s) deleted")


def _summary(settled: Settled, endpoint: str) -> dict[str, object]:
    tour, progress = settled.tour, settled.progress
    return {
        "stack": settled.names.stack,
        "endpoint": endpoint,
        "run": tour.run,
        "elapsed_s": round(progress.elapsed_s, 1),
        "completed": progress.completed,
        "dead_lettered": settled.dead_lettered,
        "locks": progress.states,
        "duplicate_key": tour.repeated_key,
        "dropped_dedup_id": tour.dropped_dedup_id,
        "poison_key": tour.poison_key,
    }


def _explain(render: Renderer, aws: Aws, settled: Settled) -> None:
    """Stages 4-7: the same views the commands named in each heading print."""
    from sqsidem.demo.tour import next_steps
    from sqsidem.dlq.listing import list_dlq
    from sqsidem.locks.scan import LockFilter, LockScan
    from sqsidem.logtail import EventFilter, log_group_for, read_events
    from sqsidem.render.dlq import show_dlq_listing
    from sqsidem.render.locks import show_locks
    from sqsidem.render.logs import show_event
    from sqsidem.render.trace import show_trace
    from sqsidem.trace import trace

    names, tour = settled.names, settled.tour
    render.info(f"\n4. the locks of this run (`locks list --prefix demo-{tour.run}`)")
    show_locks(
        render, LockScan(aws.dynamodb, names.table, where=LockFilter(prefix=f"demo-{tour.run}"))
    )
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
