"""CLI runs whose clients tests reach through the seam (``obj=Seam(...)``), not by patching.

:class:`ClientSpy` hands the CLI an :class:`Aws` factory whose every new client passes
through ``hook``: it counts the API calls made, optionally refuses all client creation
(to prove a command made none), and lets a test register botocore event handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.cli.context import Seam
from sqsidem.settings import Settings

# (event name, handler): registered on every client the CLI makes.
Handler = tuple[str, Callable[..., Any]]


@dataclass
class ClientSpy:
    counts: dict[str, int] = field(default_factory=dict)
    clients: list[str] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)

    def hook(self, service: str, client: Any) -> None:
        self.clients.append(service)
        client.meta.events.register("before-call", self._count)
        for event, handler in self.handlers:
            client.meta.events.register(event, handler)

    def _count(self, model: Any, **_: Any) -> None:
        self.counts[model.name] = self.counts.get(model.name, 0) + 1

    def factory(self, settings: Settings, *, endpoint_url: str | None = None) -> Aws:
        return Aws(settings, endpoint_url=endpoint_url, on_client=self.hook)

    def invoke(self, args: Sequence[str], stdin: str | None = None) -> Result:
        seam = Seam(aws_factory=self.factory)
        return CliRunner().invoke(app, list(args), input=stdin, obj=seam)
