"""Policy documents, built as data: least privilege, one resource ARN per statement (DESIGN 3).

Only the log-stream ARN ends with ``*``: CreateLogStream / PutLogEvents act on streams that
do not exist yet. No partition is assumed: every ARN comes from the caller's (``Refs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqsidem.stack.calls import Ref
    from sqsidem.stack.inputs import Refs

PolicyDocument = dict[str, Any]
VERSION = "2012-10-17"

QUEUE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
KEY_ACTIONS = ("kms:Decrypt",)
TABLE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    # A batch's new locks and its COMPLETED writes, each as PartiQL statements in one
    # BatchExecuteStatement (consumer/lock.py, consumer/completions.py).
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
)
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# Tables the processor writes through transactional effects (setup --effects-table):
# the items of a TransactWriteItems need their own actions on each table.
EFFECT_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
EFFECTS_POLICY = "sqsidem-effects"
ALLOWED_ACTIONS = frozenset(
    QUEUE_ACTIONS + KEY_ACTIONS + TABLE_ACTIONS + LOG_ACTIONS + EFFECT_ACTIONS
)
KEY_USER_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")


def log_stream_arn(refs: Refs, log_group: str) -> str:
    return refs.arn("logs", f"log-group:{log_group}:*")


def lambda_trust_policy() -> PolicyDocument:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def _statement(sid: str, actions: tuple[str, ...], resource: str | Ref) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}


def effect_tables_of(policies: Mapping[str, Any]) -> tuple[str, ...]:
    """The effect tables a role's observed policies grant (read back by `status`)."""
    document = policies.get(EFFECTS_POLICY)
    if document is None:
        return ()
    statements = normalize(document).get("Statement", [])
    found = []
    for statement in statements if isinstance(statements, list) else [statements]:
        resource = statement.get("Resource") if isinstance(statement, dict) else None
        if isinstance(resource, str) and ":table/" in resource:
            found.append(resource.split(":table/", 1)[1])
    return tuple(sorted(found))


def function_policies(
    *,
    queue_arn: str,
    key_arn: str | Ref,  # a reference to the new key's ARN when this run creates it
    table_arn: str,
    log_streams_arn: str,
    effect_table_arns: tuple[str, ...] = (),
) -> dict[str, PolicyDocument]:
    """The function role's inline policies by name; each statement names one ARN."""
    policies = _core_policies(queue_arn, key_arn, table_arn, log_streams_arn)
    if effect_table_arns:
        policies[EFFECTS_POLICY] = {
            "Version": VERSION,
            "Statement": [
                _statement(f"Effects{index}", EFFECT_ACTIONS, arn)
                for index, arn in enumerate(sorted(effect_table_arns))
            ],
        }
    return policies


def _core_policies(
    queue_arn: str, key_arn: str | Ref, table_arn: str, log_streams_arn: str
) -> dict[str, PolicyDocument]:
    grants: tuple[tuple[str, str, tuple[str, ...], str | Ref], ...] = (
        ("sqsidem-queue", "ConsumeQueue", QUEUE_ACTIONS, queue_arn),
        ("sqsidem-key", "DecryptMessages", KEY_ACTIONS, key_arn),
        ("sqsidem-table", "LockTable", TABLE_ACTIONS, table_arn),
        ("sqsidem-logs", "WriteLogs", LOG_ACTIONS, log_streams_arn),
    )
    return {
        name: {"Version": VERSION, "Statement": [_statement(sid, actions, resource)]}
        for name, sid, actions, resource in grants
    }


def key_policy(*, account: str, root_arn: str, topic_arn: str, alarm_arn: str) -> PolicyDocument:
    """The account administers the key; SNS and CloudWatch may use it (encrypted topic).

    Each service may use it only for this account's stack topic or alarm: without the
    ``aws:SourceAccount`` / ``aws:SourceArn`` conditions, any account's topic or alarm could
    make the service use our key (the confused deputy).
    """
    # In a key policy "Resource": "*" means "this key"; it grants nothing beyond it.
    return {
        "Version": VERSION,
        "Id": "sqsidem-key-policy",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": root_arn},
                "Action": "kms:*",
                "Resource": "*",
            },
            _service_use("TopicUsesKey", "sns.amazonaws.com", account, topic_arn),
            _service_use("AlarmUsesKey", "cloudwatch.amazonaws.com", account, alarm_arn),
        ],
    }


def _service_use(sid: str, service: str, account: str, source_arn: str) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": list(KEY_USER_ACTIONS),
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": source_arn},
        },
    }


def normalize(document: Mapping[str, Any] | str) -> Any:
    """A policy in a canonical shape, so AWS's re-serialisation does not read as drift.

    AWS may return a one-element list as a string (and vice versa), reorder nothing else,
    and URL-encode documents; boto3 decodes those, we flatten the rest here.
    """
    import json
    from urllib.parse import unquote

    if isinstance(document, str):
        text = document if document.lstrip().startswith("{") else unquote(document)
        document = json.loads(text)
    return _canonical(document)


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _canonical(item) for key, item in sorted(value.items())}
    if isinstance(value, list | tuple):
        items = [_canonical(item) for item in value]
        if len(items) == 1 and not isinstance(items[0], dict):
            return items[0]
        if all(isinstance(item, str) for item in items):
            return sorted(items)
        return items
    return value
