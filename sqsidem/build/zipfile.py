"""The function's zip, byte-reproducible (DESIGN 6.10), and Lambda's size limits.

Same inputs, same bytes, same CodeSha256: so a re-run of setup on an unchanged stack sees
no code drift. Entries are sorted, with a fixed time and mode, deflated at one level.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqsidem.errors import UsageError

if TYPE_CHECKING:
    from sqsidem.build.manifest import Manifest

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can store
FILE_MODE = 0o644
_UNIX = 3  # "made by" Unix, so the mode bits mean the same on every build host
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Lambda's quotas for a direct upload (ZipFile) and for the unzipped code."""

    zipped: int = 50 * MB
    unzipped: int = 250 * MB


LIMITS = Limits()
Source = Path | bytes


@dataclass(frozen=True)
class FunctionZip:
    data: bytes
    files: tuple[str, ...]
    manifest: Manifest | None = None

    @property
    def code_sha256(self) -> str:
        """What Lambda reports as CodeSha256: base64 of the zip's SHA-256."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode("ascii")


def size_of(source: Source) -> int:
    return source.stat().st_size if isinstance(source, Path) else len(source)


def largest_packages(entries: Mapping[str, int], count: int = 3) -> str:
    """The top-level names that weigh most, for the one-line limit error."""
    totals: dict[str, int] = {}
    for name, size in entries.items():
        top = name.split("/", 1)[0]
        totals[top] = totals.get(top, 0) + size
    biggest = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:count]
    return ", ".join(f"{name} {size / MB:.1f} MB" for name, size in biggest)


def check_unzipped(sizes: Mapping[str, int], limits: Limits) -> None:
    """Before anything is read: the sizes come from stat."""
    total = sum(sizes.values())
    if total > limits.unzipped:
        raise UsageError(
            f"the function code is {total / MB:.1f} MB unzipped, over Lambda's "
            f"{limits.unzipped / MB:.0f} MB limit; largest: {largest_packages(sizes)}"
        )


def check_zipped(data: bytes, sizes: Mapping[str, int], limits: Limits) -> None:
    if len(data) > limits.zipped:
        raise UsageError(
            f"the function zip is {len(data) / MB:.1f} MB, over the {limits.zipped / MB:.0f} MB "
            f"direct-upload limit; largest: {largest_packages(sizes)}"
        )


def write_zip(entries: Mapping[str, Source]) -> bytes:
    """Sorted entries, fixed times and modes, deflated: the same entries give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            source = entries[name]
            data = source.read_bytes() if isinstance(source, Path) else source
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = (0o100000 | FILE_MODE) << 16
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()
