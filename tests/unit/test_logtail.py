"""Log events: platform lines, decision parsing, client-side filters."""

from __future__ import annotations

import json

import pytest

from sqsidem.errors import UsageError
from sqsidem.logtail import EventFilter, iso_ms, to_event


def decision(name: str, tid: str) -> str:
    return json.dumps({"sqsidem": 1, "decision": name, "transaction_id": tid, "error": None})


def ev(message: str, stream: str = "2026/01/01/[$LATEST]0123456789abcdef") -> dict[str, object]:
    return {"timestamp": 1_000, "logStreamName": stream, "message": message, "eventId": "e1"}


def test_platform_lines_are_recognised() -> None:
    """START / END / REPORT / INIT_START lines carry their kind; others do not."""
    assert to_event(ev("START RequestId: 1 Version: $LATEST")).platform == "START"
    assert to_event(ev("REPORT RequestId: 1 Duration: 2 ms")).platform == "REPORT"
    assert to_event(ev("INIT_START Runtime Version: python:3.12")).platform == "INIT_START"
    assert to_event(ev("STARTED work")).platform is None


def test_decision_lines_are_parsed_with_prefixes() -> None:
    """A decision line is parsed even behind a log prefix; other JSON is not a decision."""
    line = "2026-01-01T00:00:00Z req-1 INFO " + decision("completed", "t1")
    event = to_event(ev(line + "\n"))
    assert event.decision is not None and event.decision["transaction_id"] == "t1"
    assert event.message.endswith("}")
    assert to_event(ev('{"decision": "completed"}')).decision is None


def test_short_stream_and_time() -> None:
    """Stream names shrink to their last 8 characters; times are UTC ISO with ms."""
    assert to_event(ev("x")).short_stream == "89abcdef"
    assert to_event(ev("x", stream="abc")).short_stream == "abc"
    assert iso_ms(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"


@pytest.mark.parametrize(
    ("where", "message", "expected"),
    [
        (EventFilter("ERROR"), "an ERROR here", True),
        (EventFilter("ERROR"), "an error here", False),  # case-sensitive, like AWS
        (EventFilter("a b"), "b then a", True),
        (EventFilter('"a b"'), "b then a", False),
        (EventFilter("a -b"), "a and b", False),
        (EventFilter(transaction="t1"), decision("acquired", "t1"), True),
        (EventFilter(transaction="t1"), decision("acquired", "t2"), False),
        (EventFilter(transaction="t1"), "t1 mentioned in prose", False),
        (EventFilter(platform=False), "END RequestId: 1", False),
        (EventFilter(platform=False), "hello", True),
    ],
)
def test_filters_on_the_client(where: EventFilter, message: str, expected: bool) -> None:
    """--filter terms, --transaction and --no-platform decide on the client."""
    assert where.matches(to_event(ev(message))) is expected


def test_unbalanced_quote_is_usage_error() -> None:
    """A pattern that cannot be split is a usage error."""
    with pytest.raises(UsageError):
        EventFilter('"open').terms()
