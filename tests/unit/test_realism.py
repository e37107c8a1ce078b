"""The AWS-realism layer itself: each behaviour alone, on moto, on a fake clock."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from sqsidem.aws import Aws
from sqsidem.errors import error_code
from tests.realism import Behaviours, FakeTime, Realism
from tests.support_locks import create_lock_table

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def layer(moto_aws: Aws, **on: float) -> tuple[Aws, Realism, FakeTime]:
    time = FakeTime()
    realism = Realism(Behaviours(**on), clock=time.clock)  # type: ignore[arg-type]
    return realism.wrap(moto_aws), realism, time


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("h.py", "def h(event, context):\n    return None\n")
    return buffer.getvalue()


def make_function(aws: Aws, name: str = "f", timeout: int = 3) -> str:
    """A role and a function (the role created through the layer, the function too)."""
    role = aws.iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    aws.lambda_.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="h.h",
        Code={"ZipFile": code()},
        Timeout=timeout,
    )
    return role["Role"]["Arn"]


def queue(aws: Aws, name: str = "q.fifo", visibility: int = 30) -> tuple[str, str]:
    attributes = {"FifoQueue": "true", "VisibilityTimeout": str(visibility)}
    url = aws.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, arn["Attributes"]["QueueArn"]


def code_of(call: object) -> str | None:
    try:
        call()  # type: ignore[operator]
    except ClientError as exc:
        return error_code(exc)
    return None


def test_everything_off_by_default(moto_aws: Aws) -> None:
    """With no behaviour on, the layer changes nothing and records nothing."""
    aws, realism, _ = layer(moto_aws)
    make_function(aws)
    url, _ = queue(aws)
    aws.sqs.delete_queue(QueueUrl=url)
    assert code_of(lambda: aws.sqs.get_queue_url(QueueName="q.fifo")) is not None
    queue(aws)
    assert realism.events == []


def test_a_new_role_is_not_assumable_for_a_while(moto_aws: Aws) -> None:
    """CreateFunction fails as on AWS until the role has propagated, then works."""
    aws, realism, time = layer(moto_aws, iam_delay_s=10)
    with pytest.raises(ClientError, match="cannot be assumed"):
        make_function(aws)
    time.sleep(10)
    role_arn = aws.iam.get_role(RoleName="f-role")["Role"]["Arn"]
    aws.lambda_.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=role_arn,
        Handler="h.h",
        Code={"ZipFile": code()},
    )
    assert realism.fired("iam") == 1


def test_a_new_policy_is_not_effective_for_the_trigger(moto_aws: Aws) -> None:
    """After PutRolePolicy, the mapping is refused ("cannot call ReceiveMessage") for a while."""
    aws, realism, time = layer(moto_aws, iam_delay_s=5)
    time.sleep(5)
    _, arn = queue(aws)
    role = aws.iam.create_role(RoleName="g-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    time.sleep(5)
    aws.lambda_.create_function(
        FunctionName="g",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="h.h",
        Code={"ZipFile": code()},
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": arn}],
    }
    aws.iam.put_role_policy(RoleName="g-role", PolicyName="p", PolicyDocument=json.dumps(policy))
    create = lambda: aws.lambda_.create_event_source_mapping(EventSourceArn=arn, FunctionName="g")  # noqa: E731
    with pytest.raises(ClientError, match="ReceiveMessage"):
        create()
    time.sleep(5)
    assert create()["UUID"]
    assert realism.fired("iam") == 1


def test_a_deleted_queue_answers_then_its_name_is_refused(moto_aws: Aws) -> None:
    """URL, attributes and tags keep answering for N s; then QueueDeletedRecently until 60 s."""
    aws, realism, time = layer(moto_aws, queue_ghost_s=5, queue_reuse_s=60)
    url, _ = queue(aws)
    aws.sqs.tag_queue(QueueUrl=url, Tags={"k": "v"})
    aws.sqs.delete_queue(QueueUrl=url)
    assert aws.sqs.get_queue_url(QueueName="q.fifo")["QueueUrl"] == url
    assert aws.sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"k": "v"}
    attributes = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "30"
    time.sleep(5)
    assert code_of(lambda: aws.sqs.get_queue_url(QueueName="q.fifo")) is not None
    refused = code_of(lambda: queue(aws))
    assert refused == "AWS.SimpleQueueService.QueueDeletedRecently"
    time.sleep(55)
    queue(aws)
    assert realism.fired("queue-ghost") == 2 and realism.fired("queue-reuse") == 1


def test_a_deleted_table_stays_deleting(moto_aws: Aws) -> None:
    """DescribeTable says DELETING and CreateTable is refused until it is really gone."""
    aws, realism, time = layer(moto_aws, table_deleting_s=20)
    create_lock_table(aws.dynamodb, "t")
    aws.dynamodb.delete_table(TableName="t")
    assert aws.dynamodb.describe_table(TableName="t")["Table"]["TableStatus"] == "DELETING"
    assert code_of(lambda: create_lock_table(aws.dynamodb, "t")) == "ResourceInUseException"
    time.sleep(20)
    assert code_of(lambda: aws.dynamodb.describe_table(TableName="t")) == (
        "ResourceNotFoundException"
    )
    create_lock_table(aws.dynamodb, "t")
    assert realism.fired("table-deleting") == 2


def test_mappings_pass_through_creating_updating_deleting(moto_aws: Aws) -> None:
    """Each change leaves the trigger busy for N s; changes meanwhile are ResourceInUse."""
    aws, realism, time = layer(moto_aws, mapping_transition_s=8)
    make_function(aws)
    _, arn = queue(aws)
    uuid = aws.lambda_.create_event_source_mapping(EventSourceArn=arn, FunctionName="f")["UUID"]
    assert aws.lambda_.get_event_source_mapping(UUID=uuid)["State"] == "Creating"
    listed = aws.lambda_.list_event_source_mappings(FunctionName="f")["EventSourceMappings"]
    assert [m["State"] for m in listed] == ["Creating"]
    in_use = "ResourceInUseException"
    assert code_of(lambda: aws.lambda_.delete_event_source_mapping(UUID=uuid)) == in_use
    time.sleep(8)
    assert aws.lambda_.update_event_source_mapping(UUID=uuid, BatchSize=5)["State"] == "Updating"
    assert code_of(lambda: aws.lambda_.update_event_source_mapping(UUID=uuid)) == in_use
    time.sleep(8)
    aws.lambda_.delete_event_source_mapping(UUID=uuid)
    assert aws.lambda_.get_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    time.sleep(8)
    assert code_of(lambda: aws.lambda_.get_event_source_mapping(UUID=uuid)) == (
        "ResourceNotFoundException"
    )
    assert realism.fired("mapping-in-use") == 2


def test_queue_attributes_propagate_late(moto_aws: Aws) -> None:
    """The old visibility timeout shows for N s, and a trigger is judged against it."""
    aws, realism, time = layer(moto_aws, attribute_lag_s=30)
    make_function(aws, timeout=10)
    url, arn = queue(aws, visibility=5)
    aws.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "60"})
    seen = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert seen["Attributes"]["VisibilityTimeout"] == "5"
    create = lambda: aws.lambda_.create_event_source_mapping(EventSourceArn=arn, FunctionName="f")  # noqa: E731
    with pytest.raises(ClientError, match="less than Function timeout"):
        create()
    time.sleep(30)
    seen = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert seen["Attributes"]["VisibilityTimeout"] == "60"
    assert create()["UUID"]
    assert realism.fired("attribute-lag") == 2


def test_short_polls_come_back_empty_at_a_rate(moto_aws: Aws) -> None:
    """WaitTimeSeconds 0 may miss messages; a long poll never does."""
    aws, realism, _ = layer(moto_aws, short_poll_empty_rate=1.0)
    url, _ = queue(aws)
    aws.sqs.send_message(
        QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d"
    )
    assert "Messages" not in aws.sqs.receive_message(QueueUrl=url)
    assert len(aws.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]) == 1
    assert realism.fired("short-poll-empty") == 1


def test_time_to_live_changes_once_per_interval(moto_aws: Aws) -> None:
    """A second UpdateTimeToLive within the hour fails as on AWS; a new table starts afresh."""
    aws, realism, time = layer(moto_aws, ttl_interval_s=3600)
    create_lock_table(aws.dynamodb, "t")

    def ttl(attribute: str, *, enabled: bool) -> object:
        spec = {"Enabled": enabled, "AttributeName": attribute}
        return aws.dynamodb.update_time_to_live(TableName="t", TimeToLiveSpecification=spec)

    ttl("expiration", enabled=True)
    with pytest.raises(ClientError, match="multiple times"):
        ttl("expiration", enabled=False)
    time.sleep(3600)
    ttl("expiration", enabled=False)
    assert realism.fired("ttl-once-per-hour") == 1
