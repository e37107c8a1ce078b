"""Options and reporting for the proofs: a reproducible chaos seed and figures in the summary.

``pytest tests/proofs --seed N`` (or ``CHAOS_SEED=N``) replays a chaos run; without either a
random seed is drawn and printed. Figures recorded with ``helpers.report`` are printed in the
terminal summary whether or not ``-s`` was given.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.proofs.helpers import FIGURES


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--seed",
        action="store",
        type=int,
        default=None,
        help="seed of the chaos test's randomness (default: CHAOS_SEED or a random one, printed)",
    )


@pytest.fixture
def chaos_seed(request: pytest.FixtureRequest) -> int:
    """The seed of this run's randomness: --seed, else CHAOS_SEED, else a fresh random one."""
    given = request.config.getoption("--seed", default=None)
    if given is not None:
        return int(given)
    from_env = os.environ.get("CHAOS_SEED", "").strip()
    if from_env:
        return int(from_env)
    return random.SystemRandom().randrange(1, 2**31)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for title, text in FIGURES:
        terminalreporter.write_sep("=", title)
        terminalreporter.write_line(text)
