"""The Lambda function: code from the reproducible zip, configuration compared field by field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import error_code
from sqsidem.stack.model import TRIGGER_OFF, TRIGGER_TAG, Change, trigger_wanted
from sqsidem.stack.retry import IAM_PROPAGATION, Pacing, is_iam_propagation_error, retrying

if TYPE_CHECKING:
    from mypy_boto3_lambda.type_defs import LoggingConfigTypeDef, WaiterConfigTypeDef

_GONE = {"ResourceNotFoundException"}
_WAIT: WaiterConfigTypeDef = {"Delay": 2, "MaxAttempts": 150}


@dataclass(frozen=True)
class DesiredFunction:
    name: str
    runtime: str
    role_arn: str
    handler: str
    timeout_s: int
    memory_mb: int
    environment: dict[str, str]
    log_group: str
    tags: dict[str, str]
    zip_bytes: bytes = field(repr=False)
    code_sha256: str


@dataclass(frozen=True)
class ObservedFunction:
    arn: str
    runtime: str
    role_arn: str
    handler: str
    timeout_s: int
    memory_mb: int
    environment: dict[str, str]
    code_sha256: str
    log_group: str | None  # None when the API does not report LoggingConfig (moto)
    state: str
    last_update_status: str
    tags: dict[str, str]


def observe(aws: Aws, name: str) -> ObservedFunction | None:
    try:
        answer = aws.lambda_.get_function(FunctionName=name)
    except ClientError as exc:
        if error_code(exc) in _GONE:
            return None
        raise
    config = answer["Configuration"]
    tags = answer.get("Tags")
    if tags is None:
        tags = aws.lambda_.list_tags(Resource=config["FunctionArn"]).get("Tags", {})
    logging = config.get("LoggingConfig") or {}
    return ObservedFunction(
        arn=config["FunctionArn"],
        runtime=config.get("Runtime", ""),
        role_arn=config.get("Role", ""),
        handler=config.get("Handler", ""),
        timeout_s=int(config.get("Timeout", 3)),
        memory_mb=int(config.get("MemorySize", 128)),
        environment=dict(config.get("Environment", {}).get("Variables", {})),
        code_sha256=config.get("CodeSha256", ""),
        log_group=logging.get("LogGroup"),
        state=config.get("State", "Active"),
        last_update_status=config.get("LastUpdateStatus", "Successful"),
        tags=dict(tags),
    )


def config_changes(desired: DesiredFunction, observed: ObservedFunction) -> tuple[Change, ...]:
    pairs: list[tuple[str, object, object]] = [
        ("Runtime", observed.runtime, desired.runtime),
        ("Role", observed.role_arn, desired.role_arn),
        ("Handler", observed.handler, desired.handler),
        ("Timeout", observed.timeout_s, desired.timeout_s),
        ("MemorySize", observed.memory_mb, desired.memory_mb),
        ("Environment", observed.environment, desired.environment),
    ]
    # moto drops LoggingConfig: a missing value is "unknown", not drift (else setup loops).
    if observed.log_group is not None:
        pairs.append(("LogGroup", observed.log_group, desired.log_group))
    return tuple(Change(name, have, want) for name, have, want in pairs if have != want)


def code_changes(desired: DesiredFunction, observed: ObservedFunction) -> tuple[Change, ...]:
    if observed.code_sha256 != desired.code_sha256:
        return (Change("CodeSha256", observed.code_sha256, desired.code_sha256),)
    return ()


def tag_changes(desired: DesiredFunction, observed: ObservedFunction) -> tuple[Change, ...]:
    """Only the trigger marker: the stack tag itself is the planner's business (adopt/blocked)."""
    if trigger_wanted(desired.tags) == trigger_wanted(observed.tags):
        return ()
    have, want = observed.tags.get(TRIGGER_TAG), desired.tags.get(TRIGGER_TAG)
    return (Change(f"tag {TRIGGER_TAG}", have, want),)


def diff(
    desired: DesiredFunction, observed: ObservedFunction, *, compare_code: bool = True
) -> tuple[Change, ...]:
    code = code_changes(desired, observed) if compare_code else ()
    return config_changes(desired, observed) + code + tag_changes(desired, observed)


def _logging_config(desired: DesiredFunction) -> LoggingConfigTypeDef:
    return {"LogFormat": "Text", "LogGroup": desired.log_group}


def create(aws: Aws, desired: DesiredFunction, pacing: Pacing) -> str:
    def call() -> str:
        return aws.lambda_.create_function(
            FunctionName=desired.name,
            Runtime=desired.runtime,  # type: ignore[arg-type]
            Role=desired.role_arn,
            Handler=desired.handler,
            Code={"ZipFile": desired.zip_bytes},
            Timeout=desired.timeout_s,
            MemorySize=desired.memory_mb,
            Environment={"Variables": desired.environment},
            LoggingConfig=_logging_config(desired),
            Publish=False,
            Tags=desired.tags,
        )["FunctionArn"]

    arn = retrying(
        call,
        retryable=is_iam_propagation_error,
        backoff=IAM_PROPAGATION,
        sleep=pacing.sleep,
        notify=pacing.notify,
        what="the new role is not usable by Lambda yet (IAM propagation)",
    )
    aws.lambda_.get_waiter("function_active_v2").wait(FunctionName=desired.name, WaiterConfig=_WAIT)
    return arn


def _wait_updated(aws: Aws, name: str) -> None:
    aws.lambda_.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=_WAIT)


def update(aws: Aws, desired: DesiredFunction, observed: ObservedFunction, pacing: Pacing) -> None:
    """Code, then configuration, then the trigger tag; Lambda refuses a second update while
    one is in progress (tags are not an update, so they need no wait)."""
    if observed.state != "Active" or observed.last_update_status == "InProgress":
        aws.lambda_.get_waiter("function_active_v2").wait(
            FunctionName=desired.name, WaiterConfig=_WAIT
        )
        _wait_updated(aws, desired.name)
    if code_changes(desired, observed):
        aws.lambda_.update_function_code(FunctionName=desired.name, ZipFile=desired.zip_bytes)
        _wait_updated(aws, desired.name)
    if config_changes(desired, observed):

        def call() -> None:
            aws.lambda_.update_function_configuration(
                FunctionName=desired.name,
                Runtime=desired.runtime,  # type: ignore[arg-type]
                Role=desired.role_arn,
                Handler=desired.handler,
                Timeout=desired.timeout_s,
                MemorySize=desired.memory_mb,
                Environment={"Variables": desired.environment},
                LoggingConfig=_logging_config(desired),
            )

        retrying(
            call,
            retryable=is_iam_propagation_error,
            backoff=IAM_PROPAGATION,
            sleep=pacing.sleep,
            notify=pacing.notify,
            what="the role is not usable by Lambda yet (IAM propagation)",
        )
        _wait_updated(aws, desired.name)
    if tag_changes(desired, observed):
        set_trigger_tag(aws, observed.arn, trigger=trigger_wanted(desired.tags))


def set_trigger_tag(aws: Aws, arn: str, *, trigger: bool) -> None:
    """Record --no-trigger on the function (tag), or drop the record when a trigger is wanted."""
    if trigger:
        aws.lambda_.untag_resource(Resource=arn, TagKeys=[TRIGGER_TAG])
    else:
        aws.lambda_.tag_resource(Resource=arn, Tags={TRIGGER_TAG: TRIGGER_OFF})


def tag(aws: Aws, observed: ObservedFunction, tags: dict[str, str]) -> None:
    aws.lambda_.tag_resource(Resource=observed.arn, Tags=tags)


def delete(aws: Aws, name: str) -> None:
    try:
        aws.lambda_.delete_function(FunctionName=name)
    except ClientError as exc:
        if error_code(exc) not in _GONE:
            raise
