"""Read what exists, by the stack's names (no local state file to lose)."""

from __future__ import annotations

from dataclasses import dataclass

from sqsidem.aws import Aws
from sqsidem.names import StackNames
from sqsidem.stack import alarm, function, kms_key, log_group, mapping, queues, role, table, topic
from sqsidem.stack.desired import PARTITION, Refs


@dataclass(frozen=True)
class ObservedStack:
    key: kms_key.ObservedKey | None
    dlq: queues.ObservedQueue | None
    queue: queues.ObservedQueue | None
    table: table.ObservedTable | None
    log_group: log_group.ObservedLogGroup | None
    role: role.ObservedRole | None
    function: function.ObservedFunction | None
    mappings: tuple[mapping.ObservedMapping, ...]
    topic: topic.ObservedTopic | None
    alarm: alarm.ObservedAlarm | None

    def refs(self, account: str, region: str) -> Refs:
        usable_key = self.key is not None and not kms_key.needs_replace(self.key)
        return Refs(
            account=account,
            region=region,
            key_arn=self.key.arn if usable_key and self.key else None,
            queue_arn=self.queue.arn if self.queue and self.queue.arn else None,
            dlq_arn=self.dlq.arn if self.dlq and self.dlq.arn else None,
        )


def topic_arn(names: StackNames, account: str, region: str) -> str:
    return f"arn:{PARTITION}:sns:{region}:{account}:{names.topic}"


def observe_stack(aws: Aws, names: StackNames) -> ObservedStack:
    account, region = aws.account_id(), aws.region
    found_function = function.observe(aws, names.function)
    return ObservedStack(
        key=kms_key.observe(aws, names.key_alias),
        dlq=queues.observe(aws, names.dlq),
        queue=queues.observe(aws, names.queue),
        table=table.observe(aws, names.table),
        log_group=log_group.observe(aws, names.log_group),
        role=role.observe(aws, names.role),
        function=found_function,
        mappings=tuple(mapping.observe_all(aws, names.function)) if found_function else (),
        topic=topic.observe(aws, topic_arn(names, account, region)),
        alarm=alarm.observe(aws, names.alarm),
    )
