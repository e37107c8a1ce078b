"""What the stack should look like: built from names, options and known ARNs; no AWS calls."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqsidem.consumer.config import ConsumerConfig
from sqsidem.names import StackNames
from sqsidem.packaging import HANDLER, FunctionZip
from sqsidem.stack import iam_policy, queues
from sqsidem.stack.alarm import DesiredAlarm
from sqsidem.stack.function import DesiredFunction
from sqsidem.stack.kms_key import DESCRIPTION_PREFIX, DesiredKey
from sqsidem.stack.log_group import DesiredLogGroup
from sqsidem.stack.mapping import DesiredMapping
from sqsidem.stack.model import function_tags
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.queues import DesiredQueue
from sqsidem.stack.role import DesiredRole
from sqsidem.stack.table import DesiredTable
from sqsidem.stack.topic import DesiredTopic

PARTITION = "aws"
NEW_KEY = "(new key)"


@dataclass(frozen=True)
class Refs:
    """ARNs other resources point at. Deterministic ones are derived; AWS's answers win."""

    account: str
    region: str
    key_arn: str | None = None  # unknown until the key exists (its id is random)
    queue_arn: str | None = None
    dlq_arn: str | None = None

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{PARTITION}:{service}:{region}:{self.account}:{resource}"

    def with_(self, **changes: str) -> Refs:
        return replace(self, **changes)


@dataclass(frozen=True)
class DesiredStack:
    names: StackNames
    options: SetupOptions
    key: DesiredKey
    dlq: DesiredQueue
    queue: DesiredQueue
    table: DesiredTable
    log_group: DesiredLogGroup
    role: DesiredRole
    function: DesiredFunction
    mapping: DesiredMapping | None
    topic: DesiredTopic
    alarm: DesiredAlarm
    notify_email: str | None = None
    refs: Refs = field(default_factory=lambda: Refs("", ""))


def consumer_environment(names: StackNames, options: SetupOptions) -> dict[str, str]:
    return ConsumerConfig(
        table=names.table,
        key=options.key_source,
        lock_ttl_s=options.lock_ttl_s,
        processor=options.processor.spec if options.processor else "",
    ).to_env()


def build(names: StackNames, options: SetupOptions, refs: Refs, code: FunctionZip) -> DesiredStack:
    tags = names.tags
    queue_arn = refs.queue_arn or refs.arn("sqs", names.queue)
    dlq_arn = refs.dlq_arn or refs.arn("sqs", names.dlq)
    key_arn = refs.key_arn or refs.arn("kms", f"key/{NEW_KEY}")
    table_arn = refs.arn("dynamodb", f"table/{names.table}")
    role_arn = f"arn:{PARTITION}:iam::{refs.account}:role/{names.role}"
    topic_arn = refs.arn("sns", names.topic)
    streams = iam_policy.log_stream_arn(refs.region, refs.account, names.log_group, PARTITION)
    return DesiredStack(
        names=names,
        options=options,
        key=DesiredKey(
            alias=names.key_alias,
            policy=iam_policy.key_policy(refs.account, PARTITION),
            description=f"{DESCRIPTION_PREFIX} {names.stack}: queues, topic",
            tags=tags,
        ),
        dlq=DesiredQueue(names.dlq, queues.dlq_attributes(key_alias=names.key_alias), tags),
        queue=DesiredQueue(
            names.queue,
            queues.main_attributes(
                key_alias=names.key_alias,
                visibility_s=options.visibility,
                content_dedup=options.content_dedup,
                dlq_arn=dlq_arn,
                max_receive_count=options.max_receive_count,
            ),
            tags,
        ),
        table=DesiredTable(names.table, tags),
        log_group=DesiredLogGroup(names.log_group, options.log_retention_days, tags),
        role=DesiredRole(
            names.role,
            iam_policy.lambda_trust_policy(),
            iam_policy.function_policies(
                queue_arn=queue_arn,
                key_arn=key_arn,
                table_arn=table_arn,
                log_streams_arn=streams,
                effect_table_arns=tuple(
                    refs.arn("dynamodb", f"table/{name}") for name in options.effect_tables
                ),
            ),
            tags,
        ),
        function=DesiredFunction(
            name=names.function,
            runtime=options.runtime,
            role_arn=role_arn,
            handler=HANDLER,
            timeout_s=options.timeout_s,
            memory_mb=options.memory_mb,
            environment=consumer_environment(names, options),
            log_group=names.log_group,
            tags=function_tags(tags, trigger=options.trigger),
            zip_bytes=code.data,
            code_sha256=code.code_sha256,
        ),
        mapping=DesiredMapping(
            names.function, queue_arn, options.batch_size, options.max_concurrency
        )
        if options.trigger
        else None,
        topic=DesiredTopic(names.topic, topic_arn, names.key_alias, tags),
        alarm=DesiredAlarm(names.alarm, names.dlq, topic_arn, tags),
        notify_email=options.notify_email,
        refs=refs,
    )
