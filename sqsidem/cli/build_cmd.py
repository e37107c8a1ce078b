"""`sqsidem build`: the zip `setup` would deploy, written to a file, with its manifest."""

from pathlib import Path
from typing import Annotated

import typer

from sqsidem.cli.context import app_context
from sqsidem.cli.options import ArchitectureOption, ProcessorOption, RequirementsOption


def build(
    ctx: typer.Context,
    processor: ProcessorOption = None,
    requirements: RequirementsOption = None,
    architecture: ArchitectureOption = "x86_64",
    runtime: Annotated[str, typer.Option(help="Python runtime the wheels are for.")] = "python3.12",
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip.")] = Path(
        "function.zip"
    ),
) -> None:
    """Build exactly the zip `setup` deploys (same bytes, same CodeSha256) and write it."""
    from sqsidem.build.package import write_build
    from sqsidem.build.sources import processor_option
    from sqsidem.render.build import show_manifest
    from sqsidem.stack.runtimes import check_runtime, today_utc
    from sqsidem.validate import output_file

    app = app_context(ctx)
    check_runtime(runtime, creating=False, today=today_utc())  # unknown or empty: exit 2
    output_file(out, "--out")
    ref = processor_option(processor, requirements, architecture, host=app.settings.local)
    built = write_build(ref, runtime=runtime, out=out)
    if built.manifest is not None:
        show_manifest(app.render, built.manifest, out)


def register(app: typer.Typer) -> None:
    app.command()(build)
