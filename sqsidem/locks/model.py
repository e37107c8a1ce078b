"""One lock record as read, its derived state (DESIGN 6.3), and what it means in a sentence.

The record is read, its numbers compared and its state derived by the consumer's own code
(:func:`~sqsidem.consumer.lock.deserialize_item`, :func:`~sqsidem.consumer.lock.as_int`,
:func:`~sqsidem.consumer.lock.derive_state`), so `locks` shows exactly what the consumer
would do with a record, and the times it shows are the ones the state was derived from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sqsidem.consumer.lock import KEY_ATTRIBUTE, as_int, derive_state, deserialize_item
from sqsidem.jsondata import fields
from sqsidem.timeparse import human_duration

KEY = KEY_ATTRIBUTE
STATES = ("in-progress", "stale", "completed", "expired")
StateName = Literal["in-progress", "stale", "completed", "expired"]
# What the consumer writes as numbers (N) and as strings (S). An attribute of another type
# (written by someone else) is "unreadable": shown escaped, never used for a decision,
# because the consumer's own conditions compare it as nothing either.
NUMBER_ATTRIBUTES = (
    "in_progress_expiration",
    "expiration",
    "receive_count",
    "first_seen_ms",
    "completed_ms",
)
STRING_ATTRIBUTES = ("status", "owner", "message_id", "group_id")
DEADLINE = "in_progress_expiration"


@dataclass(frozen=True)
class Lock:
    """One lock record as read, with its derived state at ``now_ms``."""

    item: dict[str, Any]
    state: StateName
    now_ms: int
    # The item as DynamoDB returned it: conditional deletes compare each attribute with
    # exactly what was read, whatever its type.
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def number(self, name: str) -> int | None:
        value = self.item.get(name)
        return as_int(value) if _is_number(value) else None

    @property
    def unreadable(self) -> list[str]:
        """The attributes the consumer would not read as it writes them (wrong type)."""
        wrong = [n for n in NUMBER_ATTRIBUTES if n in self.item and not _is_number(self.item[n])]
        wrong += [n for n in STRING_ATTRIBUTES if n in self.item and not _is_text(self.item[n])]
        return wrong

    @property
    def deadline_unreadable(self) -> bool:
        """In progress with a deadline no consumer can compare: it never goes stale."""
        return self.item.get("status") == "IN_PROGRESS" and DEADLINE in self.unreadable

    @property
    def transaction_id(self) -> str:
        return str(self.item.get(KEY, ""))

    @property
    def status(self) -> str | None:
        value = self.item.get("status")
        return value if isinstance(value, str) else None

    @property
    def owner(self) -> str | None:
        value = self.item.get("owner")
        return value if isinstance(value, str) else None

    @property
    def deadline_ms(self) -> int | None:
        return self.number(DEADLINE)

    @property
    def expiration_s(self) -> int | None:
        return self.number("expiration")

    @property
    def first_seen_ms(self) -> int | None:
        return self.number("first_seen_ms")

    @property
    def completed_ms(self) -> int | None:
        return self.number("completed_ms")

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
            **fields(self, "transaction_id", "state"),
            "status": self.item.get("status"),
            "owner": self.item.get("owner"),
            "message_id": self.item.get("message_id"),
            "group_id": self.item.get("group_id"),
            "receive_count": self.number("receive_count"),
            "first_seen_ms": self.first_seen_ms,
            "completed_ms": self.completed_ms,
            "in_progress_expiration": self.deadline_ms,
            "expiration": self.expiration_s,
            "age_s": None if self.age_s is None else round(self.age_s, 3),
            "unreadable": self.unreadable,
        }


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def make_lock(item: dict[str, Any], now_ms: int, raw: Mapping[str, Any] | None = None) -> Lock:
    """A deserialized item (:func:`~sqsidem.consumer.lock.deserialize_item`) as a Lock.

    The state is derived only from attributes of the types the consumer writes: a string
    deadline is no deadline to the consumer's conditions, so it is none to us either.
    """
    typed = {
        name: value
        for name, value in item.items()
        if not (name in NUMBER_ATTRIBUTES and not _is_number(value))
    }
    return Lock(item, derive_state(typed, now_ms), now_ms, raw=raw)


def read_item(raw: Mapping[str, Any], now_ms: int) -> Lock:
    """A lock from an item as DynamoDB returns it (``{"S": ...}``), keeping the raw item."""
    return make_lock(deserialize_item(raw), now_ms, raw)


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
