"""The view of `invoke`: each record's decisions, what the processor printed, the response."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqsidem.render.sink import Renderer

if TYPE_CHECKING:
    from sqsidem.invoke.run import InvokeResult


def show_invoke(render: Renderer, result: InvokeResult) -> bool:
    """JSON: one object per record on stdout. Human: the decisions, then the response."""
    if result.real_key:
        render.warn("--real-key: a COMPLETED lock written now makes the real message a duplicate")
    for line in result.output:
        render.info(f"processor: {line}")
    if render.json:
        for run in result.records:
            render.emit_line(run.as_dict())
    else:
        for run in result.records:
            for decision in run.decisions:
                error = f"  {decision['error']}" if decision.get("error") else ""
                render.line(
                    f"{run.message_id}  {decision.get('decision')}  "
                    f"key={decision.get('transaction_id')}{error}"
                )
        failures = result.response.get("batchItemFailures", [])
        render.line(f"partial batch response: batchItemFailures={failures}")
    if result.prefix:
        render.note(f"locks written under the key prefix {result.prefix!r}")
    return not result.response.get("batchItemFailures")
