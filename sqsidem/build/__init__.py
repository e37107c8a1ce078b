"""The function's code: processor sources, ignore rules, vendored dependencies, the zip."""
