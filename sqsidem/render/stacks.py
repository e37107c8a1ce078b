"""The view of `stacks`: one row per stack (or one JSON object)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqsidem.render.sink import Renderer

if TYPE_CHECKING:
    from sqsidem.stacks import Inventory, StackLine


def _trigger(line: StackLine) -> str:
    if line.trigger_state is None:
        return "off (--no-trigger)" if not line.trigger_wanted else "missing"
    return line.trigger_state


def _row(line: StackLine) -> list[str]:
    if line.error is not None:
        return [line.stack, "?", "?", "?", "?", "?", f"unreadable: {line.error}"]
    drift = "none" if line.drifted == 0 else f"{line.drifted} drifted"
    return [
        line.stack,
        f"{line.present}/{line.expected}",
        drift,
        "-" if line.queue is None else str(line.queue.get("visible", 0)),
        "-" if line.dlq_depth is None else str(line.dlq_depth),
        _trigger(line),
        line.alarm_state or "missing",
    ]


def show_inventory(render: Renderer, inventory: Inventory) -> None:
    for note in inventory.notes:
        render.warn(note)
    if render.json:
        render.emit(inventory.as_dict())
        return
    if not inventory.stacks:
        render.note(f"no sqsidem stacks in {inventory.region} (found by {inventory.found_by})")
        return
    columns = ["stack", "resources", "drift", "queue", "dlq", "trigger", "alarm"]
    render.table(columns, [_row(line) for line in inventory.stacks])
    count = len(inventory.stacks)
    render.note(f"{count} stack(s) in {inventory.region}, found by {inventory.found_by}")
