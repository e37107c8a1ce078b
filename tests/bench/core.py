"""What every benchmark shares: figures, the local backend, counted clients, timed children.

Nothing here knows a figure's value: everything is measured when the benchmark runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqsidem.aws import Aws, ClientOptions
from sqsidem.settings import Settings
from tests.backend import REGION, running_ministack, without_aws

ROUND_TRIP_S = 0.010  # the link the issue compares against: about a real AWS region
CLI = [sys.executable, "-m", "sqsidem"]
# Calls that change something, for "a converged setup makes none" (prefix of the operation).
_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Scan", "Query", "Receive", "BatchGet")


class Unavailable(Exception):
    """A benchmark cannot run yet (a command it needs has not landed): ``name n/a (reason)``."""


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str = ""
    ratio: float | None = None
    baseline: str | None = None
    note: str | None = None

    def line(self) -> str:
        if self.value is None:
            return f"{self.name}  n/a  ({self.note or 'not measured'})"
        text = f"{self.name}  {_fmt(self.value)}  {self.unit}".rstrip()
        if self.ratio is not None and self.baseline:
            text += f"  [{self.ratio:.2f}x {self.baseline}]"
        if self.note:
            text += f"  ({self.note})"
        return text


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) >= 1:
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4g}"


@dataclass
class Report:
    """Collects figures and prints each one as soon as it is known."""

    quick: bool
    figures: list[Figure] = field(default_factory=list)
    echo: Callable[[str], None] = print

    def add(
        self,
        name: str,
        value: float | None,
        unit: str = "",
        *,
        baseline: tuple[str, float | None] | None = None,
        note: str | None = None,
    ) -> Figure:
        ratio = None
        label = None
        if baseline is not None and value is not None and baseline[1]:
            label, ratio = baseline[0], value / baseline[1]
        figure = Figure(name, value, unit, ratio, label, note)
        self.figures.append(figure)
        self.echo(figure.line())
        return figure

    def na(self, name: str, reason: str) -> Figure:
        return self.add(name, None, note=reason)

    def as_json(self) -> list[dict[str, Any]]:
        return [asdict(figure) for figure in self.figures]


# -- the local backend -------------------------------------------------------------------------
def clean_env(**extra: str) -> dict[str, str]:
    """Our environment without any AWS or sqsidem setting, plus dummy local credentials."""
    empty = Path(tempfile.gettempdir()) / "sqsidem-bench-no-aws"
    env = without_aws()
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(empty / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_COLOR": "1",
            "TERM": "dumb",
        }
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def local_backend() -> Iterator[str]:
    """A ministack of our own on a free port in a temp dir; yields its endpoint."""
    with (
        tempfile.TemporaryDirectory(prefix="sqsidem-bench-") as root,
        running_ministack(Path(root), clean_env()) as backend,
    ):
        yield backend.endpoint


@dataclass
class Link:
    """The 10 ms link, served by a process of its own (:func:`link_to`)."""

    url: str


@contextlib.contextmanager
def link_to(endpoint: str, round_trip_s: float = ROUND_TRIP_S) -> Iterator[Link]:
    """A :class:`~tests.netdelay.DelayProxy` in front of ``endpoint``, in a child process.

    A network adds latency without taking the client's CPU: in the measured process, the
    proxy's threads would share its interpreter with the consumer's (about 5 ms of CPU per
    10-message worker batch), and charge the link's work to the consumer under test.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.netdelay", endpoint, str(round_trip_s)],
        cwd=Path(__file__).resolve().parents[2],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the link process did not start (exit {child.poll()})")
        yield Link(url)
    finally:
        if child.stdin is not None:
            child.stdin.close()  # the child's read returns: it stops serving
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def make_aws(endpoint: str, *, max_attempts: int = 8, pool: int = 32) -> Aws:
    options = ClientOptions(max_attempts=max_attempts, max_pool_connections=pool)
    return Aws(Settings(local=True, region=REGION), options, endpoint_url=endpoint)


class CountingAws(Aws):
    """An :class:`Aws` whose clients count their API calls by operation (botocore events)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._hooked: set[int] = set()

    def client(self, service: str) -> Any:
        made = super().client(service)
        if id(made) not in self._hooked:
            self._hooked.add(id(made))
            made.meta.events.register("before-call.*.*", self._count)
            made.meta.events.register(
                "provide-client-params.dynamodb.BatchExecuteStatement", self._count_statements
            )
        return made

    def _count_statements(self, params: Any = None, **_: Any) -> None:
        # Each statement of the batch is one item write (counted like a PutItem).
        statements = len((params or {}).get("Statements", []))
        with self._count_lock:
            self.calls[f"dynamodb:{STATEMENTS}"] += statements

    def _count(self, model: Any = None, **_: Any) -> None:
        if model is not None:
            with self._count_lock:
                self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def reset(self) -> Counter[str]:
        with self._count_lock:
            seen = Counter(self.calls)
            self.calls.clear()
        return seen

    def with_options(self, **changes: Any) -> Aws:
        # Siblings share the counter so calls made through them are counted too.
        from dataclasses import replace

        sibling = CountingAws(
            self.settings, replace(self.options, **changes), endpoint_url=self.endpoint_url
        )
        sibling.calls = self.calls
        sibling._count_lock = self._count_lock
        return sibling


def counting_aws(endpoint: str) -> CountingAws:
    return CountingAws(Settings(local=True, region=REGION), ClientOptions(), endpoint_url=endpoint)


def is_mutating(operation: str) -> bool:
    name = operation.split(":", 1)[-1]
    return not name.startswith(_READ_PREFIXES)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def fresh_fifo_queue(aws: Aws, prefix: str) -> str:
    """A new FIFO queue (the emulator's FIFO sends slow down with recent dedup ids)."""
    return aws.sqs.create_queue(
        QueueName=f"{unique(prefix)}.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]


def body_of(seq: int) -> str:
    """A ~200-byte JSON body, like the tutorial's test message."""
    head = json.dumps({"transaction_id": uuid.uuid4().hex, "seq": seq, "pad": ""})
    return head[:-2] + "x" * max(0, 200 - len(head)) + '"}'


# -- children --------------------------------------------------------------------------------
@dataclass
class ChildRun:
    returncode: int
    stdout_lines: list[str]
    stderr: str
    wall_s: float
    first_line_s: float | None
    max_rss_mb: float

    def ok(self) -> bool:
        return self.returncode == 0

    def why(self) -> str:
        tail = self.stderr.strip().splitlines()
        return f"exit {self.returncode}: {tail[-1] if tail else 'no stderr'}"[:200]


def run_child(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout_s: float = 600.0,
    keep_stdout: bool = True,
) -> ChildRun:
    """Run a child, reading stdout line by line (time to first line), with its own peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env if env is not None else clean_env(),
        cwd=tempfile.gettempdir(),  # no sqsidem.toml of the repository is picked up
        text=True,
        bufsize=1,
    )
    lines: list[str] = []
    first: list[float] = []
    errors: list[str] = []
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout, process.stderr

    def drain_err() -> None:
        errors.append(err.read())

    reader = threading.Thread(target=drain_err, daemon=True)
    reader.start()
    killer = threading.Timer(timeout_s, process.kill)
    killer.start()
    try:
        for line in out:
            if not first:
                first.append(time.perf_counter() - started)
            if keep_stdout:
                lines.append(line.rstrip("\n"))
            else:
                lines.append("")
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix all children).
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        killer.cancel()
    reader.join(10)
    return ChildRun(
        returncode=process.returncode,
        stdout_lines=lines,
        stderr="".join(errors),
        wall_s=wall,
        first_line_s=first[0] if first else None,
        max_rss_mb=usage.ru_maxrss / 1024.0,
    )


def cli(endpoint: str | None, *args: str, stack: str | None = None) -> list[str]:
    argv = list(CLI)
    if endpoint is not None:
        argv += ["--endpoint-url", endpoint]
    if stack is not None:
        argv += ["--stack", stack]
    return argv + list(args)


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` that is a JSON object (stderr mixes summaries and progress)."""
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                value = json.loads(line)
                if isinstance(value, dict):
                    found.append(value)
    return found


# -- which commands exist --------------------------------------------------------------------
def command_options(*path: str) -> set[str] | None:
    """The option names of ``sqsidem <path...>``, or None when that command does not exist."""
    import typer.main

    from sqsidem.cli.app import app

    command: Any = typer.main.get_command(app)
    for name in path:
        commands = getattr(command, "commands", None)
        if not commands or name not in commands:
            return None
        command = commands[name]
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def require_command(*path: str, options: Sequence[str] = ()) -> set[str]:
    found = command_options(*path)
    if found is None:
        raise Unavailable(f"`sqsidem {' '.join(path)}` does not exist yet")
    missing = [option for option in options if option not in found]
    if missing:
        raise Unavailable(f"`sqsidem {' '.join(path)}` has no {', '.join(missing)}")
    return found


# -- small helpers ---------------------------------------------------------------------------
def best_of(runs: int, action: Callable[[], float]) -> float:
    return min(action() for _ in range(runs))


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def wait_until(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)
    return condition()


_STARTUP_CACHE: dict[str, float] = {}


def interpreter_start_s() -> float:
    """`python -m sqsidem --version` (best of 3): what a CLI run pays before its own work."""
    if "version" not in _STARTUP_CACHE:
        _STARTUP_CACHE["version"] = best_of(3, lambda: run_child(cli(None, "--version")).wall_s)
    return _STARTUP_CACHE["version"]


# The DynamoDB operations that write (counted per message, never assumed).
DYNAMODB_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)


# What :class:`CountingAws` counts for the statements of BatchExecuteStatement calls.
STATEMENTS = "BatchExecuteStatement.statements"


def writes_in(calls: dict[str, int]) -> int:
    """How many of ``calls`` (``service:Operation`` -> count) were DynamoDB writes: a write
    call each, and each statement of a PartiQL batch (the locks' INSERTs)."""
    return sum(n for op, n in calls.items() if op.split(":")[-1] in DYNAMODB_WRITES | {STATEMENTS})
