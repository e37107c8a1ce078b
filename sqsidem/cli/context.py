"""The typed object every command gets from the root callback (DESIGN 6.2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

    from sqsidem.aws import Aws, AwsFactory
    from sqsidem.names import StackNames
    from sqsidem.render import Renderer
    from sqsidem.settings import Settings


@dataclass(frozen=True)
class Seam:
    """What a caller may inject through the Click context object (``invoke(..., obj=Seam())``).

    The root callback keeps it, so tests hand every command a client factory of theirs
    (moto, a Stubber, botocore event hooks) instead of patching botocore.
    """

    aws_factory: AwsFactory | None = None


@dataclass
class AppContext:
    settings: Settings
    render: Renderer
    seam: Seam = field(default_factory=Seam)
    _aws: Aws | None = field(default=None, repr=False)

    @property
    def names(self) -> StackNames:
        return self.settings.names

    def aws(self) -> Aws:
        """The client factory; with --local, finds the running backend (or says how to start it)."""
        if self._aws is None:
            endpoint = None
            if self.settings.local:
                from sqsidem import local

                endpoint = local.require_endpoint()
            self._aws = self.aws_for(self.settings, endpoint_url=endpoint)
        return self._aws

    def aws_for(self, settings: Settings, *, endpoint_url: str | None = None) -> Aws:
        """A client factory for other settings (the demo's stack on the backend it started),
        built by the same seam as :meth:`aws`, so tests inject it once for every command."""
        from sqsidem.aws import Aws

        factory: AwsFactory = self.seam.aws_factory or Aws
        return factory(settings, endpoint_url=endpoint_url)


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("sqsidem's root callback did not run")
    return root.obj
