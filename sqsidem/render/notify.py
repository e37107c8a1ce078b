"""The views of `notify test|subscribe|list`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from sqsidem.render.sink import Renderer

if TYPE_CHECKING:
    from sqsidem.notify import Subscription


def show_published(render: Renderer, sent: Mapping[str, str]) -> None:
    if render.json:
        render.emit(sent)
    else:
        render.success(f"test notification {sent['message_id']} sent to {sent['topic_arn']}")


def show_subscribed(render: Renderer, subscription: Subscription) -> None:
    if render.json:
        render.emit(subscription.as_dict())
    elif subscription.pending:
        render.success(
            f"{subscription.endpoint} subscribed, pending confirmation: "
            "open the link AWS emailed to it"
        )
    else:
        render.success(f"{subscription.endpoint} subscribed ({subscription.arn})")


def show_subscriptions(render: Renderer, arn: str, subscriptions: Sequence[Subscription]) -> None:
    if render.json:
        render.emit({"topic_arn": arn, "subscriptions": [s.as_dict() for s in subscriptions]})
        return
    if not subscriptions:
        render.info(f"no subscriptions on {arn}: add one with `sqsidem notify subscribe EMAIL`")
        return
    render.table(
        ["protocol", "endpoint", "status"],
        [
            [s.protocol, s.endpoint, "pending confirmation" if s.pending else "confirmed"]
            for s in subscriptions
        ],
        title=arn,
    )
