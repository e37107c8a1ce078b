"""Setup options: what AWS would reject is a UsageError (exit 2); below advice is a warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqsidem.build.sources import parse_processor
from sqsidem.errors import UsageError
from sqsidem.stack.options import SetupOptions, validate


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (SetupOptions(batch_size=0), "--batch-size"),
        (SetupOptions(effect_tables=("no",)), "--effects-table"),
        (SetupOptions(effect_tables=("bad name",)), "--effects-table"),
        (SetupOptions(batch_size=11), "--batch-size"),
        (SetupOptions(timeout_s=0), "--timeout"),
        (SetupOptions(timeout_s=901), "--timeout"),
        (SetupOptions(memory_mb=127), "--memory"),
        (SetupOptions(memory_mb=10241), "--memory"),
        (SetupOptions(max_receive_count=0), "--max-receive-count"),
        (SetupOptions(max_receive_count=1001), "--max-receive-count"),
        (SetupOptions(timeout_s=10, visibility_timeout_s=9), "below the function timeout"),
        (SetupOptions(max_concurrency=1), "--max-concurrency"),
        (SetupOptions(max_concurrency=1001), "--max-concurrency"),
        (SetupOptions(log_retention_days=2), "--log-retention-days"),
        (SetupOptions(runtime="python3.9"), "--runtime"),
        (SetupOptions(notify_email="not-an-email"), "--notify-email"),
        (SetupOptions(key_source="body:"), "--key"),
        (SetupOptions(key_source="whatever"), "--key"),
        (SetupOptions(lock_ttl_s=0), "--lock-ttl"),
    ],
)
def test_rejected_values(options: SetupOptions, fragment: str) -> None:
    """Each value AWS would refuse fails before any AWS call, naming the option."""
    with pytest.raises(UsageError) as caught:
        validate(options)
    assert fragment in caught.value.one_line()
    assert caught.value.exit_code == 2


def test_defaults_are_clean() -> None:
    """The tutorial's defaults: no warning, visibility 6x timeout."""
    options = SetupOptions()
    assert validate(options) == []
    assert options.visibility == 18


def test_below_recommendations_warn_and_go_on() -> None:
    """Visibility below 6x timeout and max receive count below 5: one warning each."""
    warnings = validate(SetupOptions(timeout_s=2, visibility_timeout_s=4, max_receive_count=2))
    assert len(warnings) == 2
    assert "6x" in warnings[0] and "recommended 5" in warnings[1]


def test_accepted_key_sources() -> None:
    """dedup, message-id and body:<field> are key sources."""
    for key in ("dedup", "message-id", "body:order_id"):
        validate(SetupOptions(key_source=key))


def test_processor_file_is_read_not_run(tmp_path: Path) -> None:
    """The processor is checked with ast: defined function OK, code never executed."""
    source = tmp_path / "proc.py"
    source.write_text("raise SystemExit('must not run')\n\ndef handle(record):\n    pass\n")
    ref = parse_processor(f"{source}:handle")
    assert ref.spec == "sqsidem_processor:handle"
    assert ref.path == source.resolve()


@pytest.mark.parametrize(
    ("body", "spec_suffix", "fragment"),
    [
        ("def other(r):\n    pass\n", ":handle", "defines no top-level function"),
        ("async def handle(r):\n    pass\n", ":handle", "defines no top-level function"),
        ("def handle(:\n", ":handle", "syntax error"),
        ("def handle(r):\n    pass\n", "", "is not path/file.py:function"),
        ("def handle(r):\n    pass\n", ":1bad", "is not path/file.py:function"),
    ],
)
def test_bad_processor(tmp_path: Path, body: str, spec_suffix: str, fragment: str) -> None:
    """Missing function, syntax error or malformed spec: a clear UsageError."""
    source = tmp_path / "proc.py"
    source.write_text(body)
    with pytest.raises(UsageError) as caught:
        parse_processor(f"{source}{spec_suffix}")
    assert fragment in caught.value.one_line()


def test_missing_processor_file(tmp_path: Path) -> None:
    """A file that does not exist is a usage error, not a traceback."""
    with pytest.raises(UsageError, match="cannot read"):
        parse_processor(f"{tmp_path / 'nope.py'}:handle")
    with pytest.raises(UsageError, match=r"not a \.py file"):
        parse_processor(f"{tmp_path / 'nope.txt'}:handle")
