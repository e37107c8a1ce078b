"""A loopback TCP proxy that makes 127.0.0.1 behave like a network: latency and faults.

Each direction of each connection is a *delay line*: a reader thread stamps every chunk it
receives with ``now + delay`` and a writer thread forwards it no earlier than that. So a
request/response round trip gets ``round_trip_s`` added (half each way) while pipelined
chunks are not serialised behind one another's sleep, as on a real link.

Faults for the proof tests: a :class:`Fault` resets (TCP RST via ``SO_LINGER 0``) the N-th
accepted connection, or every connection, once K bytes have crossed it in either direction.

Bounded: it binds 127.0.0.1 only, every thread is a daemon, the accept loop wakes up every
0.1 s to check for a stop, and the proxy shuts itself down after ``max_lifetime_s``.

    with DelayProxy(("127.0.0.1", 4566), round_trip_s=0.010) as proxy:
        boto3.client("sqs", endpoint_url=proxy.url)
"""

from __future__ import annotations

import contextlib
import queue
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

HOST = "127.0.0.1"
_CHUNK = 65536
_ACCEPT_POLL_S = 0.1


@dataclass(frozen=True)
class Fault:
    """Reset connection number ``connection`` (1-based; None: every one) after ``after_bytes``."""

    connection: int | None = None
    after_bytes: int = 0


@dataclass
class ProxyStats:
    connections: int = 0
    resets: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    chunks: int = 0
    mutex: threading.Lock = field(default_factory=threading.Lock, repr=False)


def _hard_close(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN, which is what a dropped link looks like."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # SHUT_RD wakes a thread blocked in recv() on this socket without sending a FIN, so the
    # close below really happens (and sends the RST) instead of waiting for that recv.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


class _Connection:
    """One proxied connection: two delay lines and the fault that applies to it, if any."""

    def __init__(
        self, proxy: DelayProxy, number: int, client: socket.socket, upstream: socket.socket
    ) -> None:
        self.proxy = proxy
        self.number = number
        self.client = client
        self.upstream = upstream
        self.closed = threading.Event()
        self.crossed = 0
        self.finished = 0
        self.mutex = threading.Lock()

    def start(self) -> None:
        one_way = self.proxy.round_trip_s / 2
        for source, target, up in (
            (self.client, self.upstream, True),
            (self.upstream, self.client, False),
        ):
            line: queue.Queue[tuple[float, bytes] | None] = queue.Queue()
            ends: tuple[tuple[str, Callable[..., None], tuple[object, ...]], ...] = (
                ("read", self._read, (source, line, one_way)),
                ("write", self._write, (target, line, up)),
            )
            for role, run, args in ends:
                threading.Thread(
                    target=run,
                    args=args,
                    daemon=True,
                    name=f"netdelay-{self.number}-{'up' if up else 'down'}-{role}",
                ).start()

    def _read(
        self, source: socket.socket, line: queue.Queue[tuple[float, bytes] | None], delay: float
    ) -> None:
        try:
            while not self.closed.is_set():
                data = source.recv(_CHUNK)
                if not data:
                    break
                line.put((time.monotonic() + delay, data))
        except OSError:
            pass
        line.put(None)

    def _write(
        self, target: socket.socket, line: queue.Queue[tuple[float, bytes] | None], up: bool
    ) -> None:
        try:
            while True:
                item = line.get()
                if item is None:
                    # The other side finished sending: pass the half-close on.
                    with contextlib.suppress(OSError):
                        target.shutdown(socket.SHUT_WR)
                    self._direction_done()
                    return
                due, data = item
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if self.closed.is_set():
                    break
                if self._fault_hits(len(data)):
                    self.reset()
                    break
                target.sendall(data)
                self.proxy._count(len(data), up)
        except OSError:
            self.close()

    def _direction_done(self) -> None:
        # Both directions ended cleanly: release the sockets.
        with self.mutex:
            self.finished += 1
            both = self.finished == 2
        if both:
            self.close()

    def _fault_hits(self, size: int) -> bool:
        with self.mutex:
            self.crossed += size
            crossed = self.crossed
        fault = self.proxy._fault_for(self.number)
        return fault is not None and crossed > fault.after_bytes

    def reset(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        with self.proxy.stats.mutex:
            self.proxy.stats.resets += 1
        _hard_close(self.client)
        _hard_close(self.upstream)

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.close()


class DelayProxy:
    """Forward 127.0.0.1:<port> to ``upstream`` with a fixed added latency (and faults)."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        round_trip_s: float = 0.010,
        faults: tuple[Fault, ...] = (),
        max_lifetime_s: float = 900.0,
        port: int = 0,
    ) -> None:
        if round_trip_s < 0:
            raise ValueError("round_trip_s must be >= 0")
        self.upstream = upstream
        self.round_trip_s = round_trip_s
        self.max_lifetime_s = max_lifetime_s
        self.stats = ProxyStats()
        self._faults = list(faults)
        self._fault_mutex = threading.Lock()
        self._stop = threading.Event()
        self._connections: list[_Connection] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, port))
        self._listener.listen(128)
        self._listener.settimeout(_ACCEPT_POLL_S)
        self.port: int = int(self._listener.getsockname()[1])
        self._thread: threading.Thread | None = None

    @classmethod
    def to_url(cls, endpoint: str, **kwargs: object) -> DelayProxy:
        """A proxy in front of ``http://host:port`` (an emulator's endpoint URL)."""
        hostport = endpoint.split("://", 1)[-1].split("/", 1)[0]
        host, _, port = hostport.rpartition(":")
        return cls((host or HOST, int(port)), **kwargs)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def add_fault(self, fault: Fault) -> None:
        with self._fault_mutex:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._fault_mutex:
            self._faults.clear()

    def _fault_for(self, number: int) -> Fault | None:
        with self._fault_mutex:
            for fault in self._faults:
                if fault.connection is None or fault.connection == number:
                    return fault
        return None

    def _count(self, size: int, up: bool) -> None:
        with self.stats.mutex:
            self.stats.chunks += 1
            if up:
                self.stats.bytes_up += size
            else:
                self.stats.bytes_down += size

    def start(self) -> DelayProxy:
        self._thread = threading.Thread(target=self._serve, name="netdelay-accept", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        deadline = time.monotonic() + self.max_lifetime_s
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    client, _ = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    break
                self._open(client)
        finally:
            self._shutdown()

    def _open(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=5.0)
        except OSError:
            _hard_close(client)
            return
        upstream.settimeout(None)
        client.settimeout(None)
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.stats.mutex:
            self.stats.connections += 1
            number = self.stats.connections
        connection = _Connection(self, number, client, upstream)
        self._connections.append(connection)
        connection.start()

    def _shutdown(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        for connection in self._connections:
            connection.close()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        else:
            self._shutdown()

    def __enter__(self) -> DelayProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.netdelay ENDPOINT ROUND_TRIP_S``: a proxy in a process of its own.

    Prints its URL, then serves until its standard input closes (its parent ended) or an
    hour passed. The benchmarks use it so the link's threads do not share the measured
    process's interpreter, as a network does not.
    """
    import sys

    args = sys.argv[1:] if argv is None else argv
    endpoint, round_trip_s = args[0], float(args[1])
    with DelayProxy.to_url(endpoint, round_trip_s=round_trip_s, max_lifetime_s=3600) as proxy:
        print(proxy.url, flush=True)
        sys.stdin.read()  # returns at EOF: the parent closed the pipe or ended
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
