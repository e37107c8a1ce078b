"""The function's zip, built in memory and byte-reproducibly (DESIGN 6.10).

Same inputs, same bytes, same CodeSha256: so a re-run of setup on an unchanged stack sees
no code drift. The consumer package ships as the top-level package ``sqsidem_consumer``
(it uses relative imports only), the user's processor file as ``sqsidem_processor.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

CONSUMER_PACKAGE = "sqsidem_consumer"
PROCESSOR_MODULE = "sqsidem_processor"
HANDLER = f"{CONSUMER_PACKAGE}.handler.lambda_handler"
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can store
FILE_MODE = 0o644
_UNIX = 3  # "made by" Unix, so the mode bits mean the same on every build host
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class FunctionZip:
    data: bytes
    files: tuple[str, ...]

    @property
    def code_sha256(self) -> str:
        """What Lambda reports as CodeSha256: base64 of the zip's SHA-256."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode("ascii")


def consumer_dir() -> Path:
    from sqsidem import consumer

    return Path(consumer.__file__).resolve().parent


def _consumer_entries(root: Path) -> dict[str, bytes]:
    entries: dict[str, bytes] = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if not path.is_file() or _SKIP_DIRS & set(relative.parts):
            continue
        if path.suffix in _SKIP_SUFFIXES:
            continue
        entries[f"{CONSUMER_PACKAGE}/{relative.as_posix()}"] = path.read_bytes()
    return entries


def build_function_zip(
    processor_file: Path | None = None, *, root: Path | None = None
) -> FunctionZip:
    """The deployment package: consumer (+ processor), sorted, fixed times and modes, deflated."""
    entries = _consumer_entries(root or consumer_dir())
    if processor_file is not None:
        entries[f"{PROCESSOR_MODULE}.py"] = processor_file.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = (0o100000 | FILE_MODE) << 16
            archive.writestr(
                info, entries[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9
            )
    return FunctionZip(buffer.getvalue(), tuple(sorted(entries)))
