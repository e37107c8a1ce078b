"""Typer commands: thin layers that parse, call one library function and render."""
