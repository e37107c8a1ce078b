"""The tour as one service call: backend, setup, send, wait, explain, teardown.

The command hands in a :class:`TourView` (``sqsidem.render.demo``) that shows each stage as
it happens; this module decides what happens and never prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from sqsidem.demo.settle import Progress, dlq_depth, wait_until_processed
from sqsidem.demo.tour import DEMO_OPTIONS, DEMO_STACK, TourMessages, tour_messages, tour_spec
from sqsidem.errors import UsageError
from sqsidem.local import DEFAULT_PORT, LocalBackend, free_port, port_in_use
from sqsidem.names import StackNames, names_for

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.messages.send import SendResult, SendSummary
    from sqsidem.retry import Pacing
    from sqsidem.settings import Settings
    from sqsidem.stack.model import Step

MakeAws = Callable[..., "Aws"]


@dataclass(frozen=True)
class Backend:
    endpoint: str
    started: bool


def ensure_backend(backend: LocalBackend | None = None) -> Backend:
    """The running local backend, started (on 4566, else a free port) if needed."""
    backend = backend or LocalBackend()
    current = backend.status()
    if current.running and current.endpoint:
        return Backend(current.endpoint, started=False)
    port = DEFAULT_PORT if not port_in_use(DEFAULT_PORT) else free_port()
    status, _ = backend.up(port)
    if status.endpoint is None:  # up() either answers with an endpoint or raises
        raise UsageError("the local backend did not report its endpoint", "run `sqsidem local up`")
    return Backend(status.endpoint, started=True)


@dataclass(frozen=True)
class TourRequest:
    settings: Settings
    stack: str
    timeout_s: float
    teardown: bool

    @classmethod
    def of(cls, settings: Settings, *, timeout_s: float, teardown: bool) -> TourRequest:
        """Checked before any call: the tour runs on the local backend only."""
        if settings.endpoint_url:
            raise UsageError("the demo runs on the local backend", "drop --endpoint-url")
        stack = settings.stack if "stack" in settings.sources else DEMO_STACK
        return cls(settings, stack, timeout_s, teardown)


@dataclass(frozen=True)
class Settled:
    """Where every message of the tour ended, and how long that took."""

    backend: Backend
    names: StackNames
    tour: TourMessages
    progress: Progress
    dead_before: int

    @property
    def dead_lettered(self) -> int:
        return self.progress.dead_lettered - self.dead_before


class TourView(Protocol):
    """What the tour tells the person watching, stage by stage."""

    def pacing(self) -> Pacing: ...
    def backend(self, backend: Backend) -> None: ...
    def setup_started(self, names: StackNames) -> None: ...
    def setup_step(self, step: Step, phase: str) -> None: ...
    def setup_done(self, names: StackNames, changed: int) -> None: ...
    def send_started(self, names: StackNames) -> Callable[[SendResult], None]: ...
    def sent(self, tour: TourMessages, summary: SendSummary) -> None: ...
    def waiting(self, tour: TourMessages, dead_before: int) -> Callable[[Progress], None]: ...
    def settled(self, settled: Settled) -> None: ...
    def explain(self, aws: Aws, settled: Settled) -> None: ...
    def teardown_started(self, names: StackNames) -> None: ...
    def teardown_done(self, deleted: int) -> None: ...
    def close_waiting(self) -> None: ...


def run_tour(request: TourRequest, make_aws: MakeAws, view: TourView) -> Settled:
    """The whole tour on stack ``request.stack``; returns where every message ended."""
    from sqsidem.messages.send import send
    from sqsidem.stack.setup import converge, prepare
    from sqsidem.stack.teardown import plan_teardown, run_teardown

    names = names_for(request.stack)
    backend = ensure_backend()
    view.backend(backend)
    settings = replace(request.settings, local=True, stack=request.stack)
    aws = make_aws(settings, endpoint_url=backend.endpoint)
    view.setup_started(names)
    prepared = prepare(names, DEMO_OPTIONS)  # its low values are deliberate: no warnings
    _, result = converge(aws, prepared, pacing=view.pacing(), on_step=view.setup_step)
    view.setup_done(names, len(result.applied) if result else 0)
    dead_before = dlq_depth(aws, names)
    tour, text = tour_messages()
    summary = send(aws, names, tour_spec(text), on_result=view.send_started(names))
    view.sent(tour, summary)
    try:
        progress = wait_until_processed(
            aws,
            names,
            tour,
            deadline_s=request.timeout_s,
            dead_before=dead_before,
            on_progress=view.waiting(tour, dead_before),
        )
    finally:
        view.close_waiting()
    settled = Settled(backend, names, tour, progress, dead_before)
    view.settled(settled)
    view.explain(aws, settled)
    if request.teardown:
        view.teardown_started(names)
        # On purpose: the tour's dead-lettered messages and its locks go with the stack.
        plan = plan_teardown(aws, names)
        done = run_teardown(aws, names, plan, pacing=view.pacing(), force=True)
        view.teardown_done(len(done.deleted))
    return settled
