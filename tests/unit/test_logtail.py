"""Log events: platform lines, decision parsing, client-side filters."""

from __future__ import annotations

import json

import pytest

from sqsidem.errors import UsageError
from sqsidem.logfields import parse_where
from sqsidem.logtail import EventCursor, EventFilter, iso_ms, to_event


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


@pytest.mark.parametrize(
    ("where", "pattern"),
    [
        (["decision=failed"], '{ ($.sqsidem = 1) && ($.decision = "failed") }'),
        (
            ["decision=failed", "group_id!=orders-a"],
            '{ ($.sqsidem = 1) && ($.decision = "failed") && ($.group_id != "orders-a") }',
        ),
        (
            ["receive_count=3"],
            '{ ($.sqsidem = 1) && ($.receive_count = 3 || $.receive_count = "3") }',
        ),
        (["group_id=orders-*"], '{ ($.sqsidem = 1) && ($.group_id = "orders-*") }'),
        (["group_id!=orders-*"], "{ ($.sqsidem = 1) }"),  # a wildcard would drop kept lines
        (['error=say "hi"'], "{ ($.sqsidem = 1) }"),  # no documented escape for quotes
        (["error=null"], "{ ($.sqsidem = 1) && ($.error IS NULL || $.error NOT EXISTS) }"),
        (["error!=null"], "{ ($.sqsidem = 1) }"),
        (["decision="], '{ ($.sqsidem = 1) && ($.decision = "") }'),
    ],
)
def test_where_server_pattern(where: list[str], pattern: str) -> None:
    """--where becomes a CloudWatch JSON filter pattern, only where it cannot drop a line."""
    assert EventFilter(fields=parse_where(where)).server_pattern() == pattern


def test_where_with_transaction_joins_the_json_pattern() -> None:
    """--transaction and --where together make one JSON pattern (not a text term)."""
    where = EventFilter(transaction="t1", fields=parse_where(["decision=completed"]))
    assert where.server_pattern() == (
        '{ ($.sqsidem = 1) && ($.transaction_id = "t1") && ($.decision = "completed") }'
    )


def _line(**fields: object) -> str:
    return json.dumps({"sqsidem": 1, "decision": "failed", "error": None, **fields})


@pytest.mark.parametrize(
    ("where", "message", "expected"),
    [
        (["decision=failed"], _line(), True),
        (["decision=completed"], _line(), False),
        (["decision!=completed"], _line(), True),
        (["group_id=orders-*"], _line(group_id="orders-a"), False),  # exact on the client
        (["group_id=orders-*"], _line(group_id="orders-*"), True),
        (["receive_count=3"], _line(receive_count=3), True),
        (["receive_count=3"], _line(receive_count="3"), True),
        (["receive_count!=3"], _line(receive_count=4), True),
        (["error=null"], _line(), True),
        (["blocked_by=null"], _line(), True),  # absent counts as null
        (["error!=null"], _line(), False),
        (["decision=failed"], "failed but not a decision line", False),
        (["decision=Failed"], _line(), False),  # case-sensitive, unlike ministack's text match
    ],
)
def test_where_matches_on_the_client(where: list[str], message: str, expected: bool) -> None:
    """The client applies every --where test exactly, whatever the server did."""
    assert EventFilter(fields=parse_where(where)).matches(to_event(ev(message))) is expected


@pytest.mark.parametrize("text", ["decision", "=failed", "$.decision=failed", "a b=c"])
def test_bad_where_is_usage_error(text: str) -> None:
    """A --where without FIELD=VALUE, or with a field that is not a plain key, exits 2."""
    with pytest.raises(UsageError):
        parse_where([text])


def test_cursor_tells_apart_events_without_event_ids() -> None:
    """ministack sends no eventId: twins of one millisecond stay distinct, re-reads drop."""
    raw = [
        {"timestamp": 5, "logStreamName": "s", "message": "same"},
        {"timestamp": 5, "logStreamName": "s", "message": "same"},
        {"timestamp": 5, "logStreamName": "s", "message": "other"},
    ]
    cursor = EventCursor(start_ms=0)
    assert [e.message for e in cursor.take(raw)] == ["same", "same", "other"]
    later = {"timestamp": 6, "logStreamName": "s", "message": "same"}
    assert [e.message for e in cursor.take([*raw, later])] == ["same"]
