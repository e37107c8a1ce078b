"""A real `sqsidem` child process that a test interrupts with real SIGINTs."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

from tests.backend import child_env, sqsidem_command
from tests.waiting import wait_until


@dataclass
class Child:
    """`python -m sqsidem ...` with its stdout read line by line as it comes."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, endpoint: str, stack: str, *args: str) -> Child:
        process = subprocess.Popen(
            sqsidem_command(endpoint, stack, *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        child = cls(process)
        child.readers = [
            threading.Thread(target=child._read_out, daemon=True),
            threading.Thread(target=child._read_err, daemon=True),
        ]
        for reader in child.readers:
            reader.start()
        return child

    def _read_out(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _read_err(self) -> None:
        assert self.process.stderr is not None
        self.stderr.extend(self.process.stderr)

    def wait_for_lines(self, count: int, timeout_s: float) -> None:
        """Until ``count`` stdout lines came (fails the test at the deadline or at EOF)."""
        deadline = time.monotonic() + timeout_s
        while len(self.stdout) < count:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            assert line is not None, f"the child ended early: {self.finish(5)[1]}"
            self.stdout.append(line)

    def wait_for_stderr(self, text: str, timeout_s: float) -> None:
        """Until ``text`` appeared on stderr (a note the child prints, e.g. on Ctrl-C)."""
        wait_until(lambda: text in "".join(self.stderr), timeout_s, f"{text!r} on stderr")

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def interrupt_and_finish(self, timeout_s: float) -> tuple[int, str, float]:
        """One SIGINT, then the exit code, stderr and the seconds the child took to end."""
        pressed = time.monotonic()
        self.interrupt()
        code, stderr = self.finish(timeout_s)
        return code, stderr, time.monotonic() - pressed

    def finish(self, timeout_s: float) -> tuple[int, str]:
        """Exit code and stderr; the rest of stdout lands in ``stdout``."""
        try:
            code = self.process.wait(timeout=timeout_s)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        for reader in self.readers:
            reader.join(timeout_s)
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.stdout.append(line)
        return code, "".join(self.stderr)
