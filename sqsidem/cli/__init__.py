"""Typer commands: thin layers that parse, call one library function and render.

The command modules do not use ``from __future__ import annotations``: Typer reads every
command's signature at each start-up, and string annotations cost an ``eval`` each (about
half of building the command tree). Names imported only for type checking are quoted.
"""
