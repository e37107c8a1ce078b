"""A worker stopped (Ctrl-C) while a receive is on the wire: what that receive brings back is
not new work. It is made visible again at once, and a long poll that does not answer in
time is left behind instead of holding the stop for up to 20 s."""

from __future__ import annotations

import threading
from typing import Any

from sqsidem.aws import Aws, ClientOptions
from sqsidem.settings import Settings
from tests.backend import REGION
from tests.functional.support_consumer import Recorder
from tests.functional.support_worker import counts, make_queue, send, work
from tests.waiting import wait_until

MESSAGES = 4


def _hooked(on_receive: Any) -> Aws:
    """Clients on the same moto mock whose ReceiveMessage first runs ``on_receive``."""

    def hook(service: str, client: Any) -> None:
        if service == "sqs":
            client.meta.events.register("before-call.sqs.ReceiveMessage", on_receive)

    return Aws(Settings(region=REGION), ClientOptions(max_attempts=2), on_client=hook)


def _queue_with_messages(aws: Aws) -> str:
    url = make_queue(aws)
    for n in range(MESSAGES):
        send(aws, url, f"m{n}", group=f"g{n}")
    return url


def test_a_receive_answered_after_ctrl_c_is_handed_back_not_processed(moto_aws: Aws) -> None:
    """Ctrl-C lands while the receive is on the wire: its messages are visible at once."""
    url = _queue_with_messages(moto_aws)
    stop = threading.Event()

    def ctrl_c_now(**_: Any) -> None:
        stop.set()  # the call itself goes on and returns the messages

    processor = Recorder()
    stats = work(_hooked(ctrl_c_now), url, processor, stop=stop, idle_exit_s=None, batch_size=10)
    assert (stats.released, stats.received, stats.processed, stats.polls_left) == (4, 0, 0, 0)
    assert processor.calls == []
    assert counts(moto_aws, url) == (MESSAGES, 0)


def test_a_long_poll_that_does_not_answer_is_left_and_handed_back_later(moto_aws: Aws) -> None:
    """The stop does not wait for a receive held past the grace; once it answers, its
    messages are visible again at once (not after the visibility timeout)."""
    url = _queue_with_messages(moto_aws)
    stop, answer = threading.Event(), threading.Event()

    def held_past_the_grace(**_: Any) -> None:
        stop.set()
        answer.wait(30)

    stats = work(_hooked(held_past_the_grace), url, Recorder(), stop=stop, idle_exit_s=None)
    assert not answer.is_set(), "the run waited for the held receive"
    assert (stats.polls_left, stats.received, stats.stop_reason) == (1, 0, "stopped")
    answer.set()
    wait_until(lambda: counts(moto_aws, url) == (MESSAGES, 0), 10, "the messages handed back")
