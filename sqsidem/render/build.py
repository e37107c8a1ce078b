"""The view of `build` (the manifest) and the code notes `setup` shows in its plan."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqsidem.render.sink import Renderer

if TYPE_CHECKING:
    from sqsidem.build.manifest import Manifest

_KB = 1024


def _size(n: int) -> str:
    return f"{n / _KB / _KB:.1f} MB" if n >= _KB * _KB else f"{n / _KB:.1f} KB"


def show_code_notes(render: Renderer, manifest: Manifest | None) -> None:
    """What was picked up, what the runtime provides, and what the ignore rules kept out."""
    if manifest is None:
        return
    for note in manifest.notes:
        render.note(note)
    if manifest.excluded:
        render.info("not shipped (ignore rules): " + ", ".join(manifest.excluded))


def _top_level(manifest: Manifest) -> list[tuple[str, int, int]]:
    totals: dict[str, tuple[int, int]] = {}
    for name, size in manifest.files:
        top = name.split("/", 1)[0]
        count, total = totals.get(top, (0, 0))
        totals[top] = (count + 1, total + size)
    return [(top, count, total) for top, (count, total) in sorted(totals.items())]


def show_manifest(render: Renderer, manifest: Manifest, out: Path) -> None:
    """JSON: the whole manifest on stdout. Human: the manifest on stderr (stdout stays free)."""
    if render.json:
        render.emit({"out": str(out), **manifest.as_dict()})
        return
    render.info(f"processor: {manifest.processor or '(default: log each record)'}")
    for top, count, total in _top_level(manifest):
        render.info(f"  {top}  {count} file(s)  {_size(total)}")
    for name, version in manifest.packages:
        render.info(f"vendored: {name} {version}")
    show_code_notes(render, manifest)
    render.info(
        f"zip: {_size(manifest.zipped_bytes)} ({_size(manifest.unzipped_bytes)} unzipped), "
        f"{len(manifest.files)} file(s), CodeSha256 {manifest.code_sha256}"
    )
    render.success(f"wrote {out}")
