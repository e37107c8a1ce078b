"""Every resource name of a stack, derived from the stack name alone (DESIGN 6.1)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqsidem.errors import UsageError

STACK_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
DEFAULT_STACK = "test"
STACK_TAG = "sqsidem:stack"


@dataclass(frozen=True)
class StackNames:
    """The names of one stack's resources; the default stack gives the tutorial's names."""

    stack: str
    queue: str
    dlq: str
    table: str
    function: str
    role: str
    log_group: str
    topic: str
    alarm: str
    key_alias: str

    @property
    def tags(self) -> dict[str, str]:
        return {STACK_TAG: self.stack}


def validate_stack_name(stack: str) -> str:
    if not STACK_NAME_RE.fullmatch(stack):
        raise UsageError(
            f"invalid stack name {stack!r}: use 1-40 characters, a lowercase letter first, "
            "then lowercase letters, digits or '-'"
        )
    return stack


def names_for(stack: str) -> StackNames:
    validate_stack_name(stack)
    function = f"{stack}-sqs-receive"
    return StackNames(
        stack=stack,
        queue=f"{stack}-queue.fifo",
        dlq=f"{stack}-queue-dlq.fifo",
        table=f"Idempotent-{stack}",
        function=function,
        role=f"{function}-role",
        log_group=f"/aws/lambda/{function}",
        topic=f"{stack}-dlq-alerts",
        alarm=f"{stack}-dlq-not-empty",
        key_alias=f"alias/sqsidem-{stack}",
    )
