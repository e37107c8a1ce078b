"""Processor code run on this interpreter (`worker`): built like the function's zip for the
host, extracted once per CodeSha256, and put first on the import path, as Lambda does."""

from __future__ import annotations

import base64
import io
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from sqsidem.build.package import build_function_zip, find_requirements
from sqsidem.build.sources import DEFAULT_ARCHITECTURE, processor_option
from sqsidem.build.vendor import cache_root
from sqsidem.errors import UsageError


def _is_path_form(text: str) -> bool:
    path_text = text.rpartition(":")[0]
    return path_text.endswith(".py") or (bool(path_text) and Path(path_text).is_dir())


def extracted(data: bytes, code_sha256: str) -> Path:
    """The zip's files in a folder of their own (kept: the same code is extracted once)."""
    folder = cache_root().parent / "code" / base64.urlsafe_b64decode(code_sha256).hex()[:32]
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".extracting-"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(work)
    if folder.is_dir():
        shutil.rmtree(work, ignore_errors=True)
    else:
        work.rename(folder)
    return folder


def local_processor(text: str | None, requirements: Path | None) -> str | None:
    """``--processor`` for the worker: a folder form, or code with dependencies, becomes
    ``module:function`` importable from its extracted build; anything else passes as given."""
    if text is None or not _is_path_form(text):
        if requirements is not None:
            raise UsageError("--requirements needs --processor path/file.py:fn or dir:module.fn")
        return text
    ref = processor_option(text, requirements, DEFAULT_ARCHITECTURE, host=True)
    if ref is None or (ref.root is None and find_requirements(ref) is None):
        return text  # a lone file without dependencies: loaded from its path as before
    built = build_function_zip(ref)
    sys.path.insert(0, str(extracted(built.data, built.code_sha256)))
    return ref.spec
