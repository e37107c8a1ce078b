"""``python -m tests.bench [--quick] [--json FILE] [--only NAME,...]``.

Runs each benchmark against a local backend of its own and prints one line per figure:
``name  value  unit  [ratio x baseline]``. A full run (no --quick, no --only) also rewrites
``tests/bench/RESULTS.md`` with the machine, the date and every figure.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.bench.core import Report

BENCHMARKS = (
    "startup",
    "send",
    "locks",
    "pipeline",
    "worker",
    "setup",
    "watch",
    "handler",
    "powertools",
)
RESULTS = Path(__file__).with_name("RESULTS.md")


def _shield_from_real_aws() -> None:
    """Only the local backend: no profile, no real credentials, no metadata service."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "SQSIDEM_")):
            del os.environ[name]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    try:
        from importlib.metadata import version

        ministack = version("ministack")
    except Exception:
        ministack = "not installed"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
        check=False,
    ).stdout.strip()
    from sqsidem import __version__

    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "ministack": ministack,
        "sqsidem": __version__,
        "commit": commit or "unknown",
        "load_avg_1m_at_start": round(load, 2),
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    }


def write_results(info: dict[str, Any], report: Report, elapsed_s: float, argv: list[str]) -> None:
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m tests.bench` from a full run; do not edit by hand (rerun it).",
        "",
        f"- command: `python -m tests.bench {' '.join(argv)}`".rstrip(),
        *(f"- {key}: {value}" for key, value in info.items()),
        f"- duration: {elapsed_s:.0f} s",
        "",
        "Each benchmark starts its own local backend (ministack) on a free port; 'link10ms'",
        "is the loopback proxy `tests/netdelay.py` adding 10 ms per round trip. Ratios compare",
        "two things measured in the same run. 'n/a' names what could not be measured and why.",
        "",
        "```",
        *(figure.line() for figure in report.figures),
        "```",
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")


def append_results(
    title: str, info: dict[str, Any], report: Report, elapsed_s: float, argv: list[str]
) -> None:
    """A section of its own after the full run's figures (a partial run beside them)."""
    lines = [
        "",
        f"## {title}",
        "",
        f"- command: `python -m tests.bench {' '.join(argv)}`",
        *(f"- {key}: {value}" for key, value in info.items()),
        f"- duration: {elapsed_s:.0f} s",
        "",
        "```",
        *(figure.line() for figure in report.figures),
        "```",
        "",
    ]
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts (< 3 minutes)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--only", metavar="NAME,...", help=f"some of: {','.join(BENCHMARKS)}")
    parser.add_argument(
        "--append-results",
        metavar="TITLE",
        help="append this run's figures to RESULTS.md as a section of its own (with --only)",
    )
    args = parser.parse_args(argv)
    chosen = list(BENCHMARKS)
    if args.only:
        chosen = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in chosen if name not in BENCHMARKS]
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(unknown)}; use {','.join(BENCHMARKS)}")
    _shield_from_real_aws()
    info = machine()
    print(
        f"# sqsidem benchmarks{' (quick)' if args.quick else ''}: {info['date_utc']} UTC, "
        f"{info['nproc']} x {info['cpu_model']}, Python {info['python']}, "
        f"load {info['load_avg_1m_at_start']}",
        flush=True,
    )
    report = Report(quick=args.quick, echo=lambda text: print(text, flush=True))
    started = time.perf_counter()
    for name in chosen:
        print(f"## {name}", flush=True)
        bench_started = time.perf_counter()
        try:
            importlib.import_module(f"tests.bench.{name}_bench").run(report)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            report.na(name, f"{type(exc).__name__}: {exc}"[:300])
            traceback.print_exc(limit=3, file=sys.stderr)
        report.add(f"{name}.bench_duration", time.perf_counter() - bench_started, "s")
    elapsed = time.perf_counter() - started
    print(f"# done in {elapsed:.0f} s", flush=True)
    if args.json:
        payload = {
            "machine": info,
            "quick": args.quick,
            "duration_s": round(elapsed, 1),
            "figures": report.as_json(),
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if not args.quick and not args.only:
        write_results(info, report, elapsed, argv if argv is not None else sys.argv[1:])
        print(f"# wrote {RESULTS}", flush=True)
    elif args.append_results:
        append_results(
            args.append_results, info, report, elapsed, argv if argv is not None else sys.argv[1:]
        )
        print(f"# appended to {RESULTS}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
