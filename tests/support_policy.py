"""What the AUTH=true emulator checks differently from AWS, for the `sqsidem policy` tests.

ministack evaluates some requests against ``*`` where AWS names the resource (the resource
travels in a list or under another parameter name), knows none of the service-specific
condition keys AWS sets (``lambda:FunctionArn``), and names SendMessageBatch after the API
call instead of IAM's ``sqs:SendMessage``. The printed policy stays right for AWS; the test
user gets these actions on ``*`` on top of it, each with the reason, and they stay out of the
removal test like the AWS-only ones.
"""

from __future__ import annotations

from collections.abc import Collection

EMULATOR_ALLOWANCE: dict[str, str] = {
    "cloudwatch:DescribeAlarms": "alarm names travel as a list: ministack checks *",
    "cloudwatch:DeleteAlarms": "alarm names travel as a list: ministack checks *",
    "cloudwatch:ListTagsForResource": "ResourceARN parameter: ministack checks *",
    "cloudwatch:TagResource": "ResourceARN parameter: ministack checks *",
    "sns:ListTagsForResource": "ResourceArn parameter: ministack checks *",
    "sns:TagResource": "ResourceArn parameter: ministack checks *",
    "sns:Unsubscribe": "SubscriptionArn parameter: ministack checks *",
    "dynamodb:ListTagsOfResource": "ResourceArn parameter: ministack checks *",
    "dynamodb:TagResource": "ResourceArn parameter: ministack checks *",
    "kms:CreateAlias": "AliasName/TargetKeyId parameters: ministack checks *",
    "kms:DeleteAlias": "AliasName parameter: ministack checks *",
    "kms:UpdateAlias": "AliasName/TargetKeyId parameters: ministack checks *",
    "lambda:CreateFunction": "the name is in the body, not the path: ministack checks *",
    "lambda:CreateEventSourceMapping": "ministack sets no lambda:FunctionArn condition key",
    "sqs:StartMessageMoveTask": "SourceArn parameter: ministack checks * (then lacks the call)",
}

# ministack names the batch calls after themselves; IAM authorizes them as the single call.
BATCH_NAMES = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
EMULATOR_ALLOWANCE.update(
    {name: f"ministack's name for the batch call (IAM: {iam})" for name, iam in BATCH_NAMES.items()}
)


def allowance_statement(*, but: Collection[str] = ()) -> dict[str, object]:
    """The allowance on ``*``, ``but`` the actions a removal test takes away (an action the
    emulator checks on ``*`` is needed if the command fails without it on ``*`` too)."""
    return {
        "Sid": "EmulatorChecksTheseOnStar",
        "Effect": "Allow",
        "Action": sorted(action for action in EMULATOR_ALLOWANCE if action not in but),
        "Resource": "*",
    }
