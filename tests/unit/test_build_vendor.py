"""Vendoring with pip against a local wheel folder (no network), the cache, and the limits."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from sqsidem.build.package import build_function_zip
from sqsidem.build.sources import Target, parse_processor
from sqsidem.build.zipfile import Limits
from sqsidem.errors import UsageError
from tests.support_wheels import requirements_for, write_sdist, write_wheel

HANDLE = "import zipdep\n\ndef handle(record):\n    print(zipdep.where())\n"


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A processor folder whose requirements.txt names zipdep, found only in a local folder."""
    monkeypatch.setenv("SQSIDEM_CACHE_DIR", str(tmp_path / "cache"))
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "zipdep", "1.0", "def where():\n    return __file__\n")
    # A pinned boto3 replaces the runtime's: the consumer needs its dynamodb types.
    types = b"class TypeSerializer: ...\n\nclass TypeDeserializer: ...\n"
    dynamodb = {"boto3/dynamodb/__init__.py": b"", "boto3/dynamodb/types.py": types}
    write_wheel(wheels, "boto3", "9.9", "", extra=dynamodb)
    write_wheel(wheels, "usesboto", "2.0", "", requires=("boto3",))
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "app.py").write_text(HANDLE)
    (folder / "requirements.txt").write_text(requirements_for(wheels, "zipdep==1.0"))
    return folder


def names_in(data: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return set(archive.namelist())


def test_requirements_beside_the_processor_are_vendored(code: Path) -> None:
    """zipdep lands in the zip root with its dist-info; the manifest says where it came from."""
    built = build_function_zip(parse_processor(f"{code}:app.handle"))
    assert {"zipdep/__init__.py", "zipdep-1.0.dist-info/METADATA"} <= names_in(built.data)
    assert built.manifest is not None
    assert built.manifest.packages == (("zipdep", "1.0"),)
    assert any(n.startswith("picked up") and "requirements.txt" in n for n in built.manifest.notes)
    assert any("lambda python3.12 x86_64" in n for n in built.manifest.notes)


def test_second_build_is_cached_and_byte_identical(code: Path, tmp_path: Path) -> None:
    """Same inputs: same bytes, and pip is not needed again (the wheel folder is gone)."""
    ref = parse_processor(f"{code}:app.handle")
    first = build_function_zip(ref)
    for wheel in (tmp_path / "wheels").iterdir():
        wheel.unlink()
    second = build_function_zip(ref)
    assert second.data == first.data and second.code_sha256 == first.code_sha256


def test_cache_key_follows_target_and_runtime(code: Path) -> None:
    """Another runtime or the host interpreter gets its own set (and cache entry)."""
    ref = parse_processor(f"{code}:app.handle")
    host = parse_processor(f"{code}:app.handle", target=Target(host=True))
    lambda_notes = build_function_zip(ref, runtime="python3.13").manifest
    host_notes = build_function_zip(host).manifest
    assert lambda_notes is not None and host_notes is not None
    assert any("lambda python3.13" in n for n in lambda_notes.notes)
    assert any(n.startswith("dependencies vendored for host") for n in host_notes.notes)


def test_boto3_is_left_to_the_runtime_unless_pinned(code: Path, tmp_path: Path) -> None:
    """A dependency that pulls boto3 in: boto3 is dropped and the plan says so."""
    wheels = tmp_path / "wheels"
    # The processor imports zipdep: it stays named (a build checks that the import works).
    (code / "requirements.txt").write_text(requirements_for(wheels, "usesboto", "zipdep"))
    built = build_function_zip(parse_processor(f"{code}:app.handle"))
    names = names_in(built.data)
    assert "usesboto/__init__.py" in names and not any(n.startswith("boto3") for n in names)
    assert built.manifest is not None
    assert any("not vendored (the runtime provides them): boto3" in n for n in built.manifest.notes)
    (code / "requirements.txt").write_text(requirements_for(wheels, "boto3==9.9", "zipdep"))
    pinned = build_function_zip(parse_processor(f"{code}:app.handle"))
    assert "boto3/__init__.py" in names_in(pinned.data)


def test_pyproject_dependencies_are_picked_up(
    code: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No requirements.txt: [project].dependencies of a pyproject.toml beside the code."""
    (code / "requirements.txt").unlink()
    (code / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["zipdep"]\n')
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip's own settings reach the vendoring run
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    built = build_function_zip(parse_processor(f"{code}:app.handle"))
    assert built.manifest is not None and built.manifest.packages == (("zipdep", "1.0"),)
    assert any("pyproject.toml" in n for n in built.manifest.notes)


def test_no_compatible_wheel_is_one_clear_line(code: Path, tmp_path: Path) -> None:
    """A requirement with no wheel for the platform names the package."""
    (code / "requirements.txt").write_text(requirements_for(tmp_path / "wheels", "nosuchpkg"))
    with pytest.raises(UsageError) as caught:
        build_function_zip(parse_processor(f"{code}:app.handle"))
    line = caught.value.one_line()
    assert "'nosuchpkg' has no wheel for lambda python3.12 x86_64" in line and "\n" not in line


def test_size_limits_name_the_largest(code: Path) -> None:
    """Unzipped size is checked from stat before anything is read; zipped after compressing."""
    (code / "requirements.txt").unlink()
    with (code / "model.bin").open("wb") as sparse:
        sparse.truncate(260 * 1024 * 1024)
    ref = parse_processor(f"{code}:app.handle")
    with pytest.raises(UsageError, match=r"unzipped, over Lambda's 250 MB limit; largest: model"):
        build_function_zip(ref)
    (code / "model.bin").write_bytes(os.urandom(300 * 1024))
    with pytest.raises(UsageError, match=r"direct-upload limit; largest: model.bin 0.3 MB"):
        build_function_zip(ref, limits=Limits(zipped=200 * 1024))


def test_pure_python_sdist_is_built_into_a_wheel(code: Path, tmp_path: Path) -> None:
    """Only an sdist published: built here into a py3-none-any wheel, then vendored."""
    write_sdist(tmp_path / "wheels", "sdistonly", "0.3", "VALUE = 3\n")
    (code / "requirements.txt").write_text(
        requirements_for(tmp_path / "wheels", "sdistonly==0.3", "zipdep")
    )
    built = build_function_zip(parse_processor(f"{code}:app.handle"))
    assert "sdistonly/__init__.py" in names_in(built.data)
    assert built.manifest is not None and ("sdistonly", "0.3") in built.manifest.packages
