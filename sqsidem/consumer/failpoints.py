"""Crash points for tests: the consumer kills its own process where a real crash would hurt.

``SQSIDEM_FAILPOINT`` is a comma list of ``point[:probability]`` (probability in 0..1,
default 1), e.g. ``after-lock`` or ``after-lock:0.5,after-complete:0.1``. Points:

- ``after-lock``: the lock was written (IN_PROGRESS), the processor has not run.
- ``mid-process``: the processor returned, COMPLETED has not been written, i.e. the work is
  done but not recorded (the closest observable point to "died while processing"). For a
  processor with transactional effects nothing has been written yet either: the effects and
  COMPLETED are one transaction, which comes after this point.
- ``after-complete``: COMPLETED (and the effects) were written, the function has not
  returned / the worker has not deleted the message.

When a point is hit the process sends itself SIGKILL, like an out-of-memory kill: no
``finally``, no flush. ``SQSIDEM_FAILPOINT_SEED`` (an integer) makes probabilistic points
repeatable: whether a point fires for a record's attempt (its message id and receive count)
is then a function of the seed, the point and the attempt, the same in every process. (A
seeded sequence of draws would not do: every cold start of a function has the same seed in
its environment, so each would die at the same draw, and a run could stall on one record
after another.) Off by default; the spec is parsed once per configuration, and with no points
:meth:`Failpoints.hit` is a single empty-dict lookup.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
from collections.abc import Callable, Mapping
from typing import Final

AFTER_LOCK: Final = "after-lock"
MID_PROCESS: Final = "mid-process"
AFTER_COMPLETE: Final = "after-complete"
POINTS: Final = (AFTER_LOCK, MID_PROCESS, AFTER_COMPLETE)


def parse_failpoints(spec: str) -> dict[str, float]:
    """``"after-lock,mid-process:0.5"`` -> ``{"after-lock": 1.0, "mid-process": 0.5}``."""
    points: dict[str, float] = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, probability_text = item.partition(":")
        name = name.strip()
        if name not in POINTS:
            raise ValueError(f"unknown failpoint {name!r}: use one of {', '.join(POINTS)}")
        probability = 1.0
        if sep:
            try:
                probability = float(probability_text)
            except ValueError:
                raise ValueError(
                    f"failpoint {name}: bad probability {probability_text!r}"
                ) from None
            if not 0.0 <= probability <= 1.0:
                raise ValueError(f"failpoint {name}: probability must be within 0..1")
        points[name] = probability
    return points


def kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class Failpoints:
    """Parsed failpoints; :meth:`hit` kills the process (or calls ``kill``) when one fires."""

    def __init__(
        self,
        points: Mapping[str, float] | None = None,
        *,
        seed: int | None = None,
        kill: Callable[[], None] = kill_self,
    ) -> None:
        self._points = dict(points or {})
        self._seed = seed
        self._random = random.Random(seed)
        self._kill = kill

    @classmethod
    def from_spec(cls, spec: str, seed: int | None = None) -> Failpoints:
        return cls(parse_failpoints(spec), seed=seed)

    @property
    def points(self) -> Mapping[str, float]:
        return dict(self._points)

    def hit(self, point: str, attempt: str = "") -> None:
        """Kill here if ``point`` fires; ``attempt`` names the record's attempt (see above)."""
        probability = self._points.get(point)
        if probability is None:
            return
        if probability >= 1.0 or self._draw(point, attempt) < probability:
            self._kill()

    def _draw(self, point: str, attempt: str) -> float:
        """A number in [0, 1): the attempt's own with a seed, else the next of the sequence."""
        if self._seed is None or not attempt:
            return self._random.random()
        digest = hashlib.sha256(f"{self._seed}/{point}/{attempt}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64


NO_FAILPOINTS: Final = Failpoints()
