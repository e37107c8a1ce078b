"""Calls as data: ids in plan order, references listed as data and filled in at call time."""

from __future__ import annotations

import json

import pytest

from sqsidem.errors import SqsidemError
from sqsidem.stack.calls import Blob, Call, Json, Ref, listing, numbered, resolve

KEY = Ref("kms.CreateKey#1", "KeyMetadata.Arn")
POLICY = Json({"Statement": [{"Resource": KEY}]})


def test_ids_count_each_operation_in_plan_order() -> None:
    """service.Operation#n, n counted per operation across all steps."""
    first = (Call("kms", "CreateKey"), Call("iam", "PutRolePolicy"))
    second = (Call("iam", "PutRolePolicy"), Call("kms", "CreateKey"))
    ids = [[c.id for c in calls] for calls in numbered([first, second])]
    assert ids == [
        ["kms.CreateKey#1", "iam.PutRolePolicy#1"],
        ["iam.PutRolePolicy#2", "kms.CreateKey#2"],
    ]


def test_listing_is_plain_json_data() -> None:
    """References become {"ref", "path"}; documents stay structured; bytes are summarised."""
    params = {"PolicyDocument": POLICY, "Code": {"ZipFile": Blob(b"abc", "h")}, "N": 3}
    assert listing(params) == {
        "PolicyDocument": {
            "Statement": [{"Resource": {"ref": "kms.CreateKey#1", "path": "KeyMetadata.Arn"}}]
        },
        "Code": {"ZipFile": "<3 bytes, CodeSha256 h>"},
        "N": 3,
    }
    json.dumps(listing(params))


def test_resolve_fills_references_and_serialises_documents() -> None:
    """At call time a reference is the earlier answer; a document is its JSON text."""
    answers = {"kms.CreateKey#1": {"KeyMetadata": {"Arn": "arn:aws:kms:r:1:key/k"}}}
    sent = resolve({"PolicyDocument": POLICY, "ZipFile": Blob(b"abc", "h")}, answers)
    assert json.loads(sent["PolicyDocument"]) == {
        "Statement": [{"Resource": "arn:aws:kms:r:1:key/k"}]
    }
    assert sent["ZipFile"] == b"abc"


def test_a_reference_to_a_call_not_made_is_a_clear_error() -> None:
    """A plan that refers to a call this run did not make stops before sending anything."""
    with pytest.raises(SqsidemError, match=r"kms\.CreateKey#1"):
        resolve({"TargetKeyId": KEY}, {})
