"""The loopback delay proxy used by the benchmarks and the proof tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.netdelay import DelayProxy, Fault


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    """A tiny echo server on 127.0.0.1: every connection gets its bytes back."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()

    def echo(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(65536):
                conn.sendall(data)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield ("127.0.0.1", int(listener.getsockname()[1]))
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def _round_trip(port: int, payload: bytes = b"ping") -> tuple[bytes, float]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received, time.monotonic() - started


def test_round_trip_gets_the_added_delay(echo_server: tuple[str, int]) -> None:
    with DelayProxy(echo_server, round_trip_s=0.05) as proxy:
        answer, elapsed = _round_trip(proxy.port)
    assert answer == b"ping"
    assert elapsed >= 0.05
    assert proxy.stats.connections == 1
    assert proxy.stats.bytes_up == 4
    assert proxy.stats.bytes_down == 4


def test_direct_round_trip_is_faster_than_the_delay(echo_server: tuple[str, int]) -> None:
    # The baseline that makes the previous test meaningful: loopback itself is fast.
    answer, elapsed = _round_trip(echo_server[1])
    assert answer == b"ping"
    assert elapsed < 0.05


def test_pipelined_chunks_are_delayed_not_serialised(echo_server: tuple[str, int]) -> None:
    # 10 chunks sent back to back arrive after ~one delay, not ten.
    with (
        DelayProxy(echo_server, round_trip_s=0.1) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock,
    ):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.monotonic()
        for _ in range(10):
            sock.sendall(b"x" * 100)
        received = 0
        while received < 1000:
            chunk = sock.recv(65536)
            assert chunk
            received += len(chunk)
        elapsed = time.monotonic() - started
    assert 0.1 <= elapsed < 0.6


def test_fault_resets_the_nth_connection(echo_server: tuple[str, int]) -> None:
    with DelayProxy(echo_server, round_trip_s=0.0, faults=(Fault(connection=2),)) as proxy:
        assert _round_trip(proxy.port)[0] == b"ping"
        with pytest.raises(ConnectionResetError):
            answer, _ = _round_trip(proxy.port)
            # A reset can also show as a clean EOF on some kernels: make that fail too.
            if answer != b"ping":
                raise ConnectionResetError
        assert _round_trip(proxy.port)[0] == b"ping"
    assert proxy.stats.resets == 1
    assert proxy.stats.connections == 3


def test_fault_after_bytes_lets_the_first_bytes_through(echo_server: tuple[str, int]) -> None:
    with (
        DelayProxy(echo_server, round_trip_s=0.0, faults=(Fault(after_bytes=8),)) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock,
    ):
        sock.sendall(b"abcd")
        assert sock.recv(16) == b"abcd"  # 8 bytes crossed: still within the budget
        sock.sendall(b"more")
        with pytest.raises((ConnectionResetError, AssertionError)):
            assert sock.recv(16) == b"more"
    assert proxy.stats.resets == 1


def test_proxy_stops_by_itself(echo_server: tuple[str, int]) -> None:
    proxy = DelayProxy(echo_server, max_lifetime_s=0.2).start()
    deadline = time.monotonic() + 5
    while proxy._thread is not None and proxy._thread.is_alive():
        assert time.monotonic() < deadline
        proxy._thread.join(0.05)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=1).close()


def test_to_url_parses_an_endpoint(echo_server: tuple[str, int]) -> None:
    with DelayProxy.to_url(f"http://127.0.0.1:{echo_server[1]}", round_trip_s=0.0) as proxy:
        assert proxy.url == f"http://127.0.0.1:{proxy.port}"
        assert _round_trip(proxy.port)[0] == b"ping"
