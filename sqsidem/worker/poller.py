"""The worker's run: pollers long-poll batches, processing threads run them, one deleter.

A pool of ``concurrency`` threads runs each batch's message groups in parallel (each group in
order) through the same :class:`~sqsidem.consumer.batch.Consumer` as the function; what was
acknowledged is deleted as its group ends and the rest reappears after the visibility
timeout (:mod:`sqsidem.worker.batch`). The round trips overlap: one batch more than
``concurrency`` is received ahead (its heartbeat keeps it invisible while it waits), every
batch's locks are acquired ahead as it arrives, and COMPLETED is written behind the
records (:mod:`sqsidem.consumer.pipeline`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqsidem.consumer.batch import Consumer, independent_units, is_fifo
from sqsidem.consumer.config import ConsumerConfig
from sqsidem.consumer.failpoints import Failpoints
from sqsidem.consumer.keys import KeySpec, parse_key_spec
from sqsidem.consumer.lock import LockTable, wall_clock_ms
from sqsidem.consumer.pipeline import Pipeline
from sqsidem.consumer.processor import BoundProcessor, Processor, bind_processor, load_processor
from sqsidem.retry import Pacing
from sqsidem.worker.batch import InFlightBatch, receipt_handles
from sqsidem.worker.deleter import Deleter, release_now
from sqsidem.worker.event import WorkerContext, lambda_event
from sqsidem.worker.heartbeat import Heartbeat
from sqsidem.worker.model import (
    WorkerClients,
    WorkerOptions,
    WorkerStats,
    batches_held,
    io_threads,
)
from sqsidem.worker.preflight import QueueFacts, preflight
from sqsidem.worker.state import RECHECK_S, RunState

# A zero-wait receive returns at once: with our batches running, pause this long (or until
# one ends) before the next one instead of spinning.
EMPTY_RECEIVE_PAUSE_S = 0.05

# An empty receive ahead retries when a batch ends, or after this long at the latest.
AHEAD_RETRY_S = 1.0

# After Ctrl-C, a long poll still waiting (up to --wait-time, 20 s) is given this long to
# answer; then the run ends without it (the batches in flight still finish either way).
STOP_GRACE_S = 2.0

Emit = Callable[[str], None]
_Unit = tuple[InFlightBatch, list[int]]


def _discard(_line: str) -> None:
    return None


def run_worker(
    clients: WorkerClients,
    config: ConsumerConfig,
    options: WorkerOptions,
    *,
    processor: Processor | None = None,
    stop: threading.Event | None = None,
    emit: Emit | None = None,
    on_progress: Callable[[WorkerStats], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    pacing: Pacing | None = None,
    now_ms: Callable[[], int] = wall_clock_ms,
    failpoints: Failpoints | None = None,
) -> WorkerStats:
    """Poll until ``stop`` is set, ``max_messages`` were received or the queue stayed idle.

    ``emit`` gets every decision line (from several threads, one whole line per call).
    """
    facts = preflight(clients, options)
    lock = LockTable(clients.dynamodb, config.table, ttl_s=config.lock_ttl_s, now_ms=now_ms)
    poller = Poller(
        clients=clients,
        options=options,
        queue_facts=facts,
        lock=lock,
        # The processor's form (with or without effects) is decided once for the whole run.
        processor=bind_processor(processor or load_processor(config.processor)),
        config=config,
        emit=emit or _discard,
        failpoints=failpoints or Failpoints.from_spec(config.failpoint, config.failpoint_seed),
        stop=stop or threading.Event(),
        pacing=pacing or Pacing(),
        now_ms=now_ms,
        on_progress=on_progress,
    )
    if on_start is not None:
        on_start(options.queue_url)  # every check passed: polling starts now
    return poller.run()


@dataclass
class Poller:
    """``concurrency`` pollers feed ``concurrency`` processing threads and one deleter.

    A poller takes a batch slot (at most ``concurrency`` batches in flight plus one received
    ahead, so we never hold many more messages invisible than we can work on), long-polls,
    starts the batch's lock acquisitions and queues its units for the processing threads;
    the slot is freed when the batch ends. While
    earlier batches run, the other pollers keep long polling: on AWS a FIFO receive hides
    the groups in flight, so they get other groups' messages; on a backend that does not
    hide them, the groups' messages come back once deleted, which happens per group.
    """

    clients: WorkerClients
    options: WorkerOptions
    queue_facts: QueueFacts
    lock: LockTable
    processor: BoundProcessor
    config: ConsumerConfig
    emit: Emit
    failpoints: Failpoints
    stop: threading.Event
    pacing: Pacing
    now_ms: Callable[[], int]
    on_progress: Callable[[WorkerStats], None] | None
    halt: threading.Event = field(default_factory=threading.Event)
    state: RunState = field(init=False)
    slots: threading.BoundedSemaphore = field(init=False)
    work: queue.SimpleQueue[_Unit | None] = field(init=False)
    deleter: Deleter = field(init=False)
    pipeline: Pipeline = field(init=False)
    key_spec: KeySpec = field(init=False)  # parsed once per run
    receiving: int = field(init=False, default=0)  # pollers inside a receive call
    _receiving_mutex: threading.Lock = field(init=False, default_factory=threading.Lock)

    def run(self) -> WorkerStats:
        now = self.pacing.clock()
        self.state = RunState(started=now, last_activity=now)
        self.key_spec = parse_key_spec(self.config.key)
        count = self.options.concurrency
        self.slots = threading.BoundedSemaphore(batches_held(count))
        self.pipeline = Pipeline(unit_threads=1, io_threads=io_threads(count))
        self.work = queue.SimpleQueue()
        self.deleter = Deleter(
            self.clients.sqs,
            self.options.queue_url,
            on_call=self._deleted,
            on_error=self._fail,
        )
        self.deleter.start()
        pollers = _threads(self._poller_main, "poller", count)
        processors = _threads(self._processor_main, "processor", count)
        self._join_pollers(pollers)
        # No batch comes any more; the ones in flight run to their end (graceful stop).
        for _ in processors:
            self.work.put(None)
        _join(processors)
        self.pipeline.shutdown()  # every pending COMPLETED write is answered
        self.deleter.close()
        if self.state.error is not None:
            raise self.state.error
        return self.snapshot()

    def snapshot(self) -> WorkerStats:
        return self.state.snapshot(self.pacing.clock(), self.stop.is_set())

    def _join_pollers(self, pollers: list[threading.Thread]) -> None:
        """Until every poller ended; after Ctrl-C, not longer than ``STOP_GRACE_S`` for
        pollers that only wait in a long poll (what it brings back then is handed back)."""
        stopped_at: float | None = None
        while any(thread.is_alive() for thread in pollers):
            _join([next(t for t in pollers if t.is_alive())], once=True)
            if not self.stop.is_set():
                continue
            now = self.pacing.clock()
            stopped_at = now if stopped_at is None else stopped_at
            with self._receiving_mutex:
                alive = sum(thread.is_alive() for thread in pollers)
                only_waiting = alive == self.receiving
            if only_waiting and now - stopped_at >= STOP_GRACE_S:
                self.state.add("polls_left", alive)
                return

    def _stopping(self) -> bool:
        return self.stop.is_set() or self.halt.is_set()

    def _finish(self, reason: str) -> None:
        self.state.finish(reason)
        self.halt.set()

    def _fail(self, exc: BaseException) -> None:
        """Surfaced by run() in the calling thread, once the threads have ended."""
        self.state.fail(exc)
        self.halt.set()

    def _poller_main(self) -> None:
        try:
            while not self._stopping():
                if not self.slots.acquire(timeout=RECHECK_S):
                    continue
                if not self._poll_once():
                    return
        except BaseException as exc:
            self._fail(exc)

    def _processor_main(self) -> None:
        while True:
            item = self.work.get()
            if item is None:
                return
            batch, unit = item
            try:
                batch.run_unit(unit)  # its deletes follow once its COMPLETED are answered
            except BaseException as exc:  # our bug: the unit's messages simply reappear
                self._fail(exc)

    def _poll_once(self) -> bool:
        """One receive (holding a slot); False when this poller has nothing left to do."""
        limit = self.options.max_messages
        wanted = self.state.reserve(self.options.batch_size, limit, self._stopping)
        if wanted == 0:
            self.slots.release()
            return False
        wait = self.options.receive_wait_s
        ahead = self.state.in_flight >= self.options.concurrency
        if ahead:
            # A receive ahead (every processing thread has a batch) does not sit in a long
            # poll: a backend may answer it late once the running groups are deleted, and
            # the batch it waits for would start late. Empty, it retries when a batch ends.
            wait = 0
        with self._receiving_mutex:
            self.receiving += 1
        try:
            response = self.clients.sqs.receive_message(
                QueueUrl=self.options.queue_url,
                MaxNumberOfMessages=wanted,
                WaitTimeSeconds=wait,
                VisibilityTimeout=self.queue_facts.visibility_s,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        except BaseException:
            self.state.settle(wanted, 0, limit, self.pacing.clock())
            self.slots.release()
            raise
        finally:
            with self._receiving_mutex:
                self.receiving -= 1
                # Decided under the mutex the main thread reads: a receive it stopped
                # waiting for is always answered after Ctrl-C, so it is never dispatched.
                late = self.stop.is_set()
        received_ms = self.now_ms()
        messages: list[Any] = list(response.get("Messages", []))
        if late and messages:
            # Answered after Ctrl-C: not new work. Visible again at once, not in 30 s.
            self.state.settle(wanted, 0, limit, self.pacing.clock())
            self.slots.release()
            self.state.add(
                "released",
                len(messages) - release_now(self.clients.sqs, self.options.queue_url, messages),
            )
            return False
        if self.state.settle(wanted, len(messages), limit, self.pacing.clock()):
            self._finish("max-messages")
        if not messages:
            self.slots.release()
            self._after_empty(wait, ahead=ahead)
            return True
        self._dispatch(messages, received_ms)  # the batch frees the slot when it ends
        return True

    def _after_empty(self, wait: int, *, ahead: bool = False) -> None:
        pause_s = EMPTY_RECEIVE_PAUSE_S if wait == 0 and not self._stopping() else 0.0
        if ahead and pause_s:
            pause_s = AHEAD_RETRY_S
        idle = self.state.idle_s(self.pacing.clock, pause_s=pause_s)
        limit = self.options.idle_exit_s
        if idle is not None and limit is not None and idle >= limit:
            self._finish("idle")

    def _dispatch(self, messages: list[Mapping[str, Any]], received_ms: int) -> None:
        records = lambda_event(messages, queue_arn=self.queue_facts.arn)["Records"]
        fifo = is_fifo(records)
        visibility_s = self.queue_facts.visibility_s
        context = WorkerContext(received_ms + visibility_s * 1000, self.now_ms)
        heartbeat = Heartbeat(
            self.clients.sqs,
            self.options.queue_url,
            receipt_handles(messages),
            self.lock,
            context,
            visibility_timeout_s=visibility_s,
            now_ms=self.now_ms,
            on_beat=lambda _n: self.state.add("heartbeats"),
        )
        consumer = Consumer(
            self.lock,
            self.processor,
            key_spec=self.key_spec,
            dedup_scope=self.config.dedup_scope,
            emit=self.emit,
            failpoints=self.failpoints,
            observer=heartbeat,
            pipeline=self.pipeline,
        )
        batch = InFlightBatch(
            messages,
            records,
            independent_units(records, fifo=fifo),
            fifo=fifo,
            consumer=consumer,
            context=context,
            heartbeat=heartbeat,
            # With one slot no other receive can use a group freed early: delete the
            # batch's successes in one call at its end. With more, delete each group as it
            # ends, so a FIFO group's next message can be received while the rest runs.
            eager_delete=self.options.concurrency > 1,
            on_done=self._batch_done,
            on_delete=self.deleter.submit,
        )
        heartbeat.start()
        batch.start()  # the locks of the whole batch are acquired ahead, concurrently
        for unit in batch.units:
            self.work.put((batch, unit))

    def _deleted(self, failed: int) -> None:
        self.state.add("delete_calls")
        if failed:
            self.state.add("delete_failures", failed)

    def _batch_done(self, batch: InFlightBatch) -> None:
        batch.heartbeat.stop()
        self.state.count_outcomes(batch.final_outcomes())
        self.state.batch_ended(self.pacing.clock())
        self.slots.release()
        if self.on_progress is not None:
            self.on_progress(self.snapshot())


def _threads(target: Callable[[], None], role: str, count: int) -> list[threading.Thread]:
    threads = [
        threading.Thread(target=target, name=f"sqsidem-{role}-{i}", daemon=True)
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    return threads


def _join(threads: list[threading.Thread], *, once: bool = False) -> None:
    # A timeout keeps the main thread responsive to signals (a second Ctrl-C aborts).
    for thread in threads:
        while thread.is_alive():
            thread.join(RECHECK_S)
            if once:
                return
