"""A planned AWS call as data: service, operation and parameters, listed before it runs.

A value known only after an earlier call of the same plan is a :class:`Ref` to that call's
answer; policy documents stay data (:class:`Json`) until the call, so a reference inside
one is resolved too. Retries and waits ride along with a call but are not part of its
listing: ``setup --dry-run`` shows what changes AWS, not how patiently.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqsidem.retry import Backoff, Pacing, retry_call

if TYPE_CHECKING:
    from sqsidem.aws import Aws

Hook = Callable[["Aws", Pacing], None]
# Decides a failed call (given the sent parameters): returns an answer when the failure
# means "done after all", raises (a clear error) otherwise. Used for races with another run.
Settle = Callable[["Aws", BaseException, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Ref:
    """The answer of the earlier call ``call`` (an id like ``kms.CreateKey#1``) at ``path``."""

    call: str
    path: str

    def as_dict(self) -> dict[str, str]:
        return {"ref": self.call, "path": self.path}


@dataclass(frozen=True)
class Json:
    """A parameter AWS takes as a JSON string (a policy document), serialised at call time."""

    value: Any


@dataclass(frozen=True)
class Blob:
    """Bytes sent as they are (the function's zip), listed by size and hash."""

    data: bytes = field(repr=False)
    sha256: str

    def listing(self) -> str:
        return f"<{len(self.data)} bytes, CodeSha256 {self.sha256}>"


@dataclass(frozen=True)
class Now:
    """The wall clock's epoch seconds when the call is made (a deletion marker's time)."""

    def listing(self) -> str:
        return "<epoch seconds at call time>"


@dataclass(frozen=True)
class Retry:
    """Retry the call while AWS is still catching up (bounded by time; ``inner`` retries
    another kind of "not yet" with its own bound, inside this one)."""

    retryable: Callable[[BaseException], bool]
    backoff: Backoff
    timeout_s: float
    what: str
    inner: Retry | None = None

    def run(self, call: Callable[[], Any], pacing: Pacing) -> Any:
        inner = self.inner
        once = call if inner is None else (lambda: inner.run(call, pacing))
        return retry_call(
            once,
            retryable=self.retryable,
            backoff=self.backoff,
            timeout_s=self.timeout_s,
            pacing=pacing,
            what=self.what,
        )


@dataclass(frozen=True)
class Call:
    """One mutating API call; ``id`` is assigned by the planner in plan order."""

    service: str  # the boto3 client name: "kms", "sqs", "lambda", ...
    operation: str  # the API's name: "CreateKey"
    params: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""
    # Error codes that mean "already done" (a delete of what is gone, a create that raced).
    tolerate: frozenset[str] = frozenset()
    retry: Retry | None = field(default=None, compare=False)
    before: Hook | None = field(default=None, compare=False)
    after: Hook | None = field(default=None, compare=False)
    settle: Settle | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "service": self.service,
            "operation": self.operation,
            "params": listing(self.params),
        }


Calls = tuple[Call, ...]


def listing(value: Any) -> Any:
    """The parameters as plain JSON data: references as ``{"ref", "path"}`` objects."""
    if isinstance(value, Ref):
        return value.as_dict()
    if isinstance(value, Json):
        return listing(value.value)
    if isinstance(value, Blob | Now):
        return value.listing()
    if isinstance(value, Mapping):
        return {str(k): listing(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [listing(v) for v in value]
    return value


def resolve(value: Any, answers: Mapping[str, Any]) -> Any:
    """The parameters as the call sends them: references looked up, documents serialised."""
    if isinstance(value, Ref):
        return _lookup(value, answers)
    if isinstance(value, Json):
        return json.dumps(resolve(value.value, answers))
    if isinstance(value, Blob):
        return value.data
    if isinstance(value, Now):
        import time

        return str(int(time.time()))
    if isinstance(value, Mapping):
        return {k: resolve(v, answers) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, answers) for v in value]
    return value


def _lookup(ref: Ref, answers: Mapping[str, Any]) -> Any:
    from sqsidem.errors import SqsidemError

    found: Any = answers.get(ref.call)
    for part in ref.path.split("."):
        found = found.get(part) if isinstance(found, Mapping) else None
    if found is None:
        raise SqsidemError(
            f"the plan refers to {ref.call} ({ref.path}), which this run did not make",
            "run setup again: it plans from what exists now",
        )
    return found


def numbered(steps_calls: list[Calls]) -> list[Calls]:
    """Give every call its id, ``service.Operation#n`` counted per operation in plan order."""
    seen: dict[str, int] = {}
    out = []
    for calls in steps_calls:
        named = []
        for call in calls:
            base = f"{call.service}.{call.operation}"
            seen[base] = seen.get(base, 0) + 1
            named.append(_with_id(call, f"{base}#{seen[base]}"))
        out.append(tuple(named))
    return out


def _with_id(call: Call, id_: str) -> Call:
    from dataclasses import replace

    return replace(call, id=id_)
