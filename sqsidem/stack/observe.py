"""Read what exists, by the stack's names (no local state file to lose)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqsidem.names import StackNames
from sqsidem.stack.inputs import Refs
from sqsidem.stack.kind import ObservedStack, Where
from sqsidem.stack.kms_key import KEY, needs_replace
from sqsidem.stack.kms_scan import TaggedKey, stack_keys_once
from sqsidem.stack.queues import DLQ, QUEUE
from sqsidem.stack.registry import KINDS

if TYPE_CHECKING:
    from sqsidem.aws import Aws


def observe_stack(
    aws: Aws,
    names: StackNames,
    *,
    dying: bool = False,
    keys: Callable[[], list[TaggedKey]] | None = None,
) -> ObservedStack:
    """Each kind in registry order (a kind may read what an earlier one found).

    ``dying``: also what an earlier teardown marked and has not yet seen go (teardown must
    finish it; setup and status treat it as gone). ``keys``: the stack's tagged keys, when
    the caller reads them too (one scan of the account's keys per run).
    """
    account, region, partition = aws.account_id(), aws.region, aws.partition()
    keys = keys or stack_keys_once(aws, names.stack)
    seen = ObservedStack()
    for kind in KINDS:
        where = Where(names, account, region, seen, partition, dying, keys)
        seen = seen.with_(kind.key, kind.observe(aws, where))
    return seen


def refs_of(seen: ObservedStack, aws: Aws) -> Refs:
    """The ARNs AWS already gave the stack (a key that must be replaced gives none)."""
    key, queue, dlq = KEY.seen_in(seen), QUEUE.seen_in(seen), DLQ.seen_in(seen)
    return Refs(
        account=aws.account_id(),
        region=aws.region,
        partition=aws.partition(),
        key_arn=key.arn if key is not None and not needs_replace(key) else None,
        queue_arn=queue.arn if queue and queue.arn else None,
        dlq_arn=dlq.arn if dlq and dlq.arn else None,
    )
