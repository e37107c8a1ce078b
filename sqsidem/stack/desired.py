"""What the stack should look like: each kind's wish, from names, options and known ARNs."""

from __future__ import annotations

from sqsidem.build.zipfile import FunctionZip
from sqsidem.names import StackNames
from sqsidem.stack.inputs import Inputs, Refs
from sqsidem.stack.kind import DesiredStack
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.registry import KINDS


def build(names: StackNames, options: SetupOptions, refs: Refs, code: FunctionZip) -> DesiredStack:
    """No AWS call: every kind says what it wants (None: not wanted)."""
    inputs = Inputs(names, options, refs, code)
    specs = {kind.key: kind.wanted(inputs) for kind in KINDS}
    return DesiredStack(names, options, refs, specs)
