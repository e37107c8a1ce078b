"""Options that several commands share, declared once."""

from pathlib import Path
from typing import Annotated

import typer

YesOption = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Do not ask for confirmation (required when stdin is not a terminal).",
    ),
]

ProcessorOption = Annotated[
    str | None,
    typer.Option(
        help="Your processing code: path/file.py:function, package_dir/module.py:function "
        "(the folder ships whole) or dir:module.function.",
    ),
]
RequirementsOption = Annotated[
    Path | None,
    typer.Option(
        help="requirements.txt to vendor into the zip (default: a requirements.txt or "
        "pyproject.toml dependencies beside the processor).",
        rich_help_panel="Function",
    ),
]
ArchitectureOption = Annotated[
    str,
    typer.Option(
        help="Lambda architecture the wheels are for: x86_64 or arm64.", rich_help_panel="Function"
    ),
]
