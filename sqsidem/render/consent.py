"""Consent before destroying data, in two steps (one ``--yes`` for every destructive command).

1. :func:`require_consent` runs before any AWS call: with no ``--yes`` and nobody at the
   terminal, the command refuses at once (exit 2), having touched nothing.
2. :func:`confirm` runs once the command has observed what it would destroy: it shows that
   plan and asks, unless ``--yes`` was given.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqsidem.errors import Aborted, UsageError
from sqsidem.render.sink import Renderer


def require_consent(render: Renderer, *, yes: bool, action: str) -> None:
    """Step 1: refuse (exit 2) before any call when nobody could answer the question."""
    if yes or render.interactive:
        return
    raise UsageError(
        f"{action.rstrip('?')}: refusing without --yes in a non-interactive shell",
        "pass --yes to confirm",
    )


def confirm(render: Renderer, question: str, *, yes: bool, plan: Sequence[str] = ()) -> None:
    """Step 2: show the observed plan and ask; ``--yes`` answers for the user."""
    if yes:
        return
    require_consent(render, yes=yes, action=question)
    for line in plan:
        render.info(line)
    from rich.prompt import Confirm

    if not Confirm.ask(question, console=render.err_console(), default=False):
        raise Aborted("nothing done: not confirmed")
