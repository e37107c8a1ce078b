"""The recorded setup options as Lambda tag values (issue 15, item 6)."""

from __future__ import annotations

from sqsidem.stack.options import SetupOptions
from sqsidem.stack.recorded import OPTIONS, from_tag_value, recorded_tags, tag_value


def test_tag_values_round_trip_whatever_a_path_holds() -> None:
    """Lambda allows letters, digits, spaces and _ . : / = + - @; anything else is encoded."""
    for text in ("src:app.handle", "~/work/äpp (1)/app.py:handle", "a,b", ""):
        value = tag_value(text)
        assert value is not None and len(value) <= 256
        assert from_tag_value(value) == text
    assert tag_value("x" * 300) is None  # too long even encoded: not recorded


def test_every_option_reads_back_what_it_records() -> None:
    """Each recorded value parses back to the option's value, defaults and tuned alike."""
    tuned = SetupOptions(
        timeout_s=7, visibility_timeout_s=50, max_concurrency=4, content_dedup=True,
        effect_tables=("Orders", "Stock"), key_source="body:order_id",
    )  # fmt: skip
    for options in (SetupOptions(), tuned):
        tags = recorded_tags(options)
        for option in OPTIONS:
            value = option.read(from_tag_value(tags[option.tag]))
            assert value == getattr(options, option.field), option.flag
