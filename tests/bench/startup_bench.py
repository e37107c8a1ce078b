"""3. start-up: `sqsidem --help` / `--version` against what Typer and rich cost alone.

The target (issue 11) is a ratio, because machines differ: each flag within 1.5x of
`python -c "import typer, rich.console"` run on the same machine, and no boto3 imported.
Best of 7, with bytecode caches allowed (as an installed package has them).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.bench.core import Report, best_of, clean_env, run_child

RUNS = 7
TARGET_RATIO = 1.5
TYPER_BASELINE = "import typer, rich.console"


def sqsidem_argv() -> tuple[list[str], str]:
    """The console script next to this interpreter (what a user types), else `-m sqsidem`."""
    script = Path(sys.executable).parent / "sqsidem"
    if script.is_file():
        return [str(script)], "sqsidem"
    found = shutil.which("sqsidem")
    if found:
        return [found], "sqsidem"
    return [sys.executable, "-m", "sqsidem"], "python -m sqsidem"


def child_env() -> dict[str, str]:
    """Without PYTHONDONTWRITEBYTECODE: sqsidem's modules are timed from bytecode, as
    typer's and rich's are (pip compiles them at install)."""
    env = clean_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def imported_modules(argv: list[str]) -> set[str]:
    run = run_child(argv, env=child_env())
    modules = set()
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[-1].strip())
    return modules


def wall(argv: list[str]) -> float:
    run_child(argv, env=child_env())  # writes the bytecode caches once
    return best_of(RUNS, lambda: run_child(argv, env=child_env()).wall_s)


def run(report: Report) -> None:
    base = wall([sys.executable, "-c", "pass"])
    report.add("startup.python_c_pass", base, "s", note=f"best of {RUNS}")
    typer_base = wall([sys.executable, "-c", TYPER_BASELINE])
    report.add(
        "startup.python_c_typer_rich",
        typer_base,
        "s",
        baseline=("python -c pass", base),
        note=f"`python -c {TYPER_BASELINE!r}`, best of {RUNS}",
    )
    command, label = sqsidem_argv()
    for flag in ("--help", "--version"):
        name = f"startup.{flag.strip('-')}"
        argv = [*command, flag]
        check = run_child(argv, env=child_env())
        if not check.ok():
            report.na(name, check.why())
            continue
        seconds = wall(argv)
        report.add(
            name,
            seconds,
            "s",
            baseline=("python -c pass", base),
            note=f"`{label} {flag}`, best of {RUNS}",
        )
        report.add(
            f"{name}.ratio",
            seconds / typer_base,
            "x",
            note=f"of `python -c {TYPER_BASELINE!r}`; target <= {TARGET_RATIO}x",
        )
        modules = imported_modules([sys.executable, "-X", "importtime", "-m", "sqsidem", flag])
        heavy = sorted(m for m in modules if m.split(".")[0] in {"boto3", "botocore"})
        report.add(
            f"{name}.imports_boto3",
            1.0 if heavy else 0.0,
            "bool",
            note=(f"{len(heavy)} boto3/botocore modules" if heavy else "no boto3")
            + f"; {len(modules)} modules in all",
        )
