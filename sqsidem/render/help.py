"""`sqsidem --help`: the root help, drawn with rich's table and panel only.

Typer draws help through ``typer.rich_utils``, whose imports (Markdown, syntax highlighting,
tracebacks) cost more than Typer and rich themselves: the root help is what every new user
runs first, so it is drawn here in the same layout (usage, description, one panel per
``rich_help_panel``, the commands) at a fraction of the start-up. A command's own ``--help``
still goes through Typer.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

OPTIONS_PANEL = "Options"
COMMANDS_PANEL = "Commands"
# Typer's colours, so the root help looks like every command's help.
STYLE_OPTION, STYLE_SWITCH, STYLE_TYPES = "bold cyan", "bold green", "bold yellow"


def print_group_help(group: Any, ctx: Any) -> None:
    """Usage, description, option panels in first-seen order, then the commands."""
    from rich.console import Console
    from rich.padding import Padding
    from rich.text import Text

    console = Console(markup=False, emoji=False, highlight=False)  # our text is styled already
    pieces = " ".join(group.collect_usage_pieces(ctx))
    usage = Text.assemble(("Usage: ", "yellow"), (f"{ctx.command_path} {pieces}", "bold"))
    console.print(Padding(usage, (1, 1, 0, 1)))
    description = _first_paragraph(group.help or "")
    if description:
        console.print(Padding(Text(description), (1, 1, 1, 1)))
    panels: dict[str, list[Any]] = {}
    for param in group.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        panel = getattr(param, "rich_help_panel", None) or OPTIONS_PANEL
        panels.setdefault(panel, []).append(param)
    # Typer's order: the default panel first, then the named ones as first seen.
    titles = sorted(panels, key=lambda title: title != OPTIONS_PANEL)
    for title in titles:
        _panel(console, title, _options_table(panels[title], ctx))
    commands = [(name, group.get_command(ctx, name)) for name in group.list_commands(ctx)]
    _panel(console, COMMANDS_PANEL, _commands_table([(n, c) for n, c in commands if c]))


def _first_paragraph(text: str) -> str:
    return inspect.cleandoc(text).partition("\f")[0].split("\n\n")[0].replace("\n", " ").strip()


def _grid() -> Table:
    from rich.table import Table

    return Table(
        highlight=False, show_header=False, expand=True, box=None, pad_edge=False, padding=(0, 1)
    )


def _options_table(params: list[Any], ctx: Any) -> Table:
    """Typer's columns: long, short, negative long, negative short, type, help."""
    table = _grid()
    for _ in range(5):
        table.add_column()
    table.add_column(ratio=1)  # the help takes what the others leave
    for param in params:
        display = getattr(param, "display_type_rich", None)
        kind = display(ctx=ctx) if display is not None else None
        table.add_row(
            *_names(param.opts, STYLE_OPTION, STYLE_SWITCH),
            *_names(param.secondary_opts, "bold magenta", "bold red"),
            _styled(kind or "", STYLE_TYPES),
            _styled(_first_paragraph(param.help or ""), ""),
        )
    return table


def _names(opts: list[str], long_style: str, short_style: str) -> tuple[Text, Text]:
    long = ",".join(o for o in opts if o.startswith("--"))
    short = ",".join(o for o in opts if not o.startswith("--"))
    return _styled(long, long_style), _styled(short, short_style)


def _commands_table(commands: list[tuple[str, Any]]) -> Table:
    table = _grid()
    table.add_column(style=STYLE_OPTION, no_wrap=True)
    table.add_column(ratio=1)
    for name, command in commands:
        table.add_row(name, _styled(_first_paragraph(command.help or ""), ""))
    return table


def _styled(value: str, style: str) -> Text:
    from rich.text import Text

    return Text(value, style=style, overflow="fold")


def _panel(console: Console, title: str, table: Table) -> None:
    from rich.panel import Panel

    title_text = _styled(title, "")
    console.print(Panel(table, border_style="dim", title=title_text, title_align="left"))
