"""The only module that prints (STYLE habit 6): data to stdout, everything else to stderr.

Human mode draws with rich; ``--output json`` writes one JSON object (or JSON Lines for
streaming commands, DESIGN 6.6) and keeps stdout free of anything else.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

OK_MARK = "✓"
FAIL_MARK = "✗"
WARN_MARK = "!"


# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on some terminals) and the bidi
# overrides that reorder what a reader sees: never sent raw to a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What json.dumps leaves raw (it escapes only C0): escaped too, the JSON value is the same.
_JSON_RAW_CONTROL = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: object) -> str:
    """A string from outside (key, body, group id, AWS error) made safe for a terminal:
    every control character shown as a visible escape (``\\x1b``, ``\\n``)."""
    return _CONTROL.sub(_escaped, text_of(text))


def text_of(value: object) -> str:
    """Any value as text, never raising: binary as ``b64:...`` (boto3's Binary has a
    ``__str__`` that returns bytes)."""
    binary = value if isinstance(value, bytes) else getattr(value, "value", None)
    if isinstance(binary, bytes):
        import base64

        return "b64:" + base64.b64encode(binary).decode("ascii")
    try:
        return str(value)
    except Exception:  # a foreign object's broken __str__
        return repr(value)


def _keep_lines(text: str) -> str:
    """Our own text: escapes what could drive the terminal, keeps its line breaks."""
    return "\n".join(escape(line) for line in str(text).split("\n"))


def _json_default(value: object) -> object:
    # Imported here: every command imports this module, few print JSON (start-up, issue 11).
    import base64
    from datetime import date, datetime
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    binary = getattr(value, "value", None)
    if isinstance(
        binary, bytes
    ):  # boto3's Binary (a DynamoDB B attribute): as the AWS CLI shows it
        return base64.b64encode(binary).decode("ascii")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(obj: object) -> str:
    import json

    text = json.dumps(obj, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    return _JSON_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


@dataclass
class ProgressHandle:
    """What a long operation reports to; a no-op when nobody watches (json, pipes)."""

    _progress: Progress | None = None
    _task: TaskID | None = None
    done: int = 0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, n)

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        if self._progress is not None and self._task is not None:
            kwargs: dict[str, Any] = {}
            if total is not None:
                kwargs["total"] = total
            if description is not None:
                kwargs["description"] = description
            self._progress.update(self._task, **kwargs)


class Renderer:
    def __init__(
        self,
        output: str = "human",
        *,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.output = output
        self._stdout = stdout
        self._stderr = stderr
        self._interactive = interactive
        self._out_console: Console | None = None
        self._err_console: Console | None = None

    # -- streams -----------------------------------------------------------------------
    @property
    def json(self) -> bool:
        return self.output == "json"

    @property
    def stdout(self) -> IO[str]:
        return self._stdout or sys.stdout

    @property
    def stderr(self) -> IO[str]:
        return self._stderr or sys.stderr

    def _console(self, *, err: bool) -> Console:
        from rich.console import Console

        stream = self.stderr if err else self.stdout
        cached = self._err_console if err else self._out_console
        if cached is None or cached.file is not stream:
            terminal = stream.isatty()
            cached = Console(
                file=stream,
                width=None if terminal else 200,
                highlight=False,
                soft_wrap=not terminal,
                emoji=False,  # text from outside (keys, bodies) is shown as it is: no :codes:
            )
            if err:
                self._err_console = cached
            else:
                self._out_console = cached
        return cached

    def err_console(self) -> Console:
        """The stderr console (prompts, live views)."""
        return self._console(err=True)

    @property
    def interactive(self) -> bool:
        """Whether a person is at the terminal (prompts, progress bars)."""
        if self._interactive is not None:
            return self._interactive
        return sys.stdin.isatty() and self.stderr.isatty()

    # -- data (stdout) -----------------------------------------------------------------
    def emit(self, obj: Mapping[str, Any] | Sequence[Any]) -> None:
        """One JSON document (non-streaming commands in json mode)."""
        self.stdout.write(to_json(obj) + "\n")
        self.stdout.flush()

    def emit_line(self, obj: Mapping[str, Any]) -> None:
        """One JSON Lines record (streaming commands in json mode): the same compact line."""
        self.emit(obj)

    def line(self, text: str = "", style: str | None = None) -> None:
        """Plain human output on stdout (no markup interpretation)."""
        self._console(err=False).print(
            _keep_lines(text), style=style, markup=False, highlight=False
        )

    def markup(self, text: str) -> None:
        self._console(err=False).print(text, highlight=False)

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        title: str | None = None,
        styles: Sequence[str | None] | None = None,
    ) -> None:
        from rich.table import Table

        table = Table(title=title, title_justify="left", header_style="bold")
        for index, name in enumerate(columns):
            style = styles[index] if styles and index < len(styles) else None
            table.add_column(name, style=style, overflow="fold")
        for row in rows:
            table.add_row(*("" if cell is None else escape(cell) for cell in row))
        self._console(err=False).print(table)

    def stream_header(self, columns: Sequence[tuple[str, int]]) -> None:
        """Header of a table printed row by row (streaming lists)."""
        self._console(err=False).print(
            self._format_row([name for name, _ in columns], columns), style="bold", markup=False
        )

    def stream_row(
        self, cells: Sequence[Any], columns: Sequence[tuple[str, int]], style: str | None = None
    ) -> None:
        self._console(err=False).print(
            self._format_row(cells, columns), style=style, markup=False, highlight=False
        )

    @staticmethod
    def _format_row(cells: Sequence[Any], columns: Sequence[tuple[str, int]]) -> str:
        parts = []
        for index, (cell, (_, width)) in enumerate(zip(cells, columns, strict=False)):
            text = "" if cell is None else escape(cell)
            last = index == len(columns) - 1
            parts.append(text if last else text[:width].ljust(width))
        return "  ".join(parts).rstrip()

    # -- messages (stderr) ---------------------------------------------------------------
    def info(self, text: str) -> None:
        self._console(err=True).print(_keep_lines(text), markup=False, highlight=False)

    def note(self, text: str) -> None:
        self._console(err=True).print(_keep_lines(text), style="dim", markup=False, highlight=False)

    def success(self, text: str) -> None:
        self._console(err=True).print(f"{OK_MARK} {_keep_lines(text)}", style="green", markup=False)

    def warn(self, text: str) -> None:
        self._console(err=True).print(
            f"warning: {escape(one_line(text))}", style="yellow", markup=False, highlight=False
        )

    def error(self, text: str) -> None:
        self._console(err=True).print(
            f"error: {escape(one_line(text))}", style="red", markup=False, highlight=False
        )

    def stopping(self) -> None:
        """The first Ctrl-C of a bulk command (:mod:`sqsidem.interrupt`)."""
        self.note("stopping: letting the calls in flight finish (Ctrl-C again to abort at once)")

    def check(self, ok: bool, label: str, detail: str) -> None:
        """One pass/fail line (doctor, status). Data, so it goes to stdout."""
        mark, style = (OK_MARK, "green") if ok else (FAIL_MARK, "red")
        console = self._console(err=False)
        console.print(f"{mark} ", style=style, end="", markup=False)
        console.print(f"{label:<12} {detail}", markup=False, highlight=False)

    def traceback(self, exc: BaseException) -> None:
        import traceback

        self.stderr.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        self.stderr.flush()

    # -- long work ---------------------------------------------------------------------
    @contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[ProgressHandle]:
        """A progress bar on stderr when a person watches; silent otherwise."""
        if not self.stderr.isatty():
            yield ProgressHandle()
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self._console(err=True),
            transient=True,
        )
        with progress:
            task = progress.add_task(description, total=total)
            yield ProgressHandle(progress, task)

    @contextmanager
    def spinner(self, description: str) -> Iterator[None]:
        if not self.stderr.isatty():
            yield
            return
        with self._console(err=True).status(description):
            yield
