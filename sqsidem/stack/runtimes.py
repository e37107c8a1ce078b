"""Lambda's Python runtimes with AWS's three dates: deprecation, block create, block update.

AWS keeps invoking a deprecated runtime's functions, but from "block create" no new function
may use it, and from "block update" no existing one may be changed. sqsidem accepts a
runtime for a new function until its block-create date, for an existing one until its
block-update date, and warns from six months before its deprecation.

Source: AWS Lambda Developer Guide, "Building Lambda functions with Python"
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html), the same three columns as
"Lambda runtimes"; checked 2026-11-30. AWS has moved these dates before: check the page when
one of them comes near, and update this table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqsidem.errors import UsageError

WARN_MONTHS = 6


@dataclass(frozen=True)
class Runtime:
    name: str
    deprecation: dt.date
    block_create: dt.date
    block_update: dt.date

    def warn_from(self) -> dt.date:
        return _months_before(self.deprecation, WARN_MONTHS)


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# Newest first. Confirmed on the AWS page above unless a comment says otherwise.
RUNTIMES = (
    Runtime("python3.14", _d("2029-06-30"), _d("2029-07-31"), _d("2029-08-31")),
    Runtime("python3.13", _d("2029-06-30"), _d("2029-07-31"), _d("2029-08-31")),
    Runtime("python3.12", _d("2028-10-31"), _d("2028-11-30"), _d("2029-01-10")),
    # Older copies of the page said 2026-06-30 / 07-31 / 08-31; the newest AWS copy (English
    # lambda-python.html) gives these; a third-party table gives 2027-07-29 for block create.
    Runtime("python3.11", _d("2027-06-30"), _d("2027-07-31"), _d("2027-08-31")),
    # Deprecation per the newest AWS copy; both block dates unconfirmed: newest AWS copy
    # (English lambda-python.html); a third-party table gives 2027-07-29 / 2027-08-31.
    Runtime("python3.10", _d("2026-10-31"), _d("2026-11-30"), _d("2027-01-15")),
    # Deprecated 2025-12-15 (AWS page and AWS Health email). AWS moved its block dates several
    # times (2025-12-08 / 2026-01-08 in the oldest AWS copies, later ones further out): we
    # take the earliest, so it counts as blocked. Our consumer needs 3.10 syntax anyway.
    Runtime("python3.9", _d("2025-12-15"), _d("2025-12-08"), _d("2026-01-08")),
)
BY_NAME = {runtime.name: runtime for runtime in RUNTIMES}


def today_utc() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _months_before(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for last in (day.day, 30, 29, 28):  # the same day of the month, or that month's last
        try:
            return dt.date(year, month + 1, last)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def creatable(today: dt.date) -> list[str]:
    """The runtimes a new function may use today, newest first."""
    return [r.name for r in RUNTIMES if today < r.block_create]


def check_runtime(name: str, *, creating: bool, today: dt.date) -> str | None:
    """Raise UsageError where AWS would refuse ``name``; else a warning near deprecation."""
    runtime = BY_NAME.get(name)
    hint = "use " + (" or ".join(creatable(today)[:2]) or "a current python runtime")
    if runtime is None:
        known = ", ".join(r.name for r in RUNTIMES)
        raise UsageError(f"--runtime {name!r} is not a Lambda Python runtime ({known})", hint)
    blocked = runtime.block_create if creating else runtime.block_update
    if today >= blocked:
        what = "new functions" if creating else "function updates"
        raise UsageError(
            f"--runtime {name} is deprecated: AWS blocks it for {what} since {blocked}", hint
        )
    if today >= runtime.warn_from():
        tense = "was" if today >= runtime.deprecation else "will be"
        return (
            f"--runtime {name} {tense} deprecated on {runtime.deprecation} (AWS blocks new "
            f"functions from {runtime.block_create}, updates from {runtime.block_update}); " + hint
        )
    return None
