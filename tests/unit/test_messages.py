"""Building and validating messages: everything decided before any AWS call."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone

import pytest

from sqsidem.errors import UsageError
from sqsidem.messages import (
    KEY_ATTRIBUTE,
    MAX_PAYLOAD_BYTES,
    Attribute,
    MessageSpec,
    OutgoingMessage,
    build_messages,
    fill_placeholders,
    group_for,
    is_fifo_queue,
    lanes_for,
    plan_batches,
)


def build(spec: MessageSpec, fifo: bool = True) -> list[OutgoingMessage]:
    counter = itertools.count(1)
    return build_messages(
        spec,
        fifo=fifo,
        new_uuid=lambda: f"u{next(counter)}",
        now=lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    )


def test_default_is_one_generated_json_message_keyed_by_its_dedup_id() -> None:
    """No input: one message from the default template, key = dedup id = transaction id."""
    [message] = build(MessageSpec())
    document = json.loads(message.body)
    assert document["transaction_id"] == "u1" == message.dedup_id == message.key
    assert document["sent_at"] == "2026-01-02T03:04:05.000Z"
    assert message.group_id == "sqsidem"
    assert message.attributes[KEY_ATTRIBUTE] == Attribute("u1")


def test_count_and_template_fill_placeholders_only() -> None:
    """{seq} {uuid} {ts} {group} are replaced; JSON braces and unknown names stay."""
    messages = build(MessageSpec(count=3, template='{"n": {seq}, "id": "{uuid}", "x": "{y}"}'))
    assert [json.loads(m.body)["n"] for m in messages] == [1, 2, 3]
    assert json.loads(messages[2].body) == {"n": 3, "id": "u3", "x": "{y}"}
    assert fill_placeholders("{group}/{seq}", {"group": "g", "seq": "1"}) == "g/1"


def test_groups_round_robin() -> None:
    """--groups K deals messages to base-1..base-K in turn."""
    messages = build(MessageSpec(count=5, groups=2, group_id="g"))
    assert [m.group_id for m in messages] == ["g-1", "g-2", "g-1", "g-2", "g-1"]
    assert group_for(1, None, None) == "sqsidem"


def test_repeat_key_keeps_fresh_dedup_ids() -> None:
    """--repeat-key K: every message carries key K but its own dedup id."""
    messages = build(MessageSpec(count=2, repeat_key="K"))
    assert [m.key for m in messages] == ["K", "K"]
    assert messages[0].dedup_id != messages[1].dedup_id


def test_repeat_dedup_id_reuses_the_id_and_key() -> None:
    """--repeat-dedup-id ID: the dedup id (and so the key) is ID for every copy."""
    messages = build(MessageSpec(count=2, repeat_dedup_id="ID1"))
    assert {(m.dedup_id, m.key) for m in messages} == {("ID1", "ID1")}


def test_body_argument_is_sent_literally() -> None:
    """A body argument is not a template; --count sends copies with fresh dedup ids."""
    messages = build(MessageSpec(body="hi {seq}", count=2))
    assert [m.body for m in messages] == ["hi {seq}", "hi {seq}"]
    assert len({m.dedup_id for m in messages}) == 2


def test_dedup_id_with_placeholder_for_many() -> None:
    """--dedup-id with {seq} makes distinct ids."""
    messages = build(MessageSpec(count=2, dedup_id="d-{seq}"))
    assert [m.dedup_id for m in messages] == ["d-1", "d-2"]


def test_jsonl_fields_and_defaults() -> None:
    """JSONL lines carry body, group, dedup id, attributes, key; --attr applies to all."""
    text = "\n".join(
        [
            json.dumps({"body": "a", "group_id": "g", "dedup_id": "d", "attributes": {"n": 1}}),
            "",
            json.dumps({"body": {"x": 1}, "key": "k2"}),
        ]
    )
    first, second = build(MessageSpec(jsonl_text=text, attrs=["env=dev"]))
    assert (first.body, first.group_id, first.dedup_id, first.key) == ("a", "g", "d", "d")
    assert first.attributes["n"] == Attribute("1", "Number")
    assert first.attributes["env"] == Attribute("dev")
    assert (second.body, second.key, second.group_id) == ('{"x":1}', "k2", "sqsidem")


def test_standard_queue_messages_have_no_fifo_ids() -> None:
    """On a standard queue the key is a fresh uuid and no group/dedup id is sent."""
    [message] = build(MessageSpec(body="x"), fifo=False)
    assert message.group_id is None and message.dedup_id is None
    assert message.key == "u1"
    assert "MessageGroupId" not in message.entry()


@pytest.mark.parametrize(
    ("spec", "fifo", "fragment"),
    [
        (MessageSpec(body=""), True, "empty body"),
        (MessageSpec(body="x" * (MAX_PAYLOAD_BYTES + 1)), True, "over the"),
        (MessageSpec(body="bad \x00 char"), True, "U+0000"),
        (MessageSpec(group_id="g" * 129), True, "group id is 129 characters"),
        (MessageSpec(dedup_id="d" * 129), True, "dedup id is 129 characters"),
        (MessageSpec(group_id="has space"), True, "characters SQS rejects"),
        (MessageSpec(dedup_id="é"), True, "characters SQS rejects"),
        (MessageSpec(group_id="g"), False, "--group-id needs a FIFO queue"),
        (MessageSpec(groups=2), False, "--groups needs a FIFO queue"),
        (MessageSpec(dedup_id="d"), False, "--dedup-id needs a FIFO queue"),
        (MessageSpec(repeat_dedup_id="d"), False, "--repeat-dedup-id needs a FIFO queue"),
        (MessageSpec(jsonl_text='{"body": "a", "group_id": "g"}'), False, "need a FIFO queue"),
        (MessageSpec(jsonl_text='{"body": "a"}\n{"body": '), True, "line 2: not valid JSON"),
        (MessageSpec(jsonl_text='{"body": "a"}\n[1]'), True, "line 2: expected a JSON object"),
        (MessageSpec(jsonl_text='{"bdy": "a"}'), True, "line 1: unknown field 'bdy'"),
        (MessageSpec(jsonl_text='{"group_id": "g"}'), True, "line 1: no body"),
        (MessageSpec(jsonl_text="\n\n"), True, "holds no messages"),
        (MessageSpec(jsonl_text='{"body": "a", "dedup_id": 5}'), True, "must be a string"),
        (MessageSpec(body="a", count=0), True, "invalid --count"),
        (MessageSpec(groups=0), True, "invalid --groups"),
        (MessageSpec(body="a", template="t"), True, "--template and a body argument conflict"),
        (MessageSpec(body="a", jsonl_text="{}"), True, "a body argument and --file conflict"),
        (MessageSpec(jsonl_text="{}", count=2), True, "--count and --file conflict"),
        (MessageSpec(dedup_id="d", repeat_dedup_id="e"), True, "conflict"),
        (MessageSpec(dedup_id="d", count=2), True, "would repeat"),
        (MessageSpec(attrs=["novalue"]), True, "invalid --attr"),
        (MessageSpec(attrs=["AWS.x=1"]), True, "invalid attribute name"),
        (MessageSpec(attrs=["a..b=1"]), True, "invalid attribute name"),
        (MessageSpec(attrs=["a="]), True, "empty value"),
        (MessageSpec(attrs=[f"{KEY_ATTRIBUTE}=x"]), True, "set by send"),
        (MessageSpec(attrs=[f"a{i}=1" for i in range(10)]), True, "SQS allows 10"),
    ],
)
def test_invalid_input_is_a_usage_error(spec: MessageSpec, fifo: bool, fragment: str) -> None:
    """Each kind of bad input raises UsageError (exit 2) naming the problem."""
    with pytest.raises(UsageError) as caught:
        build(spec, fifo=fifo)
    assert caught.value.exit_code == 2
    assert fragment in caught.value.one_line()


def test_one_bad_message_among_many_rejects_all() -> None:
    """Validation covers every message before anything is returned for sending."""
    text = '{"body": "ok"}\n{"body": ""}'
    with pytest.raises(UsageError, match="line 2: empty body"):
        build(MessageSpec(jsonl_text=text))


def test_fifo_decided_from_name_or_url() -> None:
    """The queue kind comes from the .fifo suffix of a name or URL."""
    assert is_fifo_queue("q.fifo")
    assert is_fifo_queue("http://127.0.0.1:1/000000000000/q.fifo")
    assert not is_fifo_queue("https://sqs.x.amazonaws.com/1/q")


def test_batches_hold_ten_and_respect_payload_limit() -> None:
    """10 entries per batch, and a batch's summed size never exceeds the limit."""
    small = build(MessageSpec(count=25))
    assert [len(b) for b in plan_batches(small)] == [10, 10, 5]
    big = [
        OutgoingMessage(index=i, body="x" * 400_000, key=f"k{i}", attributes={"a": Attribute("v")})
        for i in range(5)
    ]
    batches = plan_batches(big)
    assert [len(b) for b in batches] == [2, 2, 1]
    assert all(sum(m.size for m in b) <= MAX_PAYLOAD_BYTES for b in batches)


def test_size_counts_attribute_names_types_and_values() -> None:
    """Payload = body + attribute name + data type + value bytes."""
    message = OutgoingMessage(index=0, body="ab", key="k", attributes={"n": Attribute("vv")})
    assert message.size == 2 + 1 + len("String") + 2


def test_lanes_keep_a_group_in_one_lane() -> None:
    """FIFO: one group's batches go out in order from one lane; groups spread over lanes."""
    one_group = build(MessageSpec(count=95))
    assert [len(lane) for lane in lanes_for(one_group, 8)] == [10]
    spread = build(MessageSpec(count=40, groups=4))
    lanes = lanes_for(spread, 8)
    assert len(lanes) == 4
    for lane in lanes:
        assert len({m.group_id for batch in lane for m in batch}) == 1
    standard = build(MessageSpec(count=95), fifo=False)
    assert sum(len(lane) for lane in lanes_for(standard, 8)) == 10
