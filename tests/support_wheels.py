"""A small pure-Python wheel written directly as a zip: no build tool, no network."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(
    folder: Path, name: str, version: str, module_source: str, *, requires: tuple[str, ...] = ()
) -> Path:
    """``folder/name-version-py3-none-any.whl`` holding the package ``name``."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": module_source.encode(),
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            + "".join(f"Requires-Dist: {r}\n" for r in requires)
        ).encode(),
        f"{info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: sqsidem-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for entry, data in files.items():
            archive.writestr(entry, data)
    return path


def requirements_for(wheels: Path, *lines: str) -> str:
    """A requirements.txt that finds packages only in ``wheels``."""
    return "\n".join(["--no-index", f"--find-links {wheels}", *lines]) + "\n"


def code_with_dependency(tmp_path: Path, files: dict[str, str]) -> Path:
    """``tmp_path/code`` holding ``files`` and a requirements.txt naming ``zipdep``, a wheel
    found only in ``tmp_path/wheels`` (``zipdep.where()`` says which copy was imported)."""
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "zipdep", "1.0", "def where():\n    return __file__\n")
    folder = tmp_path / "code"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "requirements.txt").write_text(requirements_for(wheels, "zipdep==1.0"))
    return folder
