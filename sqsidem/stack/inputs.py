"""What the desired stack is built from: names, options, the code, and ARNs already known."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqsidem.build.zipfile import FunctionZip
from sqsidem.names import StackNames
from sqsidem.stack.options import SetupOptions


@dataclass(frozen=True)
class Refs:
    """ARNs other resources point at. Deterministic ones are derived; AWS's answers win."""

    account: str
    region: str
    partition: str  # the caller's (aws, aws-cn, aws-us-gov): never assumed
    key_arn: str | None = None  # unknown until the key exists (its id is random)
    queue_arn: str | None = None
    dlq_arn: str | None = None

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"

    def with_(self, **changes: str) -> Refs:
        return replace(self, **changes)


@dataclass(frozen=True)
class Inputs:
    """Everything a kind needs to say what it wants (no AWS call)."""

    names: StackNames
    options: SetupOptions
    refs: Refs
    code: FunctionZip

    @property
    def queue_arn(self) -> str:
        return self.refs.queue_arn or self.refs.arn("sqs", self.names.queue)

    @property
    def dlq_arn(self) -> str:
        return self.refs.dlq_arn or self.refs.arn("sqs", self.names.dlq)

    @property
    def topic_arn(self) -> str:
        return self.refs.arn("sns", self.names.topic)

    @property
    def role_arn(self) -> str:
        return self.refs.arn("iam", f"role/{self.names.role}", regional=False)

    @property
    def alarm_arn(self) -> str:
        return self.refs.arn("cloudwatch", f"alarm:{self.names.alarm}")
