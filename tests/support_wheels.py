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
    folder: Path,
    name: str,
    version: str,
    module_source: str,
    *,
    requires: tuple[str, ...] = (),
    tag: str = "py3-none-any",
    extra: dict[str, bytes] | None = None,
) -> Path:
    """``folder/name-version-<tag>.whl`` holding the package ``name`` (and ``extra`` files,
    a stand-in compiled module, say)."""
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
            + f"Tag: {tag}\n".encode()
        ),
        **(extra or {}),
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{name}-{version}-{tag}.whl"
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


# A PEP 517 backend with no requirements: pip builds the sdist offline, in isolation.
_BACKEND = """
import zipfile

NAME, VERSION, SOURCE = {name!r}, {version!r}, {source!r}


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = NAME + "-" + VERSION + ".dist-info"
    files = {{
        NAME + "/__init__.py": SOURCE,
        info + "/METADATA": (
            "Metadata-Version: 2.1\\nName: " + NAME + "\\nVersion: " + VERSION + "\\n"
        ),
        info + "/WHEEL": "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    files[info + "/RECORD"] = "".join(n + ",,\\n" for n in files) + info + "/RECORD,,\\n"
    wheel = NAME + "-" + VERSION + "-py3-none-any.whl"
    with zipfile.ZipFile(wheel_directory + "/" + wheel, "w") as archive:
        for entry, text in files.items():
            archive.writestr(entry, text)
    return wheel
"""


def write_sdist(folder: Path, name: str, version: str, module_source: str) -> Path:
    """``folder/name-version.tar.gz``: a pure-Python source distribution only."""
    import io
    import tarfile

    folder.mkdir(parents=True, exist_ok=True)
    root = f"{name}-{version}"
    files = {
        "pyproject.toml": (
            '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        ),
        "backend.py": _BACKEND.format(name=name, version=version, source=module_source),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    path = folder / f"{root}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for entry, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{entry}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path
