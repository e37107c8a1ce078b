"""`sqsidem watch`: one stack's live dashboard (see sqsidem.watch for the cost it keeps)."""

from typing import Annotated

import typer

from sqsidem.cli.context import app_context

WATCH_HELP = (
    "Live view of one stack: queue, flow, DLQ, locks, blocked FIFO groups, recent decisions. "
    "Full screen on a terminal (q or Ctrl-C quits); plain snapshots when piped; JSON Lines "
    "with -o json (one object with --once). A panel whose source is missing shows "
    '"n/a: <why>".\n\n'
    "Cost: each refresh makes at most 7 API calls (2 GetQueueAttributes, "
    "1 ListEventSourceMappings, 1 DescribeAlarms, <= 3 FilterLogEvents pages; 2 GetQueueUrl "
    "and 1 GetFunctionConfiguration the first time); every 15s the lock scan reads <= 5,000 "
    "items in pages of 1,000 (counts shown as >= N when capped) and one GetMetricStatistics "
    "asks the oldest message's age: <= 13 calls then."
)


def watch(
    ctx: typer.Context,
    interval: Annotated[
        str, typer.Option(help="Time between refreshes, 1s..1h: 2s, 5s, 1m.")
    ] = "2s",
    once: Annotated[
        bool, typer.Option("--once", help="Print one snapshot and exit (scripts, cron).")
    ] = False,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Stop after N snapshots.")
    ] = None,
) -> None:
    """Live view of one stack (the help text is WATCH_HELP)."""
    from sqsidem.interrupt import until_stopped
    from sqsidem.render.watch import run_watch
    from sqsidem.watch.sampler import Watcher, watch_budget

    app = app_context(ctx)
    budget = watch_budget(interval)
    watcher = Watcher(app.aws(), app.names, budget)
    with until_stopped() as stop:  # Ctrl-C is watch's normal end (exit 0)
        code = run_watch(
            app.render,
            watcher.sample,
            interval_s=budget.interval_s,
            once=once,
            count=count,
            stop=stop,
        )
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command(help=WATCH_HELP)(watch)
