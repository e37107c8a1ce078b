"""Test messages: build them from the `send` options, validate them, send them (issue 5).

- :mod:`.model`: the message and SQS's limits;
- :mod:`.build`: options or JSON Lines into messages (exit 2 before any call);
- :mod:`.validate`: what SQS would reject;
- :mod:`.lanes`: batches and per-group lanes;
- :mod:`.send`: SendMessageBatch from worker threads, resending what was not confirmed.

The building side is re-exported here; sending lives in :mod:`sqsidem.messages.send`.
"""

from sqsidem.messages.build import (
    DEFAULT_GROUP,
    DEFAULT_TEMPLATE,
    MessageSpec,
    build_messages,
    fill_placeholders,
    group_for,
    is_fifo_queue,
    parse_attr_options,
    read_text_input,
)
from sqsidem.messages.lanes import lanes_for, plan_batches
from sqsidem.messages.model import (
    KEY_ATTRIBUTE,
    MAX_BATCH_ENTRIES,
    MAX_PAYLOAD_BYTES,
    Attribute,
    OutgoingMessage,
)
from sqsidem.messages.validate import validate_id, validate_message

__all__ = [
    "DEFAULT_GROUP",
    "DEFAULT_TEMPLATE",
    "KEY_ATTRIBUTE",
    "MAX_BATCH_ENTRIES",
    "MAX_PAYLOAD_BYTES",
    "Attribute",
    "MessageSpec",
    "OutgoingMessage",
    "build_messages",
    "fill_placeholders",
    "group_for",
    "is_fifo_queue",
    "lanes_for",
    "parse_attr_options",
    "plan_batches",
    "read_text_input",
    "validate_id",
    "validate_message",
]
