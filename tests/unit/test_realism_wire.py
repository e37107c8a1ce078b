"""The realism layer's throttling, which is answered on the wire: on the shared ministack."""

from __future__ import annotations

from sqsidem.aws import Aws
from tests.realism import Behaviours, Realism


def test_throttling_on_every_protocol_is_retried_by_botocore(local_aws: Aws) -> None:
    """Throttles in each protocol's own shape (JSON, REST-JSON, query, CBOR) reach botocore's
    retry handler, which gets through, as it would on AWS; none is ever seen by the caller."""
    realism = Realism(Behaviours(throttle_rate=0.5))
    aws = realism.wrap(local_aws)
    calls = [
        aws.sqs.list_queues,
        aws.dynamodb.list_tables,
        aws.lambda_.list_functions,
        aws.iam.list_roles,
        aws.cloudwatch.describe_alarms,
    ]
    for call in calls * 2:
        call()
    throttled = {event.split(" ", 1)[1] for event in realism.events}
    assert realism.fired("throttle") >= 5
    assert {"ListQueues", "ListTables", "ListFunctions", "ListRoles", "DescribeAlarms"} <= throttled
