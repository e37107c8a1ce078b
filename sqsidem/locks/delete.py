"""Deleting locks: final records in BatchWriteItem calls of 25, the others one conditional
DeleteItem each (on the owner, status and expiration read), on a small thread pool."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqsidem.consumer.lock import unless_condition_fails
from sqsidem.errors import error_code
from sqsidem.interrupt import never
from sqsidem.jsondata import fields
from sqsidem.locks.model import KEY, Lock
from sqsidem.locks.plan import Action, ClearPlan, clear_action
from sqsidem.retry import Backoff, Pacing, retry_call

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from sqsidem.render import ProgressHandle

BATCH_SIZE = 25
# DynamoDB's advice for UnprocessedItems: back off exponentially, then resend the rest.
UNPROCESSED_BACKOFF = Backoff(first_s=0.05, factor=2.0, max_s=5.0)
# Far above what the attempts take (8 tries wait 6.35 s in all): the attempts decide.
UNPROCESSED_TIMEOUT_S = 60.0


@dataclass
class ClearResult:
    deleted: int = 0
    skipped_live: int = 0
    changed: int = 0  # re-acquired or changed since the scan: left alone
    failed: int = 0
    not_found: int = 0
    batch_calls: int = 0
    delete_calls: int = 0
    scanned: int = 0
    interrupted: bool = False  # stopped by Ctrl-C before everything selected was settled
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        counts = ("deleted", "skipped_live", "changed", "failed", "not_found", "scanned")
        return fields(
            self,
            *counts,
            batch_write_calls="batch_calls",
            delete_item_calls="delete_calls",
            interrupted="interrupted",
        )


class _Unprocessed(Exception):
    """Some deletes of a batch came back in UnprocessedItems: resend them."""


class Deleter:
    """Deletes locks as they are fed, on a small thread pool, while the caller goes on
    feeding (from a scan, say): batch-safe locks in BatchWriteItem calls of 25 (one shared
    buffer, so only the last call is short), the others one conditional DeleteItem each.

    ``add`` blocks while ``2 * concurrency`` calls are queued or running, so memory stays
    flat whatever the table's size. Counts go to ``result`` (thread-safe), the progress
    handle advances by every lock settled (deleted, changed or failed). Single items never
    raise; a whole call that fails (after the client's own retries) is counted failed and
    sets ``stopped``, so a scan feeding us can stop instead of repeating the failure.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        force: bool = False,
        progress: ProgressHandle | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 8,
        concurrency: int = 8,
        stop: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.stop = stop or never()
        self.table = table
        self.force = force
        self.progress = progress
        self.pacing = Pacing(sleep=sleep)
        self.max_attempts = max_attempts
        self.result = ClearResult()
        self.stopped = False
        self._mutex = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, concurrency) * 2)
        self._pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="clear")
        self._pending: list[Lock] = []

    def __enter__(self) -> Deleter:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None and not self.stopped and not self.interrupted:
            self.flush()
        if isinstance(kind, type) and issubclass(kind, KeyboardInterrupt):
            # A second Ctrl-C: abort at once, without waiting for the calls in flight.
            self._pool.shutdown(wait=False, cancel_futures=True)
            return
        # On an error, a first Ctrl-C or a failed call nothing more is sent; what is in
        # flight finishes, so the counts are exact for every lock we tried.
        self._pool.shutdown(wait=True)
        self.result.interrupted = self.interrupted

    @property
    def interrupted(self) -> bool:
        """Ctrl-C: feed no more, and nothing that is not in flight yet is sent."""
        return self.stop.is_set()

    def add(self, lock: Lock) -> Action:
        """Settle one lock read (the action decided from what was read)."""
        action = clear_action(lock, force=self.force)
        if action == "skip":
            with self._mutex:
                self.result.skipped_live += 1
        elif action == "batch":
            self.add_batch(lock)
        else:
            self.add_conditional(lock)
        return action

    def add_batch(self, lock: Lock) -> None:
        """Delete ``lock`` unconditionally, in a batch (the caller decided it is safe)."""
        self._pending.append(lock)
        if len(self._pending) >= BATCH_SIZE:
            self.flush()

    def add_conditional(self, lock: Lock) -> None:
        self._submit(self._delete_one, lock)

    def flush(self) -> None:
        """Send the partly filled batch now."""
        if self._pending:
            chunk, self._pending = self._pending, []
            self._submit(self._delete_batch, chunk)

    def _submit(self, work: Callable[[Any], None], arg: Any) -> None:
        self._slots.acquire()
        if self.interrupted:  # the first Ctrl-C came while we waited for a slot
            self._slots.release()
            return
        try:
            self._pool.submit(self._run, work, arg)
        except BaseException:
            self._slots.release()
            raise

    def _run(self, work: Callable[[Any], None], arg: Any) -> None:
        try:
            work(arg)
        finally:
            self._slots.release()

    def _settle(self, **counts: int) -> None:
        """Add to the result's counters and advance the progress handle; under the mutex."""
        settled = 0
        for name, n in counts.items():
            setattr(self.result, name, getattr(self.result, name) + n)
            if name in ("deleted", "changed", "failed"):
                settled += n
        if self.progress is not None and settled:
            self.progress.advance(settled)

    def _fail(self, count: int, error: str, *, stop: bool) -> None:
        with self._mutex:
            self._settle(failed=count)
            self.result.errors.append(error)
            if stop:
                self.stopped = True

    def _delete_one(self, target: Lock) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            deleted = delete_if_unchanged(self.client, self.table, target)
        except (ClientError, BotoCoreError) as exc:
            with self._mutex:
                self.result.delete_calls += 1
            error = f"{error_code(exc) or type(exc).__name__}: {exc}"
            self._fail(1, f"{target.transaction_id}: {error}", stop=False)
            return
        with self._mutex:
            self._settle(delete_calls=1, **({"deleted": 1} if deleted else {"changed": 1}))

    def _delete_batch(self, chunk: list[Lock]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        left: list[dict[str, Any]] = [
            {"DeleteRequest": {"Key": {KEY: {"S": lock.transaction_id}}}} for lock in chunk
        ]
        tries = 0

        def send() -> None:
            nonlocal left, tries
            tries += 1
            response = self.client.batch_write_item(
                RequestItems={self.table: left}  # type: ignore[dict-item]
            )
            unprocessed = cast(
                "list[dict[str, Any]]", response.get("UnprocessedItems", {}).get(self.table, [])
            )
            with self._mutex:
                self._settle(batch_calls=1, deleted=len(left) - len(unprocessed))
            left = unprocessed
            if left:
                raise _Unprocessed

        try:
            retry_call(
                send,
                retryable=lambda exc: isinstance(exc, _Unprocessed) and not self.interrupted,
                backoff=UNPROCESSED_BACKOFF,
                timeout_s=UNPROCESSED_TIMEOUT_S,
                pacing=self.pacing,
                what="deletes left unprocessed",
                max_attempts=self.max_attempts,
            )
        except _Unprocessed:
            if self.interrupted:
                return  # not resent after Ctrl-C: still there, and not counted deleted
            self._fail(
                len(left),
                f"{len(left)} delete(s) still unprocessed after {tries} tries",
                stop=False,
            )
        except (ClientError, BotoCoreError) as exc:
            with self._mutex:
                self.result.batch_calls += 1
            error = f"{error_code(exc) or type(exc).__name__}: {exc}"
            self._fail(len(left), f"{len(left)} delete(s) failed: {error}", stop=True)


def execute_clear(
    client: DynamoDBClient,
    table: str,
    plan: ClearPlan,
    *,
    progress: ProgressHandle | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_attempts: int = 8,
    concurrency: int = 8,
    stop: threading.Event | None = None,
) -> ClearResult:
    """Delete what the plan says; never raises for single items, counts them instead."""
    deleter = Deleter(
        client,
        table,
        progress=progress,
        sleep=sleep,
        max_attempts=max_attempts,
        concurrency=concurrency,
        stop=stop,
    )
    with deleter:
        for lock in plan.batch:
            if deleter.interrupted:
                break
            deleter.add_batch(lock)
        for lock in plan.conditional:
            if deleter.interrupted:
                break
            deleter.add_conditional(lock)
    result = deleter.result
    result.skipped_live += len(plan.skipped_live)
    result.not_found = len(plan.not_found)
    return result


def delete_if_unchanged(client: DynamoDBClient, table: str, lock: Lock) -> bool:
    """Delete only if owner, status and expiration are still what we saw; False if changed.

    Also how `dlq redrive --clear-locks` releases the locks it read.
    """
    names = {"#o": "owner", "#s": "status", "#e": "expiration"}
    values: dict[str, Any] = {}
    conditions = []
    # An expired record is re-acquired with a new expiration even by the same owner format.
    for placeholder, name in names.items():
        value = _as_read(lock, name)
        if value is None:
            conditions.append(f"attribute_not_exists({placeholder})")
        else:
            conditions.append(f"{placeholder} = :{name}")
            values[f":{name}"] = value
    args: dict[str, Any] = {
        "TableName": table,
        "Key": {KEY: {"S": lock.transaction_id}},
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
    }
    if values:
        args["ExpressionAttributeValues"] = values
    return unless_condition_fails(lambda: client.delete_item(**args))


def _as_read(lock: Lock, name: str) -> dict[str, Any] | None:
    """The attribute exactly as it was read (any type), for a condition on it."""
    if lock.raw is not None:
        raw = lock.raw.get(name)
        return None if raw is None else dict(raw)
    value = lock.item.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return {"S": value}
    return {"N": str(value)}
