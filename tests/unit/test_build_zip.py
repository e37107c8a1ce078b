"""The function zip: byte-reproducible, self-contained, handler importable from the zip alone."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3

from sqsidem.build.package import CONSUMER_PACKAGE, HANDLER, build_function_zip, consumer_dir
from sqsidem.build.sources import ProcessorRef


def test_same_inputs_same_bytes() -> None:
    """Two builds are identical, so CodeSha256 does not change on a re-run."""
    first, second = build_function_zip(), build_function_zip()
    assert first.data == second.data
    assert first.code_sha256 == second.code_sha256


def test_entries_sorted_fixed_time_mode_deflated() -> None:
    """Sorted names, 1980-01-01 timestamps, 0644 files, deflate; no __pycache__."""
    built = build_function_zip()
    with zipfile.ZipFile(io.BytesIO(built.data)) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert f"{CONSUMER_PACKAGE}/handler.py" in names
    assert f"{CONSUMER_PACKAGE}/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert (info.external_attr >> 16) & 0o777 == 0o644
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_pycache_in_source_is_skipped(tmp_path: Path) -> None:
    """Bytecode next to the sources never reaches the zip (it would change the hash)."""
    root = tmp_path / "consumer"
    (root / "__pycache__").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "__pycache__" / "x.cpython-312.pyc").write_bytes(b"\x00")
    built = build_function_zip(root=root)
    assert built.files == (f"{CONSUMER_PACKAGE}/__init__.py",)


def test_processor_ships_as_top_level_module(tmp_path: Path) -> None:
    """The user's file becomes sqsidem_processor.py; a changed file changes the hash."""
    source = tmp_path / "mine.py"
    source.write_text("def handle(record):\n    return None\n")
    with_processor = build_function_zip(ProcessorRef(source, "handle"))
    assert "sqsidem_processor.py" in with_processor.files
    source.write_text("def handle(record):\n    return 1\n")
    assert (
        build_function_zip(ProcessorRef(source, "handle")).code_sha256 != with_processor.code_sha256
    )
    assert build_function_zip().code_sha256 != with_processor.code_sha256


def test_zip_covers_the_whole_consumer_package() -> None:
    """Every module of sqsidem/consumer is in the zip (a forgotten one breaks on AWS only)."""
    built = build_function_zip()
    sources = {p.name for p in consumer_dir().glob("*.py")}
    shipped = {n.split("/", 1)[1] for n in built.files if n.startswith(CONSUMER_PACKAGE + "/")}
    assert sources <= shipped


def test_handler_imports_from_the_zip_alone(tmp_path: Path) -> None:
    """A fresh interpreter that sees only the zip's files and boto3 imports the handler.

    -S as well as -I: site-packages' .pth files would install sqsidem's editable finder.
    """
    source = tmp_path / "mine.py"
    source.write_text("def handle(record):\n    return None\n")
    built = build_function_zip(ProcessorRef(source, "handle"))
    target = tmp_path / "extracted"
    with zipfile.ZipFile(io.BytesIO(built.data)) as archive:
        archive.extractall(target)
    boto3_site = str(Path(boto3.__file__).resolve().parent.parent)
    module, _, function = HANDLER.rpartition(".")
    code = (
        "import sys\n"
        f"sys.path[:] = [{str(target)!r}, {boto3_site!r}] + [p for p in sys.path if p]\n"
        "import importlib.util\n"
        "assert importlib.util.find_spec('sqsidem') is None, 'sqsidem itself is visible'\n"
        f"import importlib\nm = importlib.import_module({module!r})\n"
        f"assert callable(getattr(m, {function!r}))\n"
        "import sqsidem_processor\n"
        "assert 'sqsidem' not in sys.modules, 'the zip must not need sqsidem'\n"
        "print(m.__file__)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(target))
