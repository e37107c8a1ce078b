"""Dependencies vendored for the function's interpreter, with pip, as Chalice and SAM do.

For Lambda: manylinux wheels (manylinux2014 and manylinux_2_28, the Amazon Linux 2023 tags)
for the architecture, CPython, the runtime's version, binary only, no .pyc (they would make
the zip differ per build). A requirement published only as an sdist is built into a wheel on
this host first and used when that wheel is pure Python; otherwise one line names it. For the
host (local backend, invoke, worker): whatever this interpreter can load.

Each set is cached under a hash of the requirements, the target and the runtime, so a re-run
installs nothing and the zip keeps its bytes. boto3 and its kin come with the runtime: they
are dropped unless the requirements name them on purpose.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqsidem.build.sources import Target
from sqsidem.errors import SqsidemError, UsageError

RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
_MARKER = ".sqsidem-complete"
_MISSING = re.compile(
    r"(?:No matching distribution found for|satisfies the requirement) ([A-Za-z0-9._-]+)"
)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def cache_root() -> Path:
    configured = os.environ.get("SQSIDEM_CACHE_DIR")
    base = Path(configured) if configured else Path.home() / ".cache" / "sqsidem"
    return base / "vendor"


def runtime_version(runtime: str) -> str:
    return runtime.removeprefix("python")


def platform_args(target: Target, runtime: str) -> list[str]:
    if target.host:
        return []
    machine = "aarch64" if target.architecture == "arm64" else "x86_64"
    return [
        "--platform",
        f"manylinux2014_{machine}",
        "--platform",
        f"manylinux_2_28_{machine}",
        "--implementation",
        "cp",
        "--python-version",
        runtime_version(runtime),
        "--only-binary=:all:",
    ]


def target_label(target: Target, runtime: str) -> str:
    if target.host:
        return f"host {sys.implementation.cache_tag} {sysconfig.get_platform()}"
    return f"lambda {runtime} {target.architecture}"


def cache_key(requirements_text: str, cwd: Path, target: Target, runtime: str) -> str:
    # cwd: relative --find-links / file paths in the requirements resolve from there.
    text = "\n".join([requirements_text, str(cwd), target_label(target, runtime), "v1"])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def named_requirements(requirements_text: str) -> set[str]:
    names = set()
    for line in requirements_text.splitlines():
        match = _NAME.match(line)
        if match and not line.lstrip().startswith("-"):
            names.add(normalise(match.group(1)))
    return names


@dataclass(frozen=True)
class Vendored:
    """An installed set: its folder, (name, version) per distribution, the notes for the plan."""

    folder: Path
    packages: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    cached: bool


def _pip(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    # Our own interpreter running pip on arguments we built: no shell, no user-made argv.
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603


def _options_only(requirements_text: str) -> str:
    return "\n".join(
        line for line in requirements_text.splitlines() if line.lstrip().startswith("-")
    )


def _pure_wheel(name: str, requirements_text: str, cwd: Path, wheels: Path) -> bool:
    """Build ``name``'s sdist into a wheel on this host; True when the wheel is pure Python."""
    spec = Path(tempfile.mkdtemp(dir=wheels.parent)) / "requirements.txt"
    wanted = name
    for line in requirements_text.splitlines():  # keep the line's pin and markers
        match = _NAME.match(line)
        if (
            match
            and not line.lstrip().startswith("-")
            and normalise(match.group(1)) == normalise(name)
        ):
            wanted = line.strip()
    spec.write_text(_options_only(requirements_text) + f"\n{wanted}\n", encoding="utf-8")
    built = _pip(["wheel", "--no-deps", "--wheel-dir", str(wheels), "-r", str(spec)], cwd)
    if built.returncode != 0:
        return False
    return any(
        w.name.endswith("-none-any.whl") and normalise(w.name.split("-")[0]) == normalise(name)
        for w in wheels.iterdir()
    )


def _install(text: str, cwd: Path, target: Target, runtime: str, site: Path) -> None:
    wheels = site.parent / "built-wheels"
    wheels.mkdir()
    requirements = site.parent / "requirements.txt"
    requirements.write_text(text, encoding="utf-8")
    tried: set[str] = set()
    while True:
        args = ["install", "-r", str(requirements), "--target", str(site), "--no-compile"]
        args += [*platform_args(target, runtime), "--find-links", str(wheels)]
        result = _pip(args, cwd)
        if result.returncode == 0:
            return
        missing = _MISSING.search(result.stderr)
        if missing is None:
            tail = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise SqsidemError(f"pip could not vendor the requirements: {tail}")
        name = missing.group(1)
        if target.host or name in tried or not _pure_wheel(name, text, cwd, wheels):
            raise UsageError(
                f"requirement {name!r} has no wheel for {target_label(target, runtime)} "
                "and is not a pure-Python source distribution",
                "pin a version that publishes a manylinux wheel for this runtime and architecture",
            )
        tried.add(name)


def _drop_runtime_provided(site: Path, named: set[str]) -> list[str]:
    """boto3 and kin, unless the requirements pin one of them (then the set stays together)."""
    if named & set(RUNTIME_PROVIDED):
        return []
    dropped = []
    for info in sorted(site.glob("*.dist-info")):
        name = normalise(info.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        if name not in RUNTIME_PROVIDED:
            continue
        record = info / "RECORD"
        if record.is_file():
            for line in record.read_text(encoding="utf-8").splitlines():
                path = site / line.split(",", 1)[0]
                if path.is_file():
                    path.unlink()
        shutil.rmtree(info, ignore_errors=True)
        dropped.append(name)
    return dropped


def installed_packages(site: Path) -> tuple[tuple[str, str], ...]:
    found = []
    for info in sorted(site.glob("*.dist-info")):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        found.append((name, version))
    return tuple(found)


def vendor(text: str, cwd: Path, target: Target, runtime: str) -> Vendored:
    """Install the requirements ``text`` for ``target`` (cached); relative paths from ``cwd``."""
    folder = cache_root() / cache_key(text, cwd, target, runtime)
    marker = folder / _MARKER
    if marker.is_file():
        notes = tuple(marker.read_text(encoding="utf-8").splitlines())
        return Vendored(folder / "site", installed_packages(folder / "site"), notes, True)
    fresh = [f"dependencies vendored for {target_label(target, runtime)}"]
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".building-"))
    try:
        site = work / "site"
        _install(text, cwd, target, runtime, site)
        dropped = _drop_runtime_provided(site, named_requirements(text))
        if dropped:
            fresh.append(f"not vendored (the runtime provides them): {', '.join(dropped)}")
        (work / _MARKER).write_text("\n".join(fresh), encoding="utf-8")
        if not marker.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Vendored(folder / "site", installed_packages(folder / "site"), tuple(fresh), False)
