"""Options that several commands share, declared once."""

from __future__ import annotations

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
