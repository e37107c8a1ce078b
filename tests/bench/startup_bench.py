"""3. start-up: `sqsidem --help` / `--version` vs `python -c pass`, best of 7; boto3 imported?"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.bench.core import Report, best_of, run_child

RUNS = 7


def sqsidem_argv() -> tuple[list[str], str]:
    """The console script next to this interpreter (what a user types), else `-m sqsidem`."""
    script = Path(sys.executable).parent / "sqsidem"
    if script.is_file():
        return [str(script)], "sqsidem"
    found = shutil.which("sqsidem")
    if found:
        return [found], "sqsidem"
    return [sys.executable, "-m", "sqsidem"], "python -m sqsidem"


def imported_modules(argv: list[str]) -> set[str]:
    run = run_child(argv)
    modules = set()
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[-1].strip())
    return modules


def run(report: Report) -> None:
    base = best_of(RUNS, lambda: run_child([sys.executable, "-c", "pass"]).wall_s)
    report.add("startup.python_c_pass", base, "s", note=f"best of {RUNS}")
    command, label = sqsidem_argv()
    for flag in ("--help", "--version"):
        argv = [*command, flag]
        check = run_child(argv)
        if not check.ok():
            report.na(f"startup.{flag.strip('-')}", check.why())
            continue
        wall = best_of(RUNS, lambda argv=argv: run_child(argv).wall_s)  # type: ignore[misc]
        note = f"`{label} {flag}`, best of {RUNS}"
        if flag == "--help":
            note += "; target < 0.35 s"
        report.add(
            f"startup.{flag.strip('-')}", wall, "s", baseline=("python -c pass", base), note=note
        )
        modules = imported_modules([sys.executable, "-X", "importtime", "-m", "sqsidem", flag])
        heavy = sorted(m for m in modules if m.split(".")[0] in {"boto3", "botocore"})
        report.add(
            f"startup.{flag.strip('-')}.imports_boto3",
            1.0 if heavy else 0.0,
            "bool",
            note=(f"{len(heavy)} boto3/botocore modules" if heavy else "no boto3")
            + f"; {len(modules)} modules in all",
        )
