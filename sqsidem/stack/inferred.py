"""The settings a stack was set up with, read back from what AWS holds (status compares
with them; setup keeps them for a stack built before its options were recorded)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqsidem.names import StackNames
from sqsidem.stack import iam_policy
from sqsidem.stack.function import FUNCTION
from sqsidem.stack.kind import ObservedStack
from sqsidem.stack.log_group import LOG_GROUP
from sqsidem.stack.mapping import MAPPING, pick
from sqsidem.stack.model import trigger_wanted
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.queues import QUEUE
from sqsidem.stack.role import ROLE


def as_int(text: object, default: int) -> int:
    try:
        return int(str(text))
    except (TypeError, ValueError):
        return default


def inferred_options(names: StackNames, seen: ObservedStack) -> SetupOptions:
    """The settings the stack was set up with, read back from AWS (defaults where missing)."""
    from sqsidem.consumer.config import ConfigError, ConsumerConfig

    defaults = SetupOptions()
    values: dict[str, Any] = {}
    function, queue, role = FUNCTION.seen_in(seen), QUEUE.seen_in(seen), ROLE.seen_in(seen)
    group = LOG_GROUP.seen_in(seen)
    if function is not None:
        values.update(
            timeout_s=function.timeout_s,
            memory_mb=function.memory_mb,
            runtime=function.runtime or defaults.runtime,
            trigger=trigger_wanted(function.tags),
        )
        try:
            env = {"SQSIDEM_TABLE": names.table, **function.environment}
            config = ConsumerConfig.from_env(env)
            values.update(key_source=config.key, lock_ttl_s=config.lock_ttl_s)
        except ConfigError:
            pass
    if queue is not None:
        attributes = queue.attributes
        values["visibility_timeout_s"] = as_int(attributes.get("VisibilityTimeout"), 0)
        values["content_dedup"] = attributes.get("ContentBasedDeduplication", "").lower() == "true"
        try:
            redrive = json.loads(attributes.get("RedrivePolicy", "{}"))
            values["max_receive_count"] = int(redrive["maxReceiveCount"])
        except (ValueError, KeyError, TypeError):
            pass
        ours = pick(queue.arn, MAPPING.seen_in(seen) or ())
        if ours is not None:
            values.update(batch_size=ours.batch_size, max_concurrency=ours.max_concurrency)
    if role is not None:
        values["effect_tables"] = iam_policy.effect_tables_of(role.policies)
    if group is not None and group.retention_days:
        values["log_retention_days"] = group.retention_days
    return replace(defaults, **values)
