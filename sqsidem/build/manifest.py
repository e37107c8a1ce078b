"""What a build put in the zip, and what it left out: for `build`, the setup plan and JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqsidem.jsondata import fields


@dataclass(frozen=True)
class Manifest:
    processor: str  # module:function ("" for the default processor)
    files: tuple[tuple[str, int], ...]  # every entry and its unzipped size
    packages: tuple[tuple[str, str], ...]  # vendored distributions and versions
    excluded: tuple[str, ...]  # processor-folder paths the ignore rules kept out
    notes: tuple[str, ...]  # requirements picked up, target, what the runtime provides
    code_sha256: str
    zipped_bytes: int

    @property
    def unzipped_bytes(self) -> int:
        return sum(size for _, size in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            **fields(self, "processor", "code_sha256", "zipped_bytes", "unzipped_bytes"),
            "files": [{"path": name, "size": size} for name, size in self.files],
            "packages": [{"name": name, "version": version} for name, version in self.packages],
            "excluded": list(self.excluded),
            "notes": list(self.notes),
        }
