"""Lock tables and records for the `locks` tests (functional and CLI): plain helpers."""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from sqsidem.aws import Aws
from sqsidem.cli.context import Seam
from sqsidem.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "Idempotent-locks"


def create_lock_table(client: DynamoDBClient, name: str) -> None:
    """An empty table shaped like the stack's lock table (key ``transaction_id``)."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def completed(tid: str, age_s: int = 10) -> dict[str, Any]:
    t = now_ms()
    return {
        "transaction_id": {"S": tid},
        "status": {"S": "COMPLETED"},
        "owner": {"S": f"o-{tid}"},
        "first_seen_ms": {"N": str(t - age_s * 1000)},
        "completed_ms": {"N": str(t - age_s * 1000 + 5)},
        "expiration": {"N": str(t // 1000 + 86400)},
        "message_id": {"S": f"m-{tid}"},
        "group_id": {"S": "g"},
        "receive_count": {"N": "1"},
    }


def in_progress(tid: str, deadline_in_s: int, owner: str = "o1") -> dict[str, Any]:
    t = now_ms()
    return {
        "transaction_id": {"S": tid},
        "status": {"S": "IN_PROGRESS"},
        "owner": {"S": owner},
        "first_seen_ms": {"N": str(t - 1000)},
        "in_progress_expiration": {"N": str(t + deadline_in_s * 1000)},
        "expiration": {"N": str(t // 1000 + 86400)},
    }


def put_all(aws: Aws, items: list[dict[str, Any]], table: str = TABLE) -> None:
    for start in range(0, len(items), 25):
        requests: Any = [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]
        aws.dynamodb.batch_write_item(RequestItems={table: requests})


class CallLog:
    """Every call's name and parameters, in the order they start (any thread); register it
    for ``before-parameter-build.dynamodb.*`` or ``before-call.dynamodb.*``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def count(self, name: str) -> int:
        return self.names().count(name)

    def clear(self) -> None:
        self.calls.clear()


def refuse_batch_writes(model: Any, **_: Any) -> Any:
    """A before-call handler answering every BatchWriteItem with AccessDenied."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    parsed = {
        "Error": {"Code": "AccessDeniedException", "Message": "not allowed"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    return AWSResponse("https://dynamodb", 400, HTTPHeaders(), None), parsed


class CountingAws:
    """An :class:`Aws` factory for the CLI's seam (``obj=Seam(aws_factory=...)``): every
    DynamoDB client it makes counts its calls in ``calls`` and gets the extra ``handlers``
    (botocore event name, handler) registered, so no test patches botocore itself."""

    def __init__(self, *handlers: tuple[str, Any]) -> None:
        self.calls: Counter[str] = Counter()
        self.handlers = list(handlers)

    def __call__(self, settings: Settings, *, endpoint_url: str | None = None) -> Aws:
        return Aws(settings, endpoint_url=endpoint_url, on_client=self._attach)

    def seam(self) -> Seam:
        return Seam(aws_factory=self)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _attach(self, service: str, client: Any) -> None:
        if service != "dynamodb":
            return
        client.meta.events.register("before-call.dynamodb.*", self._count)
        for event, handler in self.handlers:
            client.meta.events.register(event, handler)


def lock_status(aws: Aws, table: str, tid: str) -> str | None:
    """The lock record's status (strongly consistent read), None when there is none."""
    item = aws.dynamodb.get_item(
        TableName=table, Key={"transaction_id": {"S": tid}}, ConsistentRead=True
    ).get("Item")
    return None if item is None else str(item.get("status", {}).get("S"))
