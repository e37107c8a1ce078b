"""The options a stack was set up with, recorded where AWS keeps them: the function's tags
(issue 15, item 6).

A re-run of `setup` keeps every recorded value the command line does not give again, and
says so in the plan: a teammate fixing drift with a bare ``sqsidem setup`` must not reset the
team's timeout, key or batch size to the defaults. Only an explicit flag changes a value
(``--processor default`` resets the processor). A stack set up before options were recorded
keeps what AWS holds now, and its next setup records it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqsidem.stack.options import SetupOptions

if TYPE_CHECKING:
    from sqsidem.names import StackNames
    from sqsidem.stack.kind import ObservedStack

PREFIX = "sqsidem:setup:"
PROCESSOR_TAG = f"{PREFIX}processor"
REQUIREMENTS_TAG = f"{PREFIX}requirements"
# Lambda tag values: up to 256 of letters, digits, spaces and _ . : / = + - @
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")


def _optional(text: str) -> int | None:
    return None if text in ("auto", "none") else int(text)


def _shown(value: object, empty: str = "auto") -> str:
    if value is None or value == ():
        return empty
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return " ".join(value)  # table names hold no space; a comma is no tag character
    return str(value)


def _tables(text: str) -> tuple[str, ...]:
    return () if text == "-" else tuple(text.split())


@dataclass(frozen=True)
class Option:
    flag: str  # the setup parameter (`--batch-size` is batch_size)
    field: str  # the SetupOptions field
    read: Callable[[str], Any]
    empty: str = "auto"  # how a value left unset (None, no tables) is recorded

    def shown(self, value: object) -> str:
        return _shown(value, self.empty)

    @property
    def tag(self) -> str:
        return PREFIX + self.flag.replace("_", "-")

    @property
    def shown_flag(self) -> str:
        return "--" + self.flag.replace("_", "-")


OPTIONS = (
    Option("timeout", "timeout_s", int),
    Option("memory", "memory_mb", int),
    Option("runtime", "runtime", str),
    Option("key", "key_source", str),
    Option("lock_ttl", "lock_ttl_s", int),
    Option("batch_size", "batch_size", int),
    Option("max_receive_count", "max_receive_count", int),
    Option("visibility_timeout", "visibility_timeout_s", _optional),
    Option("max_concurrency", "max_concurrency", _optional, "none"),
    Option("log_retention_days", "log_retention_days", int),
    Option("content_dedup", "content_dedup", lambda text: text == "on"),
    # "-": no table (a table may be called "none"; none is 1 character long).
    Option("effects_table", "effect_tables", _tables, "-"),
)


def tag_value(text: str) -> str | None:
    """``text`` as Lambda accepts a tag value (base64 when it holds other characters)."""
    if _TAG_VALUE.fullmatch(text):
        return text
    encoded = "b64:" + base64.b64encode(text.encode("utf-8")).decode("ascii")
    return encoded if len(encoded) <= 256 else None


def from_tag_value(value: str) -> str:
    if value.startswith("b64:"):
        return base64.b64decode(value[4:]).decode("utf-8", "replace")
    return value


def _processor_records(options: SetupOptions) -> dict[str, str]:
    from sqsidem.build.check import label
    from sqsidem.build.package import find_requirements

    ref = options.processor
    if ref is None:
        return {PROCESSOR_TAG: "default"}
    if ref.kept:
        return dict(options.kept_records)
    records = {PROCESSOR_TAG: label(ref)}
    found = find_requirements(ref)
    if found is not None:
        records[REQUIREMENTS_TAG] = hashlib.sha256(found.text.encode()).hexdigest()[:16]
    return records


def recorded_tags(options: SetupOptions) -> dict[str, str]:
    """The function tags that record ``options``."""
    records = {o.tag: o.shown(getattr(options, o.field)) for o in OPTIONS}
    records.update(_processor_records(options))
    tags = {key: tag_value(value) for key, value in records.items()}
    return {key: value for key, value in tags.items() if value is not None}


def recorded_only(tags: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in tags.items() if key.startswith(PREFIX)}


def recorded_in(tags: Mapping[str, str]) -> dict[str, str]:
    """The recorded options among a function's tags, decoded (``--flag`` -> value)."""
    shown = {o.tag: o.shown_flag for o in OPTIONS}
    shown.update({PROCESSOR_TAG: "--processor", REQUIREMENTS_TAG: "requirements sha256"})
    return {shown[k]: from_tag_value(v) for k, v in sorted(tags.items()) if k in shown}


def _observed_values(observed: ObservedStack, names: StackNames) -> dict[str, Any]:
    """What AWS holds now, for a stack set up before options were recorded."""
    from sqsidem.stack.inferred import inferred_options

    inferred = inferred_options(names, observed)
    return {o.field: getattr(inferred, o.field) for o in OPTIONS}


def keep_recorded(
    options: SetupOptions, observed: ObservedStack, names: StackNames
) -> tuple[SetupOptions, tuple[str, ...]]:
    """``options`` with every value not given on this command line taken from the record
    (or, before there was one, from AWS), and the plan's note naming what was kept."""
    from sqsidem.stack.function import FUNCTION
    from sqsidem.stack.model import trigger_wanted

    function = FUNCTION.seen_in(observed)
    if options.given is None or function is None:
        return options, ()
    tags = function.tags
    records = {o.field: o for o in OPTIONS if o.tag in tags}
    values = _observed_values(observed, names) if not records else {}
    for field_name, option in records.items():
        try:
            values[field_name] = option.read(from_tag_value(tags[option.tag]))
        except ValueError:
            continue  # an unreadable record: the value given (or the default) stands
    changed: dict[str, Any] = {}
    kept = []
    for option in OPTIONS:
        if option.flag in options.given or option.field not in values:
            continue
        value = values[option.field]
        if value != getattr(options, option.field):
            changed[option.field] = value
            kept.append(f"{option.shown_flag} {option.shown(value)}")
    if "no_trigger" not in options.given and options.trigger and not trigger_wanted(tags):
        changed["trigger"] = False
        kept.append("--no-trigger")
    kept_records = tuple((k, v) for k, v in tags.items() if k in (PROCESSOR_TAG, REQUIREMENTS_TAG))
    options = replace(options, **changed, kept_records=kept_records)
    if not kept:
        return options, ()
    note = "kept from the last setup: " + ", ".join(kept) + " (a flag changes one)"
    return options, (note,)
