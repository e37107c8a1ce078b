"""``sqsidem worker``: poll the queue ourselves with the event source mapping's semantics.

For when the mapping cannot be used (e.g. messages must come through a VPC endpoint) or to
run the consumer without Lambda. Each thread long-polls a batch, builds the exact Lambda
event, runs the same :class:`~sqsidem.consumer.batch.Consumer` as the function, deletes what
was acknowledged and leaves the rest to reappear after the visibility timeout. Library code:
it prints nothing but the decision lines (to an injected stream, stderr by default);
counters go to a callback and come back in a :class:`WorkerStats`.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
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
from sqsidem.consumer.batch import Consumer
from sqsidem.consumer.config import ConsumerConfig
from sqsidem.consumer.failpoints import Failpoints
from sqsidem.consumer.keys import parse_key_spec
from sqsidem.consumer.lock import LockTable, wall_clock_ms
from sqsidem.consumer.processor import BoundProcessor, Processor, bind_processor, load_processor
from sqsidem.errors import SqsidemError, UsageError
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
    elapsed_s: float = 0.0
    stop_reason: str | None = None

    @property
    def msgs_per_s(self) -> float:
        return self.received / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class _Run:
    """State shared by the worker threads; every field is guarded by ``mutex``."""

    started: float
    last_activity: float
    mutex: threading.Lock = field(default_factory=threading.Lock)
    counts: dict[str, int] = field(default_factory=dict)
    reserved: int = 0
    stop_reason: str | None = None
    error: BaseException | None = None

    def add(self, name: str, amount: int = 1) -> None:
        with self.mutex:
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


@dataclass
class _Poller:
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

    def run(self) -> WorkerStats:
        now = self.clock()
        self.state = _Run(started=now, last_activity=now)
        threads = [
            threading.Thread(target=self._thread_main, name=f"sqsidem-worker-{i}", daemon=True)
            for i in range(self.options.concurrency)
        ]
        for thread in threads:
            thread.start()
        # join with a timeout so the main thread stays responsive to signals.
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
        if self.state.error is not None:
            raise self.state.error
        return self.snapshot()

    def snapshot(self) -> WorkerStats:
        with self.state.mutex:
            c = dict(self.state.counts)
            reason = self.state.stop_reason
        if reason is None and self.stop.is_set():
            reason = "stopped"
        return WorkerStats(
            received=c.get("received", 0),
            processed=c.get("processed", 0),
            duplicates=c.get("duplicates", 0),
            failed=c.get("failed", 0),
            busy=c.get("busy", 0),
            lost_ownership=c.get("lost_ownership", 0),
            delete_failures=c.get("delete_failures", 0),
            heartbeats=c.get("heartbeats", 0),
            batches=c.get("batches", 0),
            elapsed_s=max(0.0, self.clock() - self.state.started),
            stop_reason=reason,
        )

    def _finish(self, reason: str) -> None:
        with self.state.mutex:
            if self.state.stop_reason is None:
                self.state.stop_reason = reason
        self.halt.set()

    def _thread_main(self) -> None:
        try:
            while not (self.stop.is_set() or self.halt.is_set()):
                if not self._poll_once():
                    return
        except BaseException as exc:  # surfaced by run() in the calling thread
            with self.state.mutex:
                if self.state.error is None:
                    self.state.error = exc
            self.halt.set()

    def _reserve(self) -> int:
        """How many messages this thread may ask for (max_messages is shared)."""
        with self.state.mutex:
            if self.options.max_messages is None:
                return self.options.batch_size
            left = self.options.max_messages - self.state.reserved
            wanted = max(0, min(self.options.batch_size, left))
            self.state.reserved += wanted
            return wanted

    def _settle(self, reserved: int, got: int) -> None:
        if self.options.max_messages is None:
            return
        with self.state.mutex:
            self.state.reserved -= reserved - got
            reached = self.state.reserved >= self.options.max_messages
        if reached:
            self._finish("max-messages")

    def _wait_time(self) -> int:
        wait = self.options.wait_time_s
        if self.options.idle_exit_s is not None:
            # Do not sit in a 20 s poll when we are supposed to give up sooner.
            wait = min(wait, int(self.options.idle_exit_s + 0.999))
        return wait

    def _poll_once(self) -> bool:
        """One receive and its batch; False when max_messages leaves this thread nothing to do.

        Other threads may still hold reservations they do not fill, so only the thread whose
        receive reaches the limit ends the run (in _settle).
        """
        wanted = self._reserve()
        if wanted == 0:
            return False
        response = self.clients.sqs.receive_message(
            QueueUrl=self.options.queue_url,
            MaxNumberOfMessages=wanted,
            WaitTimeSeconds=self._wait_time(),
            VisibilityTimeout=self.visibility_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        received_ms = self.now_ms()
        messages: list[Any] = list(response.get("Messages", []))
        self._settle(wanted, len(messages))
        if not messages:
            self._check_idle()
            return True
        with self.state.mutex:
            self.state.last_activity = self.clock()
        self.state.add("received", len(messages))
        self._run_batch(messages, received_ms)
        return True

    def _check_idle(self) -> None:
        if self.options.idle_exit_s is None:
            return
        with self.state.mutex:
            idle = self.clock() - self.state.last_activity
        if idle >= self.options.idle_exit_s:
            self._finish("idle")

    def _run_batch(self, messages: list[Mapping[str, Any]], received_ms: int) -> None:
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
        with heartbeat:
            result = consumer.handle_event(
                lambda_event(messages, queue_arn=self.queue_arn), context
            )
        acked = {o.message_id for o in result.outcomes if o.acked}
        self._delete([m for m in messages if m["MessageId"] in acked])
        for outcome in result.outcomes:
            self.state.add(_COUNTER_OF.get(outcome.decision, "failed"))
            if not outcome.acked and outcome.decision != d.FAILED:
                self.state.add("failed")
            if outcome.decision == d.LOST_OWNERSHIP:
                self.state.add("lost_ownership")
        self.state.add("batches")
        if self.on_progress is not None:
            self.on_progress(self.snapshot())

    def _delete(self, messages: list[Mapping[str, Any]]) -> None:
        for start in range(0, len(messages), MAX_BATCH):
            chunk = messages[start : start + MAX_BATCH]
            response = self.clients.sqs.delete_message_batch(
                QueueUrl=self.options.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": str(m["ReceiptHandle"])}
                    for i, m in enumerate(chunk)
                ],
            )
            # A message we could not delete comes back and is then a harmless duplicate.
            failed = len(response.get("Failed", []))
            if failed:
                self.state.add("delete_failures", failed)


_COUNTER_OF = {
    d.COMPLETED: "processed",
    d.LOST_OWNERSHIP: "processed",
    d.DUPLICATE: "duplicates",
    d.BUSY: "busy",
    d.FAILED: "failed",
}
