"""Reading and following log events against moto (and Stubber for AWS-only answers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from botocore.stub import Stubber

from sqsidem.aws import Aws
from sqsidem.errors import NotFoundError
from sqsidem.logtail import (
    EventFilter,
    FollowState,
    follow_events,
    log_group_for,
    read_events,
)

GROUP = "/aws/lambda/s-sqs-receive"


def put(aws: Aws, stream: str, timestamp: int, *messages: str) -> None:
    aws.logs.put_log_events(
        logGroupName=GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": timestamp, "message": m} for m in messages],
    )


def make_group(aws: Aws, *streams: str) -> None:
    aws.logs.create_log_group(logGroupName=GROUP)
    for stream in streams:
        aws.logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_read_events_filters_on_client(moto_aws: Aws) -> None:
    """Events since a time, filtered by term and transaction on the client."""
    make_group(moto_aws, "s1")
    t = now_ms()
    put(moto_aws, "s1", t - 60_000, "old line")
    put(
        moto_aws,
        "s1",
        t,
        "START RequestId: r1",
        '{"sqsidem": 1, "decision": "acquired", "transaction_id": "k1"}',
        '{"sqsidem": 1, "decision": "completed", "transaction_id": "k1"}',
        '{"sqsidem": 1, "decision": "acquired", "transaction_id": "k2"}',
    )
    recent = list(read_events(moto_aws.logs, GROUP, start_ms=t - 1000))
    assert len(recent) == 4
    mine = list(
        read_events(moto_aws.logs, GROUP, start_ms=t - 1000, where=EventFilter(transaction="k1"))
    )
    assert [e.decision["decision"] for e in mine if e.decision] == ["acquired", "completed"]


def test_missing_group_is_not_found(moto_aws: Aws) -> None:
    """Reading a group that does not exist is NotFoundError (exit 1)."""
    with pytest.raises(NotFoundError, match="does not exist"):
        list(read_events(moto_aws.logs, "/aws/lambda/none", start_ms=0))


def test_log_group_default_for_missing_function(moto_aws: Aws) -> None:
    """No function (or no LoggingConfig, as on moto): /aws/lambda/<function>."""
    assert log_group_for(moto_aws.lambda_, "nofn") == "/aws/lambda/nofn"


def test_log_group_from_logging_config(moto_aws: Aws) -> None:
    """LoggingConfig.LogGroup wins (moto drops it, so the answer is stubbed)."""
    client = moto_aws.lambda_
    with Stubber(client) as stub:
        stub.add_response(
            "get_function_configuration",
            {"FunctionName": "f", "LoggingConfig": {"LogGroup": "/custom/f"}},
        )
        assert log_group_for(client, "f") == "/custom/f"


def test_follow_sees_every_event_once_including_shared_timestamps(moto_aws: Aws) -> None:
    """Events written while following appear exactly once, also several in one millisecond
    and ones that share the millisecond of events already shown."""
    make_group(moto_aws, "a", "b")
    t = now_ms()
    put(moto_aws, "a", t, "first-1", "first-2")
    stop = threading.Event()
    # What the "function" writes before each poll after the first; the same ms repeats.
    writes: list[Callable[[], None]] = [
        lambda: put(moto_aws, "b", t, "same-ms-as-first-1", "same-ms-as-first-2"),
        lambda: put(moto_aws, "a", t + 5, "later-1", "later-2", "later-3"),
        lambda: None,
        lambda: put(moto_aws, "b", t + 5, "same-ms-as-later"),
    ]

    def sleep(_: float) -> None:
        if writes:
            writes.pop(0)()
        else:
            stop.set()

    state = FollowState(cursor_ms=t)
    seen = [
        e.message
        for e in follow_events(
            moto_aws.logs, GROUP, start_ms=t - 1000, stop=stop, sleep=sleep, state=state
        )
    ]
    assert sorted(seen) == sorted(
        [
            "first-1",
            "first-2",
            "same-ms-as-first-1",
            "same-ms-as-first-2",
            "later-1",
            "later-2",
            "later-3",
            "same-ms-as-later",
        ]
    )
    assert len(seen) == len(set(seen))
    assert state.polls == 5


def test_follow_waits_for_the_group_and_backs_off_on_throttling(moto_aws: Aws) -> None:
    """A missing group is waited for; ThrottlingException doubles the wait; no failure."""
    client = moto_aws.logs
    stop = threading.Event()
    sleeps: list[float] = []
    notes: list[str] = []
    with Stubber(client) as stub:
        stub.add_client_error("filter_log_events", "ResourceNotFoundException")
        stub.add_client_error("filter_log_events", "ResourceNotFoundException")
        stub.add_client_error("filter_log_events", "ThrottlingException")
        stub.add_client_error("filter_log_events", "ThrottlingException")
        stub.add_response(
            "filter_log_events",
            {"events": [{"timestamp": 5, "message": "hi", "eventId": "1", "logStreamName": "s"}]},
        )

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)

        events = []
        for event in follow_events(
            client, GROUP, start_ms=0, stop=stop, sleep=sleep, on_waiting=notes.append
        ):
            events.append(event.message)
            stop.set()
    assert events == ["hi"]
    assert sleeps == [1.0, 1.0, 2.0, 4.0]
    assert notes == [f"waiting for log group {GROUP} to appear"]


def test_follow_prunes_seen_ids_outside_the_window(moto_aws: Aws) -> None:
    """The seen-id memory stays bounded: old ids are forgotten once outside the overlap."""
    make_group(moto_aws, "a")
    t = now_ms()
    stop = threading.Event()
    batches = [lambda i=i: put(moto_aws, "a", t + i * 10_000, f"e{i}") for i in range(1, 4)]

    def sleep(_: float) -> None:
        if batches:
            batches.pop(0)()
        else:
            stop.set()

    put(moto_aws, "a", t, "e0")
    got = [
        e.message for e in follow_events(moto_aws.logs, GROUP, start_ms=t, stop=stop, sleep=sleep)
    ]
    assert got == ["e0", "e1", "e2", "e3"]
