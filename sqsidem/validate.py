"""Option values checked before any AWS call: each bad one is a one-line exit 2.

An empty string where a value is required must never fall back to a default
(``--stack "$UNSET" teardown`` would tear down stack ``test``); NaN and infinities, numbers
out of range, malformed endpoint URLs and impossible region names never reach boto3.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from sqsidem.errors import UsageError

# Every AWS partition's region names: ``us-east-1``, ``ap-northeast-1``, ``us-gov-west-1``,
# ``cn-northwest-1``, ``us-isob-east-1``, ``eu-central-2``.
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def non_empty(options: Mapping[str, str | None]) -> None:
    """Each given value must hold more than blanks (``{"--stack": value, ...}``)."""
    for option, value in options.items():
        if value is not None and not value.strip():
            raise UsageError(
                f"{option} is empty", f"give {option} a value, or leave the option out"
            )


# SQS's longest visibility timeout (12 hours).
MAX_VISIBILITY_S = 43_200
# A lock record that should outlive this belongs to a forgotten table, not a retry window.
MAX_LOCK_TTL_S = 3650 * 86_400


def finite(
    value: float | None, option: str, *, low: float, high: float | None = None, unit: str = ""
) -> None:
    """A number within ``low..high`` (never NaN or infinite; no ``high``: at least ``low``)."""
    if value is None:
        return
    if math.isfinite(value) and low <= value and (high is None or value <= high):
        return
    given = f"{value:.0f}" if math.isfinite(value) and float(value).is_integer() else f"{value:g}"
    what = f"invalid {option} {given}{' ' + unit if unit else ''}"
    if high is None:
        raise UsageError(what, f"use a number of at least {_number(low)}")
    raise UsageError(what, f"use a number between {_number(low)} and {_number(high)}")


def _number(value: float) -> str:
    """A limit as people read it: 1, 0.5, 3600, 43,200 (no exponent)."""
    if float(value).is_integer():
        return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.0f}"
    return f"{value:g}"


def key_source(text: str | None, option: str = "--key") -> None:
    """``dedup``, ``message-id`` or ``body:<field>``: the consumer's own parser decides."""
    from sqsidem.consumer.keys import parse_key_spec

    if text is None:
        return
    try:
        parse_key_spec(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a key source", "use dedup, message-id or body:<field>"
        ) from None


def output_file(path: Path, option: str) -> None:
    """A file to write: not an existing directory (``--out ""`` is the current one)."""
    if path.is_dir():
        raise UsageError(f"{option} {str(path)!r} is a directory", "give a file name")


def in_the_past(moment_s: float, now_s: float, option: str, text: str) -> None:
    """A start time (``--since``) between 1970 and now."""
    if not 0 <= moment_s <= now_s:
        raise UsageError(
            f"invalid {option} {text!r}: it must lie between 1970 and now",
            "use 10m, 1h, 2d or a past ISO time",
        )


def region_name(region: str | None) -> None:
    if region is not None and not _REGION.match(region):
        raise UsageError(
            f"invalid region {region!r}", "use an AWS region name such as ap-northeast-1"
        )


def endpoint_url(url: str | None) -> None:
    """An http(s) URL with a host and, if given, a port in 1..65535."""
    if url is None:
        return
    hint = "give a full URL such as http://127.0.0.1:4566"
    if _CONTROL.search(url):
        raise UsageError(f"invalid endpoint URL {url!r}: blanks or control characters", hint)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"invalid endpoint URL {url!r}: {exc}", hint) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"invalid endpoint URL {url!r}", hint)
    if port == 0:
        raise UsageError(f"invalid endpoint URL {url!r}: port 0", hint)
