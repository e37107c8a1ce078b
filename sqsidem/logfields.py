"""`logs --where FIELD=VALUE` / `FIELD!=VALUE`: tests on the fields of decision lines.

Each test is applied on the client (the judge: the emulators ignore JSON filter patterns)
and, where CloudWatch's syntax can say the same or a looser thing, pushed down to the
server as a JSON filter pattern so AWS sends fewer events. The pushed-down pattern must
never drop a line the client would keep, which defines the escaping:

- a value is compared exactly on the client (case-sensitive; ``*`` is a plain character);
- on the server a value is a double-quoted string; ``=`` with a ``*`` is pushed down as is,
  because CloudWatch's wildcard also matches the literal star (a superset); ``!=`` with a
  ``*`` is not pushed down (the wildcard would exclude lines the client keeps);
- a value holding ``"``, ``\\``, ``{`` or ``}`` (no documented escape) stays client-side;
- an integer (``receive_count=3``) matches the number 3 or the string "3", on both sides;
- ``null`` matches a field that is null or absent (server: ``IS NULL || NOT EXISTS``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqsidem.errors import UsageError

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")
_UNSAFE = frozenset('"\\{}')


@dataclass(frozen=True)
class FieldTest:
    """One ``--where`` condition on a decision line's JSON field."""

    field: str
    value: str
    negate: bool = False

    @property
    def text(self) -> str:
        return f"{self.field}{'!=' if self.negate else '='}{self.value}"

    def matches(self, decision: Mapping[str, Any]) -> bool:
        same = _same(decision.get(self.field), self.value)
        return not same if self.negate else same

    def server_term(self) -> str | None:
        """This test as a CloudWatch JSON pattern term, or None when it stays client-side."""
        selector = f"$.{self.field}"
        if any(c in _UNSAFE for c in self.value) or any(ord(c) < 32 for c in self.value):
            return None
        if self.value == "null":
            return None if self.negate else f"({selector} IS NULL || {selector} NOT EXISTS)"
        if self.negate and "*" in self.value:
            return None
        quoted = f'"{self.value}"'
        if _INTEGER.match(self.value):
            if self.negate:
                return f"({selector} != {self.value} && {selector} != {quoted})"
            return f"({selector} = {self.value} || {selector} = {quoted})"
        return f"({selector} {'!=' if self.negate else '='} {quoted})"


def _same(actual: object, wanted: str) -> bool:
    if actual is None:
        return wanted == "null"
    if isinstance(actual, bool):
        return wanted == ("true" if actual else "false")
    if isinstance(actual, int | float) and _INTEGER.match(wanted):
        return actual == int(wanted)
    return str(actual) == wanted


def parse_where(texts: Sequence[str]) -> tuple[FieldTest, ...]:
    """``--where`` options as tests; a malformed one is a usage error (exit 2)."""
    tests = []
    for text in texts:
        at = text.find("=")
        if at < 0:
            raise UsageError(f"invalid --where {text!r}", "use FIELD=VALUE or FIELD!=VALUE")
        negate = at > 0 and text[at - 1] == "!"
        field, value = text[: at - 1 if negate else at].strip(), text[at + 1 :]
        if not _FIELD.match(field):
            raise UsageError(
                f"invalid --where field {field!r}",
                "a field is a decision line's JSON key (decision, group_id, transaction_id, ...)",
            )
        tests.append(FieldTest(field, value, negate))
    return tuple(tests)


def json_pattern(tests: Sequence[FieldTest], transaction: str | None = None) -> str:
    """The JSON filter pattern for these tests (only our decision lines, then each term)."""
    terms = ["($.sqsidem = 1)"]
    if transaction is not None:
        term = FieldTest("transaction_id", transaction).server_term()
        if term is not None:
            terms.append(term)
    terms.extend(t for t in (test.server_term() for test in tests) if t is not None)
    return "{ " + " && ".join(terms) + " }"
