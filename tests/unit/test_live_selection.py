"""The live suite is opt-in: the default run collects none of it; `-m live` lists it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _collect(*args: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/live", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return [line for line in completed.stdout.splitlines() if "::" in line]


def test_default_run_deselects_the_live_case_and_live_selects_it() -> None:
    """python -m pytest: only the ministack case; pytest -m live: only the aws case."""
    assert _collect() == ["tests/live/test_lifecycle.py::test_life_cycle[ministack]"]
    assert _collect("-m", "live") == ["tests/live/test_lifecycle.py::test_life_cycle[aws]"]
    # Another -m replaces the default one: the live case still stays out.
    assert _collect("-m", "slow") == ["tests/live/test_lifecycle.py::test_life_cycle[ministack]"]
