"""The Lambda function: code from the reproducible zip, configuration compared field by field."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqsidem.build.package import HANDLER
from sqsidem.build.sources import DEFAULT_ARCHITECTURE
from sqsidem.consumer.config import ConsumerConfig
from sqsidem.errors import GONE
from sqsidem.names import StackNames
from sqsidem.retry import Pacing
from sqsidem.stack.calls import Blob, Call, Calls, Hook
from sqsidem.stack.eventual import function_iam
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import TaggedKind, TeardownOptions, Where, unless_gone
from sqsidem.stack.model import (
    TRIGGER_OFF,
    TRIGGER_TAG,
    Change,
    function_tags,
    trigger_wanted,
)
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.recorded import recorded_only, recorded_tags

if TYPE_CHECKING:
    from mypy_boto3_lambda.type_defs import WaiterConfigTypeDef

    from sqsidem.aws import Aws

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
    compare_code: bool = True  # False: the deployed code is the user's (status cannot judge it)
    architecture: str = DEFAULT_ARCHITECTURE


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
    architecture: str = DEFAULT_ARCHITECTURE


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
    if desired.compare_code and observed.code_sha256 != desired.code_sha256:
        return (Change("CodeSha256", observed.code_sha256, desired.code_sha256),)
    # Changed with the code, not the config; unknown (and not judged) when the code is not.
    if desired.compare_code and observed.architecture != desired.architecture:
        return (Change("Architectures", observed.architecture, desired.architecture),)
    return ()


def record_changes(desired: DesiredFunction, observed: ObservedFunction) -> tuple[Change, ...]:
    """The recorded setup options (tags sqsidem:setup:*) that differ."""
    want, have = recorded_only(desired.tags), recorded_only(observed.tags)
    return tuple(
        Change(f"tag {key}", have.get(key), want.get(key))
        for key in sorted(want.keys() | have.keys())
        if have.get(key) != want.get(key)
    )


def tag_changes(desired: DesiredFunction, observed: ObservedFunction) -> tuple[Change, ...]:
    """The trigger marker and the recorded options: the stack tag itself is the planner's
    business (adopt/blocked)."""
    records = record_changes(desired, observed)
    if trigger_wanted(desired.tags) == trigger_wanted(observed.tags):
        return records
    have, want = observed.tags.get(TRIGGER_TAG), desired.tags.get(TRIGGER_TAG)
    return (Change(f"tag {TRIGGER_TAG}", have, want), *records)


def _record_calls(desired: DesiredFunction, observed: ObservedFunction) -> Calls:
    changes = record_changes(desired, observed)
    written = {c.attribute[4:]: str(c.want) for c in changes if c.want is not None}
    dropped = [c.attribute[4:] for c in changes if c.want is None]
    calls = []
    if written:
        calls.append(Call("lambda", "TagResource", {"Resource": observed.arn, "Tags": written}))
    if dropped:
        params = {"Resource": observed.arn, "TagKeys": dropped}
        calls.append(Call("lambda", "UntagResource", params))
    return tuple(calls)


def consumer_environment(names: StackNames, options: SetupOptions) -> dict[str, str]:
    return ConsumerConfig(
        table=names.table,
        key=options.key_source,
        lock_ttl_s=options.lock_ttl_s,
        processor=options.processor.spec if options.processor else "",
    ).to_env()


def _waiter(name: str, waiter: str) -> Hook:
    def wait(aws: Aws, pacing: Pacing) -> None:
        del pacing  # the botocore waiter paces itself
        aws.lambda_.get_waiter(waiter).wait(FunctionName=name, WaiterConfig=_WAIT)  # type: ignore[call-overload]

    return wait


def _settled(name: str) -> Hook:
    """A function still changing: wait until it is active and its last update is done."""
    active, updated = _waiter(name, "function_active_v2"), _waiter(name, "function_updated_v2")

    def wait(aws: Aws, pacing: Pacing) -> None:
        active(aws, pacing)
        updated(aws, pacing)

    return wait


def _configuration(desired: DesiredFunction) -> dict[str, Any]:
    return {
        "FunctionName": desired.name,
        "Runtime": desired.runtime,
        "Role": desired.role_arn,
        "Handler": desired.handler,
        "Timeout": desired.timeout_s,
        "MemorySize": desired.memory_mb,
        "Environment": {"Variables": desired.environment},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": desired.log_group},
    }


def _architectures(
    desired: DesiredFunction, observed: ObservedFunction | None = None
) -> dict[str, list[str]]:
    """Named only when it is not what Lambda assumes (x86_64 on create, the current one after)."""
    have = observed.architecture if observed is not None else DEFAULT_ARCHITECTURE
    return {} if desired.architecture == have else {"Architectures": [desired.architecture]}


def trigger_tag(arn: str, *, trigger: bool) -> Call:
    """Record --no-trigger on the function (tag), or drop the record when a trigger is wanted."""
    if trigger:
        return Call("lambda", "UntagResource", {"Resource": arn, "TagKeys": [TRIGGER_TAG]})
    return Call("lambda", "TagResource", {"Resource": arn, "Tags": {TRIGGER_TAG: TRIGGER_OFF}})


def _read(aws: Aws, name: str) -> ObservedFunction | None:
    answer = unless_gone(lambda: aws.lambda_.get_function(FunctionName=name))
    if answer is None:
        return None
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
        architecture=next(iter(config.get("Architectures") or []), DEFAULT_ARCHITECTURE),
    )


class FunctionKind(TaggedKind[DesiredFunction, ObservedFunction]):
    halt_on_failure = True

    def wanted(self, inputs: Inputs) -> DesiredFunction:
        names, options = inputs.names, inputs.options
        return DesiredFunction(
            name=names.function,
            runtime=options.runtime,
            role_arn=inputs.role_arn,
            handler=HANDLER,
            timeout_s=options.timeout_s,
            memory_mb=options.memory_mb,
            environment=consumer_environment(names, options),
            log_group=names.log_group,
            tags={**function_tags(names.tags, trigger=options.trigger), **recorded_tags(options)},
            zip_bytes=inputs.code.data,
            code_sha256=inputs.code.code_sha256,
            compare_code=not (options.processor and options.processor.kept),
            architecture=options.processor.target.architecture
            if options.processor
            else DEFAULT_ARCHITECTURE,
        )

    def observe(self, aws: Aws, where: Where) -> ObservedFunction | None:
        return _read(aws, where.names.function)

    def diff(self, desired: DesiredFunction, observed: ObservedFunction) -> tuple[Change, ...]:
        return (
            config_changes(desired, observed)
            + code_changes(desired, observed)
            + tag_changes(desired, observed)
        )

    def create(self, desired: DesiredFunction) -> Calls:
        params = {
            **_configuration(desired),
            "Code": {"ZipFile": Blob(desired.zip_bytes, desired.code_sha256)},
            "Publish": False,
            "Tags": desired.tags,
            **_architectures(desired),
        }
        retry = function_iam("the new role is not usable by Lambda yet (IAM propagation)")
        after = _waiter(desired.name, "function_active_v2")
        return (Call("lambda", "CreateFunction", params, retry=retry, after=after),)

    def update(self, desired: DesiredFunction, observed: ObservedFunction) -> Calls:
        """Code, then configuration, then the trigger tag; Lambda refuses a second update while
        one is in progress (tags are not an update, so they need no wait)."""
        calls = []
        updated = _waiter(desired.name, "function_updated_v2")
        if code_changes(desired, observed):
            params = {
                "FunctionName": desired.name,
                "ZipFile": Blob(desired.zip_bytes, desired.code_sha256),
                **_architectures(desired, observed),
            }
            calls.append(Call("lambda", "UpdateFunctionCode", params, after=updated))
        if config_changes(desired, observed):
            retry = function_iam("the role is not usable by Lambda yet (IAM propagation)")
            params = _configuration(desired)
            calls.append(
                Call("lambda", "UpdateFunctionConfiguration", params, retry=retry, after=updated)
            )
        if trigger_wanted(desired.tags) != trigger_wanted(observed.tags):
            calls.append(trigger_tag(observed.arn, trigger=trigger_wanted(desired.tags)))
        calls.extend(_record_calls(desired, observed))
        busy = observed.state != "Active" or observed.last_update_status == "InProgress"
        if busy and calls:
            calls[0] = replace(calls[0], before=_settled(desired.name))
        return tuple(calls)

    def tag(self, desired: DesiredFunction, observed: ObservedFunction) -> Calls:
        params = {"Resource": observed.arn, "Tags": desired.tags}
        return (Call("lambda", "TagResource", params),)

    def adopt(self, desired: DesiredFunction, observed: ObservedFunction) -> Calls:
        # The adopt tags already carry the trigger marker: no second tag call.
        tagged = replace(observed, tags={**observed.tags, **desired.tags})
        return self.tag(desired, observed) + self.update(desired, tagged)

    def delete(self, observed: ObservedFunction, how: TeardownOptions) -> Calls:
        name = observed.arn.split(":function:", 1)[-1].split(":", 1)[0]
        return (Call("lambda", "DeleteFunction", {"FunctionName": name}, tolerate=GONE),)


FUNCTION = FunctionKind("function", lambda names: names.function)
