"""The one builder: consumer + processor sources + vendored dependencies -> the function zip.

`setup`, `status`, `build` and `invoke` all call :func:`build_function_zip`, so what `build`
writes is byte for byte what `setup` deploys.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from sqsidem.build.check import check_processor
from sqsidem.build.ignore import walk
from sqsidem.build.manifest import Manifest
from sqsidem.build.sources import ProcessorRef
from sqsidem.build.vendor import RUNTIME_PROVIDED, Vendored, vendor
from sqsidem.build.zipfile import (
    LIMITS,
    FunctionZip,
    Limits,
    Source,
    check_unzipped,
    check_zipped,
    size_of,
    write_zip,
)
from sqsidem.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

CONSUMER_PACKAGE = "sqsidem_consumer"
HANDLER = f"{CONSUMER_PACKAGE}.handler.lambda_handler"
DEFAULT_BUILD_RUNTIME = "python3.12"
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
# Installer leftovers that name this host (paths, URLs): they would change the bytes per host.
_HOST_SPECIFIC = {"direct_url.json", "INSTALLER", "REQUESTED"}


def consumer_dir() -> Path:
    from sqsidem import consumer

    return Path(consumer.__file__).resolve().parent


def _tree(root: Path, prefix: str) -> dict[str, Source]:
    entries: dict[str, Source] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or _SKIP_DIRS & set(relative.parts):
            continue
        if path.suffix in _SKIP_SUFFIXES:
            continue
        entries[f"{prefix}{relative.as_posix()}"] = path
    return entries


def _vendored_entries(site: Path) -> dict[str, Source]:
    entries = _tree(site, "")
    return {
        name: source
        for name, source in entries.items()
        if not name.startswith("bin/") and name.rsplit("/", 1)[-1] not in _HOST_SPECIFIC
    }


@dataclass(frozen=True)
class Requirements:
    path: Path
    text: str
    note: str


def find_requirements(ref: ProcessorRef) -> Requirements | None:
    """--requirements, else requirements.txt or pyproject.toml dependencies beside the code."""
    if ref.requirements is not None:
        text = ref.requirements.read_text(encoding="utf-8")
        return Requirements(ref.requirements, text, f"requirements from {ref.requirements}")
    beside = ref.folder / "requirements.txt"
    if beside.is_file():
        text = beside.read_text(encoding="utf-8")
        return Requirements(beside, text, f"picked up {beside} (found beside the processor)")
    pyproject = ref.folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"cannot read {pyproject}: {exc}") from exc
        dependencies = project.get("dependencies") or []
        if dependencies:
            text = "\n".join(str(d) for d in dependencies) + "\n"
            note = f"picked up the dependencies of {pyproject} (found beside the processor)"
            return Requirements(pyproject, text, note)
    return None


def _processor_entries(ref: ProcessorRef) -> tuple[dict[str, Source], list[str]]:
    if ref.root is None:
        return {f"{ref.module}.py": ref.path}, []
    kept, excluded = walk(ref.root)
    return {f"{ref.prefix}{name}": ref.root / name for name in kept}, excluded


def _vendor(ref: ProcessorRef, runtime: str) -> tuple[Vendored | None, list[str]]:
    found = find_requirements(ref)
    if found is None:
        return None, []
    vendored = vendor(found.text, found.path.parent, ref.target, runtime)
    notes = [found.note, *vendored.notes]
    if not any(note.startswith("not vendored") for note in notes):
        notes.append(f"{', '.join(RUNTIME_PROVIDED[:2])}: provided by the runtime, not vendored")
    return vendored, notes


def build_function_zip(
    processor: ProcessorRef | None = None,
    *,
    runtime: str = DEFAULT_BUILD_RUNTIME,
    root: Path | None = None,
    limits: Limits = LIMITS,
) -> FunctionZip:
    """The deployment package: consumer, processor, dependencies; checked against the limits."""
    entries: dict[str, Source] = {}
    excluded: list[str] = []
    notes: list[str] = []
    packages: tuple[tuple[str, str], ...] = ()
    sources: dict[str, Source] = {}
    if processor is not None:
        vendored, notes = _vendor(processor, runtime)
        if vendored is not None:
            entries.update(_vendored_entries(vendored.folder))
            packages = vendored.packages
        sources, excluded = _processor_entries(processor)
        entries.update(sources)
    entries.update(_tree(root or consumer_dir(), f"{CONSUMER_PACKAGE}/"))
    sizes = {name: size_of(source) for name, source in entries.items()}
    check_unzipped(sizes, limits)
    data = write_zip(entries)
    check_zipped(data, sizes, limits)
    if processor is not None:
        files = {name: path for name, path in sources.items() if isinstance(path, Path)}
        note = check_processor(processor, data, files, runtime=runtime, names=entries)
        notes = [*notes, note] if note else notes
    built = FunctionZip(data, tuple(sorted(entries)))
    manifest = Manifest(
        processor.spec if processor else "",
        tuple(sorted(sizes.items())),
        packages,
        tuple(excluded),
        tuple(notes),
        built.code_sha256,
        len(data),
    )
    return FunctionZip(data, built.files, manifest)


def write_build(processor: ProcessorRef | None, *, runtime: str, out: Path) -> FunctionZip:
    """`sqsidem build`: the zip `setup` would deploy, written to ``out``."""
    built = build_function_zip(processor, runtime=runtime)
    out.write_bytes(built.data)
    return built


__all__ = ["CONSUMER_PACKAGE", "HANDLER", "FunctionZip", "build_function_zip", "consumer_dir"]
