"""`worker` without --processor on a stack deployed with a folder processor (issue 15, item 6):
the code exists only in the zip, so the worker says exactly what to pass."""

from __future__ import annotations

import pytest

from sqsidem.consumer.config import ConsumerConfig
from sqsidem.errors import UsageError
from sqsidem.worker.config import resolve_processor


def test_a_deployed_folder_processor_says_what_to_pass() -> None:
    """Not importable here: one line naming the --processor forms for that module."""
    config = ConsumerConfig(table="Idempotent-t", processor="shipped_app.orders:handle")
    with pytest.raises(UsageError) as raised:
        resolve_processor(config, None)
    assert "runs shipped_app.orders:handle" in raised.value.message
    assert raised.value.hint is not None
    assert "--processor <folder>:shipped_app.orders.handle" in raised.value.hint
    assert "<folder>/shipped_app/orders.py:handle" in raised.value.hint


def test_the_recorded_source_is_what_to_pass() -> None:
    """setup recorded the source it was given: the hint names it exactly."""
    config = ConsumerConfig(table="Idempotent-t", processor="shipped_app:handle")
    with pytest.raises(UsageError) as raised:
        resolve_processor(config, None, lambda: "src:shipped_app.handle")
    assert raised.value.hint is not None
    assert "--processor src:shipped_app.handle (from where setup ran)" in raised.value.hint
