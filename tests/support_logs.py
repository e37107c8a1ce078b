"""The function's log lines as tests write them: decision lines (DESIGN 6.5) into a group."""

from __future__ import annotations

import json

from sqsidem.aws import Aws


def decision_line(decision: str, key: str, count: int, error: str | None = None) -> str:
    return "START RequestId: x\n" + json.dumps(
        {
            "sqsidem": 1,
            "decision": decision,
            "transaction_id": key,
            "message_id": "m1",
            "group_id": "g1",
            "receive_count": count,
            "error": error,
        }
    )


def write_logs(aws: Aws, group: str, messages: list[tuple[int, str]]) -> None:
    aws.logs.create_log_group(logGroupName=group)
    aws.logs.create_log_stream(logGroupName=group, logStreamName="s1")
    aws.logs.put_log_events(
        logGroupName=group,
        logStreamName="s1",
        logEvents=[{"timestamp": t, "message": m} for t, m in messages],
    )
