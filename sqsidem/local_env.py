"""The embedded backend's environment, which is also what the local function sees.

ministack starts each function process with its own environment plus the function's
configured variables and the Lambda variables it injects (``AWS_REGION``,
``AWS_LAMBDA_FUNCTION_NAME``, ..., the credentials it issues, ``AWS_ENDPOINT_URL``). So the
emulator gets what Lambda gives every function (``PATH``, ``LANG``, ``TZ``) and the settings
it needs to run, never the operator's environment: a token exported in the operator's shell
must not make code work locally that fails on AWS.
"""

from __future__ import annotations

import site
from collections.abc import Mapping
from pathlib import Path

# What Lambda's Python runtimes set for every function (AWS's "defined runtime environment
# variables"); Lambda sets no HOME: an empty folder of ours stands in, so nothing under the
# operator's home (~/.aws/config, say) reaches the function.
LAMBDA_BASE = {
    "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}
# The emulator's own settings: visible to the function too (they name nothing secret).
EMULATOR_SETTINGS = (
    "BIND_HOST",
    "GATEWAY_PORT",
    "MINISTACK_HOST",
    "MINISTACK_REGION",
    "PERSIST_STATE",
    "STATE_DIR",
    "TMPDIR",
    "IOT_MTLS_ENABLED",
    "SFTP_ENABLED",
    "LOG_LEVEL",
    "PYTHONUNBUFFERED",
    "PYTHONUSERBASE",
    "HOME",
    "AUTH",
)
# The emulator's settings an operator may choose (AUTH=true: enforce IAM policies).
EMULATOR_PASSTHROUGH = ("AUTH",)


def _user_base() -> dict[str, str]:
    """A ``pip install --user`` of ministack lives under the real home: keep it importable."""
    if site.ENABLE_USER_SITE and Path(site.getusersitepackages()).is_dir():
        return {"PYTHONUSERBASE": site.getuserbase()}
    return {}


def emulator_env(
    operator: Mapping[str, str], *, host: str, port: int, region: str, root: Path, data: Path
) -> dict[str, str]:
    """The whole environment of the emulator process (nothing else of ``operator``'s)."""
    home = root / "home"
    home.mkdir(mode=0o700, exist_ok=True)
    chosen = {name: operator[name] for name in EMULATOR_PASSTHROUGH if name in operator}
    return {
        **LAMBDA_BASE,
        **chosen,
        **_user_base(),
        "HOME": str(home),
        "BIND_HOST": host,
        "GATEWAY_PORT": str(port),
        "MINISTACK_HOST": host,
        "MINISTACK_REGION": region,
        "PERSIST_STATE": "1",
        "STATE_DIR": str(data),
        # ministack keeps a pid file in TMPDIR: keep it in our own directory.
        "TMPDIR": str(root),
        "IOT_MTLS_ENABLED": "0",
        "SFTP_ENABLED": "0",
        "LOG_LEVEL": operator.get("SQSIDEM_LOCAL_LOG_LEVEL", "INFO"),
        "PYTHONUNBUFFERED": "1",
    }


# What `invoke`'s child keeps of the operator's environment: the AWS settings (a processor
# that calls AWS uses the operator's identity where Lambda would use the role) and HOME
# (where the operator's AWS profiles live). Nothing else: a token exported in the shell must
# not make a processor pass locally that fails in Lambda.
INVOKE_PASSTHROUGH_PREFIXES = ("AWS_",)
INVOKE_PASSTHROUGH = ("HOME",)


def invoke_env(operator: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of `invoke`'s child: Lambda's base, the operator's AWS settings, and
    ``extra`` (the lock table's settings with --lock)."""
    kept = {
        name: value
        for name, value in operator.items()
        if name in INVOKE_PASSTHROUGH or name.startswith(INVOKE_PASSTHROUGH_PREFIXES)
    }
    return {**LAMBDA_BASE, **_user_base(), **kept, **extra}
