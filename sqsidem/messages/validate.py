"""What SQS would reject in a message, found before any call (exit 2)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqsidem.consumer.keys import NoKeyError, check_key
from sqsidem.errors import UsageError
from sqsidem.messages.model import (
    KEY_ATTRIBUTE,
    MAX_ATTRIBUTE_NAME_CHARS,
    MAX_ATTRIBUTES,
    MAX_ID_CHARS,
    MAX_PAYLOAD_BYTES,
    Attribute,
    OutgoingMessage,
)

# Group and deduplication ids: alphanumerics and ASCII punctuation (SQS API reference).
_ID_RE = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+$")
_ATTR_NAME_RE = re.compile(r"^[A-Za-z0-9_\-.]+$")
# Characters SQS accepts in a body: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF.
_BAD_BODY_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def validate_message(
    message: OutgoingMessage,
    *,
    fifo: bool,
    max_payload: int = MAX_PAYLOAD_BYTES,
    checked: Mapping[str, Attribute] | None = None,
) -> None:
    """What SQS would reject, as a UsageError naming the message. An attribute found (the
    same object) in ``checked`` passed already: the shared ``--attr`` ones, once per build."""
    where = message.where or f"message {message.index + 1}"
    if not message.body:
        raise UsageError(f"{where}: empty body", "SQS needs at least one character")
    bad = _BAD_BODY_CHAR.search(message.body)
    if bad:
        raise UsageError(
            f"{where}: the body holds character U+{ord(bad.group()):04X}, which SQS rejects"
        )
    if message.size > max_payload:
        raise UsageError(
            f"{where}: {message.size} bytes (body and attributes) is over the "
            f"{max_payload}-byte SQS limit"
        )
    if fifo:
        validate_id(message.group_id or "", "group id", where)
        validate_id(message.dedup_id or "", "dedup id", where)
    try:
        check_key(message.key)
    except NoKeyError as exc:  # what the consumer would reject, it says why
        raise UsageError(f"{where}: {exc}", "the consumer would reject it") from None
    if len(message.attributes) > MAX_ATTRIBUTES:
        raise UsageError(
            f"{where}: {len(message.attributes)} attributes (with {KEY_ATTRIBUTE}); "
            f"SQS allows {MAX_ATTRIBUTES}"
        )
    for name, attribute in message.attributes.items():
        if checked is None or checked.get(name) is not attribute:
            _validate_attribute(name, attribute, where)


def validate_id(value: str, what: str, where: str) -> None:
    if not value:
        raise UsageError(f"{where}: empty {what}")
    if len(value) > MAX_ID_CHARS:
        raise UsageError(f"{where}: {what} is {len(value)} characters; SQS allows {MAX_ID_CHARS}")
    if not _ID_RE.match(value):
        raise UsageError(
            f"{where}: {what} {value!r} has characters SQS rejects",
            "use letters, digits and ASCII punctuation only",
        )


def _validate_attribute(name: str, attribute: Attribute, where: str) -> None:
    lowered = name.lower()
    if (
        len(name) > MAX_ATTRIBUTE_NAME_CHARS
        or not _ATTR_NAME_RE.match(name)
        or name.startswith(".")
        or name.endswith(".")
        or ".." in name
        or lowered.startswith(("aws.", "amazon."))
    ):
        raise UsageError(
            f"{where}: invalid attribute name {name!r}",
            "use up to 256 of A-Z a-z 0-9 _ - . (no AWS./Amazon. prefix, no '..')",
        )
    if attribute.value == "":
        raise UsageError(f"{where}: attribute {name!r} has an empty value")
    if attribute.data_type == "Number":
        try:
            float(attribute.value)
        except ValueError:
            raise UsageError(f"{where}: attribute {name!r} is not a number") from None
