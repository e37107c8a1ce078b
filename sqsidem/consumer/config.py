"""The function's environment contract: what setup writes and the handler reads.

Variables (all prefixed ``SQSIDEM_``):

- ``SQSIDEM_TABLE``: the lock table's name (required).
- ``SQSIDEM_KEY``: the key when a message has no ``sqsidem-key`` attribute:
  ``dedup`` (default, the MessageDeduplicationId as in the tutorial), ``message-id`` or
  ``body:<field>`` (a top-level field of a JSON object body).
- ``SQSIDEM_LOCK_TTL_S``: seconds a lock record lives (its ``expiration``), default 7 days.
- ``SQSIDEM_PROCESSOR``: ``module:function`` to call per record; empty = log the record.
- ``SQSIDEM_DEDUP_SCOPE``: ``queue`` (default) or ``messageGroup`` for a high-throughput FIFO
  queue, where a dedup id is unique only within its group, so the key is group + dedup id.
- ``SQSIDEM_FAILPOINT`` / ``SQSIDEM_FAILPOINT_SEED``: test-only crash points, see failpoints.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .failpoints import parse_failpoints
from .keys import parse_key_spec

ENV_TABLE = "SQSIDEM_TABLE"
ENV_KEY = "SQSIDEM_KEY"
ENV_LOCK_TTL_S = "SQSIDEM_LOCK_TTL_S"
ENV_PROCESSOR = "SQSIDEM_PROCESSOR"
ENV_DEDUP_SCOPE = "SQSIDEM_DEDUP_SCOPE"
ENV_FAILPOINT = "SQSIDEM_FAILPOINT"
ENV_FAILPOINT_SEED = "SQSIDEM_FAILPOINT_SEED"
ENV_NAMES = (
    ENV_TABLE,
    ENV_KEY,
    ENV_LOCK_TTL_S,
    ENV_PROCESSOR,
    ENV_DEDUP_SCOPE,
    ENV_FAILPOINT,
    ENV_FAILPOINT_SEED,
)

DEFAULT_KEY = "dedup"
DEFAULT_LOCK_TTL_S = 7 * 24 * 3600
DedupScope = Literal["queue", "messageGroup"]
DEDUP_SCOPES: tuple[DedupScope, ...] = ("queue", "messageGroup")


class ConfigError(ValueError):
    """The function's environment is unusable; the message names the variable."""


@dataclass(frozen=True)
class ConsumerConfig:
    """Everything the consumer needs besides its clients; round-trips through the environment."""

    table: str
    key: str = DEFAULT_KEY
    lock_ttl_s: int = DEFAULT_LOCK_TTL_S
    processor: str = ""
    dedup_scope: DedupScope = "queue"
    failpoint: str = ""
    failpoint_seed: int | None = None

    def __post_init__(self) -> None:
        if not self.table:
            raise ConfigError(f"{ENV_TABLE} is required (the lock table's name)")
        try:
            parse_key_spec(self.key)
        except ValueError as exc:
            raise ConfigError(f"{ENV_KEY}: {exc}") from exc
        if self.lock_ttl_s <= 0:
            raise ConfigError(f"{ENV_LOCK_TTL_S} must be a positive number of seconds")
        if self.processor and not _is_processor_spec(self.processor):
            raise ConfigError(
                f"{ENV_PROCESSOR} must look like module:function, not {self.processor!r}"
            )
        if self.dedup_scope not in DEDUP_SCOPES:
            raise ConfigError(f"{ENV_DEDUP_SCOPE} must be queue or messageGroup")
        try:
            parse_failpoints(self.failpoint)
        except ValueError as exc:
            raise ConfigError(f"{ENV_FAILPOINT}: {exc}") from exc

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ConsumerConfig:
        ttl_text = env.get(ENV_LOCK_TTL_S, "").strip()
        seed_text = env.get(ENV_FAILPOINT_SEED, "").strip()
        scope = env.get(ENV_DEDUP_SCOPE, "").strip() or "queue"
        if scope not in DEDUP_SCOPES:
            raise ConfigError(f"{ENV_DEDUP_SCOPE} must be queue or messageGroup, not {scope!r}")
        return cls(
            table=env.get(ENV_TABLE, "").strip(),
            key=env.get(ENV_KEY, "").strip() or DEFAULT_KEY,
            lock_ttl_s=_int(ENV_LOCK_TTL_S, ttl_text) if ttl_text else DEFAULT_LOCK_TTL_S,
            processor=env.get(ENV_PROCESSOR, "").strip(),
            dedup_scope="messageGroup" if scope == "messageGroup" else "queue",
            failpoint=env.get(ENV_FAILPOINT, "").strip(),
            failpoint_seed=_int(ENV_FAILPOINT_SEED, seed_text) if seed_text else None,
        )

    def to_env(self) -> dict[str, str]:
        """The function's Environment.Variables; stable, so an unchanged config shows no drift."""
        env = {
            ENV_TABLE: self.table,
            ENV_KEY: self.key,
            ENV_LOCK_TTL_S: str(self.lock_ttl_s),
            ENV_DEDUP_SCOPE: self.dedup_scope,
        }
        # Optional variables are left out when unset: an empty value would be drift noise.
        if self.processor:
            env[ENV_PROCESSOR] = self.processor
        if self.failpoint:
            env[ENV_FAILPOINT] = self.failpoint
        if self.failpoint_seed is not None:
            env[ENV_FAILPOINT_SEED] = str(self.failpoint_seed)
        return env


def _int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {text!r}") from None


def _is_processor_spec(spec: str) -> bool:
    module, sep, function = spec.partition(":")
    return (
        bool(sep)
        and all(part.isidentifier() for part in module.split("."))
        and (function.isidentifier())
    )
