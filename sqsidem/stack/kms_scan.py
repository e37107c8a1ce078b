"""Find the stack's keys by tag, aliased or not (ListKeys + ListResourceTags, bounded).

The alias names the key a stack uses; the tags name every key a stack ever made. A key
created by a run that stopped before aliasing it (an interrupt, a concurrent run that lost
the race for the alias) carries ``sqsidem:pending=1`` as well: the next setup adopts it,
and teardown schedules every tagged key's deletion, so none is left to cost money.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqsidem.errors import GONE, error_code
from sqsidem.names import STACK_TAG
from sqsidem.stack.model import tag_dict

if TYPE_CHECKING:
    from sqsidem.aws import Aws

PENDING_TAG = "sqsidem:pending"  # "1": created for the stack, not aliased yet
PENDING_STATES = ("PendingDeletion", "PendingReplicaDeletion")
# Keys looked at, at most: the scan reads each key's tags (one call per key).
KEY_SCAN_LIMIT = 2_000
# A key we may not read (another account's grant, an AWS managed key) is not ours.
_UNREADABLE = GONE | {"AccessDeniedException", "KMSInvalidStateException", "InvalidArnException"}


@dataclass(frozen=True)
class TaggedKey:
    key_id: str
    arn: str
    state: str
    tags: dict[str, str]

    @property
    def pending(self) -> bool:
        return self.tags.get(PENDING_TAG) == "1"

    @property
    def scheduled(self) -> bool:
        return self.state in PENDING_STATES


def _key_ids(aws: Aws, limit: int) -> Iterator[str]:
    seen = 0
    for page in aws.kms.get_paginator("list_keys").paginate():
        for key in page.get("Keys", []):
            if seen >= limit:
                return
            seen += 1
            yield str(key["KeyId"])


def _tags_of(aws: Aws, key_id: str) -> dict[str, str] | None:
    from botocore.exceptions import ClientError

    try:
        pages = aws.kms.get_paginator("list_resource_tags").paginate(KeyId=key_id)
        return tag_dict([t for page in pages for t in page.get("Tags", [])], "TagKey", "TagValue")
    except ClientError as exc:
        if error_code(exc) in _UNREADABLE:
            return None
        raise


def stack_keys(aws: Aws, stack: str, *, limit: int = KEY_SCAN_LIMIT) -> list[TaggedKey]:
    """Every key tagged ``sqsidem:stack=<stack>`` among the account's first ``limit`` keys."""
    from botocore.exceptions import ClientError

    found = []
    for key_id in _key_ids(aws, limit):
        tags = _tags_of(aws, key_id)
        if tags is None or tags.get(STACK_TAG) != stack:
            continue
        try:
            meta = aws.kms.describe_key(KeyId=key_id)["KeyMetadata"]
        except ClientError as exc:
            if error_code(exc) in _UNREADABLE:
                continue
            raise
        found.append(TaggedKey(key_id, meta["Arn"], meta.get("KeyState", "Enabled"), tags))
    return found


def stack_keys_once(aws: Aws, stack: str) -> Callable[[], list[TaggedKey]]:
    """:func:`stack_keys`, read at the first call and remembered: one command reads the
    account's keys once (observation, then teardown's unaliased keys)."""
    return functools.cache(lambda: stack_keys(aws, stack))


def pending_key(keys: list[TaggedKey]) -> TaggedKey | None:
    """Among the stack's ``keys``, the usable one an earlier run created but did not alias."""
    usable = [k for k in keys if k.pending and k.state == "Enabled"]
    return min(usable, key=lambda k: k.key_id) if usable else None
