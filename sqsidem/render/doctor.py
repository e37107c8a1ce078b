"""The view of `sqsidem doctor`: where you are, then one check line per service."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqsidem.doctor import DoctorReport
    from sqsidem.render.sink import Renderer


def show_report(render: Renderer, report: DoctorReport) -> None:
    """The report (json, or context lines and checks), then one error line if a check failed."""
    if render.json:
        render.emit(report.as_dict())
    else:
        for key, value in report.context_lines():
            render.line(f"{key:<12} {value}")
        for probe in report.probes:
            render.check(probe.ok, probe.service, probe.detail)
    if not report.ok:
        first = report.failures[0]
        render.error(
            f"{len(report.failures)} check(s) failed; first: {first.service}: {first.detail}"
        )
