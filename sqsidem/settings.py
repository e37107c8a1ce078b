"""Global settings: flag > SQSIDEM_* env > sqsidem.toml > AWS chain > defaults (DESIGN 6.2)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqsidem.errors import UsageError
from sqsidem.names import DEFAULT_STACK, StackNames, names_for

OutputMode = Literal["human", "json"]
DEFAULT_REGION = "ap-northeast-1"
DEFAULT_LOCAL_PORT = 4566  # the local backend's port unless `local up --port` says otherwise
CONFIG_FILE = "sqsidem.toml"
ENV_PREFIX = "SQSIDEM_"
_TOML_KEYS = {"profile", "region", "endpoint_url", "local", "stack", "output", "debug"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class GlobalFlags:
    """What was given on the command line; None / False means 'not given'."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    local: bool = False
    stack: str | None = None
    output: str | None = None
    debug: bool = False


NO_REGION = "no AWS region configured"
NO_REGION_HINT = (
    "pass --region (e.g. --region ap-northeast-1), set AWS_REGION or SQSIDEM_REGION, "
    "or add a region to your AWS profile; --local uses ap-northeast-1"
)


@dataclass(frozen=True)
class Settings:
    """The resolved settings every command runs with."""

    profile: str | None = None
    # None: let the AWS chain decide (see aws.py and :func:`region_or_refuse`).
    region: str | None = None
    endpoint_url: str | None = None
    local: bool = False
    stack: str = DEFAULT_STACK
    output: OutputMode = "human"
    debug: bool = False
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> StackNames:
        return names_for(self.stack)

    @property
    def json(self) -> bool:
        return self.output == "json"


def region_or_refuse(
    settings: Settings,
    chain_region: str | None,
    endpoint: str | None,
    env: Mapping[str, str] | None = None,
) -> str:
    """The region a command uses (DESIGN 6.2): ours, else the AWS chain's.

    boto3's chain reads AWS_DEFAULT_REGION and the profile; AWS_REGION (what the aws CLI v2
    and the other SDKs read) counts too.

    With none anywhere, a command bound for AWS refuses (as the aws CLI does) rather than
    create resources in a region nobody chose; the local backend and an explicit emulator
    endpoint keep the tutorial's region.
    """
    env = os.environ if env is None else env
    region = settings.region or chain_region or env.get("AWS_REGION")
    if region:
        return region
    if settings.local or endpoint:
        return DEFAULT_REGION
    raise UsageError(NO_REGION, NO_REGION_HINT)


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where sqsidem keeps the local backend's record and data (DESIGN 6.9)."""
    env = os.environ if env is None else env
    if env.get("SQSIDEM_STATE_DIR"):
        return Path(env["SQSIDEM_STATE_DIR"]).expanduser()
    base = env.get("XDG_STATE_HOME") or str(Path("~/.local/state").expanduser())
    return Path(base) / "sqsidem"


def load_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    if sys.version_info >= (3, 11):  # imported here: most runs have no sqsidem.toml
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid TOML ({exc})", "fix or remove the file") from exc
    unknown = sorted(set(data) - _TOML_KEYS)
    if unknown:
        raise UsageError(
            f"{path}: unknown setting {unknown[0]!r}",
            f"use only {', '.join(sorted(_TOML_KEYS))}",
        )
    return data


def _parse_bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UsageError(f"{where} must be true or false, not {value!r}")


def resolve_settings(
    flags: GlobalFlags,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge the layers; pure apart from reading ``sqsidem.toml`` in ``cwd``."""
    env = os.environ if env is None else env
    config_path = (cwd or Path.cwd()) / CONFIG_FILE
    config = load_config_file(config_path)
    sources: dict[str, str] = {}

    def pick(name: str, flag_value: object) -> object:
        env_name = ENV_PREFIX + name.upper()
        if flag_value not in (None, False):
            sources[name] = "flag"
            return flag_value
        if env.get(env_name, "") != "":
            sources[name] = env_name
            return env[env_name]
        if name in config:
            sources[name] = str(config_path)
            return config[name]
        return None

    output = pick("output", flags.output) or "human"
    if output not in ("human", "json"):
        raise UsageError(f"invalid output {output!r}", "use --output human or --output json")
    stack = str(pick("stack", flags.stack) or DEFAULT_STACK)
    names_for(stack)  # validates
    local_value = pick("local", flags.local)
    local = _parse_bool(local_value, "local") if local_value is not None else False
    debug_value = pick("debug", flags.debug)
    debug = _parse_bool(debug_value, "debug") if debug_value is not None else False
    endpoint = pick("endpoint_url", flags.endpoint_url)
    region = pick("region", flags.region)
    profile = pick("profile", flags.profile)
    if local and endpoint:
        raise UsageError(
            "--local and --endpoint-url conflict", "use one: --local finds the endpoint itself"
        )
    if endpoint is not None and not str(endpoint).startswith(("http://", "https://")):
        raise UsageError(
            f"invalid endpoint URL {endpoint!r}", "give a full URL such as http://127.0.0.1:4566"
        )
    return Settings(
        profile=str(profile) if profile else None,
        region=str(region) if region else None,
        endpoint_url=str(endpoint) if endpoint else None,
        local=local,
        stack=stack,
        output="json" if output == "json" else "human",
        debug=debug,
        sources=sources,
    )
