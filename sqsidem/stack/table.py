"""The DynamoDB lock table: hash key transaction_id (S), on-demand, encrypted, TTL on expiration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqsidem.errors import GONE
from sqsidem.retry import Pacing
from sqsidem.stack.calls import Call, Calls, Hook
from sqsidem.stack.eventual import TABLE_GONE_TIMEOUT_S, wait_gone, while_in_use
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import TaggedKind, TeardownOptions, Where, unless_gone
from sqsidem.stack.model import Change, tag_dict, tag_list

if TYPE_CHECKING:
    from sqsidem.aws import Aws

KEY_ATTRIBUTE = "transaction_id"
TTL_ATTRIBUTE = "expiration"


@dataclass(frozen=True)
class DesiredTable:
    name: str
    tags: dict[str, str]
    key_attribute: str = KEY_ATTRIBUTE
    ttl_attribute: str = TTL_ATTRIBUTE


@dataclass(frozen=True)
class ObservedTable:
    arn: str
    status: str
    key_schema: tuple[tuple[str, str], ...]  # (attribute, key type)
    key_types: dict[str, str]
    billing_mode: str
    sse_enabled: bool
    ttl_attribute: str | None  # enabled TTL attribute, None when off
    tags: dict[str, str]
    ttl_status: str = "ENABLED"


def incompatible(desired: DesiredTable, observed: ObservedTable) -> str | None:
    """Why the table cannot serve as the lock table (a key cannot change in place)."""
    want = ((desired.key_attribute, "HASH"),)
    if observed.key_schema != want or observed.key_types.get(desired.key_attribute) != "S":
        keys = ", ".join(f"{name} {kind}" for name, kind in observed.key_schema)
        return f"its key is {keys}, not {desired.key_attribute} (S) HASH; delete or rename it"
    return None


def ttl_refusal(desired: DesiredTable, observed: ObservedTable) -> str | None:
    """Why setup cannot set TTL now. AWS allows one TimeToLive change per table per hour, so
    switching an attribute (disable, then enable) would fail halfway: say what to do."""
    name, want, have = desired.name, desired.ttl_attribute, observed.ttl_attribute
    if observed.ttl_status == "DISABLING":
        return (
            f"TTL on {name} is being disabled, and AWS allows the next TTL change only an hour "
            "after the last one: run setup again in an hour"
        )
    if have is None or have == want:
        return None
    return (
        f"its TTL is on attribute {have!r}, sqsidem's locks expire by {want!r}, and AWS allows "
        f"one TTL change per hour (switching needs two): disable it now with `aws dynamodb "
        f"update-time-to-live --table-name {name} --time-to-live-specification "
        f"Enabled=false,AttributeName={have}`, then run setup again after an hour"
    )


def _gone(name: str) -> Hook:
    def gone(aws: Aws) -> bool:
        table = unless_gone(lambda: aws.dynamodb.describe_table(TableName=name)["Table"])
        return table is None

    return wait_gone(f"table {name} to be deleted", gone, TABLE_GONE_TIMEOUT_S)


def wait_active(name: str) -> Hook:
    """A wait until the table is ACTIVE (the botocore waiter paces itself)."""

    def wait(aws: Aws, pacing: Pacing) -> None:
        del pacing
        aws.dynamodb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 90}
        )

    return wait


def _ttl(name: str, attribute: str, *, enabled: bool, before: Hook | None = None) -> Call:
    spec = {"Enabled": enabled, "AttributeName": attribute}
    params = {"TableName": name, "TimeToLiveSpecification": spec}
    return Call("dynamodb", "UpdateTimeToLive", params, before=before)


def _read(aws: Aws, name: str) -> ObservedTable | None:
    found = unless_gone(
        lambda: (
            aws.dynamodb.describe_table(TableName=name)["Table"],
            aws.dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
        )
    )
    if found is None:
        return None
    table, ttl = found
    if table.get("TableStatus") == "DELETING":
        return None  # going away: to setup it is missing (it waits for the name on create)
    arn = table["TableArn"]
    pages = aws.dynamodb.get_paginator("list_tags_of_resource").paginate(ResourceArn=arn)
    billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    sse = table.get("SSEDescription", {}).get("Status") in ("ENABLED", "ENABLING", "UPDATING")
    ttl_on = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    return ObservedTable(
        arn=arn,
        status=table.get("TableStatus", "ACTIVE"),
        key_schema=tuple((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]),
        key_types={a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]},
        billing_mode=billing,
        sse_enabled=sse,
        ttl_attribute=ttl.get("AttributeName") if ttl_on else None,
        tags=tag_dict(tag for page in pages for tag in page.get("Tags", [])),
        ttl_status=str(ttl.get("TimeToLiveStatus", "DISABLED")),
    )


class TableKind(TaggedKind[DesiredTable, ObservedTable]):
    def wanted(self, inputs: Inputs) -> DesiredTable:
        return DesiredTable(inputs.names.table, inputs.names.tags)

    def observe(self, aws: Aws, where: Where) -> ObservedTable | None:
        return _read(aws, where.names.table)

    def blocked(self, desired: DesiredTable, observed: ObservedTable) -> str | None:
        return incompatible(desired, observed) or ttl_refusal(desired, observed)

    def diff(self, desired: DesiredTable, observed: ObservedTable) -> tuple[Change, ...]:
        changes = []
        if observed.billing_mode != "PAY_PER_REQUEST":
            changes.append(Change("BillingMode", observed.billing_mode, "PAY_PER_REQUEST"))
        if not observed.sse_enabled:
            changes.append(Change("SSE", "off", "on"))
        if observed.ttl_attribute != desired.ttl_attribute:
            changes.append(Change("TTL", observed.ttl_attribute, desired.ttl_attribute))
        return tuple(changes)

    def create(self, desired: DesiredTable) -> Calls:
        key = desired.key_attribute
        params = {
            "TableName": desired.name,
            "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"Enabled": True},
            "Tags": tag_list(desired.tags),
        }
        # A table of that name still DELETING refuses the create (ResourceInUseException).
        retry = while_in_use(f"table {desired.name} is still being deleted", TABLE_GONE_TIMEOUT_S)
        created = Call(
            "dynamodb", "CreateTable", params, retry=retry, after=wait_active(desired.name)
        )
        return (created, _ttl(desired.name, desired.ttl_attribute, enabled=True))

    def update(self, desired: DesiredTable, observed: ObservedTable) -> Calls:
        name, settle = desired.name, wait_active(desired.name)
        # Each UpdateTable waits for ACTIVE after it; a table still changing waits first.
        pending: Hook | None = settle if observed.status != "ACTIVE" else None
        calls: list[Call] = []
        changes: list[dict[str, object]] = []
        if observed.billing_mode != "PAY_PER_REQUEST":
            changes.append({"BillingMode": "PAY_PER_REQUEST"})
        if not observed.sse_enabled:
            changes.append({"SSESpecification": {"Enabled": True}})
        for change in changes:
            params = {"TableName": name, **change}
            calls.append(Call("dynamodb", "UpdateTable", params, before=pending, after=settle))
            pending = None
        if observed.ttl_attribute is None:  # another attribute's TTL is refused (blocked)
            calls.append(_ttl(name, desired.ttl_attribute, enabled=True, before=pending))
        return tuple(calls)

    def tag(self, desired: DesiredTable, observed: ObservedTable) -> Calls:
        params = {"ResourceArn": observed.arn, "Tags": tag_list(desired.tags)}
        return (Call("dynamodb", "TagResource", params),)

    def kept(self, how: TeardownOptions) -> str | None:
        return "--keep-table" if how.keep_table else None

    def delete(self, observed: ObservedTable, how: TeardownOptions) -> Calls:
        name = observed.arn.rsplit("/", 1)[-1]
        params = {"TableName": name}
        return (Call("dynamodb", "DeleteTable", params, tolerate=GONE, after=_gone(name)),)


TABLE = TableKind("table", lambda names: names.table)
