"""Option values checked before any AWS call: each bad one is a one-line exit 2.

An empty string where a value is required must never fall back to a default
(``--stack "$UNSET" teardown`` would tear down stack ``test``); NaN and infinities, numbers
out of range, malformed endpoint URLs and impossible region names never reach boto3.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
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


def finite(value: float | None, option: str, *, low: float, high: float) -> None:
    """A number within ``low..high`` (never NaN or infinite)."""
    if value is None:
        return
    if not math.isfinite(value) or not low <= value <= high:
        raise UsageError(f"invalid {option} {value}", f"use a number between {low:g} and {high:g}")


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
