"""The console script. `sqsidem --version` alone answers before the command tree is built
(importing every command module and letting Typer read each signature is most of the
start-up, and the version needs none of it); everything else goes to the root app."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from sqsidem import __version__

        sys.stdout.write(f"sqsidem {__version__}\n")
        return
    from sqsidem.cli.app import main as run

    run()
