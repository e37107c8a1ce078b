"""Setup checks the runtime against the right AWS date: block create for a new function,
block update for one that exists (moto)."""

from __future__ import annotations

import pytest

from sqsidem.aws import Aws
from sqsidem.errors import UsageError
from sqsidem.names import names_for
from sqsidem.retry import instant
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.runtimes import BY_NAME
from sqsidem.stack.setup import converge, plan_setup, prepare

PY310 = BY_NAME["python3.10"]
FAST = SetupOptions(timeout_s=2, visibility_timeout_s=4)


def test_new_function_refused_on_block_create_existing_one_still_updated(moto_aws: Aws) -> None:
    """On python3.10's block-create day a new function may not use it; an existing one may."""
    names = names_for("rt1")
    old = SetupOptions(timeout_s=2, visibility_timeout_s=4, runtime="python3.10")
    with pytest.raises(UsageError, match="new functions"):
        plan_setup(moto_aws, prepare(names, old, PY310.block_create))
    converge(moto_aws, prepare(names, FAST, PY310.block_create), pacing=instant())

    planned = plan_setup(moto_aws, prepare(names, old, PY310.block_create))

    assert any("python3.10" in warning for warning in planned.plan.warnings)
    changes = [(c.attribute, c.want) for step in planned.plan.steps for c in step.changes]
    assert ("Runtime", "python3.10") in changes
