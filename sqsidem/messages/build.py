"""Turning the `send` options (or a JSON Lines file) into validated messages (issue 5).

Two phases on purpose: :func:`build_messages` turns every input into
:class:`OutgoingMessage` objects and raises :class:`UsageError` for the first invalid one
*before* any AWS call, so nothing is sent when any input is bad; :mod:`.send` then ships
them in SendMessageBatch calls.
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
from sqsidem.messages.model import KEY_ATTRIBUTE, MAX_PAYLOAD_BYTES, Attribute, OutgoingMessage
from sqsidem.messages.validate import validate_message
from sqsidem.validate import non_empty

DEFAULT_GROUP = "sqsidem"
DEFAULT_TEMPLATE = (
    '{"transaction_id": "{uuid}", "seq": {seq}, "group": "{group}", "sent_at": "{ts}"}'
)
_PLACEHOLDER = re.compile(r"\{(seq|uuid|ts|group)\}")
# Every message is built and checked before the first call: this bounds the memory it takes.
MAX_COUNT = 1_000_000
_JSONL_FIELDS = {"body", "group_id", "dedup_id", "attributes", "key"}


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

    @classmethod
    def with_files(
        cls, *, body_file: str | None, jsonl_file: str | None, **options: Any
    ) -> MessageSpec:
        """The spec with --body-file and --file read ('-' is stdin); unreadable is exit 2."""
        non_empty({"--body-file": body_file, "--file": jsonl_file})
        return cls(
            body_file_text=read_text_input(body_file, "--body-file") if body_file else None,
            jsonl_text=read_text_input(jsonl_file, "--file") if jsonl_file else None,
            jsonl_name="stdin" if jsonl_file == "-" else (jsonl_file or "--file"),
            **options,
        )


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
    checked: dict[str, Attribute] = {}  # the shared --attr attributes: validated once
    for message in messages:
        validate_message(message, fifo=fifo, max_payload=max_payload, checked=checked)
        checked.update(message.attributes)
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
    non_empty(
        {
            "--group-id": spec.group_id,
            "--dedup-id": spec.dedup_id,
            "--repeat-key": spec.repeat_key,
            "--repeat-dedup-id": spec.repeat_dedup_id,
        }
    )
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
    if spec.count is not None and not 1 <= spec.count <= MAX_COUNT:
        raise UsageError(
            f"invalid --count {spec.count}", f"send at least one message, at most {MAX_COUNT:,}"
        )
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
