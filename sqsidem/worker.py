"""``sqsidem worker``: poll the queue ourselves with the event source mapping's semantics.

For when the mapping cannot be used (e.g. messages must come through a VPC endpoint) or to
run the consumer without Lambda. Pollers long-poll batches and build the exact Lambda event;
a pool of ``concurrency`` threads runs the batch's message groups in parallel (each group in
order) through the same :class:`~sqsidem.consumer.batch.Consumer` as the function; what was
acknowledged is deleted as its group ends and the rest reappears after the visibility
timeout (worker_batch.py). Library code:
it prints nothing but the decision lines (to an injected stream, stderr by default);
counters go to a callback and come back in a :class:`WorkerStats`.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from sqsidem.consumer import decisions as d
from sqsidem.consumer.batch import Consumer, independent_units, is_fifo
from sqsidem.consumer.config import ConsumerConfig
from sqsidem.consumer.failpoints import Failpoints
from sqsidem.consumer.keys import parse_key_spec
from sqsidem.consumer.lock import LockTable, wall_clock_ms
from sqsidem.consumer.processor import BoundProcessor, Processor, bind_processor, load_processor
from sqsidem.errors import SqsidemError, UsageError
from sqsidem.worker_batch import Deleter, InFlightBatch
from sqsidem.worker_event import WorkerContext, lambda_event
from sqsidem.worker_heartbeat import Heartbeat

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

    from sqsidem.aws import Aws

MAX_BATCH = 10
ACTIVE_MAPPING_STATES = frozenset({"Enabled", "Enabling", "Creating"})


@dataclass(frozen=True)
class WorkerClients:
    sqs: SQSClient
    dynamodb: DynamoDBClient
    lambda_: LambdaClient | None = None

    @classmethod
    def from_aws(cls, aws: Aws) -> WorkerClients:
        return cls(aws.sqs, aws.dynamodb, aws.lambda_)


@dataclass(frozen=True)
class WorkerOptions:
    queue_url: str
    batch_size: int = MAX_BATCH
    wait_time_s: int = 20
    # None: the queue's own VisibilityTimeout.
    visibility_timeout_s: int | None = None
    concurrency: int = 1
    max_messages: int | None = None
    idle_exit_s: float | None = None
    force: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise UsageError(f"batch size must be 1..{MAX_BATCH}, not {self.batch_size}")
        if not 0 <= self.wait_time_s <= 20:
            raise UsageError("wait time must be 0..20 seconds")
        if self.concurrency < 1:
            raise UsageError("concurrency must be at least 1")
        if self.max_messages is not None and self.max_messages < 1:
            raise UsageError("max messages must be at least 1")
        if self.idle_exit_s is not None and self.idle_exit_s < 0:
            raise UsageError("idle exit must be 0 or more seconds")


@dataclass(frozen=True)
class WorkerStats:
    """Counters; ``failed`` counts every record reported failed (``busy`` is a subset)."""

    received: int = 0
    processed: int = 0
    duplicates: int = 0
    failed: int = 0
    busy: int = 0
    lost_ownership: int = 0
    delete_failures: int = 0
    heartbeats: int = 0
    batches: int = 0
    delete_calls: int = 0
    elapsed_s: float = 0.0
    stop_reason: str | None = None

    @property
    def msgs_per_s(self) -> float:
        return self.received / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class _Run:
    """State shared by the worker threads; every field is guarded by ``changed``."""

    started: float
    last_activity: float
    changed: threading.Condition = field(default_factory=threading.Condition)
    counts: dict[str, int] = field(default_factory=dict)
    reserved: int = 0  # asked for by receives still in progress
    received: int = 0
    in_flight: int = 0  # batches received and not ended
    stop_reason: str | None = None
    error: BaseException | None = None

    def add(self, name: str, amount: int = 1) -> None:
        with self.changed:
            self.counts[name] = self.counts.get(name, 0) + amount


def check_no_active_mapping(lambda_client: LambdaClient, queue_arn: str) -> None:
    """Refuse when the event source mapping would compete with us for the same messages."""
    paginator = lambda_client.get_paginator("list_event_source_mappings")
    for page in paginator.paginate(EventSourceArn=queue_arn):
        for mapping in page.get("EventSourceMappings", []):
            if mapping.get("State") in ACTIVE_MAPPING_STATES:
                function = str(mapping.get("FunctionArn", "?")).rsplit(":", 1)[-1]
                raise SqsidemError(
                    f"an enabled event source mapping ({mapping.get('UUID')}, function "
                    f"{function}) already consumes {queue_arn}",
                    "disable it first, or pass --force to poll alongside it",
                )


def config_from_function(lambda_client: LambdaClient, function_name: str) -> ConsumerConfig:
    """The deployed function's consumer settings, the worker's defaults."""
    configuration = lambda_client.get_function_configuration(FunctionName=function_name)
    env = configuration.get("Environment", {}).get("Variables", {})
    return ConsumerConfig.from_env(env)


def load_processor_spec(spec: str) -> Processor:
    """``path/to/file.py:function`` or ``module:function``; empty: the default processor."""
    if not spec:
        return load_processor("")
    target, sep, function_name = spec.rpartition(":")
    if not sep or not target or not function_name.isidentifier():
        raise UsageError(f"invalid processor {spec!r}", "use path/to/file.py:function")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise UsageError(f"processor file {path} does not exist")
        module_spec = importlib.util.spec_from_file_location("sqsidem_processor", path)
        if module_spec is None or module_spec.loader is None:
            raise UsageError(f"cannot load {path} as a Python module")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise UsageError(f"{target} has no function {function_name!r}")
    processor: Processor = function
    return processor


def stream_emitter(stream: TextIO) -> Callable[[str], None]:
    """Thread-safe writer of whole decision lines."""
    mutex = threading.Lock()

    def emit(line: str) -> None:
        with mutex:
            stream.write(line + "\n")
            stream.flush()

    return emit


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM: the first asks for a graceful stop, a second aborts. Main thread only."""
    previous: dict[signal.Signals, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_worker(
    clients: WorkerClients,
    config: ConsumerConfig,
    options: WorkerOptions,
    *,
    processor: Processor | None = None,
    stop: threading.Event | None = None,
    decision_stream: TextIO | None = None,
    on_progress: Callable[[WorkerStats], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    now_ms: Callable[[], int] = wall_clock_ms,
    failpoints: Failpoints | None = None,
) -> WorkerStats:
    """Poll until ``stop`` is set, ``max_messages`` were received or the queue stayed idle."""
    stop = stop or threading.Event()
    attributes = clients.sqs.get_queue_attributes(
        QueueUrl=options.queue_url, AttributeNames=["QueueArn", "VisibilityTimeout"]
    )["Attributes"]
    queue_arn = attributes["QueueArn"]
    if not options.force:
        if clients.lambda_ is None:
            raise UsageError("cannot check for an event source mapping without a Lambda client")
        check_no_active_mapping(clients.lambda_, queue_arn)
    visibility_s = options.visibility_timeout_s
    if visibility_s is None:
        visibility_s = int(attributes.get("VisibilityTimeout", "30"))
    emit = stream_emitter(decision_stream if decision_stream is not None else sys.stderr)
    lock = LockTable(clients.dynamodb, config.table, ttl_s=config.lock_ttl_s, now_ms=now_ms)
    poller = _Poller(
        clients=clients,
        options=options,
        queue_arn=queue_arn,
        visibility_s=visibility_s,
        lock=lock,
        # The processor's form (with or without effects) is decided once for the whole run.
        processor=bind_processor(processor or load_processor(config.processor)),
        config=config,
        emit=emit,
        failpoints=failpoints or Failpoints.from_spec(config.failpoint, config.failpoint_seed),
        stop=stop,
        clock=clock,
        now_ms=now_ms,
        on_progress=on_progress,
    )
    if on_start is not None:
        on_start(options.queue_url)  # every check passed: polling starts now
    return poller.run()


_Unit = tuple[InFlightBatch, list[int]]


@dataclass
class _Poller:
    """``concurrency`` pollers feed ``concurrency`` processing threads and one deleter.

    A poller takes a batch slot (at most ``concurrency`` batches in flight, so we never
    hold many more messages invisible than we can work on), long-polls, and queues the
    batch's units for the processing threads; the slot is freed when the batch ends. While
    earlier batches run, the other pollers keep long polling: on AWS a FIFO receive hides
    the groups in flight, so they get other groups' messages; on a backend that does not
    hide them, the groups' messages come back once deleted, which happens per group.
    """

    clients: WorkerClients
    options: WorkerOptions
    queue_arn: str
    visibility_s: int
    lock: LockTable
    processor: BoundProcessor
    config: ConsumerConfig
    emit: Callable[[str], None]
    failpoints: Failpoints
    stop: threading.Event
    clock: Callable[[], float]
    now_ms: Callable[[], int]
    on_progress: Callable[[WorkerStats], None] | None
    halt: threading.Event = field(default_factory=threading.Event)
    state: _Run = field(init=False)
    slots: threading.BoundedSemaphore = field(init=False)
    work: queue.SimpleQueue[_Unit | None] = field(init=False)
    deleter: Deleter = field(init=False)

    def run(self) -> WorkerStats:
        now = self.clock()
        self.state = _Run(started=now, last_activity=now)
        count = self.options.concurrency
        self.slots = threading.BoundedSemaphore(count)
        self.work = queue.SimpleQueue()
        self.deleter = Deleter(
            self.clients.sqs,
            self.options.queue_url,
            on_call=self._deleted,
            on_error=self._fail,
        )
        self.deleter.start()
        pollers = self._threads(self._poller_main, "poller", count)
        processors = self._threads(self._processor_main, "processor", count)
        # join with a timeout so the main thread stays responsive to signals.
        self._join(pollers)
        # No batch comes any more; the ones in flight run to their end (graceful stop).
        for _ in processors:
            self.work.put(None)
        self._join(processors)
        self.deleter.close()
        if self.state.error is not None:
            raise self.state.error
        return self.snapshot()

    @staticmethod
    def _threads(target: Callable[[], None], role: str, count: int) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=target, name=f"sqsidem-{role}-{i}", daemon=True)
            for i in range(count)
        ]
        for thread in threads:
            thread.start()
        return threads

    @staticmethod
    def _join(threads: list[threading.Thread]) -> None:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)

    def snapshot(self) -> WorkerStats:
        with self.state.changed:
            c = dict(self.state.counts)
            reason = self.state.stop_reason
            received = self.state.received
        if reason is None and self.stop.is_set():
            reason = "stopped"
        return WorkerStats(
            received=received,
            processed=c.get("processed", 0),
            duplicates=c.get("duplicates", 0),
            failed=c.get("failed", 0),
            busy=c.get("busy", 0),
            lost_ownership=c.get("lost_ownership", 0),
            delete_failures=c.get("delete_failures", 0),
            heartbeats=c.get("heartbeats", 0),
            batches=c.get("batches", 0),
            delete_calls=c.get("delete_calls", 0),
            elapsed_s=max(0.0, self.clock() - self.state.started),
            stop_reason=reason,
        )

    def _stopping(self) -> bool:
        return self.stop.is_set() or self.halt.is_set()

    def _finish(self, reason: str) -> None:
        with self.state.changed:
            if self.state.stop_reason is None:
                self.state.stop_reason = reason
            self.state.changed.notify_all()
        self.halt.set()

    def _fail(self, exc: BaseException) -> None:
        """Surfaced by run() in the calling thread, once the threads have ended."""
        with self.state.changed:
            if self.state.error is None:
                self.state.error = exc
            self.state.changed.notify_all()
        self.halt.set()

    def _poller_main(self) -> None:
        try:
            while not self._stopping():
                if not self.slots.acquire(timeout=0.2):
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
                to_delete = batch.run_unit(unit)
            except BaseException as exc:  # our bug: the unit's messages simply reappear
                self._fail(exc)
                to_delete = []
            if to_delete:
                self.deleter.submit(batch, to_delete)

    def _reserve(self) -> int:
        """How many messages this poller may ask for; 0 ends the poller.

        ``max_messages`` is shared: messages asked for by receives still in progress are
        reserved, so the run never receives more than the limit. A poller left nothing
        waits until those receives are answered, because they may come back short; the
        run ends when the messages actually *received* reach the limit (in _settle).
        """
        state = self.state
        with state.changed:
            while not self._stopping():
                if self.options.max_messages is None:
                    return self.options.batch_size
                left = self.options.max_messages - state.received - state.reserved
                if left > 0:
                    wanted = min(self.options.batch_size, left)
                    state.reserved += wanted
                    return wanted
                if state.received >= self.options.max_messages:
                    return 0
                state.changed.wait(0.2)
            return 0

    def _settle(self, reserved: int, got: int) -> None:
        with self.state.changed:
            self.state.received += got
            if self.options.max_messages is None:
                return
            self.state.reserved -= reserved
            reached = self.state.received >= self.options.max_messages
            self.state.changed.notify_all()
        if reached:
            self._finish("max-messages")

    def _wait_time(self) -> int:
        wait = self.options.wait_time_s
        if self.options.idle_exit_s is not None:
            # Do not sit in a 20 s poll when we are supposed to give up sooner.
            wait = min(wait, int(self.options.idle_exit_s + 0.999))
        return wait

    def _poll_once(self) -> bool:
        """One receive (holding a slot); False when this poller has nothing left to do."""
        wanted = self._reserve()
        if wanted == 0:
            self.slots.release()
            return False
        wait = self._wait_time()
        try:
            response = self.clients.sqs.receive_message(
                QueueUrl=self.options.queue_url,
                MaxNumberOfMessages=wanted,
                WaitTimeSeconds=wait,
                VisibilityTimeout=self.visibility_s,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        except BaseException:
            self._settle(wanted, 0)
            self.slots.release()
            raise
        received_ms = self.now_ms()
        messages: list[Any] = list(response.get("Messages", []))
        if messages:
            with self.state.changed:
                self.state.last_activity = self.clock()
                self.state.in_flight += 1
        self._settle(wanted, len(messages))
        if not messages:
            self.slots.release()
            self._after_empty(wait)
            return True
        self._dispatch(messages, received_ms)  # the batch frees the slot when it ends
        return True

    def _after_empty(self, wait: int) -> None:
        state = self.state
        with state.changed:
            busy = state.in_flight > 0
            if busy and wait == 0 and not self._stopping():
                # A zero-wait receive returns at once: do not spin while our batches run.
                state.changed.wait(0.05)
            idle = self.clock() - state.last_activity
        # Batches still running are activity: the run is idle only with nothing in flight.
        if not busy and self.options.idle_exit_s is not None and idle >= self.options.idle_exit_s:
            self._finish("idle")

    def _dispatch(self, messages: list[Mapping[str, Any]], received_ms: int) -> None:
        records = lambda_event(messages, queue_arn=self.queue_arn)["Records"]
        fifo = is_fifo(records)
        context = WorkerContext(received_ms + self.visibility_s * 1000, self.now_ms)
        heartbeat = Heartbeat(
            self.clients.sqs,
            self.options.queue_url,
            [str(m["ReceiptHandle"]) for m in messages],
            self.lock,
            context,
            visibility_timeout_s=self.visibility_s,
            now_ms=self.now_ms,
            on_beat=lambda _n: self.state.add("heartbeats"),
        )
        consumer = Consumer(
            self.lock,
            self.processor,
            key_spec=parse_key_spec(self.config.key),
            dedup_scope=self.config.dedup_scope,
            emit=self.emit,
            failpoints=self.failpoints,
            observer=heartbeat,
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
        )
        heartbeat.start()
        for unit in batch.units:
            self.work.put((batch, unit))

    def _deleted(self, failed: int) -> None:
        self.state.add("delete_calls")
        if failed:
            self.state.add("delete_failures", failed)

    def _batch_done(self, batch: InFlightBatch) -> None:
        batch.heartbeat.stop()
        for outcome in batch.final_outcomes():
            self.state.add(_COUNTER_OF.get(outcome.decision, "failed"))
            if not outcome.acked and outcome.decision != d.FAILED:
                self.state.add("failed")
            if outcome.decision == d.LOST_OWNERSHIP:
                self.state.add("lost_ownership")
        self.state.add("batches")
        with self.state.changed:
            self.state.in_flight -= 1
            self.state.last_activity = self.clock()
            self.state.changed.notify_all()
        self.slots.release()
        if self.on_progress is not None:
            self.on_progress(self.snapshot())


_COUNTER_OF = {
    d.COMPLETED: "processed",
    d.LOST_OWNERSHIP: "processed",
    d.DUPLICATE: "duplicates",
    d.BUSY: "busy",
    d.FAILED: "failed",
}
