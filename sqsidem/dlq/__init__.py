"""The stack's dead-letter queue: look without consuming, list, redrive, purge.

- :mod:`.peek`: receive and release at once, so looking consumes nothing;
- :mod:`.link`: the DLQ and its source queue, through the source's RedrivePolicy;
- :mod:`.listing`: `dlq list`, messages with their keys' lock states;
- :mod:`.redrive`: plan and run a redrive, by :mod:`.move_task` or by :mod:`.copy`;
- :mod:`.result`: what a redrive did; :mod:`.purge`: `dlq purge`.
"""

from sqsidem.dlq.link import DlqLink, find_link
from sqsidem.dlq.listing import DlqListing, list_dlq
from sqsidem.dlq.purge import count_dlq, purge, purge_dlq
from sqsidem.dlq.redrive import (
    RedrivePlan,
    cancel_redrive,
    plan_redrive,
    redrive,
    release_locks,
    run_redrive,
)
from sqsidem.dlq.result import RedriveResult

__all__ = [
    "DlqLink",
    "DlqListing",
    "RedrivePlan",
    "RedriveResult",
    "cancel_redrive",
    "count_dlq",
    "find_link",
    "list_dlq",
    "plan_redrive",
    "purge",
    "purge_dlq",
    "redrive",
    "release_locks",
    "run_redrive",
]
