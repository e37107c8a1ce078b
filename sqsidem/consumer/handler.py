"""The Lambda entry point: ``sqsidem_consumer.handler.lambda_handler``.

Configuration comes from the environment (config.py) and is read once per distinct
environment, so a warm function pays for parsing, client creation and the processor import
only at cold start. A bad configuration fails every record of the batch with a decision
line that says why, instead of raising (which would fail the batch with no explanation).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from . import decisions as d
from .batch import BatchResult, Consumer, InvocationContext, RecordOutcome, record_meta
from .config import ENV_NAMES, ConsumerConfig
from .failpoints import Failpoints
from .keys import parse_key_spec
from .lock import LockTable
from .pipeline import IO_THREADS, UNIT_THREADS, Pipeline
from .processor import load_processor

_cache_lock = threading.Lock()
# One warm consumer per distinct environment (a dict so no `global` is needed).
_cache: dict[tuple[str, ...], Consumer] = {}


def print_line(line: str) -> None:
    # stdout is the function's log stream; flush so a SIGKILL (failpoint) loses nothing.
    # Lines from parallel units are serialised by the consumer (Consumer._emit).
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def build_consumer(config: ConsumerConfig, client: Any) -> Consumer:
    """The consumer the Lambda runs: decisions printed, failpoints from the config."""
    return Consumer(
        LockTable(client, config.table, ttl_s=config.lock_ttl_s),
        load_processor(config.processor),
        key_spec=parse_key_spec(config.key),
        dedup_scope=config.dedup_scope,
        emit=print_line,
        failpoints=Failpoints.from_spec(config.failpoint, config.failpoint_seed),
        # Kept with the warm consumer: the threads survive between invocations.
        pipeline=Pipeline(),
    )


def _dynamodb_client() -> Any:
    import boto3
    from botocore.config import Config

    # AWS_ENDPOINT_URL (set by the local backend) is honoured by botocore itself.
    # A connection per thread that may call at once: the lock writes in flight and the
    # units' own synchronous commits.
    return boto3.client(
        "dynamodb",
        config=Config(
            retries={"mode": "standard", "max_attempts": 4},
            max_pool_connections=IO_THREADS + UNIT_THREADS,
        ),
    )


def _consumer_for(env: Mapping[str, str]) -> Consumer:
    snapshot = tuple(env.get(name, "") for name in ENV_NAMES)
    with _cache_lock:
        consumer = _cache.get(snapshot)
        if consumer is None:
            consumer = build_consumer(ConsumerConfig.from_env(env), _dynamodb_client())
            _cache.clear()
            _cache[snapshot] = consumer
        return consumer


def lambda_handler(event: dict[str, Any], context: InvocationContext | None) -> dict[str, Any]:
    try:
        consumer = _consumer_for(os.environ)
    except Exception as exc:
        return _fail_all(event, f"consumer not configured: {type(exc).__name__}: {exc}")
    return dict(consumer.handle_event(event, context).response())


def _fail_all(event: Mapping[str, Any], error: str) -> dict[str, Any]:
    result = BatchResult()
    for record in event.get("Records") or []:
        meta = record_meta(record)
        print_line(
            d.decision_line(
                d.FAILED,
                transaction_id=None,
                message_id=meta.message_id,
                group_id=meta.group_id,
                receive_count=meta.receive_count,
                error=error,
            )
        )
        result.outcomes.append(RecordOutcome(meta.message_id, d.FAILED, acked=False))
    return dict(result.response())
