"""The DynamoDB lock table: hash key transaction_id (S), on-demand, encrypted, TTL on expiration."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import error_code
from sqsidem.stack.model import Change, tag_list
from sqsidem.stack.retry import Pacing

KEY_ATTRIBUTE = "transaction_id"
TTL_ATTRIBUTE = "expiration"
_GONE = {"ResourceNotFoundException"}


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


def observe(aws: Aws, name: str) -> ObservedTable | None:
    try:
        table = aws.dynamodb.describe_table(TableName=name)["Table"]
        ttl = aws.dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    except ClientError as exc:
        if error_code(exc) in _GONE:
            return None
        raise
    arn = table["TableArn"]
    tags = {
        tag["Key"]: tag["Value"]
        for page in aws.dynamodb.get_paginator("list_tags_of_resource").paginate(ResourceArn=arn)
        for tag in page.get("Tags", [])
    }
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
        tags=tags,
    )


def incompatible(desired: DesiredTable, observed: ObservedTable) -> str | None:
    """Why the table cannot serve as the lock table (a key cannot change in place)."""
    want = ((desired.key_attribute, "HASH"),)
    if observed.key_schema != want or observed.key_types.get(desired.key_attribute) != "S":
        keys = ", ".join(f"{name} {kind}" for name, kind in observed.key_schema)
        return f"its key is {keys}, not {desired.key_attribute} (S) HASH; delete or rename it"
    return None


def diff(desired: DesiredTable, observed: ObservedTable) -> tuple[Change, ...]:
    changes = []
    if observed.billing_mode != "PAY_PER_REQUEST":
        changes.append(Change("BillingMode", observed.billing_mode, "PAY_PER_REQUEST"))
    if not observed.sse_enabled:
        changes.append(Change("SSE", "off", "on"))
    if observed.ttl_attribute != desired.ttl_attribute:
        changes.append(Change("TTL", observed.ttl_attribute, desired.ttl_attribute))
    return tuple(changes)


def create(aws: Aws, desired: DesiredTable, pacing: Pacing) -> None:
    aws.dynamodb.create_table(
        TableName=desired.name,
        AttributeDefinitions=[{"AttributeName": desired.key_attribute, "AttributeType": "S"}],
        KeySchema=[{"AttributeName": desired.key_attribute, "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True},
        Tags=tag_list(desired.tags),
    )
    wait_active(aws, desired.name, pacing)
    _enable_ttl(aws, desired)


def wait_active(aws: Aws, name: str, pacing: Pacing) -> None:
    del pacing  # the botocore waiter paces itself
    aws.dynamodb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 90}
    )


def _enable_ttl(aws: Aws, desired: DesiredTable) -> None:
    aws.dynamodb.update_time_to_live(
        TableName=desired.name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": desired.ttl_attribute},
    )


def update(aws: Aws, desired: DesiredTable, observed: ObservedTable, pacing: Pacing) -> None:
    if observed.status != "ACTIVE":
        wait_active(aws, desired.name, pacing)
    if observed.billing_mode != "PAY_PER_REQUEST":
        aws.dynamodb.update_table(TableName=desired.name, BillingMode="PAY_PER_REQUEST")
        wait_active(aws, desired.name, pacing)
    if not observed.sse_enabled:
        aws.dynamodb.update_table(TableName=desired.name, SSESpecification={"Enabled": True})
        wait_active(aws, desired.name, pacing)
    if observed.ttl_attribute != desired.ttl_attribute:
        if observed.ttl_attribute is not None:
            # AWS allows one TTL attribute; switching means disabling the old one first.
            aws.dynamodb.update_time_to_live(
                TableName=desired.name,
                TimeToLiveSpecification={"Enabled": False, "AttributeName": observed.ttl_attribute},
            )
        _enable_ttl(aws, desired)


def tag(aws: Aws, observed: ObservedTable, tags: dict[str, str]) -> None:
    aws.dynamodb.tag_resource(ResourceArn=observed.arn, Tags=tag_list(tags))


def delete(aws: Aws, name: str) -> None:
    try:
        aws.dynamodb.delete_table(TableName=name)
    except ClientError as exc:
        if error_code(exc) not in _GONE:
            raise
