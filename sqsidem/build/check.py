"""The processor is checked before anything is deployed (issue 13, item 7).

The built zip is extracted and its processor module imported in a subprocess, with the zip's
folder first on the import path as the function has it: for Lambda the runtime's own
packages (boto3 and kin) after it and nothing else of this host; for the host (the local
backend, `invoke`, `worker`) this interpreter's packages after it, as ministack runs it.
The function must accept ``(record)`` or ``(record, effects)``, the rule the consumer itself
applies (:func:`sqsidem.consumer.processor.call_problem`). A failed import names the file and
line; a module that exits, or hangs past Lambda's 10-second init phase, is refused too.

Dependencies vendored for another platform, architecture or Python cannot load here by
design: then the signature is read from the source with ``ast`` and the plan says that the
import was not checked.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import io
import json
import platform
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from sqsidem.build.sources import ProcessorRef, module_file
from sqsidem.build.vendor import RUNTIME_PROVIDED, runtime_version, target_label
from sqsidem.consumer.processor import signature_problem
from sqsidem.errors import UsageError

IMPORT_TIMEOUT_S = 10.0  # Lambda's init phase: a module still importing then never runs
# What the runtime's boto3 needs beside RUNTIME_PROVIDED (their own dependencies).
_RUNTIME_KIN = ("dateutil", "urllib3", "six")
_COMPILED = {".so", ".pyd", ".dylib"}
_FORMS = "define def process(record) or def process(record, effects) at the module's top level"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def label(ref: ProcessorRef) -> str:
    """The processor as the user named it (a lone file ships under another module name)."""
    if ref.path.is_file():
        return f"{_shown(ref.path)}:{ref.function}"
    return f"{_shown(ref.path)}:{ref.module}.{ref.function}"


def compiled(files: Iterable[str]) -> bool:
    """Whether the zip carries compiled extension modules (only vendored packages do)."""
    return any(Path(name).suffix in _COMPILED for name in files)


def unloadable_here(ref: ProcessorRef, runtime: str, has_compiled: bool) -> str | None:
    """Why this interpreter cannot load the zip's dependencies (None: it can)."""
    if ref.target.host or not has_compiled:
        return None
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    machine = "aarch64" if ref.target.architecture == "arm64" else "x86_64"
    if sys.platform == "linux" and platform.machine() == machine:
        if here == runtime_version(runtime):
            return None
    return (
        f"its dependencies are built for {target_label(ref.target, runtime)}, which "
        f"Python {here} on {sysconfig.get_platform()} cannot load"
    )


def _runtime_dir(folder: Path) -> Path:
    """Lambda's own packages (boto3 and kin), linked from this interpreter, and nothing else."""
    folder.mkdir()
    for name in (*RUNTIME_PROVIDED, *_RUNTIME_KIN):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        if spec.submodule_search_locations:
            (folder / name).symlink_to(origin.parent, target_is_directory=True)
        else:
            (folder / origin.name).symlink_to(origin)
    return folder


def _import_path(ref: ProcessorRef, scratch: Path) -> list[str]:
    if ref.target.host:  # as ministack runs it: this interpreter's packages, not our cwd
        here = Path.cwd().resolve()
        return [e for e in sys.path if e and Path(e).is_dir() and Path(e).resolve() != here]
    return [str(_runtime_dir(scratch / "runtime"))]


def _where(found: object, sources: Mapping[str, Path]) -> str:
    if not isinstance(found, list) or len(found) != 2:
        return ""
    name, line = str(found[0]), found[1]
    source = sources.get(name)
    return f" at {_shown(source) if source is not None else name} line {line}"


def _refuse(ref: ProcessorRef, found: dict[str, object], sources: Mapping[str, Path]) -> None:
    spec, where = label(ref), _where(found.get("where"), sources)
    problem = found.get("problem")
    if problem == "exit":
        raise UsageError(
            f"--processor {spec}: the module exits when imported{where} "
            f"(SystemExit {found.get('code')}), so the function could never run",
            "move the exit into a function, or behind `if __name__ == '__main__':`",
        )
    if problem == "import":
        raise UsageError(
            f"--processor {spec}: importing it fails{where}: {found.get('error')}",
            "a package it needs goes in requirements.txt beside it, or --requirements",
        )
    if problem == "consumer":
        raise UsageError(
            f"--processor {spec}: with these dependencies the function's own consumer "
            f"cannot be imported: {found.get('error')}",
            "a boto3 or botocore pinned in the requirements must be complete",
        )
    if problem in ("call", "missing"):
        raise UsageError(f"--processor {spec}: {found.get('error')}", _FORMS)


def _run_probe(ref: ProcessorRef, data: bytes, timeout_s: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="sqsidem-check-") as scratch_text:
        scratch = Path(scratch_text)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(scratch / "code")
        result = scratch / "result.json"
        probe = Path(__file__).with_name("probe.py")
        command = [sys.executable, "-I", "-S", str(probe), str(result), ref.spec]
        command += [str((scratch / "code").resolve()), *_import_path(ref, scratch)]
        try:
            # Our own interpreter on our own script; the spec is an argument, never a shell.
            done = subprocess.run(  # noqa: S603
                command,
                capture_output=True,
                text=True,
                check=False,
                timeout=timeout_s,
                cwd=scratch,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise UsageError(
                f"--processor {label(ref)}: importing the module did not finish within "
                f"{timeout_s:g} s (Lambda's init phase allows {IMPORT_TIMEOUT_S:g} s)",
                "do slow work on the first record, not at import",
            ) from exc
        if not result.is_file():
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise UsageError(
                f"--processor {label(ref)}: the module ended the process when imported "
                f"(exit code {done.returncode}): {tail}"
            )
        found: dict[str, object] = json.loads(result.read_text(encoding="utf-8"))
        return found


def _module_file(ref: ProcessorRef) -> Path:
    return ref.path if ref.path.is_file() else module_file(ref.path, ref.module)


def ast_signature(node: ast.FunctionDef) -> inspect.Signature:
    """The signature a ``def`` declares, read without running it (defaults stand in)."""
    args, kind = node.args, inspect.Parameter
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    parameters = [
        kind(
            arg.arg,
            kind.POSITIONAL_ONLY if i < len(args.posonlyargs) else kind.POSITIONAL_OR_KEYWORD,
            default=kind.empty if i < first_default else None,
        )
        for i, arg in enumerate(positional)
    ]
    if args.vararg is not None:
        parameters.append(kind(args.vararg.arg, kind.VAR_POSITIONAL))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        empty = default is None
        parameters.append(kind(arg.arg, kind.KEYWORD_ONLY, default=kind.empty if empty else None))
    if args.kwarg is not None:
        parameters.append(kind(args.kwarg.arg, kind.VAR_KEYWORD))
    return inspect.Signature(parameters)


def _check_source(ref: ProcessorRef) -> None:
    path = _module_file(ref)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    defined = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == ref.function
    ]
    if not defined:
        return  # sources.parse_processor already refused a module without it
    node = defined[-1]
    if isinstance(node, ast.AsyncFunctionDef):
        problem: str | None = "it is async: the consumer calls it and never awaits it"
    else:
        problem = signature_problem(ast_signature(node))
    if problem:
        raise UsageError(f"--processor {label(ref)}: {problem}", _FORMS)


def check_processor(
    ref: ProcessorRef,
    data: bytes,
    sources: Mapping[str, Path],
    *,
    runtime: str,
    timeout_s: float = IMPORT_TIMEOUT_S,
    names: Iterable[str] | None = None,
) -> str | None:
    """Refuse (UsageError, exit 2) a processor the function could never call; else a note
    when the import could not be checked here (None: imported and callable). ``names``: the
    zip's file names, when the caller has them (else read from ``data``)."""
    if names is None:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    why = unloadable_here(ref, runtime, compiled(names))
    if why is not None:
        _check_source(ref)
        return f"processor import not checked: {why} (its signature was read from the source)"
    _refuse(ref, _run_probe(ref, data, timeout_s), sources)
    return None
