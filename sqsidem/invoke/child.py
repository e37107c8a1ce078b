"""Runs inside `invoke`'s subprocess, on the extracted zip alone (argv: code dir, request,
result). It imports the consumer and the processor from the zip's folder, first on the path,
as the function does: what works here works in the zip. stdout carries the consumer's
decision lines and whatever the processor prints; the batch response goes to the result file.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any


class NoLock:
    """No lock table: every record is acquired and completed (a trial run writes nothing)."""

    inserts = updates = False  # no batched statements: one call per record, answered here

    def __init__(self, lock_module: Any) -> None:
        self._acquired = lock_module.AcquireResult("acquired")
        self.now_ms = lock_module.wall_clock_ms

    def acquire(self, key: str, attempt: Any, deadline_ms: int) -> Any:
        return self._acquired

    def complete(self, key: str, owner: str, effects: Any = None) -> bool:
        return True  # a transactional processor's effects are not written without --lock

    def release(self, key: str, owner: str) -> bool:
        return True

    def extend(self, key: str, owner: str, deadline_ms: int) -> bool:
        return True


class PrefixedLock:
    """The stack's real lock table under a key prefix of invoke's own."""

    def __init__(self, table: Any, prefix: str) -> None:
        self.table, self.prefix = table, prefix
        self.now_ms = table.now_ms

    @property
    def inserts(self) -> bool:
        return bool(self.table.inserts)

    @property
    def updates(self) -> bool:
        return bool(self.table.updates)

    def acquire(self, key: str, attempt: Any, deadline_ms: int) -> Any:
        return self.table.acquire(self.prefix + key, attempt, deadline_ms)

    def acquire_new(self, requests: list[tuple[str, Any]], deadline_ms: int) -> Any:
        prefixed = [(self.prefix + key, attempt) for key, attempt in requests]
        return self.table.acquire_new(prefixed, deadline_ms)

    def complete_many(self, requests: list[tuple[str, str]]) -> Any:
        return self.table.complete_many([(self.prefix + key, owner) for key, owner in requests])

    def complete(self, key: str, owner: str, effects: Any = None) -> bool:
        return bool(self.table.complete(self.prefix + key, owner, effects))

    def release(self, key: str, owner: str) -> bool:
        return bool(self.table.release(self.prefix + key, owner))

    def extend(self, key: str, owner: str, deadline_ms: int) -> bool:
        return bool(self.table.extend(self.prefix + key, owner, deadline_ms))


def _lock(request: dict[str, Any]) -> Any:
    lock_module = importlib.import_module("sqsidem_consumer.lock")
    if not request.get("table"):
        return NoLock(lock_module)
    import boto3

    client = boto3.client("dynamodb")
    table = lock_module.LockTable(client, request["table"], ttl_s=request["lock_ttl_s"])
    return PrefixedLock(table, request.get("prefix", ""))


def main(argv: list[str]) -> int:
    code_dir, request_path, result_path = argv
    sys.path.insert(0, code_dir)
    with open(request_path, encoding="utf-8") as stream:
        request = json.load(stream)
    batch = importlib.import_module("sqsidem_consumer.batch")
    keys = importlib.import_module("sqsidem_consumer.keys")
    processor = importlib.import_module("sqsidem_consumer.processor")
    consumer = batch.Consumer(
        _lock(request),
        processor.load_processor(request["processor"]),
        key_spec=keys.parse_key_spec(request["key"]),
        emit=lambda line: print(line, flush=True),
    )
    result = consumer.handle_event(request["event"], None)
    with open(result_path, "w", encoding="utf-8") as stream:
        json.dump(dict(result.response()), stream)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
