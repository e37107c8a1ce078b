"""Setup refuses a processor the function could never run, before any AWS call (issue 13,
item 7): wrong arity, required keyword-only parameters, not callable, an import that fails
(with its file and line), a module that exits or hangs at import."""

from __future__ import annotations

import io
import platform
import zipfile
from pathlib import Path

import pytest

from sqsidem.build.check import check_processor
from sqsidem.build.sources import parse_processor
from sqsidem.errors import UsageError
from tests.support_seam import ClientSpy
from tests.support_wheels import requirements_for, write_wheel

# (files, --processor relative to the folder, what the one line must say)
BAD = {
    "no-parameter": (
        {"app.py": "def handle():\n    pass\n"},
        "app.py:handle",
        "cannot be called as process(record): too many positional arguments",
    ),
    "three-parameters": (
        {"app.py": "def handle(record, a, b):\n    pass\n"},
        "app.py:handle",
        "cannot be called as process(record, effects): missing a required argument: 'b'",
    ),
    "keyword-only": (
        {"app.py": "def handle(record, *, tenant):\n    pass\n"},
        "app.py:handle",
        "required keyword-only parameter 'tenant'",
    ),
    "not-callable": (
        {"app.py": "def handle(record):\n    pass\n\nhandle = 'later'\n"},
        "app.py:handle",
        "not callable (an object of type str)",
    ),
    "async": (
        {
            "app.py": "def handle(record):\n    pass\n\n"
            "async def later(record):\n    pass\n\nhandle = later\n"
        },
        "app.py:handle",
        "is async",
    ),
    "import-fails": (
        {
            "app.py": "import helper\n\ndef handle(record):\n    helper.go()\n",
            "helper.py": "import os\n\nimport not_installed_anywhere\n",
        },
        "app.py:handle",
        "at src/helper.py line 3: ModuleNotFoundError: No module named 'not_installed_anywhere'",
    ),
    "exits": (
        {"app.py": "import sys\n\nsys.exit(3)\n\ndef handle(record):\n    pass\n"},
        "app.py:handle",
        "the module exits when imported at src/app.py line 3 (SystemExit 3)",
    ),
}


def _folder(root: Path, files: dict[str, str]) -> Path:
    folder = root / "src"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize("shape", sorted(BAD))
def test_setup_refuses_a_processor_that_can_never_run(
    shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 2, one line naming the problem, and not one AWS client made."""
    files, processor, expected = BAD[shape]
    monkeypatch.chdir(tmp_path)
    _folder(tmp_path, {**files, "other.py": "X = 1\n"})  # a folder: ships whole
    spy = ClientSpy()
    result = spy.invoke(["--region", "ap-northeast-1", "setup", "--processor", f"src/{processor}"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert spy.clients == [] and spy.counts == {}


def test_a_module_that_hangs_at_import_is_refused(tmp_path: Path) -> None:
    """Past the bound (Lambda's 10 s init phase; shorter here) the import is given up."""
    source = tmp_path / "slow.py"
    source.write_text("import time\n\ntime.sleep(60)\n\ndef handle(record):\n    pass\n")
    ref = parse_processor(f"{source}:handle")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sqsidem_processor.py", source.read_text())
    with pytest.raises(UsageError, match=r"did not finish within 0\.5 s"):
        check_processor(ref, buffer.getvalue(), {}, runtime="python3.12", timeout_s=0.5)


def _foreign_dependency(tmp_path: Path, app: str) -> tuple[Path, str]:
    """A processor whose dependency is a compiled wheel for the other architecture."""
    arch = "arm64" if platform.machine() == "x86_64" else "x86_64"
    machine = "aarch64" if arch == "arm64" else "x86_64"
    wheels = tmp_path / "wheels"
    write_wheel(
        wheels,
        "fastdep",
        "1.0",
        "from ._speed import go\n",
        tag=f"cp312-cp312-manylinux2014_{machine}",
        extra={"fastdep/_speed.cpython-312-linux-gnu.so": b"\x7fELF not for this host"},
    )
    folder = _folder(tmp_path, {"app.py": app, "helper.py": "X = 1\n"})
    (folder / "requirements.txt").write_text(requirements_for(wheels, "fastdep==1.0"))
    return folder, arch


def test_a_foreign_dependency_means_the_signature_is_read_from_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It cannot import here by design: the build says the import was not checked; a bad
    signature is still refused, from the source."""
    monkeypatch.setenv("SQSIDEM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    app = "import fastdep\n\ndef handle(record, effects):\n    fastdep.go()\n"
    folder, arch = _foreign_dependency(tmp_path, app)
    spy = ClientSpy()
    args = ["build", "--processor", "src/app.py:handle", "--architecture", arch]
    good = spy.invoke([*args, "--out", str(tmp_path / "f.zip")])
    assert good.exit_code == 0, good.output
    assert "processor import not checked" in good.stderr
    assert "signature was read from the source" in good.stderr
    (folder / "app.py").write_text("import fastdep\n\ndef handle(record, *, flag):\n    pass\n")
    bad = spy.invoke([*args, "--out", str(tmp_path / "g.zip")])
    assert bad.exit_code == 2
    assert "required keyword-only parameter 'flag'" in bad.stderr
