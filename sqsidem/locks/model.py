"""One lock record as read, its derived state (DESIGN 6.3), and what it means in a sentence.

The record is read, its numbers compared and its state derived by the consumer's own code
(:func:`~sqsidem.consumer.lock.deserialize_item`, :func:`~sqsidem.consumer.lock.as_int`,
:func:`~sqsidem.consumer.lock.derive_state`), so `locks` shows exactly what the consumer
would do with a record, and the times it shows are the ones the state was derived from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqsidem.consumer.lock import KEY_ATTRIBUTE, as_int, derive_state
from sqsidem.jsondata import fields
from sqsidem.timeparse import human_duration

KEY = KEY_ATTRIBUTE
STATES = ("in-progress", "stale", "completed", "expired")
StateName = Literal["in-progress", "stale", "completed", "expired"]


@dataclass(frozen=True)
class Lock:
    """One lock record as read, with its derived state at ``now_ms``."""

    item: dict[str, Any]
    state: StateName
    now_ms: int

    @property
    def transaction_id(self) -> str:
        return str(self.item.get(KEY, ""))

    @property
    def status(self) -> str | None:
        value = self.item.get("status")
        return None if value is None else str(value)

    @property
    def owner(self) -> str | None:
        value = self.item.get("owner")
        return None if value is None else str(value)

    @property
    def deadline_ms(self) -> int | None:
        return as_int(self.item.get("in_progress_expiration"))

    @property
    def expiration_s(self) -> int | None:
        return as_int(self.item.get("expiration"))

    @property
    def first_seen_ms(self) -> int | None:
        return as_int(self.item.get("first_seen_ms"))

    @property
    def completed_ms(self) -> int | None:
        return as_int(self.item.get("completed_ms"))

    @property
    def age_s(self) -> float | None:
        """Seconds since the lock was first taken; None for tutorial items (no timestamps)."""
        start = self.first_seen_ms
        return None if start is None else (self.now_ms - start) / 1000

    @property
    def live(self) -> bool:
        """Held by a running attempt: clearing it could let a duplicate run."""
        return self.state == "in-progress"

    def as_dict(self) -> dict[str, Any]:
        return {
            **fields(self, "transaction_id", "state", "status", "owner"),
            "message_id": self.item.get("message_id"),
            "group_id": self.item.get("group_id"),
            "receive_count": as_int(self.item.get("receive_count")),
            "first_seen_ms": self.first_seen_ms,
            "completed_ms": self.completed_ms,
            "in_progress_expiration": self.deadline_ms,
            "expiration": self.expiration_s,
            "age_s": None if self.age_s is None else round(self.age_s, 3),
        }


def make_lock(item: dict[str, Any], now_ms: int) -> Lock:
    """A deserialized item (:func:`~sqsidem.consumer.lock.deserialize_item`) as a Lock."""
    return Lock(item, derive_state(item, now_ms), now_ms)


def explain(lock: Lock) -> str:
    """What the record means, in one sentence."""
    now_ms = lock.now_ms
    if lock.state == "expired":
        assert lock.expiration_s is not None
        ago = human_duration(now_ms / 1000 - lock.expiration_s)
        return (
            f"expired {ago} ago (TTL deletion pending): the next message with this key runs again"
        )
    if lock.state in ("in-progress", "stale"):
        deadline = lock.deadline_ms
        if deadline is None:
            return "in progress, no owner deadline"
        if lock.state == "in-progress":
            return f"in progress, owner deadline in {human_duration((deadline - now_ms) / 1000)}"
        return (
            f"stale: in progress, but the owner's deadline passed "
            f"{human_duration((now_ms - deadline) / 1000)} ago; the next delivery takes it over"
        )
    parts = []
    if lock.completed_ms is not None:
        parts.append(f"completed {human_duration((now_ms - lock.completed_ms) / 1000)} ago")
    else:
        parts.append("completed")
    if lock.expiration_s is None:
        parts.append("never expires")
    else:
        parts.append(f"expires in {human_duration(lock.expiration_s - now_ms / 1000)}")
    return ", ".join(parts)
