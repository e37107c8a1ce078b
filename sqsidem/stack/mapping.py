"""The event source mapping (the trigger): main queue -> function, partial batch responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import error_code
from sqsidem.stack.model import Change
from sqsidem.stack.retry import (
    IAM_PROPAGATION,
    Pacing,
    is_iam_propagation_error,
    retrying,
    wait_until,
)

if TYPE_CHECKING:
    from mypy_boto3_lambda.type_defs import ScalingConfigTypeDef

_GONE = {"ResourceNotFoundException"}
RESPONSE_TYPES = ("ReportBatchItemFailures",)
DELETE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class DesiredMapping:
    function: str
    queue_arn: str
    batch_size: int
    max_concurrency: int | None


@dataclass(frozen=True)
class ObservedMapping:
    uuid: str
    source_arn: str
    batch_size: int
    max_concurrency: int | None
    response_types: tuple[str, ...]
    state: str
    last_result: str | None  # not reported by moto


def observe_all(aws: Aws, function: str) -> list[ObservedMapping]:
    """Every mapping of the function (ours points at the main queue; others are strays)."""
    try:
        pages = aws.lambda_.get_paginator("list_event_source_mappings").paginate(
            FunctionName=function
        )
        found = [_observed(m) for page in pages for m in page.get("EventSourceMappings", [])]
    except ClientError as exc:
        if error_code(exc) in _GONE:
            return []
        raise
    return sorted(found, key=lambda m: m.uuid)


def _observed(data: Mapping[str, Any]) -> ObservedMapping:
    concurrency = (data.get("ScalingConfig") or {}).get("MaximumConcurrency")
    return ObservedMapping(
        uuid=str(data["UUID"]),
        source_arn=str(data.get("EventSourceArn", "")),
        batch_size=int(data.get("BatchSize", 10)),
        max_concurrency=int(concurrency) if concurrency else None,
        response_types=tuple(str(t) for t in data.get("FunctionResponseTypes") or ()),
        state=str(data.get("State", "")),
        last_result=str(data["LastProcessingResult"]) if data.get("LastProcessingResult") else None,
    )


def pick(desired_queue_arn: str, mappings: list[ObservedMapping]) -> ObservedMapping | None:
    return next((m for m in mappings if m.source_arn == desired_queue_arn), None)


def diff(desired: DesiredMapping, observed: ObservedMapping) -> tuple[Change, ...]:
    pairs: list[tuple[str, object, object]] = [
        ("BatchSize", observed.batch_size, desired.batch_size),
        ("MaximumConcurrency", observed.max_concurrency, desired.max_concurrency),
        ("FunctionResponseTypes", list(observed.response_types), list(RESPONSE_TYPES)),
    ]
    changes = [Change(name, have, want) for name, have, want in pairs if have != want]
    if observed.state in ("Disabled", "Disabling"):
        changes.append(Change("State", observed.state, "Enabled"))
    return tuple(changes)


def _scaling(desired: DesiredMapping) -> ScalingConfigTypeDef:
    return (
        {} if desired.max_concurrency is None else {"MaximumConcurrency": desired.max_concurrency}
    )


def create(aws: Aws, desired: DesiredMapping, pacing: Pacing) -> str:
    def call() -> str:
        extra = {"ScalingConfig": _scaling(desired)} if desired.max_concurrency else {}
        return aws.lambda_.create_event_source_mapping(
            EventSourceArn=desired.queue_arn,
            FunctionName=desired.function,
            BatchSize=desired.batch_size,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            Enabled=True,
            **extra,  # type: ignore[arg-type]
        )["UUID"]

    return retrying(
        call,
        retryable=is_iam_propagation_error,
        backoff=IAM_PROPAGATION,
        sleep=pacing.sleep,
        notify=pacing.notify,
        what="the role's queue permissions are not visible to Lambda yet (IAM propagation)",
    )


def update(aws: Aws, desired: DesiredMapping, observed: ObservedMapping, pacing: Pacing) -> None:
    def call() -> None:
        aws.lambda_.update_event_source_mapping(
            UUID=observed.uuid,
            BatchSize=desired.batch_size,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            ScalingConfig=_scaling(desired),  # empty removes a concurrency limit
            Enabled=True,
        )

    retrying(
        call,
        # AWS: ResourceInUseException while the mapping is still Creating/Updating.
        retryable=lambda exc: error_code(exc) == "ResourceInUseException",
        backoff=IAM_PROPAGATION,
        sleep=pacing.sleep,
        notify=pacing.notify,
        what="the trigger is still changing state",
    )


def delete(aws: Aws, observed: ObservedMapping, pacing: Pacing) -> None:
    """Delete and wait until it is gone, so no last batch runs against a half-torn stack."""
    try:
        aws.lambda_.delete_event_source_mapping(UUID=observed.uuid)
    except ClientError as exc:
        if error_code(exc) not in _GONE:
            raise

    def gone() -> bool:
        try:
            aws.lambda_.get_event_source_mapping(UUID=observed.uuid)
        except ClientError as exc:
            if error_code(exc) in _GONE:
                return True
            raise
        return False

    wait_until(
        gone,
        timeout_s=DELETE_TIMEOUT_S,
        interval_s=2.0,
        sleep=pacing.sleep,
        clock=pacing.clock,
        what=f"trigger {observed.uuid} to be deleted",
    )
