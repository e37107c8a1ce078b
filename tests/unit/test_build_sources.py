"""Processor forms and ignore rules: what ships, under which module name, and what never does."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from sqsidem.build.ignore import walk
from sqsidem.build.package import build_function_zip
from sqsidem.build.sources import parse_processor
from sqsidem.errors import UsageError

HANDLE = "def handle(record):\n    pass\n"


def names_in(data: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return set(archive.namelist())


def test_lone_file_ships_as_today(tmp_path: Path) -> None:
    """A file with no Python siblings ships alone as sqsidem_processor.py."""
    (tmp_path / "proc.py").write_text(HANDLE)
    (tmp_path / "notes.txt").write_text("not code")
    ref = parse_processor(f"{tmp_path / 'proc.py'}:handle")
    assert ref.spec == "sqsidem_processor:handle" and ref.root is None
    assert "notes.txt" not in names_in(build_function_zip(ref).data)


def test_file_with_siblings_ships_its_folder(tmp_path: Path) -> None:
    """package_dir/module.py:fn: the folder ships whole, layout kept; the module keeps its name."""
    folder = tmp_path / "code"
    (folder / "models").mkdir(parents=True)
    (folder / "app.py").write_text("import helper\n" + HANDLE)
    (folder / "helper.py").write_text("X = 1\n")
    (folder / "models" / "__init__.py").write_text("")
    ref = parse_processor(f"{folder / 'app.py'}:handle")
    assert ref.spec == "app:handle" and ref.root == folder.resolve()
    names = names_in(build_function_zip(ref).data)
    assert {"app.py", "helper.py", "models/__init__.py"} <= names


def test_package_folder_ships_as_the_package(tmp_path: Path) -> None:
    """A folder with __init__.py ships under its name, so relative imports work."""
    folder = tmp_path / "orders"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "handler.py").write_text("from . import rules\n" + HANDLE)
    (folder / "rules.py").write_text("")
    ref = parse_processor(f"{folder / 'handler.py'}:handle")
    assert ref.spec == "orders.handler:handle"
    assert {"orders/__init__.py", "orders/rules.py"} <= names_in(build_function_zip(ref).data)


def test_dir_module_function_form(tmp_path: Path) -> None:
    """dir:module.fn: the folder is the zip's root; dotted modules resolve to files."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "run.py").write_text(HANDLE)
    ref = parse_processor(f"{tmp_path}:pkg.run.handle")
    assert ref.spec == "pkg.run:handle"
    assert "pkg/run.py" in names_in(build_function_zip(ref).data)
    with pytest.raises(UsageError, match=r"has no module 'pkg\.nope'"):
        parse_processor(f"{tmp_path}:pkg.nope.handle")
    with pytest.raises(UsageError, match="defines no top-level function 'other'"):
        parse_processor(f"{tmp_path}:pkg.run.other")


def test_secrets_and_clutter_never_ship(tmp_path: Path) -> None:
    """Planted .env, id_rsa, keys, .git, a virtualenv, .aws/ and .sqsidemignore matches stay out."""
    (tmp_path / "app.py").write_text(HANDLE)
    (tmp_path / "helper.py").write_text("")
    for name in (".env", ".env.production", "id_rsa", "id_ed25519.pub", "tls.pem", "api.key"):
        (tmp_path / name).write_text("secret")
    for folder in (".git", ".aws", "__pycache__", "env", "data/raw"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "file").write_text("x")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "data" / "keep.csv").write_text("x")
    (tmp_path / "notes.md").write_text("x")
    (tmp_path / ".sqsidemignore").write_text("# ours\n/data/raw/\n*.md\n")
    kept, excluded = walk(tmp_path)
    assert kept == ["app.py", "data/keep.csv", "helper.py"]
    assert {".env", ".env.production", "id_rsa", "id_ed25519.pub", "tls.pem", "api.key"} <= set(
        excluded
    )
    assert {".git/", ".aws/", "__pycache__/", "env/", "data/raw/", "notes.md"} <= set(excluded)
    built = build_function_zip(parse_processor(f"{tmp_path}:app.handle"))
    names = names_in(built.data)
    assert not {n for n in names if "env" in n or "id_" in n or n.startswith(".")}
    assert built.manifest is not None and ".env" in built.manifest.excluded


def test_negation_brings_a_file_back(tmp_path: Path) -> None:
    """gitignore's last-match-wins: `!` re-includes a file an earlier pattern excluded."""
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / ".sqsidemignore").write_text("*.json\n!b.json\n")
    kept, _ = walk(tmp_path)
    assert kept == ["b.json"]
