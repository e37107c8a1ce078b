"""Runs in a subprocess of the processor check (:mod:`.check`), with the extracted zip first
on the import path, as the function imports it (argv: result file, spec, path entries...).

It imports the processor's module, asks the zip's own consumer whether it could call the
function, and writes what it found as JSON. Standard library only: it runs with ``-I -S``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Any


def _where(exc: BaseException, code_dir: str) -> tuple[str, int] | None:
    """The innermost line of the zip's own code that raised (a SyntaxError names its own)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, exc.lineno or 0
    inside = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(frame.filename).startswith(code_dir + os.sep)
    ]
    if not inside:
        return None
    return inside[-1].filename, inside[-1].lineno or 0


def _relative(found: tuple[str, int] | None, code_dir: str) -> list[Any] | None:
    if found is None:
        return None
    path = os.path.abspath(found[0])
    name = os.path.relpath(path, code_dir) if path.startswith(code_dir + os.sep) else path
    return [name.replace(os.sep, "/"), found[1]]


def probe(spec: str, code_dir: str) -> dict[str, Any]:
    module_name, _, function_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except SystemExit as exc:
        where = _relative(_where(exc, code_dir), code_dir)
        return {"problem": "exit", "code": repr(exc.code), "where": where}
    except BaseException as exc:  # whatever the import raises is the finding
        return {
            "problem": "import",
            "error": f"{type(exc).__name__}: {exc}",
            "where": _relative(_where(exc, code_dir), code_dir),
        }
    if not hasattr(module, function_name):
        return {"problem": "missing", "error": f"the module has no attribute {function_name!r}"}
    try:
        consumer = importlib.import_module("sqsidem_consumer.processor")
    except Exception as exc:  # a vendored (pinned) boto3 that lacks what the consumer needs
        return {"problem": "consumer", "error": f"{type(exc).__name__}: {exc}"}
    problem = consumer.call_problem(getattr(module, function_name))
    return {"problem": "call", "error": problem} if problem else {"problem": None}


def main(argv: list[str]) -> int:
    result_path, spec, code_dir, *rest = argv
    sys.path[:0] = [code_dir, *rest]
    found = probe(spec, os.path.abspath(code_dir))
    with open(result_path, "w", encoding="utf-8") as stream:
        json.dump(found, stream)
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    # Threads the module started must not keep this process (and the check) waiting.
    os._exit(code)
