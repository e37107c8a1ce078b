"""6. setup: fresh setup wall time and API calls by operation; converged re-run mutates nothing.

Runs the library function `sqsidem setup` calls (prepare -> plan_setup -> run_setup) with an
:class:`Aws` whose clients count every call, so both the plan (reads) and the apply are
counted. Also used by the pipeline benchmark to stand a stack up.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from tests.bench.core import (
    Report,
    Unavailable,
    command_options,
    counting_aws,
    is_mutating,
    local_backend,
    unique,
)


def setup_stack(endpoint: str, stack: str, **options: Any) -> tuple[float, Counter[str]]:
    """Set a stack up through sqsidem's library; (seconds, calls by service:operation)."""
    try:
        from sqsidem.names import names_for
        from sqsidem.stack.options import SetupOptions
        from sqsidem.stack.setup import plan_setup, prepare, run_setup
    except ImportError as exc:
        raise Unavailable(f"setup library not importable: {exc}") from exc
    aws = counting_aws(endpoint)
    started = time.perf_counter()
    prepared = prepare(names_for(stack), SetupOptions(**options))
    planned = plan_setup(aws, prepared)
    run_setup(aws, planned)
    return time.perf_counter() - started, aws.reset()


def run(report: Report) -> None:
    note = None if command_options("setup") is not None else "setup CLI not registered yet"
    with local_backend() as endpoint:
        stack = unique("bs")
        try:
            fresh_s, fresh_calls = setup_stack(endpoint, stack)
        except Unavailable as exc:
            report.na("setup.fresh", str(exc))
            return
        except Exception as exc:  # the benchmark reports, it does not crash the harness
            report.na("setup.fresh", f"{type(exc).__name__}: {exc}"[:200])
            return
        report.add("setup.fresh.wall", fresh_s, "s", note=note)
        report.add("setup.fresh.api_calls", sum(fresh_calls.values()), "calls")
        report.add(
            "setup.fresh.mutating_calls",
            sum(n for op, n in fresh_calls.items() if is_mutating(op)),
            "calls",
        )
        for operation, calls in sorted(fresh_calls.items()):
            report.add(f"setup.fresh.calls.{operation}", calls, "calls")
        again_s, again_calls = setup_stack(endpoint, stack)
        mutating = {op: n for op, n in again_calls.items() if is_mutating(op)}
        report.add("setup.converged.wall", again_s, "s", baseline=("fresh", fresh_s))
        report.add("setup.converged.api_calls", sum(again_calls.values()), "calls")
        which = ", ".join(f"{op}={n}" for op, n in sorted(mutating.items()))
        report.add(
            "setup.converged.mutating_calls",
            sum(mutating.values()),
            "calls",
            note="target 0" + (f": {which}" if which else ""),
        )
