"""The view of `sqsidem policy`: the JSON document on stdout, how to attach it on stderr."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqsidem.render.sink import Renderer
    from sqsidem.stack.iam_policy import PolicyDocument

# IAM's limits (characters without whitespace): an inline user policy, a managed policy.
USER_INLINE_LIMIT = 2048
MANAGED_LIMIT = 6144


def show_policy(
    render: Renderer, document: PolicyDocument, *, profile: str, stack: str, size: int
) -> None:
    # The same JSON in both output modes: it is meant for the aws CLI as it is.
    render.stdout.write(json.dumps(document, indent=2) + "\n")
    render.stdout.flush()
    name = f"sqsidem-{stack}-{profile}"
    if size <= USER_INLINE_LIMIT:
        how = (
            f"aws iam put-user-policy --user-name USER --policy-name {name} "
            "--policy-document file://policy.json"
        )
    else:
        how = (
            f"aws iam create-policy --policy-name {name} --policy-document file://policy.json, "
            "then aws iam attach-user-policy (an inline user policy holds only "
            f"{USER_INLINE_LIMIT} characters; this one has {size})"
        )
    render.info(f"policy for `{profile}` on stack {stack} ({size} of {MANAGED_LIMIT}): {how}")
