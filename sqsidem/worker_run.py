"""Assemble a worker run for a stack: the deployed function's settings, overridden by flags."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TextIO

from sqsidem.aws import Aws
from sqsidem.consumer.config import (
    ENV_FAILPOINT,
    ENV_FAILPOINT_SEED,
    ENV_KEY,
    ENV_LOCK_TTL_S,
    ConfigError,
    ConsumerConfig,
)
from sqsidem.consumer.processor import Processor
from sqsidem.errors import UsageError, error_code
from sqsidem.names import StackNames
from sqsidem.resolve import main_queue_url, queue_url
from sqsidem.worker import (
    WorkerClients,
    WorkerOptions,
    WorkerStats,
    config_from_function,
    load_processor_spec,
    run_worker,
)

DEPLOYED_PROCESSOR_PREFIX = "sqsidem_processor:"


@dataclass(frozen=True)
class WorkerRequest:
    """What the user asked for; None means 'as the deployed function does'."""

    queue: str | None = None
    processor: str | None = None
    key: str | None = None
    lock_ttl_s: int | None = None
    batch_size: int = 10
    concurrency: int = 1
    wait_time_s: int = 20
    visibility_timeout_s: int | None = None
    max_messages: int | None = None
    idle_exit_s: float | None = None
    force: bool = False


def consumer_config(
    aws: Aws, names: StackNames, request: WorkerRequest, env: Mapping[str, str]
) -> ConsumerConfig:
    """The function's environment if it is deployed, else the stack's defaults; flags win."""
    from botocore.exceptions import ClientError

    try:
        config = config_from_function(aws.lambda_, names.function)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        config = ConsumerConfig(table=names.table)
    except ConfigError as exc:
        raise UsageError(f"the deployed function's settings are unusable: {exc}") from exc
    merged = config.to_env()
    if request.key is not None:
        merged[ENV_KEY] = request.key
    if request.lock_ttl_s is not None:
        merged[ENV_LOCK_TTL_S] = str(request.lock_ttl_s)
    # Crash points for the chaos tests come from this process's environment.
    for name in (ENV_FAILPOINT, ENV_FAILPOINT_SEED):
        if env.get(name):
            merged[name] = env[name]
    try:
        return ConsumerConfig.from_env(merged)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


def resolve_processor(config: ConsumerConfig, spec: str | None) -> Processor:
    if spec is not None:
        return load_processor_spec(spec)
    if config.processor.startswith(DEPLOYED_PROCESSOR_PREFIX):
        raise UsageError(
            "the deployed function runs a processor file that only exists in its zip",
            "pass the same file with --processor path/to/file.py:function",
        )
    return load_processor_spec(config.processor)


def run_for_stack(
    aws: Aws,
    names: StackNames,
    request: WorkerRequest,
    *,
    stop: threading.Event,
    decision_stream: TextIO | None = None,
    on_progress: Callable[[WorkerStats], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> WorkerStats:
    options_check = WorkerOptions(  # validates the numbers before any AWS call
        queue_url="pending",
        batch_size=request.batch_size,
        wait_time_s=request.wait_time_s,
        concurrency=request.concurrency,
        max_messages=request.max_messages,
        idle_exit_s=request.idle_exit_s,
        force=request.force,
    )
    if request.processor is not None:
        load_processor_spec(request.processor)
    config = consumer_config(aws, names, request, os.environ if env is None else env)
    processor = resolve_processor(config, request.processor)
    if request.queue is None:
        url = main_queue_url(aws, names)
    elif request.queue.startswith(("http://", "https://")):
        url = request.queue
    else:
        url = queue_url(aws, request.queue)
    options = replace(
        options_check, queue_url=url, visibility_timeout_s=request.visibility_timeout_s
    )
    # More threads than connections would queue on the pool.
    aws = aws.with_options(max_pool_connections=max(10, 2 * request.concurrency))
    return run_worker(
        WorkerClients.from_aws(aws),
        config,
        options,
        processor=processor,
        stop=stop,
        decision_stream=decision_stream,
        on_progress=on_progress,
        on_start=on_start,
    )
