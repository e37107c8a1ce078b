"""The idempotency key of an SQS record as Lambda delivers it (DESIGN 6.3).

Order: the message attribute ``sqsidem-key`` (set by ``send`` and by the DLQ redrive, so a
redriven message keeps its key although a FIFO DLQ replaces its dedup id), else the
configured fallback: ``dedup`` (MessageDeduplicationId; with dedup scope ``messageGroup``
the key is ``<group>#<dedup id>`` because ids repeat across groups), ``message-id``, or
``body:<field>`` (a string or integer field of a JSON object body).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

KEY_ATTRIBUTE = "sqsidem-key"
# DynamoDB's limit for a partition key value; longer keys would fail at PutItem anyway.
MAX_KEY_BYTES = 2048

KeyKind = Literal["dedup", "message-id", "body"]


class NoKeyError(ValueError):
    """The record carries no usable key; the message says why (it becomes the record's error)."""


@dataclass(frozen=True)
class KeySpec:
    kind: KeyKind
    field: str = ""


def parse_key_spec(spec: str) -> KeySpec:
    """Parse ``dedup`` | ``message-id`` | ``body:<field>``; raise ValueError otherwise."""
    text = spec.strip()
    if text == "dedup":
        return KeySpec("dedup")
    if text == "message-id":
        return KeySpec("message-id")
    if text.startswith("body:") and text[len("body:") :].strip():
        return KeySpec("body", text[len("body:") :].strip())
    raise ValueError(f"unknown key source {spec!r}: use dedup, message-id or body:<field>")


def record_key(record: Mapping[str, Any], spec: KeySpec, dedup_scope: str = "queue") -> str:
    """The record's idempotency key, or :class:`NoKeyError`."""
    key = _attribute_key(record)
    if key is None:
        key = _fallback_key(record, spec, dedup_scope)
    return check_key(key)


def check_key(key: str) -> str:
    """``key`` if the consumer accepts it as a lock key, else :class:`NoKeyError`.

    The one definition: `send` runs it on every message before sending, so it never
    sends a message the consumer would reject (a poison message that blocks its group).
    """
    if not key:
        raise NoKeyError("the idempotency key is empty")
    size = len(key.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise NoKeyError(
            f"the idempotency key is {size} bytes, longer than the {MAX_KEY_BYTES}-byte limit"
        )
    return key


def _attribute_key(record: Mapping[str, Any]) -> str | None:
    attributes = record.get("messageAttributes") or {}
    value = attributes.get(KEY_ATTRIBUTE)
    if not isinstance(value, Mapping):
        return None
    text = value.get("stringValue")
    return text if isinstance(text, str) and text else None


def _fallback_key(record: Mapping[str, Any], spec: KeySpec, dedup_scope: str) -> str:
    if spec.kind == "message-id":
        message_id = record.get("messageId")
        if not isinstance(message_id, str) or not message_id:
            raise NoKeyError("the record has no messageId")
        return message_id
    if spec.kind == "body":
        return _body_key(record.get("body"), spec.field)
    attributes = record.get("attributes") or {}
    dedup = attributes.get("MessageDeduplicationId")
    if not isinstance(dedup, str) or not dedup:
        raise NoKeyError(
            f"no {KEY_ATTRIBUTE} attribute and no MessageDeduplicationId "
            "(a standard queue? configure the key as message-id or body:<field>)"
        )
    if dedup_scope == "messageGroup":
        group = attributes.get("MessageGroupId")
        if not isinstance(group, str) or not group:
            raise NoKeyError("dedup scope is messageGroup but the record has no MessageGroupId")
        return f"{group}#{dedup}"
    return dedup


def _body_key(body: object, field: str) -> str:
    if not isinstance(body, str):
        raise NoKeyError("the record has no body")
    try:
        document = json.loads(body)
    except ValueError:
        raise NoKeyError(f"the body is not JSON, so it has no field {field!r}") from None
    if not isinstance(document, dict):
        raise NoKeyError(f"the body is not a JSON object, so it has no field {field!r}")
    value = document.get(field)
    # bool is an int subclass, but True/False as a key would merge unrelated messages.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise NoKeyError(f"the body's field {field!r} is missing or not a string or integer")
    return str(value)
