"""The message model and SQS's limits, shared by building, validating and sending."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# One spelling of the key attribute, the consumer's own (DESIGN 6.3).
from sqsidem.consumer.keys import KEY_ATTRIBUTE

# SQS limits: message and batch payload (body + attribute names, types and values).
MAX_PAYLOAD_BYTES = 1_048_576
MAX_BATCH_ENTRIES = 10
MAX_ID_CHARS = 128
MAX_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME_CHARS = 256

__all__ = [
    "KEY_ATTRIBUTE",
    "MAX_ATTRIBUTES",
    "MAX_ATTRIBUTE_NAME_CHARS",
    "MAX_BATCH_ENTRIES",
    "MAX_ID_CHARS",
    "MAX_PAYLOAD_BYTES",
    "Attribute",
    "OutgoingMessage",
]


@dataclass(frozen=True)
class Attribute:
    """One message attribute; ``data_type`` is String or Number."""

    value: str
    data_type: str = "String"

    def wire(self) -> dict[str, str]:
        return {"DataType": self.data_type, "StringValue": self.value}


@dataclass(frozen=True)
class OutgoingMessage:
    """One validated message, ready to send. ``where`` names its input for errors."""

    index: int
    body: str
    key: str
    group_id: str | None = None
    dedup_id: str | None = None
    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    where: str = ""

    @functools.cached_property
    def size(self) -> int:
        """Bytes SQS counts against the payload limit: body plus attribute names/types/values
        (computed once: validating and packing batches read it several times)."""
        total = len(self.body.encode("utf-8"))
        for name, attribute in self.attributes.items():
            total += len(name.encode("utf-8")) + len(attribute.data_type.encode("utf-8"))
            total += len(attribute.value.encode("utf-8"))
        return total

    def entry(self) -> dict[str, Any]:
        """The SendMessageBatch entry (``Id`` is the message's index in this run)."""
        entry: dict[str, Any] = {
            "Id": str(self.index),
            "MessageBody": self.body,
            "MessageAttributes": {name: a.wire() for name, a in self.attributes.items()},
        }
        if self.group_id is not None:
            entry["MessageGroupId"] = self.group_id
        if self.dedup_id is not None:
            entry["MessageDeduplicationId"] = self.dedup_id
        return entry
