"""What a send reports: one :class:`SendResult` per message, one :class:`SendSummary`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqsidem.errors import Interrupted, PartialFailure
from sqsidem.jsondata import fields
from sqsidem.messages.model import OutgoingMessage


@dataclass(frozen=True)
class SendResult:
    """What happened to one message (DESIGN 6.6 field names)."""

    index: int
    ok: bool
    group_id: str | None
    dedup_id: str | None
    key: str
    message_id: str | None = None
    sequence_number: str | None = None
    error: str | None = None

    @classmethod
    def of(
        cls,
        message: OutgoingMessage,
        *,
        message_id: str | None = None,
        sequence_number: str | None = None,
        error: str | None = None,
    ) -> SendResult:
        """The result for ``message``: sent when it has a message id, else failed with ``error``."""
        return cls(
            index=message.index,
            ok=error is None,
            group_id=message.group_id,
            dedup_id=message.dedup_id,
            key=message.key,
            message_id=message_id,
            sequence_number=sequence_number,
            error=error,
        )

    def as_dict(self) -> dict[str, Any]:
        return fields(
            self, "message_id", "sequence_number", "group_id", "dedup_id", "key", "ok", "error"
        )


@dataclass
class SendSummary:
    queue_url: str
    total: int = 0
    sent: int = 0
    failed: int = 0
    api_calls: int = 0
    retried_entries: int = 0
    elapsed_s: float = 0.0
    interrupted: bool = False  # stopped by Ctrl-C: the rest was never sent
    errors: list[str] = field(default_factory=list)

    @property
    def msgs_per_s(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **fields(self, "queue_url", "sent", "failed", "api_calls", "retried_entries"),
            "elapsed_s": round(self.elapsed_s, 3),
            "msgs_per_s": round(self.msgs_per_s, 1),
            "interrupted": self.interrupted,
        }

    def check(self) -> None:
        """Exit 130 when interrupted, 1 when any message failed (after the summary was shown)."""
        if self.interrupted:
            raise Interrupted(f"sent {self.sent:,} of {self.total:,}")
        if self.failed:
            raise PartialFailure(
                f"{self.failed} of {self.total} message(s) failed; first: {self.errors[0]}"
            )
