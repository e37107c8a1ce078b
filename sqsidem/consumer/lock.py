"""The idempotency lock: a small state machine over one DynamoDB item per key (DESIGN 2, 6.3).

Item: ``transaction_id`` (S, key), ``status`` IN_PROGRESS | COMPLETED,
``in_progress_expiration`` (N, epoch ms: the attempt's deadline), ``expiration`` (N, epoch s,
the TTL attribute), ``owner`` (a token per attempt), ``message_id``, ``group_id``,
``receive_count``, ``first_seen_ms``, ``completed_ms``. A new message costs two writes:
the acquiring write and the completing UpdateItem (or, when the processor collected
transactional effects, one TransactWriteItems holding that update and the effects).

The acquiring write is a conditional PutItem (:meth:`LockTable.acquire`), or, for the new
locks of a whole batch, one ``BatchExecuteStatement`` of PartiQL INSERTs
(:meth:`LockTable.acquire_new`). An INSERT writes its item only if no item has that key,
the first case of the PutItem's condition, and each statement succeeds or fails on its
own: ten new locks cost ten item writes, as ten PutItems do, in one call. Every key the
INSERT finds taken goes through the PutItem, which decides duplicate, busy, stale or
expired as before (such a key costs the failed INSERT and the PutItem, one after the other).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from .effects import (
    MAX_EFFECTS,
    Effects,
    EffectsError,
    EffectsRejected,
    cancellation_codes,
    commit_token,
    too_many_message,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
KEY_ATTRIBUTE = "transaction_id"

LockState = Literal["in-progress", "stale", "completed", "expired"]
AcquireKind = Literal["acquired", "taken-over", "duplicate", "busy"]

# status and owner are DynamoDB reserved words, hence #s and #o everywhere.
_ACQUIRE_CONDITION = (
    "attribute_not_exists(#k)"
    " OR (#s = :in_progress AND in_progress_expiration < :now_ms)"
    " OR expiration < :now_s"
)
_CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"
# BatchExecuteStatement takes at most 25 statements.
MAX_STATEMENTS_PER_CALL = 25
# The error code of a statement whose condition failed (BatchStatementError).
_STATEMENT_FAILED = "ConditionalCheckFailed"
# Whole-call answers that will not change: the principal may not run these statements (no
# dynamodb:PartiQLInsert / PartiQLUpdate) or the backend cannot. Anything else (throttling,
# a 5xx, a dropped connection, an expired token) falls back for that call only.
_REFUSED_CODES = frozenset(
    {"AccessDeniedException", "UnknownOperationException", "ValidationException"}
)
# The same, answered per statement: a refusal when every statement of a call has one.
_REFUSED_STATEMENT_CODES = frozenset({"AccessDenied", "ValidationError"})
# The reason code a transaction gives for an action whose condition failed.
_CONDITION_FAILED_REASON = "ConditionalCheckFailed"
_DESERIALIZER = TypeDeserializer()
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def derive_state(item: Mapping[str, Any], now_ms: int) -> LockState:
    """The state a reader should show for a deserialized lock item.

    Uses the same comparisons as the acquire condition, so ``stale`` and ``expired`` are
    exactly what the consumer would take over. ``expired`` wins; TTL deletion lags, so
    readers must compare themselves. Tutorial items (only ``transaction_id``) are
    ``completed`` and never expire; any status other than IN_PROGRESS reads as completed,
    because the acquire condition treats it as a blocking record too.
    """
    expiration = as_int(item.get("expiration"))
    if expiration is not None and expiration < now_ms // 1000:
        return "expired"
    if item.get("status") == IN_PROGRESS:
        deadline = as_int(item.get("in_progress_expiration"))
        if deadline is not None and deadline < now_ms:
            return "stale"
        return "in-progress"
    return "completed"


def as_int(value: object) -> int | None:
    """A number attribute as the lock's comparisons read it; None if it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal | float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(Decimal(value))
        except (ArithmeticError, ValueError):  # not a number, or NaN / Infinity
            return None
    return None


def deserialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A low-level DynamoDB item (``{"S": ...}``) as plain values: integral numbers as int,
    other numbers as float; the one reader of lock items (the consumer and `locks`)."""
    return {name: _plain(value) for name, value in item.items()}


def _plain(value: Mapping[str, Any]) -> Any:
    # Lock records are strings and numbers: decode those inline, because a scan of a big
    # table spends its client time here; anything else goes through boto3's deserializer.
    text = value.get("S")
    if text is not None:
        return text
    number = value.get("N")
    if number is not None:
        try:
            return int(number)
        except ValueError:
            decoded = Decimal(number)
            return int(decoded) if decoded == decoded.to_integral_value() else float(decoded)
    return _DESERIALIZER.deserialize(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class AcquireResult:
    """What the acquiring write found. ``previous`` is the blocking or replaced item."""

    kind: AcquireKind
    previous: dict[str, Any] | None = None

    @property
    def owned(self) -> bool:
        return self.kind in ("acquired", "taken-over")


@dataclass(frozen=True)
class LockAttempt:
    """Who is trying: written into the lock so `locks list` can say which message holds it."""

    owner: str
    message_id: str | None = None
    group_id: str | None = None
    receive_count: int | None = None


class LockTable:
    """The lock operations on one table; thread-safe as long as the client is (boto3's is)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        ttl_s: int,
        now_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.client = client
        self.table = table
        self.ttl_s = ttl_s
        self.now_ms = now_ms
        # Whether acquire_new / complete_many send their PartiQL statements (each False once
        # the table has refused them). Only the table's name is spelled into a statement:
        # one that is not a plain DynamoDB name never is.
        self.inserts = self.updates = bool(_TABLE_NAME.fullmatch(table))

    def acquire(self, key: str, attempt: LockAttempt, deadline_ms: int) -> AcquireResult:
        """One conditional PutItem: absent, stale or expired -> ours; else say who blocks."""
        now_ms = self.now_ms()
        try:
            response = self.client.put_item(
                TableName=self.table,
                Item=self._new_item(key, attempt, deadline_ms, now_ms),
                ConditionExpression=_ACQUIRE_CONDITION,
                ExpressionAttributeNames={"#k": KEY_ATTRIBUTE, "#s": "status"},
                ExpressionAttributeValues={
                    ":in_progress": {"S": IN_PROGRESS},
                    ":now_ms": {"N": str(now_ms)},
                    ":now_s": {"N": str(now_ms // 1000)},
                },
                # ALL_OLD on success tells a takeover from a fresh lock at no extra cost.
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _code(exc) != _CONDITIONAL_CHECK_FAILED:
                raise
            raw: Any = exc.response.get("Item")
            blocking = (
                deserialize_item(raw) if isinstance(raw, Mapping) and raw else {KEY_ATTRIBUTE: key}
            )
            state = derive_state(blocking, now_ms)
            if state == "in-progress" and blocking.get("owner") == attempt.owner:
                # Our own write of this very attempt, whose answer was lost (a retried call,
                # or an INSERT batch that failed as a whole after writing): it is ours.
                return AcquireResult("acquired")
            # The condition was evaluated with our now_ms, so the derived state agrees with
            # it; anything but "completed" means a live attempt: retry later.
            if state == "completed":
                return AcquireResult("duplicate", blocking)
            return AcquireResult("busy", blocking)
        old = response.get("Attributes")
        if old:
            return AcquireResult("taken-over", deserialize_item(old))
        return AcquireResult("acquired")

    def acquire_new(
        self, requests: Sequence[tuple[str, LockAttempt]], deadline_ms: int
    ) -> list[AcquireResult | None]:
        """Take each lock as a new item: PartiQL INSERTs in one BatchExecuteStatement.

        ``acquired`` where the INSERT wrote the item (the key was absent); None where it did
        not (the key exists, or the statement or the whole call failed): decide those with
        :meth:`acquire`. Never raises for an AWS error. A table that cannot take INSERTs
        (no ``dynamodb:PartiQLInsert``, a backend without PartiQL) is not asked again:
        :attr:`inserts` turns False and every later call answers None at once.
        """
        now_ms = self.now_ms()
        statements = [
            _insert(self.table, self._new_item(key, attempt, deadline_ms, now_ms))
            for key, attempt in requests
        ]
        written = AcquireResult("acquired")
        return [
            written if answer is not None and _statement_code(answer) is None else None
            for answer in self._run_statements("inserts", statements)
        ]

    def complete_many(self, requests: Sequence[tuple[str, str]]) -> list[bool | None]:
        """:meth:`complete` for many ``(key, owner)`` at once: PartiQL UPDATEs, each on the
        same owner condition as the UpdateItem, in one BatchExecuteStatement.

        True: COMPLETED written; False: the lock is no longer ours (the condition failed);
        None: not decided (the statement or the call failed): use :meth:`complete`. Never
        raises for an AWS error; without ``dynamodb:PartiQLUpdate`` :attr:`updates` turns
        False, as :attr:`inserts` does.
        """
        now = {"N": str(self.now_ms())}
        statements = [
            {
                "Statement": f'UPDATE {_table_ref(self.table)} SET "status" = ?'  # noqa: S608
                f' SET "completed_ms" = ? WHERE "{KEY_ATTRIBUTE}" = ? AND "owner" = ?',
                "Parameters": [{"S": COMPLETED}, now, {"S": key}, {"S": owner}],
            }
            for key, owner in requests
        ]
        results: list[bool | None] = []
        for answer in self._run_statements("updates", statements):
            code = _statement_code(answer)
            if answer is None or (code is not None and code != _STATEMENT_FAILED):
                results.append(None)  # not decided: the UpdateItem decides
            else:
                results.append(code is None)  # written, or the condition failed
        return results

    def _run_statements(self, kind: str, statements: list[Any]) -> list[Mapping[str, Any] | None]:
        """Each statement's answer (BatchExecuteStatement, 25 a call); None for those of a
        call that failed. A refusal (anything but a transient failure) turns ``kind`` (the
        attribute :attr:`inserts` or :attr:`updates`) False: the statements of later calls
        are not sent and answer None."""
        answers: list[Mapping[str, Any] | None] = [None] * len(statements)
        for start in range(0, len(statements), MAX_STATEMENTS_PER_CALL):
            if not getattr(self, kind):
                break
            chunk = statements[start : start + MAX_STATEMENTS_PER_CALL]
            try:
                got = self.client.batch_execute_statement(Statements=chunk)["Responses"]
            except Exception as exc:  # each is then decided by its own call
                if _refusal(exc):
                    setattr(self, kind, False)
                continue
            codes = []
            for offset, answer in enumerate(got[: len(chunk)]):
                answers[start + offset] = answer if isinstance(answer, Mapping) else None
                codes.append(_statement_code(answers[start + offset]))
            if codes and all(code in _REFUSED_STATEMENT_CODES for code in codes):
                setattr(self, kind, False)
        return answers

    def _new_item(
        self, key: str, attempt: LockAttempt, deadline_ms: int, now_ms: int
    ) -> dict[str, Any]:
        """The IN_PROGRESS item an attempt writes (both acquiring paths write the same)."""
        item: dict[str, Any] = {
            KEY_ATTRIBUTE: {"S": key},
            "status": {"S": IN_PROGRESS},
            "in_progress_expiration": {"N": str(deadline_ms)},
            "expiration": {"N": str(now_ms // 1000 + self.ttl_s)},
            "owner": {"S": attempt.owner},
            "first_seen_ms": {"N": str(now_ms)},
        }
        if attempt.message_id:
            item["message_id"] = {"S": attempt.message_id}
        if attempt.group_id:
            item["group_id"] = {"S": attempt.group_id}
        if attempt.receive_count is not None:
            item["receive_count"] = {"N": str(attempt.receive_count)}
        return item

    def complete(self, key: str, owner: str, effects: Effects | None = None) -> bool:
        """Mark COMPLETED if we still own the lock; False means someone took it over.

        With effects, ONE TransactWriteItems commits the same owner-checked update and every
        effect: all or nothing. False then means nothing at all was written; an effect's
        failure raises :class:`~.effects.EffectsRejected` (nothing written either); any other
        error propagates, and the lock's status tells whether the transaction committed.
        """
        update = self._complete_update(key, owner)
        if effects is None or len(effects) == 0:
            return unless_condition_fails(lambda: self.client.update_item(**update))
        return self._commit(key, owner, update, effects)

    def _complete_update(self, key: str, owner: str) -> dict[str, Any]:
        return {
            "TableName": self.table,
            "Key": {KEY_ATTRIBUTE: {"S": key}},
            "UpdateExpression": "SET #s = :completed, completed_ms = :now_ms",
            "ConditionExpression": "#o = :owner",
            "ExpressionAttributeNames": {"#s": "status", "#o": "owner"},
            "ExpressionAttributeValues": {
                ":completed": {"S": COMPLETED},
                ":now_ms": {"N": str(self.now_ms())},
                ":owner": {"S": owner},
            },
        }

    def _commit(self, key: str, owner: str, update: dict[str, Any], effects: Effects) -> bool:
        if len(effects) > MAX_EFFECTS:
            raise EffectsError(too_many_message(len(effects)))
        items: list[Any] = [{"Update": update}, *effects.actions]
        try:
            self.client.transact_write_items(
                TransactItems=items,
                # Same attempt, same key -> same token: botocore's retry of a call whose
                # response was lost is answered from DynamoDB's memory, not applied twice.
                ClientRequestToken=commit_token(owner, key),
            )
        except ClientError as exc:
            codes = cancellation_codes(exc, len(items))
            if codes is None:
                raise
            codes = codes[: len(items)]
            if codes[0] == _CONDITION_FAILED_REASON:
                return False  # the lock is no longer ours; nothing was written
            failed = [
                f"effect {i} ({effects.label(i - 1)}): {code}"
                for i, code in enumerate(codes)
                if i > 0 and code != "None"
            ]
            if codes[0] != "None":
                failed.insert(0, f"lock update: {codes[0]}")
            detail = "; ".join(failed) or "no reason given"
            raise EffectsRejected(f"transaction cancelled, nothing written: {detail}") from exc
        return True

    def release(self, key: str, owner: str) -> bool:
        """Delete our own lock so a retry can run at once; False if it is no longer ours."""
        return unless_condition_fails(
            lambda: self.client.delete_item(**self._while_in_progress(key, owner))
        )

    def extend(self, key: str, owner: str, deadline_ms: int) -> bool:
        """Move our in-progress deadline (worker heartbeat); False if it is no longer ours."""
        request = self._while_in_progress(key, owner, {":deadline": {"N": str(deadline_ms)}})
        return unless_condition_fails(
            lambda: self.client.update_item(
                UpdateExpression="SET in_progress_expiration = :deadline", **request
            )
        )

    def _while_in_progress(
        self, key: str, owner: str, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The item of ``key``, on condition that ``owner`` still holds it IN_PROGRESS."""
        return {
            "TableName": self.table,
            "Key": {KEY_ATTRIBUTE: {"S": key}},
            "ConditionExpression": "#o = :owner AND #s = :in_progress",
            "ExpressionAttributeNames": {"#o": "owner", "#s": "status"},
            "ExpressionAttributeValues": {
                **(values or {}),
                ":owner": {"S": owner},
                ":in_progress": {"S": IN_PROGRESS},
            },
        }


def unless_condition_fails(call: Callable[[], object]) -> bool:
    """``call()``; False when its condition did not hold (the lock is no longer ours).

    Also how ``sqsidem locks`` deletes a lock only if it is unchanged (locks/delete.py)."""
    try:
        call()
    except ClientError as exc:
        if _code(exc) == _CONDITIONAL_CHECK_FAILED:
            return False
        raise
    return True


def _insert(table: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """A PartiQL INSERT of ``item``; every value travels as a typed parameter."""
    names = ", ".join(f"'{name}': ?" for name in item)
    return {
        "Statement": f"INSERT INTO {_table_ref(table)} VALUE {{{names}}}",
        "Parameters": list(item.values()),
    }


def _table_ref(table: str) -> str:
    """The table as a PartiQL identifier (a plain DynamoDB name: see LockTable.__init__)."""
    assert _TABLE_NAME.fullmatch(table)
    return f'"{table}"'


def _refusal(exc: Exception) -> bool:
    """Whether a failed statement batch says these statements will never run here."""
    if isinstance(exc, ClientError):
        return _code(exc) in _REFUSED_CODES
    if isinstance(exc, BotoCoreError):  # on the way: only a rejected request shape is final
        return isinstance(exc, ParamValidationError)
    return True  # a backend that cannot run them at all (moto: no PartiQL parameters)


def _statement_code(answer: Mapping[str, Any] | None) -> str | None:
    if answer is None:
        return None
    error = answer.get("Error")
    return str(error.get("Code")) if isinstance(error, Mapping) else None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
