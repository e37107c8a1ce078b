"""Setup options and their validation before any AWS call (DESIGN 6.7, 6.8).

What AWS would reject raises :class:`UsageError` (exit 2); values below AWS's
recommendations come back as warnings for the CLI to print.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqsidem.build.sources import ProcessorRef
from sqsidem.errors import UsageError
from sqsidem.stack.runtimes import check_runtime, today_utc
from sqsidem.validate import MAX_LOCK_TTL_S, finite, key_source

DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_BATCH_SIZE = 3
DEFAULT_LOG_RETENTION_DAYS = 14
DEFAULT_RUNTIME = "python3.12"
DEFAULT_KEY_SOURCE = "dedup"
DEFAULT_LOCK_TTL_S = 7 * 24 * 3600
RECOMMENDED_VISIBILITY_FACTOR = 6
RECOMMENDED_MAX_RECEIVE_COUNT = 5

# The values CloudWatch Logs accepts for a retention policy.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
_TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z0-9-]{2,}$")


@dataclass(frozen=True)
class SetupOptions:
    """Everything `setup` lets a person choose; defaults follow the tutorial (DESIGN 6.8)."""

    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    visibility_timeout_s: int | None = None  # None: 6x the function timeout
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT
    batch_size: int = DEFAULT_BATCH_SIZE
    max_concurrency: int | None = None
    trigger: bool = True
    content_dedup: bool = False
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    runtime: str = DEFAULT_RUNTIME
    processor: ProcessorRef | None = None
    key_source: str = DEFAULT_KEY_SOURCE
    lock_ttl_s: int = DEFAULT_LOCK_TTL_S
    notify_email: str | None = None
    adopt: bool = False
    # Tables the processor writes with transactional effects; the role may write them.
    effect_tables: tuple[str, ...] = ()
    # The setup flags given on this command line (None: all of them, as for an API caller);
    # the others keep what the stack was set up with (stack/recorded.py).
    given: frozenset[str] | None = None
    # A kept processor's records (its source, its requirements' hash), carried over as tags.
    kept_records: tuple[tuple[str, str], ...] = ()

    @property
    def visibility(self) -> int:
        if self.visibility_timeout_s is not None:
            return self.visibility_timeout_s
        return RECOMMENDED_VISIBILITY_FACTOR * self.timeout_s


def _in_range(option: str, value: int, low: int, high: int, why: str = "") -> None:
    if not low <= value <= high:
        suffix = f" ({why})" if why else ""
        raise UsageError(f"{option} must be {low}..{high}{suffix}, not {value}")


def validate(options: SetupOptions, today: dt.date | None = None) -> list[str]:
    """Raise UsageError for what AWS would reject; return warnings for the rest.

    The runtime is checked as for an update here (its later block date); whether the
    function is new is known only once the stack is read (:func:`check_new_function`).
    """
    _in_range("--timeout", options.timeout_s, 1, 900, "Lambda's limit in seconds")
    _in_range("--memory", options.memory_mb, 128, 10240, "MB")
    _in_range("--batch-size", options.batch_size, 1, 10, "the FIFO event source mapping's limit")
    _in_range("--max-receive-count", options.max_receive_count, 1, 1000)
    _in_range("--visibility-timeout", options.visibility, 0, 43200, "seconds")
    if options.visibility < options.timeout_s:
        raise UsageError(
            f"--visibility-timeout {options.visibility} is below the function timeout "
            f"{options.timeout_s}: AWS rejects the trigger",
            f"use at least {options.timeout_s} (recommended {6 * options.timeout_s})",
        )
    if options.max_concurrency is not None:
        _in_range("--max-concurrency", options.max_concurrency, 2, 1000)
    if options.log_retention_days not in LOG_RETENTION_DAYS:
        raise UsageError(
            f"--log-retention-days {options.log_retention_days} is not a CloudWatch Logs value",
            "use one of " + ", ".join(str(d) for d in LOG_RETENTION_DAYS),
        )
    finite(options.lock_ttl_s, "--lock-ttl", low=1, high=MAX_LOCK_TTL_S, unit="s")
    validate_key_source(options.key_source)
    for table in options.effect_tables:
        if not _TABLE_RE.fullmatch(table):
            raise UsageError(
                f"--effects-table {table!r} is not a DynamoDB table name",
                "use 3-255 characters: letters, digits, '_', '-', '.'",
            )
    if options.notify_email is not None and not _EMAIL_RE.fullmatch(options.notify_email):
        raise UsageError(f"--notify-email {options.notify_email!r} is not an email address")
    warnings = []
    runtime_warning = check_runtime(options.runtime, creating=False, today=today or today_utc())
    if runtime_warning:
        warnings.append(runtime_warning)
    if options.visibility < RECOMMENDED_VISIBILITY_FACTOR * options.timeout_s:
        warnings.append(
            f"visibility timeout {options.visibility}s is below AWS's recommended 6x the "
            f"function timeout ({RECOMMENDED_VISIBILITY_FACTOR * options.timeout_s}s)"
        )
    if options.max_receive_count < RECOMMENDED_MAX_RECEIVE_COUNT:
        warnings.append(
            f"max receive count {options.max_receive_count} is below AWS's recommended "
            f"{RECOMMENDED_MAX_RECEIVE_COUNT}: throttling alone may dead-letter messages"
        )
    return warnings


def check_new_function(options: SetupOptions, today: dt.date | None = None) -> None:
    """A new function needs a runtime AWS still lets you create (UsageError if not)."""
    check_runtime(options.runtime, creating=True, today=today or today_utc())


def validate_key_source(text: str) -> str:
    """The consumer's own parser decides (:func:`sqsidem.validate.key_source`)."""
    key_source(text)
    return text
