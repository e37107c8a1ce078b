"""The one place that builds boto3 sessions and clients (STYLE habit 4).

Library code receives an :class:`Aws` (or single clients) and never calls boto3 itself, so
tests hand it moto-backed clients and retry code gets its sleep injected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, cast

from sqsidem.settings import DEFAULT_REGION, Settings, region_or_refuse

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

LOCAL_ACCESS_KEY = "test"
LOCAL_SECRET_KEY = "test"  # noqa: S105 - the emulator's documented dummy credentials

RetryMode = Literal["standard", "adaptive", "legacy"]


@dataclass(frozen=True)
class ClientOptions:
    """Transport settings for every client of one :class:`Aws`."""

    retry_mode: RetryMode = "standard"
    # None: botocore decides (AWS_MAX_ATTEMPTS / the profile, else 3 in standard mode, as the
    # aws CLI does), so a dead endpoint fails in seconds and users keep control.
    max_attempts: int | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_pool_connections: int = 32
    # Bulk paths whose requests our own code builds may skip botocore's client-side
    # checks (about 0.5 ms of CPU per call, a real share of a clear on loopback).
    parameter_validation: bool = True


# Called with each client as it is made: where tests attach botocore event hooks or a Stubber.
ClientHook = Callable[[str, Any], None]


C = TypeVar("C")


class _Client(Generic[C]):
    """A typed attribute of :class:`Aws` that answers with its cached client of one service."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __get__(self, aws: Aws, owner: type[Aws] | None = None) -> C:
        return cast("C", aws.client(self.service))


class Aws:
    """Builds (and caches) the clients of one set of settings. Thread-safe."""

    def __init__(
        self,
        settings: Settings,
        options: ClientOptions | None = None,
        *,
        endpoint_url: str | None = None,
        on_client: ClientHook | None = None,
    ) -> None:
        self.settings = settings
        self.options = options or ClientOptions()
        # --local resolves its endpoint once, when the first client is needed (see cli).
        self.endpoint_url = endpoint_url or settings.endpoint_url
        self.on_client = on_client
        self._lock = threading.Lock()
        self._session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}
        self._caller: dict[str, str] | None = None

    def with_options(self, **changes: Any) -> Aws:
        """A sibling factory with other transport settings (e.g. no retries for probes)."""
        return Aws(
            self.settings,
            replace(self.options, **changes),
            endpoint_url=self.endpoint_url,
            on_client=self.on_client,
        )

    @property
    def session(self) -> boto3.Session:
        with self._lock:
            if self._session is None:
                self._session = self._make_session()
            return self._session

    def _make_session(self) -> boto3.Session:
        import boto3

        if self.settings.local:
            session = boto3.Session(
                aws_access_key_id=LOCAL_ACCESS_KEY,
                aws_secret_access_key=LOCAL_SECRET_KEY,
                region_name=self.settings.region or DEFAULT_REGION,
            )
        else:
            session = boto3.Session(
                profile_name=self.settings.profile, region_name=self.settings.region
            )
            if session.region_name is None:
                region = region_or_refuse(self.settings, None, self.endpoint_url)
                session = boto3.Session(profile_name=self.settings.profile, region_name=region)
        return session

    @property
    def region(self) -> str:
        return region_or_refuse(self.settings, self.session.region_name, self.endpoint_url)

    def client(self, service: str) -> Any:
        with self._lock:
            cached = self._clients.get(service)
            if cached is not None:
                return cached
        from botocore.config import Config

        from sqsidem import __version__

        retries: dict[str, Any] = {"mode": self.options.retry_mode}
        if self.options.max_attempts is not None:
            retries["max_attempts"] = self.options.max_attempts
        config = Config(
            retries=retries,  # type: ignore[arg-type]
            connect_timeout=self.options.connect_timeout,
            read_timeout=self.options.read_timeout,
            max_pool_connections=self.options.max_pool_connections,
            parameter_validation=self.options.parameter_validation,
            user_agent_extra=f"sqsidem/{__version__}",
        )
        made = self.session.client(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoint_url, config=config
        )
        _name_denied_resources(made)
        with self._lock:
            if service in self._clients:
                return self._clients[service]
            if self.on_client is not None:
                self.on_client(service, made)
            self._clients[service] = made
            return made

    sqs: _Client[SQSClient] = _Client("sqs")
    dynamodb: _Client[DynamoDBClient] = _Client("dynamodb")
    lambda_: _Client[LambdaClient] = _Client("lambda")
    iam: _Client[IAMClient] = _Client("iam")
    kms: _Client[KMSClient] = _Client("kms")
    logs: _Client[CloudWatchLogsClient] = _Client("logs")
    sns: _Client[SNSClient] = _Client("sns")
    cloudwatch: _Client[CloudWatchClient] = _Client("cloudwatch")
    sts: _Client[STSClient] = _Client("sts")

    def _identity(self) -> dict[str, str]:
        if self._caller is None:
            found = self.sts.get_caller_identity()
            self._caller = {"Account": found["Account"], "Arn": found["Arn"]}
        return self._caller

    def account_id(self) -> str:
        return self._identity()["Account"]

    def partition(self) -> str:
        """aws, aws-cn, aws-us-gov...: every ARN sqsidem builds takes it from the caller."""
        return partition_of(self._identity()["Arn"])

    def credential_source(self) -> str | None:
        """Where the credentials came from (env, shared-credentials-file, sso, ...), if any."""
        if self.settings.local:
            return "local backend dummy credentials (test/test)"
        credentials = self.session.get_credentials()
        return None if credentials is None else str(getattr(credentials, "method", "unknown"))


def _name_denied_resources(client: Any) -> None:
    """An access-denied error keeps what the request named (AWS does not always say)."""
    from sqsidem.errors import note_denied_resource

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["sqsidem_params"] = dict(params)

    def note(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        note_denied_resource(context.get("sqsidem_params", {}), parsed)

    client.meta.events.register("before-parameter-build", remember)
    client.meta.events.register("after-call", note)


def partition_of(arn: str) -> str:
    """The partition of an ARN (``arn:<partition>:...``)."""
    parts = arn.split(":")
    if len(parts) < 3 or parts[0] != "arn" or not parts[1]:
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[1]


class AwsFactory(Protocol):
    """What builds the :class:`Aws` of a command; :class:`Aws` itself is the default."""

    def __call__(self, settings: Settings, *, endpoint_url: str | None = None) -> Aws: ...
