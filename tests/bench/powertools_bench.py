"""9. side by side with Powertools for AWS Lambda (issue 14), in one run, on loopback and
through the 10 ms link: 600 messages over 6 FIFO groups, concurrency 1, the same no-op
processor, each consumer on a fresh queue and its own table, DynamoDB writes counted.

- ``sqsidem``: the worker (:func:`sqsidem.worker.poller.run_worker`), as in worker_bench;
- ``powertools``: ``idempotent_function`` + ``SqsFifoPartialProcessor(skip_group_on_error)``
  fed Lambda-shaped batches by a poller (receive 10, process, delete the successes), the
  idempotency key being the message's dedup id, as sqsidem's default;
- ``drain``: receive + delete and nothing else.

Powertools' table has its own attribute names (``id``, ``status``, ``expiration`` ...): they
collide with ours, so its figures get lines of their own. Needs the ``bench`` extra
(``pip install -e '.[bench]'``); without it the Powertools lines say n/a.
"""

from __future__ import annotations

import time
import uuid
import warnings
from typing import Any

from tests.bench.core import (
    ROUND_TRIP_S,
    CountingAws,
    Report,
    counting_aws,
    link_to,
    local_backend,
    make_aws,
    unique,
    writes_in,
)
from tests.bench.locks_bench import create_table
from tests.bench.worker_bench import VISIBILITY_S, bare_drain, receive_batch, run_sqsidem_worker

GROUPS = 6


def fill(endpoint: str, count: int) -> str:
    """A fresh FIFO queue of ``count`` messages over GROUPS groups, dedup id = key."""
    sqs = make_aws(endpoint).sqs
    url = sqs.create_queue(
        QueueName=f"{unique('bp')}.fifo",
        Attributes={"FifoQueue": "true", "VisibilityTimeout": str(VISIBILITY_S)},
    )["QueueUrl"]
    for start in range(0, count, 10):
        entries: list[Any] = []
        for i, seq in enumerate(range(start, min(count, start + 10))):
            key = uuid.uuid4().hex
            entries.append(
                {
                    "Id": str(i),
                    "MessageBody": f'{{"seq": {seq}}}',
                    "MessageGroupId": f"g{seq % GROUPS}",
                    "MessageDeduplicationId": key,
                }
            )
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return url


def powertools_table(endpoint: str) -> str:
    table = unique("powertools")
    dynamodb = make_aws(endpoint).dynamodb
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=table)
    return table


def run_powertools(aws: CountingAws, url: str, table: str, count: int) -> tuple[float, int]:
    """(seconds, records processed) of a poller feeding Powertools Lambda-shaped batches."""
    from aws_lambda_powertools.utilities.batch import (
        SqsFifoPartialProcessor,
        process_partial_response,
    )
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from sqsidem.worker.event import lambda_event

    # Outside Lambda it cannot read the remaining time and says so once per record.
    warnings.filterwarnings("ignore", message="Couldn't determine the remaining time")
    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=aws.dynamodb)
    config = IdempotencyConfig(event_key_jmespath="attributes.MessageDeduplicationId")

    @idempotent_function(
        data_keyword_argument="record", persistence_store=persistence, config=config
    )
    def handle(record: dict[str, Any]) -> None:
        return None  # the same no-op processor as sqsidem's

    def record_handler(record: Any) -> None:
        handle(record=record.raw_event)

    sqs = aws.sqs
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    processed = 0
    deadline = time.monotonic() + 600
    started = time.perf_counter()
    while processed < count and time.monotonic() < deadline:
        messages = receive_batch(sqs, url)
        if not messages:
            continue
        event = lambda_event(messages, queue_arn=arn)
        processor = SqsFifoPartialProcessor(skip_group_on_error=True)
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor
        )
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        processed += len(done)
    return time.perf_counter() - started, processed


def _writes(calls: Any) -> int:
    return writes_in(calls)


def run(report: Report) -> None:
    count = 120 if report.quick else 600
    seconds: dict[tuple[str, str], float] = {}
    with (
        local_backend() as endpoint,
        link_to(endpoint) as proxy,
    ):
        for link, url in (("loopback", endpoint), ("link10ms", proxy.url)):
            prefix = f"powertools.{link}"
            drain_s = bare_drain(url, fill(endpoint, count), count, 1)
            seconds[(link, "drain")] = drain_s
            report.add(f"{prefix}.bare_drain", count / drain_s, "msgs/s")

            aws = counting_aws(url)
            elapsed, _received, processed, _lines, _reason = run_sqsidem_worker(
                aws, fill(endpoint, count), create_table(endpoint, unique("bp")), count, 1
            )
            seconds[(link, "sqsidem")] = elapsed
            note = f"{processed} of {count}, {GROUPS} groups, concurrency 1"
            drain = count / drain_s
            _consumer_rows(report, f"{prefix}.sqsidem", processed, elapsed, aws, drain, note)
            try:
                import aws_lambda_powertools  # noqa: F401
            except ImportError:
                report.na(
                    f"{prefix}.powertools", "aws-lambda-powertools not installed (bench extra)"
                )
                continue
            peer = counting_aws(url)
            took, done = run_powertools(
                peer, fill(endpoint, count), powertools_table(endpoint), count
            )
            seconds[(link, "powertools")] = took
            note = f"{done} of {count}; idempotent_function + SqsFifoPartialProcessor"
            _consumer_rows(report, f"{prefix}.powertools", done, took, peer, count / drain_s, note)
            report.add(
                f"{prefix}.sqsidem_vs_powertools",
                (processed / elapsed) / (done / took),
                "ratio",
                note="target >= 3 through the link",
            )
        for who in ("drain", "sqsidem", "powertools"):
            if (("link10ms", who)) in seconds and ("loopback", who) in seconds:
                trips = (seconds[("link10ms", who)] - seconds[("loopback", who)]) / ROUND_TRIP_S
                report.add(
                    f"powertools.round_trips_per_10_msgs.{who}",
                    trips * 10 / count,
                    "round trips",
                )


def _consumer_rows(
    report: Report, name: str, done: int, took: float, aws: Any, drain: float, note: str
) -> None:
    """A consumer's throughput against the bare drain, and its counted writes per message."""
    report.add(name, done / took, "msgs/s", baseline=("bare drain", drain), note=note)
    per_msg = _writes(aws.reset()) / max(1, done)
    report.add(f"{name}.dynamodb_writes_per_msg", per_msg, "writes", note="counted")
