"""The CloudWatch alarm: the DLQ holds at least one message -> notify the topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqsidem.errors import GONE
from sqsidem.stack.calls import Call, Calls
from sqsidem.stack.inputs import Inputs
from sqsidem.stack.kind import TaggedKind, TeardownOptions, Where
from sqsidem.stack.model import Change, tag_dict, tag_list

if TYPE_CHECKING:
    from sqsidem.aws import Aws
DESCRIPTION = "sqsidem: a message reached the dead-letter queue"


@dataclass(frozen=True)
class DesiredAlarm:
    name: str
    dlq_name: str
    topic_arn: str
    tags: dict[str, str]

    def settings(self) -> dict[str, Any]:
        """Every PutMetricAlarm parameter we set (see put), in DescribeAlarms' shape."""
        return {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": self.dlq_name}],
            "Statistic": "Maximum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [self.topic_arn],
            "ActionsEnabled": True,
        }


@dataclass(frozen=True)
class ObservedAlarm:
    arn: str
    settings: dict[str, Any]
    state: str
    tags: dict[str, str]
    name: str


def _comparable(name: str, value: object) -> object:
    if name == "Threshold" and isinstance(value, int | float):
        return float(value)
    if name == "Dimensions" and isinstance(value, list):
        return sorted((d.get("Name"), d.get("Value")) for d in value)
    if name == "AlarmActions" and isinstance(value, list):
        return sorted(value)
    return value


def put(desired: DesiredAlarm, *, with_tags: bool) -> Call:
    """Create or overwrite (PutMetricAlarm replaces the whole definition; tags only at birth)."""
    params: dict[str, Any] = {
        "AlarmName": desired.name,
        "AlarmDescription": DESCRIPTION,
        **desired.settings(),
    }
    if with_tags:
        params["Tags"] = tag_list(desired.tags)
    return Call("cloudwatch", "PutMetricAlarm", params)


class AlarmKind(TaggedKind[DesiredAlarm, ObservedAlarm]):
    def wanted(self, inputs: Inputs) -> DesiredAlarm:
        names = inputs.names
        return DesiredAlarm(names.alarm, names.dlq, inputs.topic_arn, names.tags)

    def observe(self, aws: Aws, where: Where) -> ObservedAlarm | None:
        name = where.names.alarm
        alarms = aws.cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"])
        alarm = next(
            (a for a in alarms.get("MetricAlarms", []) if a.get("AlarmName") == name), None
        )
        if alarm is None:
            return None
        arn = alarm["AlarmArn"]
        tags = aws.cloudwatch.list_tags_for_resource(ResourceARN=arn).get("Tags", [])
        values: dict[str, Any] = dict(alarm)
        return ObservedAlarm(arn, values, alarm.get("StateValue", ""), tag_dict(tags), name)

    def diff(self, desired: DesiredAlarm, observed: ObservedAlarm) -> tuple[Change, ...]:
        return tuple(
            Change(name, observed.settings.get(name), want)
            for name, want in desired.settings().items()
            if _comparable(name, observed.settings.get(name)) != _comparable(name, want)
        )

    def create(self, desired: DesiredAlarm) -> Calls:
        return (put(desired, with_tags=True),)

    def update(self, desired: DesiredAlarm, observed: ObservedAlarm) -> Calls:
        return (put(desired, with_tags=False),) if self.diff(desired, observed) else ()

    def tag(self, desired: DesiredAlarm, observed: ObservedAlarm) -> Calls:
        params = {"ResourceARN": observed.arn, "Tags": tag_list(desired.tags)}
        return (Call("cloudwatch", "TagResource", params),)

    def delete(self, observed: ObservedAlarm, how: TeardownOptions) -> Calls:
        params = {"AlarmNames": [observed.name]}
        return (Call("cloudwatch", "DeleteAlarms", params, tolerate=GONE),)


ALARM = AlarmKind("alarm", lambda names: names.alarm)
