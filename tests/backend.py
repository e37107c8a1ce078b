"""What tests share about their backends: the region, and the session's emulator.

Fixtures live in ``tests/conftest.py``; test modules import these names from here, never
from a conftest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REGION = "ap-northeast-1"


@dataclass(frozen=True)
class Ministack:
    """The shared emulator of a test session (the ``ministack`` fixture)."""

    endpoint: str
    root: Path
