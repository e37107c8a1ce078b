"""The AWS-realism layer: an emulator made to behave the way AWS documents, where it matters.

Emulators apply everything at once; AWS does not (DESIGN 6.14). :class:`Realism` is an
``on_client`` hook for :class:`sqsidem.aws.Aws` (or, through :meth:`Realism.factory`, the
CLI's ``Seam``): botocore event handlers on each injected client that answer some calls
themselves, hold some back, or alter what comes back. Every behaviour is off until its
field of :class:`Behaviours` is set, so a test turns on exactly the one it is about;
:meth:`Behaviours.everything` turns them all on with AWS's delays scaled down.

- IAM: a role (or a policy change on it) is not usable by Lambda for ``iam_delay_s``.
- A deleted queue keeps answering (URL, attributes, tags) for ``queue_ghost_s``, and its name
  is refused with ``QueueDeletedRecently`` for ``queue_reuse_s`` (AWS: 60 s).
- A deleted table stays ``DELETING`` for ``table_deleting_s``.
- Mappings pass through ``Creating``, ``Updating``, ``Deleting`` for ``mapping_transition_s``;
  a change meanwhile raises ``ResourceInUseException``.
- ``SetQueueAttributes`` shows after ``attribute_lag_s``; a mapping whose queue's visible
  visibility timeout is below the function's timeout is rejected (as AWS does, always).
- Short polls (``WaitTimeSeconds`` 0) come back empty at ``short_poll_empty_rate``.
- Throttling at ``throttle_rate`` on every service, answered on the wire (``before-send``)
  so botocore's own retries handle it as on AWS; never twice in a row. This needs an HTTP
  backend (ministack): moto's in-process mock answers ``before-send`` itself.
- ``UpdateTimeToLive`` at most once per ``ttl_interval_s`` per table (AWS: one hour).

What the layer did is recorded in :attr:`Realism.events` (``"<behaviour> <Operation>"``),
so a test can prove a behaviour really fired. Hooks reach only in-process calls.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.awsrequest import AWSResponse

from sqsidem.aws import Aws
from sqsidem.retry import Pacing
from sqsidem.settings import Settings
from tests.realism_lambda import LambdaBehaviours
from tests.realism_parts import Answer, State, failed, last, wire_throttle
from tests.realism_storage import StorageBehaviours

Clock = Callable[[], float]


@dataclass(frozen=True)
class Behaviours:
    """Which of AWS's behaviours are on (None / 0: off), with their delays in seconds."""

    iam_delay_s: float | None = None
    queue_ghost_s: float | None = None
    queue_reuse_s: float | None = None
    table_deleting_s: float | None = None
    mapping_transition_s: float | None = None
    attribute_lag_s: float | None = None
    short_poll_empty_rate: float = 0.0
    throttle_rate: float = 0.0
    ttl_interval_s: float | None = None

    @classmethod
    def everything(cls, scale: float = 1 / 30) -> Behaviours:
        """Every behaviour on; AWS's documented or typical durations times ``scale``."""
        return cls(
            iam_delay_s=60 * scale,
            queue_ghost_s=30 * scale,
            queue_reuse_s=60 * scale,
            table_deleting_s=30 * scale,
            mapping_transition_s=30 * scale,
            attribute_lag_s=60 * scale,
            short_poll_empty_rate=0.3,
            throttle_rate=0.05,
            ttl_interval_s=3600 * scale,
        )


@dataclass
class FakeTime:
    """One clock for the layer and for the code's waits: sleeping only moves it on."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def pacing(self) -> Pacing:
        return Pacing(sleep=self.sleep, clock=self.clock, notify=self.notes.append)


class Realism(LambdaBehaviours, StorageBehaviours):
    """The hook that makes every client it is given behave as :class:`Behaviours` says."""

    def __init__(
        self, behaviours: Behaviours, *, clock: Clock = time.monotonic, seed: int = 12
    ) -> None:
        self.behaviours = behaviours
        self.clock = clock
        self.events: list[str] = []
        self._state = State()
        self._mutex = threading.RLock()
        self._inside = threading.local()
        self._rand = random.Random(seed)

    # -- wiring -----------------------------------------------------------------------
    def hook(self, service: str, client: Any) -> None:
        """``Aws(on_client=...)``: attach the handlers to one new client."""
        events = client.meta.events
        events.register("before-parameter-build", self._keep_params)
        events.register("before-call", lambda **kw: self._before(service, client, **kw))
        events.register("after-call", lambda **kw: self._after(service, **kw))
        if self.behaviours.throttle_rate > 0:
            protocol = client.meta.service_model.protocol
            events.register_first("before-send", lambda **kw: self._throttle(protocol, **kw))

    def factory(self, settings: Settings, *, endpoint_url: str | None = None) -> Aws:
        """An ``AwsFactory`` for ``Seam(aws_factory=...)``: every CLI client gets the hooks."""
        return Aws(settings, endpoint_url=endpoint_url, on_client=self.hook)

    def wrap(self, aws: Aws) -> Aws:
        """``aws``'s settings, endpoint and options, with this layer on its clients."""
        return Aws(aws.settings, aws.options, endpoint_url=aws.endpoint_url, on_client=self.hook)

    def fired(self, behaviour: str) -> int:
        return sum(1 for event in self.events if event.startswith(behaviour + " "))

    @contextmanager
    def _bypass(self) -> Iterator[None]:
        """The layer's own reads (snapshots) reach the emulator untouched."""
        self._inside.on = True
        try:
            yield
        finally:
            self._inside.on = False

    def _skipped(self) -> bool:
        return bool(getattr(self._inside, "on", False))

    def _note(self, behaviour: str, operation: str) -> None:
        self.events.append(f"{behaviour} {operation}")

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["realism_params"] = dict(params)

    # -- dispatch ---------------------------------------------------------------------
    def _before(
        self, service: str, client: Any, model: Any, context: dict[str, Any], **_: Any
    ) -> Answer | None:
        if self._skipped():
            return None
        params: dict[str, Any] = context.get("realism_params", {})
        handler = _BEFORE.get((service, model.name))
        with self._mutex:
            return None if handler is None else handler(self, client, params)

    def _after(
        self, service: str, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if self._skipped() or failed(parsed):
            return
        params: dict[str, Any] = context.get("realism_params", {})
        handler = _AFTER.get((service, model.name))
        if handler is not None:
            with self._mutex:
                handler(self, params, parsed)

    def _throttle(self, protocol: str, event_name: str, **_: Any) -> AWSResponse | None:
        rate = self.behaviours.throttle_rate
        if self._skipped():
            return None
        with self._mutex:
            # A credit that fills at `rate` per call: throttles are spread out, never two in
            # a row (rate <= 0.5), so botocore's retry always gets through, as on AWS.
            self._state.throttle_credit += rate
            if self._state.throttle_credit < 1.0:
                return None
            self._state.throttle_credit -= 1.0
            self._note("throttle", last(event_name, "."))
        return wire_throttle(protocol)

    def _now(self) -> float:
        return self.clock()


Before = Callable[[Realism, Any, dict[str, Any]], Answer | None]
After = Callable[[Realism, dict[str, Any], dict[str, Any]], None]


def _table_reader(key: str, part: str) -> Before:
    """A read of a DELETING table answered from its snapshot (``part`` of the ghost)."""
    return lambda realism, _client, params: realism._table_read(params, key, part)


_BEFORE: dict[tuple[str, str], Before] = {
    ("lambda", "CreateFunction"): Realism._create_function,
    ("lambda", "UpdateFunctionConfiguration"): Realism._update_function,
    ("lambda", "CreateEventSourceMapping"): Realism._create_mapping,
    ("lambda", "UpdateEventSourceMapping"): Realism._update_mapping,
    ("lambda", "DeleteEventSourceMapping"): Realism._delete_mapping,
    ("lambda", "GetEventSourceMapping"): Realism._get_mapping,
    ("sqs", "DeleteQueue"): Realism._delete_queue,
    ("sqs", "GetQueueUrl"): Realism._get_queue_url,
    ("sqs", "GetQueueAttributes"): Realism._get_queue_attributes,
    ("sqs", "ListQueueTags"): Realism._list_queue_tags,
    ("sqs", "TagQueue"): Realism._tag_queue,
    ("sqs", "CreateQueue"): Realism._create_queue,
    ("sqs", "SetQueueAttributes"): Realism._set_queue_attributes,
    ("sqs", "ReceiveMessage"): Realism._receive,
    ("dynamodb", "DeleteTable"): Realism._delete_table,
    ("dynamodb", "DescribeTable"): _table_reader("Table", "table"),
    ("dynamodb", "DescribeTimeToLive"): _table_reader("TimeToLiveDescription", "ttl"),
    ("dynamodb", "ListTagsOfResource"): _table_reader("Tags", "tags"),
    ("dynamodb", "CreateTable"): Realism._create_table,
    ("dynamodb", "UpdateTimeToLive"): Realism._update_ttl,
}
_AFTER: dict[tuple[str, str], After] = {
    ("iam", "CreateRole"): Realism._role_changed,
    ("iam", "PutRolePolicy"): Realism._role_changed,
    ("iam", "AttachRolePolicy"): Realism._role_changed,
    ("iam", "UpdateAssumeRolePolicy"): Realism._role_changed,
    ("lambda", "CreateFunction"): Realism._function_made,
    ("lambda", "UpdateFunctionConfiguration"): Realism._function_made,
    ("lambda", "CreateEventSourceMapping"): Realism._mapping_made,
    ("lambda", "UpdateEventSourceMapping"): Realism._mapping_updated,
    ("lambda", "GetEventSourceMapping"): Realism._mapping_seen,
    ("lambda", "ListEventSourceMappings"): Realism._mappings_listed,
    ("sqs", "CreateQueue"): Realism._queue_made,
    ("sqs", "GetQueueAttributes"): Realism._attributes_seen,
    ("dynamodb", "CreateTable"): Realism._table_made,
    ("dynamodb", "UpdateTimeToLive"): Realism._ttl_changed,
}


def scaled(behaviours: Behaviours, factor: float) -> Behaviours:
    """The same behaviours with every delay multiplied by ``factor`` (rates unchanged)."""
    delays = {
        name: (value * factor if value else value)
        for name, value in vars(behaviours).items()
        if name.endswith("_s")
    }
    return replace(behaviours, **delays)
