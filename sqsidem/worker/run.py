"""A worker run for a stack, as ``sqsidem worker`` asks for it: the deployed function's
settings overridden by flags, the stack's queue (or the one named), interrupts handled."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqsidem import validate
from sqsidem.aws import Aws
from sqsidem.build.local import local_processor
from sqsidem.interrupt import until_stopped
from sqsidem.names import StackNames
from sqsidem.resolve import main_queue_url, queue_url
from sqsidem.worker.config import (
    consumer_config,
    load_processor_spec,
    recorded_processor,
    resolve_processor,
)
from sqsidem.worker.model import WorkerClients, WorkerOptions, WorkerStats, pool_connections
from sqsidem.worker.poller import Emit, run_worker


@dataclass(frozen=True)
class WorkerRequest:
    """What the user asked for; None means 'as the deployed function does'."""

    queue: str | None = None
    processor: str | None = None
    requirements: Path | None = None  # vendored beside --processor (a build of its own)
    key: str | None = None
    lock_ttl_s: int | None = None
    batch_size: int = 10
    concurrency: int = 1
    wait_time_s: int = 20
    visibility_timeout_s: int | None = None
    max_messages: int | None = None
    idle_exit_s: float | None = None
    force: bool = False

    def check(self) -> None:
        """Every value checked before any AWS call (UsageError, exit 2): an empty one never
        means "the default"."""
        validate.non_empty({"--queue": self.queue, "--processor": self.processor})
        validate.key_source(self.key)
        validate.finite(self.lock_ttl_s, "--lock-ttl", low=1, high=validate.MAX_LOCK_TTL_S)
        self.options("pending")

    def options(self, url: str) -> WorkerOptions:
        """The run's options for the queue at ``url`` (validated: UsageError)."""
        return WorkerOptions(
            queue_url=url,
            batch_size=self.batch_size,
            wait_time_s=self.wait_time_s,
            visibility_timeout_s=self.visibility_timeout_s,
            concurrency=self.concurrency,
            max_messages=self.max_messages,
            idle_exit_s=self.idle_exit_s,
            force=self.force,
        )


def _resolve_queue_url(aws: Aws, names: StackNames, queue: str | None) -> str:
    if queue is None:
        return main_queue_url(aws, names)
    if queue.startswith(("http://", "https://")):
        return queue
    return queue_url(aws, queue)


def run_for_stack(
    aws: Aws,
    names: StackNames,
    request: WorkerRequest,
    *,
    stop: threading.Event,
    emit: Emit | None = None,
    on_progress: Callable[[WorkerStats], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> WorkerStats:
    """Run until ``stop`` (or the request's limits); ``emit`` gets the decision lines."""
    request.check()
    spec = local_processor(request.processor, request.requirements)  # built if it must be
    # Loaded once, here: a bad --processor fails before any AWS call.
    given = load_processor_spec(spec) if spec is not None else None
    config = consumer_config(
        aws,
        names,
        os.environ if env is None else env,
        key=request.key,
        lock_ttl_s=request.lock_ttl_s,
    )
    recorded = functools.partial(recorded_processor, aws, names.function)
    processor = given if given is not None else resolve_processor(config, None, recorded)
    options = request.options(_resolve_queue_url(aws, names, request.queue))
    # More threads than connections would queue on the pool.
    aws = aws.with_options(max_pool_connections=pool_connections(request.concurrency))
    return run_worker(
        WorkerClients.from_aws(aws),
        config,
        options,
        processor=processor,
        stop=stop,
        emit=emit,
        on_progress=on_progress,
        on_start=on_start,
    )


class RunWatcher(Protocol):
    """Who is told about a run (the command's view)."""

    def started(self, queue_url: str) -> None: ...

    def decision(self, line: str) -> None: ...

    def stopping(self) -> None: ...


def run_until_interrupted(
    aws: Aws, names: StackNames, request: WorkerRequest, watcher: RunWatcher
) -> WorkerStats:
    """``sqsidem worker``: the first SIGINT/SIGTERM ends the run after the batches in
    flight (the watcher is told at once), a second aborts (KeyboardInterrupt)."""
    with until_stopped(watcher.stopping) as stop:
        return run_for_stack(
            aws, names, request, stop=stop, emit=watcher.decision, on_start=watcher.started
        )
