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

import json
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

Clock = Callable[[], float]
Answer = tuple[AWSResponse, dict[str, Any]]
ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."
NO_RECEIVE = "The provided execution role does not have permissions to call ReceiveMessage on SQS"
TTL_TOO_OFTEN = "Time to live has been modified multiple times within a fixed interval"
IN_USE = "The resource you requested is currently in use. Please try again later."


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


def _ok(parsed: dict[str, Any]) -> Answer:
    return AWSResponse(None, 200, {}, None), {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}


def _error(code: str, message: str, status: int = 400) -> Answer:
    error = {"Code": code, "Message": message}
    return AWSResponse(None, status, {}, None), {
        "Error": error,
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def _failed(parsed: dict[str, Any]) -> bool:
    return "Error" in parsed


def _wire_throttle(protocol: str) -> AWSResponse:
    """A throttling answer as the service's protocol spells it (botocore parses and retries)."""
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        headers = {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/json"}
        return AWSResponse("", 400, headers, _Raw(body.encode()))
    if protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
            "<Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        )
        return AWSResponse("", 400, {"Content-Type": "text/xml"}, _Raw(body.encode()))
    # CBOR (CloudWatch): no encoder in the stdlib; a 503 is retried the same way.
    return AWSResponse("", 503, {}, _Raw(b""))


class _Raw:
    """The raw stream an AWSResponse reads its body from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@dataclass
class _Ghost:
    """A deleted resource that still answers, with what it looked like when deleted."""

    data: dict[str, Any]
    until: float
    reuse_until: float = 0.0


@dataclass
class _State:
    roles_ready_at: dict[str, float] = field(default_factory=dict)
    function_roles: dict[str, str] = field(default_factory=dict)
    queues: dict[str, _Ghost] = field(default_factory=dict)  # by queue name
    tables: dict[str, _Ghost] = field(default_factory=dict)  # by table name
    mappings: dict[str, _Ghost] = field(default_factory=dict)  # deleted, by UUID
    transitions: dict[str, tuple[str, float]] = field(default_factory=dict)  # UUID -> state
    lagging: dict[str, tuple[dict[str, str], float]] = field(default_factory=dict)  # by URL
    ttl_changed_at: dict[str, float] = field(default_factory=dict)
    throttle_credit: float = 0.0


def _last(arn_or_name: str, sep: str) -> str:
    return arn_or_name.rsplit(sep, 1)[-1]


def _function_name(value: str) -> str:
    return value.split(":function:", 1)[-1].split(":", 1)[0]


class Realism:
    """The hook that makes every client it is given behave as :class:`Behaviours` says."""

    def __init__(
        self, behaviours: Behaviours, *, clock: Clock = time.monotonic, seed: int = 12
    ) -> None:
        self.behaviours = behaviours
        self.clock = clock
        self.events: list[str] = []
        self._state = _State()
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
        if self._skipped() or _failed(parsed):
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
            self._note("throttle", _last(event_name, "."))
        return _wire_throttle(protocol)

    def _now(self) -> float:
        return self.clock()

    # -- IAM --------------------------------------------------------------------------
    def _role_changed(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del parsed
        delay = self.behaviours.iam_delay_s
        if delay:
            self._state.roles_ready_at[str(params["RoleName"])] = self._now() + delay

    def _role_not_ready(self, role_arn: str) -> bool:
        return self._now() < self._state.roles_ready_at.get(_last(role_arn, "/"), 0.0)

    def _create_function(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        if self._role_not_ready(str(params.get("Role", ""))):
            self._note("iam", "CreateFunction")
            return _error("InvalidParameterValueException", ROLE_NOT_ASSUMABLE)
        return None

    def _update_function(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        if "Role" in params and self._role_not_ready(str(params["Role"])):
            self._note("iam", "UpdateFunctionConfiguration")
            return _error("InvalidParameterValueException", ROLE_NOT_ASSUMABLE)
        return None

    def _function_made(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del parsed
        if "Role" in params:
            name = _function_name(str(params["FunctionName"]))
            self._state.function_roles[name] = str(params["Role"])

    # -- queues -----------------------------------------------------------------------
    def _queue_ghost(self, url: str) -> _Ghost | None:
        ghost = self._state.queues.get(_last(url, "/"))
        if ghost is None or ghost.data["url"] != url or self._now() >= ghost.until:
            return None
        return ghost

    def _delete_queue(self, client: Any, params: dict[str, Any]) -> Answer | None:
        url = str(params["QueueUrl"])
        if self._queue_ghost(url) is not None:
            return _ok({})
        b = self.behaviours
        if not (b.queue_ghost_s or b.queue_reuse_s):
            return None
        with self._bypass():
            attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
            tags = client.list_queue_tags(QueueUrl=url).get("Tags", {})
        data = {"url": url, "attributes": attributes.get("Attributes", {}), "tags": dict(tags)}
        now = self._now()
        ghost = _Ghost(data, now + (b.queue_ghost_s or 0), now + (b.queue_reuse_s or 0))
        self._state.queues[_last(url, "/")] = ghost
        return None

    def _get_queue_url(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._state.queues.get(str(params["QueueName"]))
        if ghost is not None and self._now() < ghost.until:
            self._note("queue-ghost", "GetQueueUrl")
            return _ok({"QueueUrl": ghost.data["url"]})
        return None

    def _get_queue_attributes(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._queue_ghost(str(params["QueueUrl"]))
        if ghost is None:
            return None
        self._note("queue-ghost", "GetQueueAttributes")
        return _ok({"Attributes": dict(ghost.data["attributes"])})

    def _list_queue_tags(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._queue_ghost(str(params["QueueUrl"]))
        return None if ghost is None else _ok({"Tags": dict(ghost.data["tags"])})

    def _tag_queue(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._queue_ghost(str(params["QueueUrl"]))
        if ghost is None:
            return None
        ghost.data["tags"].update(params.get("Tags", {}))
        return _ok({})

    def _create_queue(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._state.queues.get(str(params["QueueName"]))
        if ghost is not None and self._now() < ghost.reuse_until:
            self._note("queue-reuse", "CreateQueue")
            return _error(
                "AWS.SimpleQueueService.QueueDeletedRecently",
                "You must wait 60 seconds after deleting a queue before you can create "
                "another queue with the same name.",
            )
        return None

    def _queue_made(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del parsed
        self._state.queues.pop(str(params["QueueName"]), None)

    def _set_queue_attributes(self, client: Any, params: dict[str, Any]) -> Answer | None:
        url, delay = str(params["QueueUrl"]), self.behaviours.attribute_lag_s
        if not delay or self._queue_ghost(url) is not None:
            return None
        with self._bypass():
            now = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        old = {k: now[k] for k in params.get("Attributes", {}) if k in now}
        self._state.lagging[url] = (old, self._now() + delay)
        return None

    def _stale(self, url: str) -> dict[str, str]:
        old, until = self._state.lagging.get(url, ({}, 0.0))
        return old if self._now() < until else {}

    def _attributes_seen(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        stale = self._stale(str(params["QueueUrl"]))
        if stale and "Attributes" in parsed:
            self._note("attribute-lag", "GetQueueAttributes")
            parsed["Attributes"].update(stale)

    def _receive(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        rate = self.behaviours.short_poll_empty_rate
        if rate <= 0 or int(params.get("WaitTimeSeconds", 0)) > 0:
            return None
        if self._rand.random() >= rate:
            return None
        self._note("short-poll-empty", "ReceiveMessage")
        return _ok({})

    # -- tables -----------------------------------------------------------------------
    def _table_ghost(self, name: str) -> _Ghost | None:
        ghost = self._state.tables.get(name)
        return ghost if ghost is not None and self._now() < ghost.until else None

    def _delete_table(self, client: Any, params: dict[str, Any]) -> Answer | None:
        name, delay = str(params["TableName"]), self.behaviours.table_deleting_s
        if self._table_ghost(name) is not None:
            return _error("ResourceInUseException", f"Table is being deleted: {name}")
        if not delay:
            return None
        with self._bypass():
            table = client.describe_table(TableName=name)["Table"]
            ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            tags = client.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
        data = {"table": {**table, "TableStatus": "DELETING"}, "ttl": ttl, "tags": tags}
        self._state.tables[name] = _Ghost(data, self._now() + delay)
        return None

    def _table_read(self, params: dict[str, Any], key: str, part: str) -> Answer | None:
        name = str(params.get("TableName") or _last(str(params.get("ResourceArn")), "/"))
        ghost = self._table_ghost(name)
        if ghost is None:
            return None
        self._note("table-deleting", key)
        return _ok({key: ghost.data[part]})

    def _create_table(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        name = str(params["TableName"])
        if self._table_ghost(name) is not None:
            self._note("table-deleting", "CreateTable")
            return _error("ResourceInUseException", f"Table is being deleted: {name}")
        return None

    def _table_made(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del parsed
        self._state.tables.pop(str(params["TableName"]), None)
        self._state.ttl_changed_at.pop(str(params["TableName"]), None)

    def _update_ttl(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        name, interval = str(params["TableName"]), self.behaviours.ttl_interval_s
        last = self._state.ttl_changed_at.get(name)
        if interval and last is not None and self._now() < last + interval:
            self._note("ttl-once-per-hour", "UpdateTimeToLive")
            return _error("ValidationException", TTL_TOO_OFTEN)
        return None

    def _ttl_changed(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del parsed
        self._state.ttl_changed_at[str(params["TableName"])] = self._now()

    # -- mappings ---------------------------------------------------------------------
    def _in_transition(self, uuid: str) -> str | None:
        state, until = self._state.transitions.get(uuid, ("", 0.0))
        if self._now() < until:
            return state
        ghost = self._state.mappings.get(uuid)
        return "Deleting" if ghost is not None and self._now() < ghost.until else None

    def _busy(self, uuid: str, operation: str) -> Answer | None:
        if self._in_transition(uuid) is None:
            return None
        self._note("mapping-in-use", operation)
        return _error("ResourceInUseException", IN_USE)

    def _create_mapping(self, client: Any, params: dict[str, Any]) -> Answer | None:
        function = _function_name(str(params["FunctionName"]))
        role = self._state.function_roles.get(function, "")
        if role and self._role_not_ready(role):
            self._note("iam", "CreateEventSourceMapping")
            return _error("InvalidParameterValueException", NO_RECEIVE)
        return self._visibility_check(client, function, str(params.get("EventSourceArn", "")))

    def _visibility_check(self, client: Any, function: str, queue_arn: str) -> Answer | None:
        """AWS compares the queue's visibility timeout (as it sees it) with the function's."""
        if not self.behaviours.attribute_lag_s or ":sqs:" not in queue_arn:
            return None
        stale = [
            old
            for url, (old, _) in self._state.lagging.items()
            if _last(url, "/") == _last(queue_arn, ":") and self._stale(url)
        ]
        if not stale or "VisibilityTimeout" not in stale[0]:
            return None
        with self._bypass():
            timeout = int(client.get_function_configuration(FunctionName=function)["Timeout"])
        visibility = int(stale[0]["VisibilityTimeout"])
        if visibility >= timeout:
            return None
        self._note("attribute-lag", "CreateEventSourceMapping")
        return _error(
            "InvalidParameterValueException",
            f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
            f"{timeout} seconds",
        )

    def _mapping_made(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del params
        self._transition(parsed, "Creating")

    def _mapping_updated(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del params
        self._transition(parsed, "Updating")

    def _transition(self, parsed: dict[str, Any], state: str) -> None:
        delay = self.behaviours.mapping_transition_s
        if delay and "UUID" in parsed:
            self._state.transitions[str(parsed["UUID"])] = (state, self._now() + delay)
            parsed["State"] = state

    def _update_mapping(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        return self._busy(str(params["UUID"]), "UpdateEventSourceMapping")

    def _delete_mapping(self, client: Any, params: dict[str, Any]) -> Answer | None:
        uuid, delay = str(params["UUID"]), self.behaviours.mapping_transition_s
        busy = self._busy(uuid, "DeleteEventSourceMapping")
        if busy is not None or not delay:
            return busy
        with self._bypass():
            data = client.get_event_source_mapping(UUID=uuid)
        data.pop("ResponseMetadata", None)
        self._state.mappings[uuid] = _Ghost({**data, "State": "Deleting"}, self._now() + delay)
        return None

    def _get_mapping(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._state.mappings.get(str(params["UUID"]))
        if ghost is not None and self._now() < ghost.until:
            self._note("mapping-deleting", "GetEventSourceMapping")
            return _ok(dict(ghost.data))
        return None

    def _mapping_seen(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del params
        state = self._in_transition(str(parsed.get("UUID", "")))
        if state is not None:
            parsed["State"] = state

    def _mappings_listed(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        listed = parsed.get("EventSourceMappings", [])
        for item in listed:
            self._mapping_seen(params, item)
        function = _function_name(str(params.get("FunctionName", "")))
        for ghost in self._state.mappings.values():
            mine = _function_name(str(ghost.data.get("FunctionArn", ""))) == function
            if mine and self._now() < ghost.until:
                listed.append(dict(ghost.data))


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
