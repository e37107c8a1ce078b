"""The one protocol every resource kind implements, and the stack-wide containers.

Each kind says what it wants (:meth:`Kind.wanted`), reads what exists (:meth:`Kind.observe`),
compares (:meth:`Kind.diff`) and answers with the calls that would converge it
(:meth:`Kind.create`, :meth:`Kind.update`, :meth:`Kind.tag`, :meth:`Kind.delete`). The
planner and teardown only walk the registry; the decisions shared by every kind (ours,
someone else's, adopt) live once here, in :meth:`Kind.plan` and :meth:`Kind.teardown`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar, cast

from sqsidem.names import STACK_TAG, StackNames
from sqsidem.stack.calls import Calls
from sqsidem.stack.inputs import Inputs, Refs
from sqsidem.stack.model import Change, ResourceKind, Step, owner_of
from sqsidem.stack.options import SetupOptions

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.stack.kms_scan import TaggedKey

W = TypeVar("W")
S = TypeVar("S")
T = TypeVar("T")


class HasTags(Protocol):
    @property
    def tags(self) -> Mapping[str, str]: ...


ST = TypeVar("ST", bound=HasTags)
TeardownAction = Literal["delete", "keep", "not-ours", "gone"]


@dataclass(frozen=True)
class DesiredStack:
    """What each kind wants (None: not wanted, e.g. the trigger with --no-trigger)."""

    names: StackNames
    options: SetupOptions
    refs: Refs
    specs: Mapping[ResourceKind, object]

    def with_(self, kind: ResourceKind, spec: object) -> DesiredStack:
        return replace(self, specs={**self.specs, kind: spec})


@dataclass(frozen=True)
class ObservedStack:
    """What each kind found in AWS (None: not there)."""

    found: Mapping[ResourceKind, object] = field(default_factory=dict)

    def with_(self, kind: ResourceKind, observed: object) -> ObservedStack:
        return replace(self, found={**self.found, kind: observed})

    @property
    def empty(self) -> bool:
        return all(value is None or value == () for value in self.found.values())


@dataclass(frozen=True)
class Where:
    """Where a kind looks: the stack's names, the account, and what earlier kinds found."""

    names: StackNames
    account: str
    region: str
    seen: ObservedStack
    partition: str  # the caller's: ARNs are never assumed to be in "aws"
    dying: bool = False  # include what a teardown marked for deletion (teardown finishes it)
    # The stack's keys found by tag (a scan of the account's keys): read once per run.
    keys: Callable[[], list[TaggedKey]] | None = None


@dataclass(frozen=True)
class TeardownOptions:
    keep_logs: bool = False
    keep_table: bool = False
    key_pending_days: int = 7
    force: bool = False  # delete even when messages or in-progress locks would go with it


@dataclass(frozen=True)
class TeardownItem:
    kind: ResourceKind
    name: str
    action: TeardownAction
    note: str = ""
    calls: Calls = field(default=(), repr=False)
    halt: bool = False  # a failure here stops the rest (see Kind.halt_on_failure)

    def as_dict(self) -> dict[str, str]:
        return {"resource": self.kind, "name": self.name, "action": self.action, "note": self.note}


def unless_gone(read: Callable[[], T]) -> T | None:
    """``read()``, or None when AWS says the resource is not there."""
    from botocore.exceptions import ClientError

    from sqsidem.errors import is_gone

    try:
        return read()
    except ClientError as exc:
        if is_gone(exc):
            return None
        raise


class Kind(ABC, Generic[W, S]):
    """One resource kind. ``W`` is what the stack wants, ``S`` what AWS reports (what it sees)."""

    # Teardown stops at a failure of this kind: deleting queues under a live trigger would
    # let a last batch fail noisily.
    halt_on_failure: ClassVar[bool] = False

    def __init__(self, key: ResourceKind, name_of: Callable[[StackNames], str]) -> None:
        self.key = key
        self._name_of = name_of

    # The protocol: the same six operations, with the same signatures, for every kind.
    @abstractmethod
    def observe(self, aws: Aws, where: Where) -> S | None: ...

    @abstractmethod
    def diff(self, desired: W, observed: S) -> tuple[Change, ...]: ...

    @abstractmethod
    def create(self, desired: W) -> Calls: ...

    @abstractmethod
    def update(self, desired: W, observed: S) -> Calls: ...

    @abstractmethod
    def tag(self, desired: W, observed: S) -> Calls: ...

    @abstractmethod
    def delete(self, observed: S, how: TeardownOptions) -> Calls: ...

    # What the kind wants, what it is called, whose it is.
    @abstractmethod
    def wanted(self, inputs: Inputs) -> W | None: ...

    def name(self, names: StackNames) -> str:
        return self._name_of(names)

    @abstractmethod
    def tags(self, observed: S) -> Mapping[str, str]: ...

    # Hooks with the common answer; a kind overrides what is special about it.
    def blocked(self, desired: W, observed: S) -> str | None:
        """Why the resource cannot be brought in line in place (None: it can)."""
        del desired, observed
        return None

    def replaced(self, observed: S) -> bool:
        del observed
        return False

    def replace(self, desired: W, observed: S) -> Calls:
        del observed
        return self.create(desired)

    def adopt(self, desired: W, observed: S) -> Calls:
        return self.tag(desired, observed) + self.update(desired, observed)

    def kept(self, how: TeardownOptions) -> str | None:
        """The option that keeps this resource at teardown, when given."""
        del how
        return None

    def teardown_note(self, observed: S) -> str:
        del observed
        return ""

    # Typed access to this kind's entry in the stack-wide containers.
    def wanted_in(self, stack: DesiredStack) -> W | None:
        return cast("W | None", stack.specs.get(self.key))

    def seen_in(self, seen: ObservedStack) -> S | None:
        return cast("S | None", seen.found.get(self.key))

    def plan(
        self, stack: DesiredStack, seen: ObservedStack, *, adopt: bool, earlier: Mapping[str, Step]
    ) -> Step | None:
        """Wanted vs found -> one step with its calls (None when not wanted and not there)."""
        del earlier
        desired = self.wanted_in(stack)
        if desired is None:
            return None
        name, observed = self.name(stack.names), self.seen_in(seen)
        if observed is None:
            return Step(self.key, name, "create", calls=self.create(desired))
        changes = self.diff(desired, observed)
        owner, ours = owner_of(self.tags(observed)), stack.names.stack
        if owner is not None and owner != ours:
            return Step(
                self.key, name, "blocked", changes, f"tagged {STACK_TAG}={owner}, not {ours}"
            )
        if owner is None and not adopt:
            return Step(
                self.key, name, "blocked", changes, f"exists without tag {STACK_TAG}={ours}"
            )
        reason = self.blocked(desired, observed)
        if reason:
            return Step(self.key, name, "blocked", changes, reason)
        if owner is None:
            note = f"add tag {STACK_TAG}={ours}"
            return Step(self.key, name, "adopt", changes, note, self.adopt(desired, observed))
        if self.replaced(observed):
            return Step(self.key, name, "replace", changes, calls=self.replace(desired, observed))
        if changes:
            return Step(self.key, name, "update", changes, calls=self.update(desired, observed))
        return Step(self.key, name, "unchanged")

    def teardown(
        self, names: StackNames, seen: ObservedStack, how: TeardownOptions
    ) -> list[TeardownItem]:
        """What teardown does with this kind: delete it only when it carries our tag."""
        name, observed = self.name(names), self.seen_in(seen)
        if observed is None:
            return [TeardownItem(self.key, name, "gone")]
        return [self.teardown_item(name, self.tags(observed), names.stack, observed, how)]

    def teardown_item(
        self, name: str, tags: Mapping[str, str], stack: str, observed: S, how: TeardownOptions
    ) -> TeardownItem:
        owner = owner_of(tags)
        if owner != stack:
            why = f"tagged {STACK_TAG}={owner}" if owner else f"no {STACK_TAG} tag"
            return TeardownItem(self.key, name, "not-ours", f"{why}: left alone")
        keep = self.kept(how)
        if keep is not None:
            return TeardownItem(self.key, name, "keep", keep)
        note = self.teardown_note(observed)
        calls = self.delete(observed, how)
        return TeardownItem(self.key, name, "delete", note, calls, self.halt_on_failure)


class Follower(Kind[W, S]):
    """A kind without tags of its own: it belongs to whoever owns its parent kind."""

    parent: ClassVar[ResourceKind]

    def tags(self, observed: S) -> Mapping[str, str]:
        del observed
        return {}

    def tag(self, desired: W, observed: S) -> Calls:
        del desired, observed
        return ()

    def teardown(
        self, names: StackNames, seen: ObservedStack, how: TeardownOptions
    ) -> list[TeardownItem]:
        """Nothing of its own by default: it goes with its parent."""
        del names, seen, how
        return []

    def orphaned(self, name: str, owner: str, earlier: Mapping[str, Step]) -> Step | None:
        """Blocked when the parent is not ours: we never touch what hangs off it either."""
        parent = earlier.get(self.parent)
        if parent is None or parent.action != "blocked":
            return None
        return Step(self.key, name, "blocked", (), f"belongs to {owner}, which is not ours")


class TaggedKind(Kind[W, ST]):
    """A kind whose resources carry tags of their own (all but the tagless followers)."""

    def tags(self, observed: ST) -> Mapping[str, str]:
        return observed.tags


AnyKind = Kind[Any, Any]
