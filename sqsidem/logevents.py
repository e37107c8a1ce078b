"""Log events as sqsidem reads them: one event, its platform kind, its decision, and the
client-side filter of `logs` (the judge: emulators ignore or loosen server patterns)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqsidem.errors import UsageError
from sqsidem.logfields import FieldTest, json_pattern

PLATFORM_PREFIXES = (
    "START",
    "END",
    "REPORT",
    "INIT_START",
    "INIT_REPORT",
    "INIT_RUNTIME_DONE",
    "EXTENSION",
    "TELEMETRY",
)


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # epoch ms
    stream: str
    message: str
    event_id: str
    platform: str | None = None  # START / END / REPORT / INIT_START ... for Lambda's lines
    decision: dict[str, Any] | None = None  # a parsed DESIGN 6.5 decision line
    stack: str | None = None  # set when several stacks' logs are merged (`logs --stacks`)

    @property
    def short_stream(self) -> str:
        """The part of a Lambda stream name that tells invocations apart."""
        tail = self.stream.rsplit("]", 1)[-1] if "]" in self.stream else self.stream
        tail = tail.rsplit("/", 1)[-1]
        return tail[-8:] if len(tail) > 8 else tail

    def as_dict(self) -> dict[str, Any]:
        tag = {} if self.stack is None else {"stack": self.stack}
        return {
            **tag,
            "timestamp": self.timestamp,
            "time": iso_ms(self.timestamp),
            "stream": self.stream,
            "message": self.message,
            "event_id": self.event_id,
            "platform": self.platform,
            "decision": self.decision,
        }


def iso_ms(timestamp_ms: int) -> str:
    from datetime import datetime, timezone

    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def platform_of(message: str) -> str | None:
    word = message.split(None, 1)[0] if message.strip() else ""
    return word if word in PLATFORM_PREFIXES else None


def to_event(raw: Any) -> LogEvent:
    from sqsidem.consumer.decisions import parse_decision

    message = str(raw.get("message", "")).rstrip("\n")
    return LogEvent(
        timestamp=int(raw.get("timestamp", 0)),
        stream=str(raw.get("logStreamName", "")),
        message=message,
        event_id=str(raw.get("eventId", "")),
        platform=platform_of(message),
        decision=parse_decision(message),
    )


# -- client-side selection ---------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    """``--filter`` terms (all must appear; ``-term`` must not; quotes keep phrases),
    ``--transaction`` (decision lines of one key), ``--no-platform`` and ``--where`` field
    tests (decision lines only; see logfields)."""

    pattern: str | None = None
    transaction: str | None = None
    platform: bool = True
    fields: tuple[FieldTest, ...] = ()

    def terms(self) -> tuple[list[str], list[str]]:
        """The include and exclude terms (UsageError when the pattern does not parse)."""
        include, exclude = self._terms
        return list(include), list(exclude)

    @cached_property
    def _terms(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Parsed once per filter (``matches`` runs for every event)."""
        if not self.pattern:
            return (), ()
        try:
            words = shlex.split(self.pattern)
        except ValueError as exc:
            raise UsageError(f"invalid --filter {self.pattern!r}: {exc}") from None
        include = tuple(w for w in words if not (w.startswith("-") and len(w) > 1))
        exclude = tuple(w[1:] for w in words if w.startswith("-") and len(w) > 1)
        return include, exclude

    def server_pattern(self) -> str | None:
        """A quoted term that narrows the scan on AWS; the client-side match stays the judge
        (emulators ignore or loosen patterns, DESIGN 4)."""
        if self.fields:
            return json_pattern(self.fields, self.transaction)
        if self.transaction and '"' not in self.transaction:
            return f'"{self.transaction}"'
        return None

    def matches(self, event: LogEvent) -> bool:
        if not self.platform and event.platform is not None:
            return False
        if self.transaction is not None and (
            event.decision is None or event.decision.get("transaction_id") != self.transaction
        ):
            return False
        if self.fields and (
            event.decision is None or not all(t.matches(event.decision) for t in self.fields)
        ):
            return False
        include, exclude = self._terms
        return all(t in event.message for t in include) and not any(
            t in event.message for t in exclude
        )
