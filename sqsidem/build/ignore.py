"""What never travels in the zip: fixed rules for secrets and clutter, plus ``.sqsidemignore``.

``.sqsidemignore`` uses gitignore syntax: ``#`` comments, ``!`` negation, a trailing ``/``
for directories only, a leading (or inner) ``/`` anchors to the processor folder, ``*``,
``?``, ``[...]`` and ``**``. The last matching pattern wins, as in git.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

IGNORE_FILE = ".sqsidemignore"
# Secrets and clutter: version control, caches, virtualenvs, env files, keys, AWS credentials.
FIXED_RULES = (
    ".git/",
    ".hg/",
    ".svn/",
    "__pycache__/",
    "*.pyc",
    "*.pyo",
    ".venv/",
    "venv/",
    ".tox/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".env*",
    "*.pem",
    "*.key",
    "id_*",
    ".aws/",
    # What it names is vendored; the file itself may carry a private index's credentials.
    "/requirements*.txt",
    IGNORE_FILE,
)


@dataclass(frozen=True)
class Rule:
    pattern: str
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def _translate(glob: str) -> str:
    out, index = [], 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if glob.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = glob.find("]", index + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = glob[index + 1 : end].replace("\\", "\\\\")
                out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def parse_rule(line: str) -> Rule | None:
    text = line.rstrip("\n").rstrip()
    if not text or text.startswith("#"):
        return None
    negate = text.startswith("!")
    body = text[1:] if negate else text
    dir_only = body.endswith("/")
    body = body.rstrip("/")
    anchored = "/" in body
    body = body.lstrip("/")
    prefix = "" if anchored else "(?:.*/)?"
    regex = re.compile(f"^{prefix}{_translate(body)}$")
    return Rule(text, regex, negate, dir_only)


@dataclass(frozen=True)
class IgnoreRules:
    rules: tuple[Rule, ...]

    @classmethod
    def for_folder(cls, folder: Path) -> IgnoreRules:
        lines = list(FIXED_RULES)
        custom = folder / IGNORE_FILE
        if custom.is_file():
            lines += custom.read_text(encoding="utf-8").splitlines()
        return cls(tuple(r for r in map(parse_rule, lines) if r is not None))

    def ignored(self, relative: str, *, is_dir: bool) -> bool:
        verdict = False
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(relative):
                verdict = not rule.negate
        return verdict


def _is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def walk(folder: Path) -> tuple[list[str], list[str]]:
    """(kept files, excluded paths), relative POSIX paths, sorted; an excluded dir is one entry."""
    rules = IgnoreRules.for_folder(folder)
    kept: list[str] = []
    excluded: list[str] = []

    def visit(directory: Path) -> None:
        for path in sorted(directory.iterdir()):
            relative = path.relative_to(folder).as_posix()
            is_dir = path.is_dir()
            if rules.ignored(relative, is_dir=is_dir) or (is_dir and _is_virtualenv(path)):
                excluded.append(relative + ("/" if is_dir else ""))
            elif is_dir:
                visit(path)
            elif path.is_file():
                kept.append(relative)

    visit(folder)
    return kept, excluded
