"""What the consumer reads from a batch and what it answers: record metadata, units, outcomes.

Shared by the Lambda handler and the worker (see batch.py for the decisions themselves).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# Without a context (a direct call) assume Lambda's maximum timeout: a long deadline only
# delays crash recovery, a short one could let a redelivery run the work twice.
DEFAULT_REMAINING_MS = 900_000


class InvocationContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class RecordOutcome:
    """The final decision for one record; ``acked`` False means it is in batchItemFailures."""

    message_id: str | None
    decision: str
    acked: bool
    transaction_id: str | None = None


@dataclass
class BatchResult:
    outcomes: list[RecordOutcome] = field(default_factory=list)

    @property
    def failed_ids(self) -> list[str]:
        return [o.message_id for o in self.outcomes if not o.acked and o.message_id]

    def response(self) -> dict[str, list[dict[str, str]]]:
        """The partial batch response Lambda's event source mapping understands."""
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.failed_ids]}


@dataclass(frozen=True)
class RecordMeta:
    """What every decision line says about its record."""

    message_id: str | None
    group_id: str | None
    receive_count: int | None


def is_fifo(records: Sequence[Mapping[str, Any]]) -> bool:
    """FIFO by the queue ARN; SequenceNumber exists only on FIFO records (fair standard
    queues also carry MessageGroupId, so that attribute proves nothing)."""
    for record in records:
        arn = record.get("eventSourceARN")
        if isinstance(arn, str) and arn:
            return arn.endswith(".fifo")
        if "SequenceNumber" in (record.get("attributes") or {}):
            return True
    return False


def independent_units(records: Sequence[Mapping[str, Any]], *, fifo: bool) -> list[list[int]]:
    """Indexes of ``records`` split into units that may run in parallel, each in order.

    FIFO: one unit per message group in first-seen order (a group's records keep their
    order and the 6.4 rule applies within the unit); a record without a group is on its
    own, as the rule never links it to another. Standard queue: every record alone.
    """
    return units_by_group([record_meta(record).group_id for record in records], fifo=fifo)


def units_by_group(groups: Sequence[str | None], *, fifo: bool) -> list[list[int]]:
    """:func:`independent_units` from each record's message group (already read)."""
    if not fifo:
        return [[i] for i in range(len(groups))]
    units: list[list[int]] = []
    by_group: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        if group is None:
            units.append([i])
        elif group in by_group:
            by_group[group].append(i)
        else:
            by_group[group] = [i]
            units.append(by_group[group])
    return units


def record_meta(record: Mapping[str, Any]) -> RecordMeta:
    attributes = record.get("attributes") or {}
    message_id = record.get("messageId")
    group_id = attributes.get("MessageGroupId")
    count_text = str(attributes.get("ApproximateReceiveCount", ""))
    return RecordMeta(
        message_id=message_id if isinstance(message_id, str) else None,
        group_id=group_id if isinstance(group_id, str) else None,
        receive_count=int(count_text) if count_text.isdigit() else None,
    )


def new_owner(context: object) -> str:
    """A token per attempt, prefixed by the invocation's request id when there is one."""
    request_id = getattr(context, "aws_request_id", None)
    token = uuid.uuid4().hex
    return f"{request_id}/{token}" if isinstance(request_id, str) and request_id else token


def remaining_ms(context: InvocationContext | None) -> int:
    if context is None:
        return DEFAULT_REMAINING_MS
    return max(0, int(context.get_remaining_time_in_millis()))


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
