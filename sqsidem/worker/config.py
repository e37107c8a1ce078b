"""What a run's consumer does: the deployed function's settings overridden by flags, and the
processor (``--processor``, else the deployed function's)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sqsidem.consumer.config import (
    ENV_FAILPOINT,
    ENV_FAILPOINT_SEED,
    ENV_KEY,
    ENV_LOCK_TTL_S,
    ConfigError,
    ConsumerConfig,
)
from sqsidem.consumer.processor import Processor, load_processor
from sqsidem.errors import UsageError, is_gone

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from sqsidem.aws import Aws
    from sqsidem.names import StackNames

DEPLOYED_PROCESSOR_PREFIX = "sqsidem_processor:"


def config_from_function(lambda_client: LambdaClient, function_name: str) -> ConsumerConfig:
    """The deployed function's consumer settings, the worker's defaults."""
    configuration = lambda_client.get_function_configuration(FunctionName=function_name)
    env = configuration.get("Environment", {}).get("Variables", {})
    return ConsumerConfig.from_env(env)


def consumer_config(
    aws: Aws,
    names: StackNames,
    env: Mapping[str, str],
    *,
    key: str | None = None,
    lock_ttl_s: int | None = None,
) -> ConsumerConfig:
    """The function's environment if it is deployed, else the stack's defaults; flags win."""
    from botocore.exceptions import ClientError

    try:
        config = config_from_function(aws.lambda_, names.function)
    except ClientError as exc:
        if not is_gone(exc):
            raise
        config = ConsumerConfig(table=names.table)
    except ConfigError as exc:
        raise UsageError(f"the deployed function's settings are unusable: {exc}") from exc
    merged = config.to_env()
    if key is not None:
        merged[ENV_KEY] = key
    if lock_ttl_s is not None:
        merged[ENV_LOCK_TTL_S] = str(lock_ttl_s)
    # Crash points for the chaos tests come from this process's environment.
    for name in (ENV_FAILPOINT, ENV_FAILPOINT_SEED):
        if env.get(name):
            merged[name] = env[name]
    try:
        return ConsumerConfig.from_env(merged)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


def load_processor_spec(spec: str) -> Processor:
    """``path/to/file.py:function`` or ``module:function``; empty: the default processor."""
    if not spec:
        return load_processor("")
    target, sep, function_name = spec.rpartition(":")
    if not sep or not target or not function_name.isidentifier():
        raise UsageError(f"invalid processor {spec!r}", "use path/to/file.py:function")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise UsageError(f"processor file {path} does not exist")
        module_spec = importlib.util.spec_from_file_location("sqsidem_processor", path)
        if module_spec is None or module_spec.loader is None:
            raise UsageError(f"cannot load {path} as a Python module")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise UsageError(f"{target} has no function {function_name!r}")
    processor: Processor = function
    return processor


def recorded_processor(aws: Aws, function: str) -> str | None:
    """The processor source `setup` recorded on the function (its tag), if any."""
    from botocore.exceptions import ClientError

    from sqsidem.stack.recorded import PROCESSOR_TAG, from_tag_value

    try:
        tags = aws.lambda_.get_function(FunctionName=function).get("Tags") or {}
    except ClientError:
        return None
    value = tags.get(PROCESSOR_TAG)
    return from_tag_value(value) if value and value != "default" else None


def resolve_processor(
    config: ConsumerConfig,
    spec: str | None,
    recorded: Callable[[], str | None] | None = None,
) -> Processor:
    """``--processor`` if given, else what the deployed function runs (when we can load it)."""
    if spec is not None:
        return load_processor_spec(spec)
    module, _, function = config.processor.partition(":")
    lone = config.processor.startswith(DEPLOYED_PROCESSOR_PREFIX)  # a file shipped alone
    try:
        if not lone:
            return load_processor_spec(config.processor)
    except ModuleNotFoundError as exc:
        if exc.name is None or module.split(".")[0] != exc.name.split(".")[0]:
            raise  # the module was found; something it imports was not
    source = recorded() if recorded is not None else None
    if source:
        hint = f"pass what setup was given: --processor {source} (from where setup ran)"
    elif lone:
        hint = "pass the same file with --processor path/to/file.py:function"
    else:
        hint = (
            f"pass the folder setup shipped: --processor <folder>:{module}.{function} "
            f"(or <folder>/{module.replace('.', '/')}.py:{function}), with its --requirements"
        )
    message = f"the deployed function runs {config.processor}, code that only exists in its zip"
    raise UsageError(message, hint)
