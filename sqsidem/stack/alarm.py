"""The CloudWatch alarm: the DLQ holds at least one message -> notify the topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import error_code
from sqsidem.stack.model import Change, tag_list

_GONE = {"ResourceNotFound", "ResourceNotFoundException"}
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


def observe(aws: Aws, name: str) -> ObservedAlarm | None:
    alarms = aws.cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"]).get(
        "MetricAlarms", []
    )
    alarm = next((a for a in alarms if a.get("AlarmName") == name), None)
    if alarm is None:
        return None
    arn = alarm["AlarmArn"]
    tags = aws.cloudwatch.list_tags_for_resource(ResourceARN=arn).get("Tags", [])
    values: dict[str, Any] = dict(alarm)
    return ObservedAlarm(
        arn, values, alarm.get("StateValue", ""), {t["Key"]: t["Value"] for t in tags}
    )


def _comparable(name: str, value: object) -> object:
    if name == "Threshold" and isinstance(value, int | float):
        return float(value)
    if name == "Dimensions" and isinstance(value, list):
        return sorted((d.get("Name"), d.get("Value")) for d in value)
    if name == "AlarmActions" and isinstance(value, list):
        return sorted(value)
    return value


def diff(desired: DesiredAlarm, observed: ObservedAlarm) -> tuple[Change, ...]:
    return tuple(
        Change(name, observed.settings.get(name), want)
        for name, want in desired.settings().items()
        if _comparable(name, observed.settings.get(name)) != _comparable(name, want)
    )


def put(aws: Aws, desired: DesiredAlarm, *, with_tags: bool) -> None:
    """Create or overwrite (PutMetricAlarm replaces the whole definition; tags only at birth)."""
    extra: dict[str, Any] = {"Tags": tag_list(desired.tags)} if with_tags else {}
    aws.cloudwatch.put_metric_alarm(
        AlarmName=desired.name,
        AlarmDescription=DESCRIPTION,
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": desired.dlq_name}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[desired.topic_arn],
        ActionsEnabled=True,
        **extra,
    )


def tag(aws: Aws, observed: ObservedAlarm, tags: dict[str, str]) -> None:
    aws.cloudwatch.tag_resource(ResourceARN=observed.arn, Tags=tag_list(tags))


def delete(aws: Aws, name: str) -> None:
    try:
        aws.cloudwatch.delete_alarms(AlarmNames=[name])
    except ClientError as exc:
        if error_code(exc) not in _GONE:
            raise
