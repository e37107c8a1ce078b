"""Where the processor comes from: ``file.py:fn``, ``package_dir/module.py:fn``, ``dir:module.fn``.

A lone file ships as ``sqsidem_processor.py`` (as it always has). A file whose folder holds
other Python code ships with that folder, layout kept, so sibling modules import as they do
locally; a folder with ``__init__.py`` ships as that package. ``dir:module.fn`` ships ``dir``
whole as the zip's root. The current working directory never ships as such: a file in it
goes alone. Everything is read, never run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from sqsidem.errors import UsageError

PROCESSOR_MODULE = "sqsidem_processor"
ARCHITECTURES = ("x86_64", "arm64")
DEFAULT_ARCHITECTURE = "x86_64"
_FORMS = "path/file.py:function or dir:module.function"


@dataclass(frozen=True)
class Target:
    """Which interpreter the vendored dependencies are for: Lambda's (per architecture) or
    this host's (the local backend, `invoke` and `worker` run on the host interpreter)."""

    architecture: str = DEFAULT_ARCHITECTURE
    host: bool = False


@dataclass(frozen=True)
class ProcessorRef:
    """The user's processor: what ships, the module the consumer imports and its function."""

    path: Path  # the processor's file, or the folder of the dir:module.fn form
    function: str
    module: str = PROCESSOR_MODULE
    root: Path | None = None  # a folder that ships whole; None: the file alone
    prefix: str = ""  # where the folder goes in the zip ("pkg/" for a package)
    requirements: Path | None = None
    target: Target = field(default_factory=Target)
    kept: bool = False  # the processor already deployed, kept by a setup without --processor

    @property
    def spec(self) -> str:
        return f"{self.module}:{self.function}"

    @property
    def folder(self) -> Path:
        """Where requirements.txt / pyproject.toml are looked for."""
        return self.root if self.root is not None else self.path.parent


def _defines(path: Path, function: str, shown: str) -> None:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --processor file {shown}: {exc}") from exc
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise UsageError(
            f"--processor file {shown} has a syntax error on line {exc.lineno}"
        ) from exc
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    if function not in defined:
        raise UsageError(
            f"--processor file {shown} defines no top-level function {function!r}",
            "define `def " + function + "(record): ...` (a plain, not async, function)",
        )


def module_file(folder: Path, module: str) -> Path:
    """The file of the dotted ``module`` under ``folder``: ``a/b.py`` or ``a/b/__init__.py``."""
    base = folder.joinpath(*module.split("."))
    return base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"


def _holds_other_code(file: Path) -> bool:
    for sibling in file.parent.iterdir():
        if sibling == file:
            continue
        if sibling.suffix == ".py" or (sibling.is_dir() and (sibling / "__init__.py").is_file()):
            return True
    return False


def _file_form(path_text: str, function: str) -> ProcessorRef:
    path = Path(path_text)
    if path.suffix != ".py":
        raise UsageError(f"--processor file {path_text} is not a .py file")
    _defines(path, function, path_text)
    file = path.resolve()
    folder = file.parent
    if folder == Path.cwd().resolve() or not _holds_other_code(file):
        return ProcessorRef(file, function)
    if (folder / "__init__.py").is_file():
        package = folder.name
        if not package.isidentifier():
            raise UsageError(f"--processor package folder {folder.name!r} is not a Python name")
        return ProcessorRef(file, function, f"{package}.{file.stem}", folder, f"{package}/")
    return ProcessorRef(file, function, file.stem, folder)


def _dir_form(path_text: str, dotted: str) -> ProcessorRef:
    module, _, function = dotted.rpartition(".")
    if not module or not all(part.isidentifier() for part in dotted.split(".")):
        raise UsageError(
            f"--processor {path_text}:{dotted} is not dir:module.function", "e.g. src:app.handle"
        )
    folder = Path(path_text).resolve()
    file = module_file(folder, module)
    if not file.is_file():
        raise UsageError(f"--processor folder {path_text} has no module {module!r}")
    _defines(file, function, str(file.relative_to(folder)))
    return ProcessorRef(folder, function, module, folder)


def parse_processor(
    text: str,
    *,
    requirements: Path | None = None,
    target: Target | None = None,
) -> ProcessorRef:
    """Check the processor form and that its function is defined (read, not run)."""
    path_text, sep, name = text.rpartition(":")
    if not sep or not path_text or not name or not name.replace(".", "_").isidentifier():
        raise UsageError(f"--processor {text!r} is not {_FORMS}", "e.g. --processor app.py:handle")
    if Path(path_text).is_dir():
        ref = _dir_form(path_text, name)
    elif not name.isidentifier():
        raise UsageError(f"--processor {text!r} is not {_FORMS}", "e.g. --processor app.py:handle")
    else:
        ref = _file_form(path_text, name)
    if requirements is not None and not requirements.is_file():
        raise UsageError(f"--requirements file {requirements} does not exist")
    return ProcessorRef(
        ref.path,
        ref.function,
        ref.module,
        ref.root,
        ref.prefix,
        requirements.resolve() if requirements else None,
        target or Target(),
    )


def kept_processor(spec: str, architecture: str) -> ProcessorRef:
    """The deployed processor ``module:function``: its code stays as deployed."""
    module, _, function = spec.partition(":")
    return ProcessorRef(Path(), function, module, target=Target(architecture), kept=True)


def parse_architecture(text: str) -> str:
    if text not in ARCHITECTURES:
        raise UsageError(f"--architecture {text!r} is not one of {', '.join(ARCHITECTURES)}")
    return text


def processor_option(
    text: str | None, requirements: Path | None, architecture: str, *, host: bool
) -> ProcessorRef | None:
    """The CLI's --processor/--requirements/--architecture as one ref (None: the default)."""
    target = Target(parse_architecture(architecture), host)
    if text is None or text == "default":
        if requirements is not None or architecture != DEFAULT_ARCHITECTURE:
            raise UsageError(
                "--requirements and --architecture need --processor: the default processor "
                "has no dependencies"
            )
        return None
    return parse_processor(text, requirements=requirements, target=target)
