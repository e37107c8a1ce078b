"""The pieces the realism layer's behaviours share: canned answers, ghosts, its state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

Answer = tuple[AWSResponse, dict[str, Any]]
ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."
NO_RECEIVE = "The provided execution role does not have permissions to call ReceiveMessage on SQS"
TTL_TOO_OFTEN = "Time to live has been modified multiple times within a fixed interval"
IN_USE = "The resource you requested is currently in use. Please try again later."


def ok(parsed: dict[str, Any]) -> Answer:
    return AWSResponse(None, 200, {}, None), {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}


def error(code: str, message: str, status: int = 400) -> Answer:
    details = {"Code": code, "Message": message}
    return AWSResponse(None, status, {}, None), {
        "Error": details,
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def failed(parsed: dict[str, Any]) -> bool:
    return "Error" in parsed


def wire_throttle(protocol: str) -> AWSResponse:
    """A throttling answer as the service's protocol spells it (botocore parses and retries)."""
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        headers = {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/json"}
        return AWSResponse("", 400, headers, Raw(body.encode()))
    if protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
            "<Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        )
        return AWSResponse("", 400, {"Content-Type": "text/xml"}, Raw(body.encode()))
    # CBOR (CloudWatch): no encoder in the stdlib; a 503 is retried the same way.
    return AWSResponse("", 503, {}, Raw(b""))


class Raw:
    """The raw stream an AWSResponse reads its body from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@dataclass
class Ghost:
    """A deleted resource that still answers, with what it looked like when deleted."""

    data: dict[str, Any]
    until: float
    reuse_until: float = 0.0


@dataclass
class State:
    roles_ready_at: dict[str, float] = field(default_factory=dict)
    function_roles: dict[str, str] = field(default_factory=dict)
    queues: dict[str, Ghost] = field(default_factory=dict)  # by queue name
    tables: dict[str, Ghost] = field(default_factory=dict)  # by table name
    mappings: dict[str, Ghost] = field(default_factory=dict)  # deleted, by UUID
    transitions: dict[str, tuple[str, float]] = field(default_factory=dict)  # UUID -> state
    lagging: dict[str, tuple[dict[str, str], float]] = field(default_factory=dict)  # by URL
    ttl_changed_at: dict[str, float] = field(default_factory=dict)
    throttle_credit: float = 0.0


def last(arn_or_name: str, sep: str) -> str:
    return arn_or_name.rsplit(sep, 1)[-1]


def function_name(value: str) -> str:
    return value.split(":function:", 1)[-1].split(":", 1)[0]
