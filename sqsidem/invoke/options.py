"""`invoke`'s options checked and turned into one request, before anything runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sqsidem.build.sources import processor_option
from sqsidem.errors import UsageError
from sqsidem.invoke.records import RecordSource, build_records
from sqsidem.invoke.run import InvokeRequest, aws_env
from sqsidem.messages.build import read_text_input
from sqsidem.stack.options import validate_key_source

if TYPE_CHECKING:
    from sqsidem.aws import Aws
    from sqsidem.names import StackNames


def partition_of(region: str) -> str:
    """The partition a region belongs to, known without a call (botocore's endpoint data)."""
    from botocore.session import get_session

    return get_session().get_partition_for_region(region)


PLACEHOLDER_ACCOUNT = "000000000000"  # the record's queue ARN needs one; no AWS call to learn it


def record_source(sources: Mapping[str, str | Path | None]) -> RecordSource:
    def text(name: str, option: str) -> str | None:
        value = sources.get(name)
        return None if value is None else read_text_input(str(value), option)

    body = sources.get("body")
    return RecordSource(
        body=None if body is None else str(body),
        body_file_text=text("body_file", "--body-file"),
        jsonl_text=text("jsonl_file", "--file"),
        event_text=text("event_file", "--event"),
    )


def invoke_request(
    sources: Mapping[str, str | Path | None],
    processor: str | None,
    requirements: Path | None,
    key: str,
    *,
    names: StackNames,
    region: str | None,
    aws: Callable[[], Aws] | None,
    real_key: bool = False,
) -> InvokeRequest:
    """UsageError (exit 2) for anything wrong; ``aws`` only for --lock (the stack's table)."""
    validate_key_source(key)
    if real_key and aws is None:
        raise UsageError("--real-key needs --lock")
    ref = processor_option(processor, requirements, "x86_64", host=True)
    where = region or "us-east-1"
    queue_arn = f"arn:{partition_of(where)}:sqs:{where}:{PLACEHOLDER_ACCOUNT}:{names.queue}"
    records = build_records(record_source(sources), queue_arn=queue_arn)
    return InvokeRequest(
        ref,
        records,
        key=key,
        table=names.table if aws is not None else None,
        real_key=real_key,
        env=aws_env(aws()) if aws is not None else {},
    )
