"""Transactional effects without AWS: collecting, serializing, the processor's form, tokens."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sqsidem.consumer.effects import (
    MAX_EFFECTS,
    Effects,
    EffectsError,
    cancellation_codes,
    commit_token,
)
from sqsidem.consumer.processor import bind_processor, takes_effects


def test_put_update_delete_check_become_transact_items_in_order() -> None:
    effects = Effects()
    effects.put("orders", {"id": "o1", "total": 12.5, "n": 3, "ok": True, "tags": ["a"]})
    effects.update(
        "stock",
        {"sku": "s1"},
        "SET #q = #q - :n",
        condition="#q >= :n",
        names={"#q": "qty"},
        values={":n": 2},
    )
    effects.delete("carts", {"id": "c1"}, condition="attribute_exists(id)")
    effects.check("users", {"id": "u1"}, "attribute_exists(id)")
    assert len(effects) == 4
    assert effects.actions == [
        {
            "Put": {
                "TableName": "orders",
                "Item": {
                    "id": {"S": "o1"},
                    "total": {"N": "12.5"},
                    "n": {"N": "3"},
                    "ok": {"BOOL": True},
                    "tags": {"L": [{"S": "a"}]},
                },
            }
        },
        {
            "Update": {
                "TableName": "stock",
                "Key": {"sku": {"S": "s1"}},
                "UpdateExpression": "SET #q = #q - :n",
                "ConditionExpression": "#q >= :n",
                "ExpressionAttributeNames": {"#q": "qty"},
                "ExpressionAttributeValues": {":n": {"N": "2"}},
            }
        },
        {
            "Delete": {
                "TableName": "carts",
                "Key": {"id": {"S": "c1"}},
                "ConditionExpression": "attribute_exists(id)",
            }
        },
        {
            "ConditionCheck": {
                "TableName": "users",
                "Key": {"id": {"S": "u1"}},
                "ConditionExpression": "attribute_exists(id)",
            }
        },
    ]
    assert [effects.label(i) for i in range(4)] == [
        "put on orders",
        "update on stock",
        "delete on carts",
        "check on users",
    ]
    assert effects.problem is None


def test_floats_become_their_shortest_decimal_everywhere() -> None:
    effects = Effects()
    effects.put("t", {"id": "x", "a": 0.1, "nested": {"b": [1.5, {"c": 2.25}]}, "d": Decimal("3")})
    item = effects.actions[0]["Put"]["Item"]
    assert item["a"] == {"N": "0.1"}
    assert item["nested"] == {"M": {"b": {"L": [{"N": "1.5"}, {"M": {"c": {"N": "2.25"}}}]}}}
    assert item["d"] == {"N": "3"}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), object()])
def test_unstorable_values_are_refused_and_remembered(bad: Any) -> None:
    effects = Effects()
    with pytest.raises(EffectsError, match=r"effect 1 \(put on t\)"):
        effects.put("t", {"id": "x", "v": bad})
    assert len(effects) == 0
    assert effects.problem is not None and "put on t" in effects.problem


def test_empty_expressions_and_tables_are_refused() -> None:
    effects = Effects()
    with pytest.raises(EffectsError, match="update expression is empty"):
        effects.update("t", {"id": "x"}, " ")
    with pytest.raises(EffectsError, match="condition is empty"):
        effects.check("t", {"id": "x"}, "")
    with pytest.raises(EffectsError, match="table name"):
        effects.put("", {"id": "x"})


def test_at_most_99_effects_and_the_refusal_sticks() -> None:
    effects = Effects()
    for n in range(MAX_EFFECTS):
        effects.put("t", {"id": str(n)})
    assert MAX_EFFECTS == 99
    with pytest.raises(EffectsError, match="at most 99 effects"):
        effects.put("t", {"id": "one-too-many"})
    assert len(effects) == MAX_EFFECTS
    assert effects.problem is not None and "too many effects (100)" in effects.problem


def one(record: dict[str, Any]) -> None: ...


def two(record: dict[str, Any], effects: Effects) -> None: ...


def optional_named(record: dict[str, Any], effects: Effects | None = None) -> None: ...


def optional_other(record: dict[str, Any], context: Any = None) -> None: ...


def star_args(*args: Any) -> None: ...


@functools.wraps(two)
def _decorated(*args: Any, **kwargs: Any) -> None:
    """A decorator that keeps the signature (functools.wraps): inspect follows __wrapped__."""
    two(*args, **kwargs)


class Callable2:
    def __call__(self, record: dict[str, Any], effects: Effects) -> None: ...


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (one, False),
        (two, True),
        (optional_named, True),
        (optional_other, False),
        (star_args, False),
        (Callable2(), True),
        (_decorated, True),
        (print, False),
    ],
)
def test_the_processor_form_is_read_from_its_signature(function: Any, expected: bool) -> None:
    assert takes_effects(function) is expected


def test_bound_processor_passes_effects_only_to_the_two_parameter_form() -> None:
    seen: list[Any] = []

    def with_effects(record: dict[str, Any], effects: Effects) -> None:
        effects.put("t", {"id": record["id"]})
        seen.append(effects)

    def plain(record: dict[str, Any]) -> None:
        seen.append(record)

    bound = bind_processor(with_effects)
    assert bind_processor(bound) is bound  # decided once
    effects = bound.run({"id": "a"})
    assert effects is not None and len(effects) == 1 and seen == [effects]
    assert bind_processor(plain).run({"id": "b"}) is None
    assert seen[-1] == {"id": "b"}


def test_commit_token_is_stable_per_attempt_and_key_and_fits_the_limit() -> None:
    token = commit_token("req-1/abc", "k1")
    assert token == commit_token("req-1/abc", "k1")
    assert token != commit_token("req-1/abd", "k1")
    assert token != commit_token("req-1/abc", "k2")
    assert 1 <= len(token) <= 36 and token.isalnum()


def _canceled(response_extra: dict[str, Any], message: str = "") -> ClientError:
    response: Any = {
        "Error": {"Code": "TransactionCanceledException", "Message": message},
        **response_extra,
    }
    return ClientError(response, "TransactWriteItems")


def test_cancellation_codes_from_the_reasons_list() -> None:
    exc = _canceled(
        {"CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}, {}]}
    )
    assert cancellation_codes(exc, 3) == ["None", "ConditionalCheckFailed", "None"]


def test_cancellation_codes_from_the_message_when_the_list_is_missing() -> None:
    exc = _canceled(
        {},
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ConditionalCheckFailed, None]",
    )
    assert cancellation_codes(exc, 3) == ["ConditionalCheckFailed", "None", "None"]


def test_cancellation_codes_none_for_other_errors() -> None:
    other = ClientError({"Error": {"Code": "ValidationException"}}, "TransactWriteItems")
    assert cancellation_codes(other, 2) is None
