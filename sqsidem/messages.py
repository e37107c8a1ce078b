"""Building, validating and sending FIFO test messages (issue 5, DESIGN 6.3).

Two phases on purpose: :func:`build_messages` turns every input into
:class:`OutgoingMessage` objects and raises :class:`UsageError` for the first invalid one
*before* any AWS call, so nothing is sent when any input is bad; :func:`send_messages`
(in ``messages_send``) then ships them in SendMessageBatch calls.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqsidem.errors import UsageError

KEY_ATTRIBUTE = "sqsidem-key"
# SQS limits: message and batch payload (body + attribute names, types and values).
MAX_PAYLOAD_BYTES = 1_048_576
MAX_BATCH_ENTRIES = 10
MAX_ID_CHARS = 128
MAX_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME_CHARS = 256
DEFAULT_GROUP = "sqsidem"
DEFAULT_TEMPLATE = (
    '{"transaction_id": "{uuid}", "seq": {seq}, "group": "{group}", "sent_at": "{ts}"}'
)

# Group and deduplication ids: alphanumerics and ASCII punctuation (SQS API reference).
_ID_RE = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+$")
_ATTR_NAME_RE = re.compile(r"^[A-Za-z0-9_\-.]+$")
# Characters SQS accepts in a body: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF.
_BAD_BODY_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PLACEHOLDER = re.compile(r"\{(seq|uuid|ts|group)\}")
_JSONL_FIELDS = {"body", "group_id", "dedup_id", "attributes", "key"}


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

    @property
    def size(self) -> int:
        """Bytes SQS counts against the payload limit: body plus attribute names/types/values."""
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


@dataclass(frozen=True)
class MessageSpec:
    """What the user asked for (the `send` options), before validation."""

    body: str | None = None
    body_file_text: str | None = None
    jsonl_text: str | None = None
    jsonl_name: str = "--file"
    count: int | None = None
    template: str | None = None
    group_id: str | None = None
    groups: int | None = None
    dedup_id: str | None = None
    repeat_key: str | None = None
    repeat_dedup_id: str | None = None
    attrs: Sequence[str] = ()


def is_fifo_queue(queue: str) -> bool:
    """FIFO is decided from the name (or a URL's last path segment) alone: no AWS call."""
    return queue.rstrip("/").rsplit("/", 1)[-1].endswith(".fifo")


def parse_attr_options(options: Iterable[str]) -> dict[str, Attribute]:
    """``--attr key=value`` options as String attributes."""
    attributes: dict[str, Attribute] = {}
    for option in options:
        name, sep, value = option.partition("=")
        if not sep or not name:
            raise UsageError(f"invalid --attr {option!r}", "use --attr name=value")
        attributes[name.strip()] = Attribute(value)
    return attributes


def build_messages(
    spec: MessageSpec,
    *,
    fifo: bool,
    new_uuid: Callable[[], str] = lambda: str(uuid.uuid4()),
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    max_payload: int = MAX_PAYLOAD_BYTES,
) -> list[OutgoingMessage]:
    """Every message the spec describes, validated; UsageError (exit 2) for the first bad one."""
    _check_options(spec, fifo=fifo)
    common_attrs = parse_attr_options(spec.attrs)
    if spec.jsonl_text is not None:
        drafts = list(_jsonl_drafts(spec.jsonl_text, spec.jsonl_name))
    else:
        drafts = list(_generated_drafts(spec, fifo=fifo, new_uuid=new_uuid, now=now))
    messages = []
    for index, draft in enumerate(drafts):
        messages.append(_finish(index, draft, spec, common_attrs, fifo=fifo, new_uuid=new_uuid))
    for message in messages:
        validate_message(message, fifo=fifo, max_payload=max_payload)
    return messages


@dataclass
class _Draft:
    body: str
    where: str
    uuid: str | None = None
    group_id: str | None = None
    dedup_id: str | None = None
    key: str | None = None
    attributes: dict[str, Attribute] = field(default_factory=dict)


def _check_options(spec: MessageSpec, *, fifo: bool) -> None:
    sources = [
        name
        for name, given in (
            ("a body argument", spec.body is not None),
            ("--body-file", spec.body_file_text is not None),
            ("--file", spec.jsonl_text is not None),
        )
        if given
    ]
    if len(sources) > 1:
        raise UsageError(f"{sources[0]} and {sources[1]} conflict", "give one message source")
    if spec.template is not None and sources:
        raise UsageError(
            f"--template and {sources[0]} conflict", "--template generates the bodies itself"
        )
    if spec.jsonl_text is not None and spec.count is not None:
        raise UsageError("--count and --file conflict", "the file says how many messages to send")
    if spec.count is not None and spec.count < 1:
        raise UsageError(f"invalid --count {spec.count}", "send at least one message")
    if spec.groups is not None and spec.groups < 1:
        raise UsageError(f"invalid --groups {spec.groups}", "use 1 or more groups")
    if spec.dedup_id is not None and spec.repeat_dedup_id is not None:
        raise UsageError(
            "--dedup-id and --repeat-dedup-id conflict", "--repeat-dedup-id sets the dedup id"
        )
    if not fifo:
        fifo_only = [
            name
            for name, given in (
                ("--group-id", spec.group_id is not None),
                ("--groups", spec.groups is not None),
                ("--dedup-id", spec.dedup_id is not None),
                ("--repeat-dedup-id", spec.repeat_dedup_id is not None),
            )
            if given
        ]
        if fifo_only:
            raise UsageError(
                f"{fifo_only[0]} needs a FIFO queue (name ending in .fifo)",
                "drop the option or send to a .fifo queue",
            )
    count = 1 if spec.count is None else spec.count
    if (
        spec.dedup_id is not None
        and spec.jsonl_text is None
        and count > 1
        and not _PLACEHOLDER.search(spec.dedup_id)
    ):
        raise UsageError(
            f"--dedup-id {spec.dedup_id!r} would repeat for {count} messages",
            "add {seq} or {uuid} to it, or use --repeat-dedup-id to send copies SQS drops",
        )


def _generated_drafts(
    spec: MessageSpec,
    *,
    fifo: bool,
    new_uuid: Callable[[], str],
    now: Callable[[], datetime],
) -> Iterable[_Draft]:
    literal = spec.body if spec.body is not None else spec.body_file_text
    template = spec.template if spec.template is not None else DEFAULT_TEMPLATE
    count = 1 if spec.count is None else spec.count
    for seq in range(1, count + 1):
        fresh = new_uuid()
        group = group_for(seq, spec.group_id, spec.groups) if fifo else ""
        values = {"seq": str(seq), "uuid": fresh, "ts": _iso(now()), "group": group}
        body = literal if literal is not None else fill_placeholders(template, values)
        draft = _Draft(body=body, where=f"message {seq}", uuid=fresh)
        if fifo:
            draft.group_id = group
            if spec.dedup_id is not None:
                draft.dedup_id = fill_placeholders(spec.dedup_id, values)
        yield draft


def group_for(seq: int, group_id: str | None, groups: int | None) -> str:
    """Round-robin group of the ``seq``-th message (1-based): base, or base-1..base-K."""
    base = group_id or DEFAULT_GROUP
    if not groups or groups == 1:
        return base
    return f"{base}-{(seq - 1) % groups + 1}"


def fill_placeholders(template: str, values: Mapping[str, str]) -> str:
    """Replace only {seq} {uuid} {ts} {group}: other braces (JSON) stay as they are."""
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonl_drafts(text: str, name: str) -> Iterable[_Draft]:
    seen_any = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        seen_any = True
        where = f"{name} line {number}"
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise UsageError(f"{where}: not valid JSON ({exc.args[0]})") from None
        if not isinstance(document, dict):
            raise UsageError(f"{where}: expected a JSON object with a body")
        unknown = sorted(set(document) - _JSONL_FIELDS)
        if unknown:
            raise UsageError(
                f"{where}: unknown field {unknown[0]!r}",
                "use body, group_id, dedup_id, attributes, key",
            )
        if "body" not in document:
            raise UsageError(f"{where}: no body")
        body = document["body"]
        if not isinstance(body, str):
            # An object or number body is sent as its compact JSON text.
            body = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        draft = _Draft(body=body, where=where)
        for field_name in ("group_id", "dedup_id", "key"):
            value = document.get(field_name)
            if value is not None and not isinstance(value, str):
                raise UsageError(f"{where}: {field_name} must be a string")
            setattr(draft, field_name, value)
        attributes = document.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise UsageError(f"{where}: attributes must be an object of name: value")
        for attr_name, attr_value in attributes.items():
            if isinstance(attr_value, bool) or not isinstance(attr_value, str | int | float):
                raise UsageError(f"{where}: attribute {attr_name!r} must be a string or number")
            data_type = "String" if isinstance(attr_value, str) else "Number"
            draft.attributes[attr_name] = Attribute(str(attr_value), data_type)
        yield draft
    if not seen_any:
        raise UsageError(f"{name} holds no messages", "write one JSON object per line")


def _finish(
    index: int,
    draft: _Draft,
    spec: MessageSpec,
    common_attrs: Mapping[str, Attribute],
    *,
    fifo: bool,
    new_uuid: Callable[[], str],
) -> OutgoingMessage:
    where = draft.where
    if not fifo and (draft.group_id is not None or draft.dedup_id is not None):
        raise UsageError(
            f"{where}: group_id/dedup_id need a FIFO queue (name ending in .fifo)",
            "drop them or send to a .fifo queue",
        )
    fresh = draft.uuid or new_uuid()
    group_id = dedup_id = None
    if fifo:
        group_id = draft.group_id or (spec.group_id or DEFAULT_GROUP)
        dedup_id = spec.repeat_dedup_id or draft.dedup_id or fresh
    for name in (*common_attrs, *draft.attributes):
        if name == KEY_ATTRIBUTE:
            raise UsageError(
                f"{where}: the {KEY_ATTRIBUTE} attribute is set by send",
                "use --repeat-key K (or the JSONL key field) to choose the key",
            )
    # DESIGN 6.3: the key defaults to the dedup id; a standard queue has none, so a uuid.
    key = spec.repeat_key or draft.key or dedup_id or fresh
    attributes: dict[str, Attribute] = {
        **common_attrs,
        **draft.attributes,
        KEY_ATTRIBUTE: Attribute(key),
    }
    return OutgoingMessage(
        index=index,
        body=draft.body,
        key=key,
        group_id=group_id,
        dedup_id=dedup_id,
        attributes=attributes,
        where=where,
    )


def validate_message(
    message: OutgoingMessage, *, fifo: bool, max_payload: int = MAX_PAYLOAD_BYTES
) -> None:
    """What SQS would reject, as a UsageError naming the message."""
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
    if not message.key:
        raise UsageError(f"{where}: empty idempotency key")
    if len(message.attributes) > MAX_ATTRIBUTES:
        raise UsageError(
            f"{where}: {len(message.attributes)} attributes (with {KEY_ATTRIBUTE}); "
            f"SQS allows {MAX_ATTRIBUTES}"
        )
    for name, attribute in message.attributes.items():
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


def plan_batches(
    messages: Sequence[OutgoingMessage], max_payload: int = MAX_PAYLOAD_BYTES
) -> list[list[OutgoingMessage]]:
    """Consecutive runs of up to 10 messages whose summed size stays within the limit."""
    batches: list[list[OutgoingMessage]] = []
    current: list[OutgoingMessage] = []
    size = 0
    for message in messages:
        if current and (len(current) == MAX_BATCH_ENTRIES or size + message.size > max_payload):
            batches.append(current)
            current, size = [], 0
        current.append(message)
        size += message.size
    if current:
        batches.append(current)
    return batches


def read_text_input(path: str, option: str, *, stdin: Callable[[], str] | None = None) -> str:
    """A file's text for an option (``-`` = stdin); unreadable input is a UsageError."""
    if path == "-":
        if stdin is None:
            import sys

            return sys.stdin.read()
        return stdin()
    from pathlib import Path

    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{option} {path}: no such file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{option} {path}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror or exc}") from None
