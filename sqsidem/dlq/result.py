"""What a redrive did, whichever way it moved the messages, and when that is a failure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqsidem.errors import Interrupted, PartialFailure

ProgressFn = Callable[[int, int | None], None]  # (messages moved so far, total if known)


@dataclass
class RedriveResult:
    method: Literal["move-task", "copy"] | None  # None: stopped before either could start
    moved: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (message id, reason)
    held_back: int = 0  # later messages of a group whose earlier send failed (order kept)
    not_deleted: list[str] = field(default_factory=list)  # copied, but still in the DLQ too
    left_in_dlq: int | None = None  # approximate, read after the run
    task_status: str | None = None
    failure_reason: str | None = None
    interrupted: bool = False  # stopped by Ctrl-C: the rest stays in the DLQ
    total: int | None = None  # what the plan counted in the DLQ before the run

    @property
    def ok(self) -> bool:
        return (
            not self.interrupted
            and not self.failed
            and not self.held_back
            and not self.not_deleted
            and (self.task_status in (None, "COMPLETED"))
            # A copy run that leaves messages behind did not finish the job, even when no
            # single send failed (e.g. a receive lost to a dropped connection hid them).
            and not (self.method == "copy" and self.left_in_dlq)
        )

    def check(self) -> None:
        """Exit 1 (after the report was shown) when the redrive left work undone."""
        if self.ok:
            return
        if self.interrupted:
            of = "" if self.total is None else f" of {self.total:,}"
            raise Interrupted(f"redriven {self.moved:,}{of}")
        if self.task_status not in (None, "COMPLETED"):
            raise PartialFailure(
                f"move task ended {self.task_status} after {self.moved} message(s)",
                self.failure_reason or "see `sqsidem dlq list` for what is left",
            )
        left = f"; {self.left_in_dlq} message(s) stay in the DLQ" if self.left_in_dlq else ""
        if not self.failed:
            raise PartialFailure(
                f"moved {self.moved}{left}: some were hidden (in flight, or by a receive lost "
                "to a dropped connection) and reappear after the visibility timeout",
                "run `sqsidem dlq redrive` again in a few minutes",
            )
        raise PartialFailure(
            f"moved {self.moved}, {len(self.failed)} send(s) failed{left} "
            "(a failed group's later messages are not sent, to keep its order)",
            "run `sqsidem dlq redrive` again",
        )
