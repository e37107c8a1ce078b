"""Every resource kind of a stack, in dependency order: apply walks it forwards, teardown
backwards. A new kind is one module and one line here."""

from __future__ import annotations

from sqsidem.stack.alarm import ALARM
from sqsidem.stack.function import FUNCTION
from sqsidem.stack.kind import AnyKind
from sqsidem.stack.kms_key import KEY
from sqsidem.stack.log_group import LOG_GROUP
from sqsidem.stack.mapping import MAPPING
from sqsidem.stack.queues import DLQ, QUEUE
from sqsidem.stack.role import ROLE
from sqsidem.stack.subscription import SUBSCRIPTION
from sqsidem.stack.table import TABLE
from sqsidem.stack.topic import TOPIC

KINDS: tuple[AnyKind, ...] = (
    KEY,
    DLQ,
    QUEUE,
    TABLE,
    LOG_GROUP,
    ROLE,
    FUNCTION,
    MAPPING,
    TOPIC,
    SUBSCRIPTION,
    ALARM,
)
CREATE_ORDER: tuple[str, ...] = tuple(kind.key for kind in KINDS)
