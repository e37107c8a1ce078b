"""The default processor and loading a user's processor named ``module:function``."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

Processor = Callable[[dict[str, Any]], None]


def log_record(record: dict[str, Any]) -> None:
    """What the tutorial's handler does as its main processing: print the record."""
    print(json.dumps(record, ensure_ascii=False, sort_keys=True), flush=True)


def load_processor(spec: str) -> Processor:
    """Import ``module:function`` (empty: :func:`log_record`); ImportError etc. propagate."""
    if not spec:
        return log_record
    module_name, _, function_name = spec.partition(":")
    module = importlib.import_module(module_name)
    function = getattr(module, function_name)
    if not callable(function):
        raise TypeError(f"{spec} is not callable")
    processor: Processor = function
    return processor
