"""The root Typer app: global options, command registration, and the one error exit."""

import os
import sys
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from sqsidem import interrupt
from sqsidem.cli import (
    build_cmd,
    demo_cmd,
    dlq_cmd,
    doctor_cmd,
    invoke_cmd,
    local_cmd,
    locks_cmd,
    logs_cmd,
    notify_cmd,
    policy_cmd,
    send_cmd,
    stack_cmd,
    stacks_cmd,
    trace_cmd,
    watch_cmd,
    worker_cmd,
)
from sqsidem.cli.context import AppContext, Seam

if TYPE_CHECKING:
    from sqsidem.render import Renderer

GLOBAL_PANEL = "Global options (also accepted after the command)"
# Global options that take a value, and those that are plain flags (DESIGN 6.2).
_VALUE_OPTIONS = {"--profile", "--region", "--endpoint-url", "--stack", "--output", "-o"}
_FLAG_OPTIONS = {"--local", "--debug"}


class OutputFormat(str, Enum):
    human = "human"
    json = "json"


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Move global options given after the command to the front, like the aws CLI does."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    args = list(args)
    while index < len(args):
        word = args[index]
        if word == "--":
            rest.extend(args[index:])
            break
        name = word.split("=", 1)[0]
        if name in _FLAG_OPTIONS:
            front.append(word)
        elif name in _VALUE_OPTIONS:
            front.append(word)
            if "=" not in word and index + 1 < len(args):
                index += 1
                front.append(args[index])
        else:
            rest.append(word)
        index += 1
    return front + rest


def _is_click_exception(exc: BaseException) -> bool:
    return any(kind.__name__ == "ClickException" for kind in type(exc).__mro__)


def _debug_requested(args: Sequence[str]) -> bool:
    return "--debug" in args or os.environ.get("SQSIDEM_DEBUG", "").lower() in {"1", "true", "yes"}


class SqsidemGroup(TyperGroup):
    """Root group: hoists global options and turns every failure into one stderr line."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = hoist_global_options(sys.argv[1:] if args is None else args)
        try:
            result = super().main(
                args=argv,
                prog_name=prog_name or "sqsidem",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            code = result if isinstance(result, int) else 0
        except (Exception, KeyboardInterrupt) as exc:
            from sqsidem.render import Renderer

            code = self._report(exc, Renderer(), _debug_requested(argv))
        if args is None and interrupt.interrupted_with_calls_in_flight(code):
            # A second Ctrl-C: leave now, not once the worker threads' calls return.
            interrupt.leave(code)
        if standalone_mode:
            if args is None:
                interrupt.late_interrupt_leaves(code)
            sys.exit(code)
        return code

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The root help without Typer's rich_utils (render/help.py says why)."""
        from sqsidem.render.help import print_group_help

        del formatter
        print_group_help(self, ctx)

    def invoke(self, ctx: Any) -> Any:
        # Typer turns KeyboardInterrupt into a silent exit 130: ours goes to the error table.
        from sqsidem.errors import Interrupted

        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise Interrupted() from exc

    @staticmethod
    def _report(exc: BaseException, render: "Renderer", debug: bool) -> int:
        from sqsidem.errors import USAGE_EXIT, explain
        from sqsidem.render import one_line

        if type(exc).__name__ == "Abort":
            render.error("aborted")
            return 1
        if _is_click_exception(exc):
            message = exc.format_message()  # type: ignore[attr-defined]
            ctx = getattr(exc, "ctx", None)
            where = f"{ctx.command_path} --help" if ctx is not None else "sqsidem --help"
            render.error(f"{one_line(message)} (see `{where}`)")
            code = getattr(exc, "exit_code", USAGE_EXIT)
            return code if isinstance(code, int) else USAGE_EXIT
        if debug:
            render.traceback(exc)
        explained = explain(exc)
        render.error(explained.line)
        return explained.exit_code


def _version(value: bool) -> None:
    if value:
        from sqsidem import __version__
        from sqsidem.render import Renderer

        Renderer().line(f"sqsidem {__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=SqsidemGroup,
    name="sqsidem",
    help=(
        "Stand up, exercise, watch and tear down an idempotent SQS FIFO -> Lambda -> DynamoDB "
        "pipeline, on AWS or on the embedded local backend."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _global(*names: str, **details: Any) -> Any:
    """A global option: listed under its own panel, accepted before or after the command."""
    return typer.Option(*names, rich_help_panel=GLOBAL_PANEL, **details)


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[str | None, _global(help="AWS profile (else AWS_PROFILE).")] = None,
    region: Annotated[
        str | None,
        _global(
            help="AWS region (else SQSIDEM_REGION, sqsidem.toml, the AWS chain; on AWS none "
            "anywhere is an error; --local: ap-northeast-1)."
        ),
    ] = None,
    endpoint_url: Annotated[
        str | None, _global(help="Send every call to this endpoint (emulator, VPC endpoint).")
    ] = None,
    local: Annotated[
        bool, _global("--local", help="Use the embedded local backend (`sqsidem local up`).")
    ] = False,
    stack: Annotated[
        str | None, _global(help="Stack name; every resource name derives from it (default: test).")
    ] = None,
    output: Annotated[OutputFormat | None, _global("--output", "-o", help="human or json.")] = None,
    debug: Annotated[bool, _global("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        _global("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Global options; settings also come from SQSIDEM_* variables and ./sqsidem.toml."""
    from sqsidem import validate
    from sqsidem.render import Renderer
    from sqsidem.settings import GlobalFlags, resolve_settings

    given = {"--profile": profile, "--region": region, "--endpoint-url": endpoint_url}
    validate.non_empty({**given, "--stack": stack})
    flags = GlobalFlags(
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        local=local,
        stack=stack,
        output=output.value if output is not None else None,
        debug=debug,
    )
    settings = resolve_settings(flags)
    validate.region_name(settings.region)
    validate.endpoint_url(settings.endpoint_url)
    seam = ctx.obj if isinstance(ctx.obj, Seam) else Seam()
    ctx.obj = AppContext(settings=settings, render=Renderer(settings.output), seam=seam)


# In the order `sqsidem --help` lists them.
local_cmd.register(app)
doctor_cmd.register(app)
stack_cmd.register(app)
build_cmd.register(app)
invoke_cmd.register(app)
send_cmd.register(app)
logs_cmd.register(app)
locks_cmd.register(app)
worker_cmd.register(app)
dlq_cmd.register(app)
notify_cmd.register(app)
policy_cmd.register(app)
trace_cmd.register(app)
watch_cmd.register(app)
stacks_cmd.register(app)
demo_cmd.register(app)


def main() -> None:
    app()
