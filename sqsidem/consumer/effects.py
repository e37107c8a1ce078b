"""Transactional effects: DynamoDB writes committed in the same transaction as COMPLETED.

A lock alone cannot make an arbitrary effect happen exactly once: a crash after the effect
but before COMPLETED is written makes the redelivery run it again. An effect written to
DynamoDB can share the lock's transaction instead, so either both happen or neither does.
A processor asks for this by taking a second parameter::

    def process(record: dict, effects: Effects) -> None:
        order = json.loads(record["body"])
        effects.put("orders", {"order_id": order["id"], "total": order["total"]})
        effects.update("stock", {"sku": order["sku"]}, "SET qty = qty - :n",
                       condition="qty >= :n", values={":n": order["count"]})

Nothing is written while the processor runs. After it returns, the consumer writes ONE
``TransactWriteItems``: the lock's update to COMPLETED (conditioned on still owning the lock)
plus every collected effect, so a new message still costs two writes (acquire + this). A
crash before the transaction leaves no effect; the redelivery runs the processor again and
commits once. If the lock was taken over meanwhile, nothing is written (``lost-ownership``:
the attempt that took it over does the work). If an effect's own condition fails, nothing
is written either, the lock is released and the record is reported failed.

Values are plain Python values (str, int, float, Decimal, bool, None, bytes, lists, dicts,
sets), serialized with boto3's TypeSerializer; floats become Decimal through their shortest
repr (``0.1`` -> ``Decimal("0.1")``), NaN and infinities are refused. Conditions and update
expressions are DynamoDB expression strings; ``names`` / ``values`` are their
ExpressionAttributeNames / ExpressionAttributeValues.

Limits: a transaction takes 100 actions and the lock is one, so at most 99 effects per
record (:data:`MAX_EFFECTS`); more fails the record. DynamoDB also refuses two actions on
one item in a transaction, so an effect must not touch the record's own lock item.

Permissions: the deployed function's role may write only the lock table. Effects on other
tables need ``dynamodb:PutItem`` / ``UpdateItem`` / ``DeleteItem`` / ``ConditionCheckItem``
on those tables (a transaction checks each action's permission); without them the
transaction fails with AccessDenied and the record is reported failed. ``sqsidem worker``
uses the caller's credentials.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# TransactWriteItems takes at most 100 actions; one is the lock's update.
MAX_TRANSACTION_ACTIONS = 100
MAX_EFFECTS = MAX_TRANSACTION_ACTIONS - 1
TRANSACTION_CANCELED = "TransactionCanceledException"
_SERIALIZER = TypeSerializer()
_REASONS_IN_MESSAGE = re.compile(r"\[([^\]]*)\]\s*$")


class EffectsError(ValueError):
    """An effect cannot be collected (too many, unserializable value); fails the record."""


class EffectsRejected(Exception):
    """The transaction was cancelled for a reason other than the lock's ownership (an
    effect's condition failed, a conflict, ...): nothing was written."""


class Effects:
    """The DynamoDB writes of one record's processing, committed with its COMPLETED."""

    def __init__(self) -> None:
        self._actions: list[TransactWriteItemTypeDef] = []
        self._labels: list[str] = []
        self._problem: str | None = None

    def __len__(self) -> int:
        return len(self._actions)

    @property
    def actions(self) -> list[TransactWriteItemTypeDef]:
        """The low-level TransactItems entries, in the order they were added."""
        return list(self._actions)

    @property
    def problem(self) -> str | None:
        """Why an effect was refused, if one was. The record then fails even when the
        processor caught the :class:`EffectsError`: committing the others would silently
        drop the refused one."""
        return self._problem

    def label(self, index: int) -> str:
        """What effect ``index`` (0-based) was, for error messages: ``put on orders``."""
        return self._labels[index]

    def put(
        self,
        table: str,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Write ``item`` (replacing any item with its key) when the transaction commits."""
        self._add("Put", table, {"Item": item}, None, condition, names, values)

    def update(
        self,
        table: str,
        key: Mapping[str, Any],
        update_expression: str,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Apply ``update_expression`` to the item with ``key`` when the transaction commits."""
        self._add("Update", table, {"Key": key}, update_expression, condition, names, values)

    def delete(
        self,
        table: str,
        key: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Delete the item with ``key`` when the transaction commits."""
        self._add("Delete", table, {"Key": key}, None, condition, names, values)

    def check(
        self,
        table: str,
        key: Mapping[str, Any],
        condition: str,
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Commit only if ``condition`` holds for the item with ``key`` (writes nothing)."""
        self._add("ConditionCheck", table, {"Key": key}, None, condition, names, values)

    def _add(
        self,
        kind: str,
        table: str,
        target: Mapping[str, Mapping[str, Any]],
        update_expression: str | None,
        condition: str | None,
        names: Mapping[str, str] | None,
        values: Mapping[str, Any] | None,
    ) -> None:
        label = f"{_VERB[kind]} on {table}"
        try:
            if len(self._actions) >= MAX_EFFECTS:
                raise EffectsError(too_many_message(len(self._actions) + 1))
            action = _action(kind, table, target, update_expression, condition, names, values)
        except EffectsError as exc:
            message = f"effect {len(self._actions) + 1} ({label}): {exc}"
            if self._problem is None:
                self._problem = message
            raise EffectsError(message) from None
        entry: Any = {kind: action}
        self._actions.append(entry)
        self._labels.append(label)


def _action(
    kind: str,
    table: str,
    target: Mapping[str, Mapping[str, Any]],
    update_expression: str | None,
    condition: str | None,
    names: Mapping[str, str] | None,
    values: Mapping[str, Any] | None,
) -> dict[str, Any]:
    if not isinstance(table, str) or not table:
        raise EffectsError("an effect needs a table name")
    action: dict[str, Any] = {"TableName": table}
    for field_name, attributes in target.items():
        action[field_name] = _attributes(attributes, field_name.lower())
    if update_expression is not None:
        if not update_expression.strip():
            raise EffectsError("the update expression is empty")
        action["UpdateExpression"] = update_expression
    if condition is not None:
        if not condition.strip():
            raise EffectsError("the condition is empty")
        action["ConditionExpression"] = condition
    if names:
        action["ExpressionAttributeNames"] = dict(names)
    if values:
        action["ExpressionAttributeValues"] = _attributes(values, "values")
    return action


_VERB = {"Put": "put", "Update": "update", "Delete": "delete", "ConditionCheck": "check"}


def too_many_message(count: int) -> str:
    return (
        f"too many effects ({count}): one transaction takes at most {MAX_EFFECTS} effects "
        f"besides the lock"
    )


def _attributes(values: Mapping[str, Any], what: str) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise EffectsError(f"the {what} must be a mapping, not {type(values).__name__}")
    try:
        return {str(name): _SERIALIZER.serialize(plain(value)) for name, value in values.items()}
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise EffectsError(f"cannot store the {what}: {exc}") from exc


def plain(value: Any) -> Any:
    """``value`` with floats as Decimal (what TypeSerializer takes), recursively."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EffectsError(f"{value} cannot be stored in DynamoDB")
        # str() is the shortest repr: 0.1 -> "0.1", not the binary expansion.
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return {plain(v) for v in value}
    return value


def commit_token(owner: str, key: str) -> str:
    """The transaction's ClientRequestToken: stable per attempt (owner) and key, so a call
    botocore retries after a lost response is not applied twice (DynamoDB remembers a token
    for 10 minutes). 32 hex digits; the limit is 36 characters."""
    return hashlib.sha256(f"{owner}\0{key}".encode()).hexdigest()[:32]


def cancellation_codes(exc: ClientError, actions: int) -> list[str] | None:
    """The per-action reason codes of a TransactionCanceledException (``"None"`` for an
    action that did not fail), or None when the error is not a cancellation.

    Reads ``CancellationReasons``; when a backend leaves it out, falls back to the list at the
    end of the message (``... [ConditionalCheckFailed, None]``).
    """
    response: Mapping[str, Any] = exc.response
    if str(response.get("Error", {}).get("Code", "")) != TRANSACTION_CANCELED:
        return None
    reasons = response.get("CancellationReasons")
    codes: list[str] = []
    if isinstance(reasons, Sequence) and not isinstance(reasons, str):
        codes = [
            str(reason.get("Code") or "None") if isinstance(reason, Mapping) else "None"
            for reason in reasons
        ]
    if not codes:
        message = str(response.get("Error", {}).get("Message", "") or response.get("Message", ""))
        found = _REASONS_IN_MESSAGE.search(message)
        if found:
            codes = [part.strip() or "None" for part in found.group(1).split(",")]
    return codes + ["None"] * (actions - len(codes))
