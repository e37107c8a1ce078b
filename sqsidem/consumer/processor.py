"""The default processor, loading a user's processor named ``module:function``, and telling
a one-parameter processor ``process(record)`` from a transactional one
``process(record, effects)`` (see effects.py)."""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .effects import Effects

RecordProcessor = Callable[[dict[str, Any]], None]
EffectsProcessor = Callable[[dict[str, Any], Effects], None]
Processor = RecordProcessor | EffectsProcessor


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


def takes_effects(function: Callable[..., object]) -> bool:
    """True when ``function`` has a second positional parameter for :class:`Effects`.

    That is a second positional parameter without a default, or one named ``effects``
    (``def process(record, effects=None)`` also works). ``*args`` alone or a signature
    Python cannot read means the one-parameter form, exactly as before effects existed.
    """
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return False
    return signature_takes_effects(signature)


def signature_takes_effects(signature: inspect.Signature) -> bool:
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) < 2:
        return False
    second = positional[1]
    return second.default is inspect.Parameter.empty or second.name == "effects"


def signature_problem(signature: inspect.Signature) -> str | None:
    """Why a function of this signature cannot be called as the consumer calls it, if so:
    ``process(record)``, or ``process(record, effects)`` when it takes effects."""
    required_keywords = [
        p.name
        for p in signature.parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty
    ]
    if required_keywords:
        return f"it has a required keyword-only parameter {required_keywords[0]!r}"
    arguments = ("record", "effects") if signature_takes_effects(signature) else ("record",)
    try:
        signature.bind(*arguments)
    except TypeError as exc:
        return f"it cannot be called as process({', '.join(arguments)}): {exc}"
    return None


def call_problem(function: object) -> str | None:
    """Why the consumer could never call ``function`` (None: it can)."""
    if not callable(function):
        return f"it is not callable (an object of type {type(function).__name__})"
    if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
        return "it is async: the consumer calls it and never awaits it"
    if inspect.isgeneratorfunction(function):
        return "it is a generator function: calling it runs none of its body"
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None  # no readable signature (a builtin): called as (record), as before
    return signature_problem(signature)


@dataclass(frozen=True)
class BoundProcessor:
    """A processor with its form decided once (at load time, not per record)."""

    function: Callable[..., object]
    wants_effects: bool

    def run(self, record: dict[str, Any]) -> Effects | None:
        """Call the processor; the effects it collected (None for the one-parameter form)."""
        if not self.wants_effects:
            self.function(record)
            return None
        effects = Effects()
        self.function(record, effects)
        return effects


def bind_processor(processor: Processor | BoundProcessor) -> BoundProcessor:
    if isinstance(processor, BoundProcessor):
        return processor
    return BoundProcessor(processor, takes_effects(processor))
