"""Dealing messages into batches and lanes: SQS's batch limits, and FIFO order per group."""

from __future__ import annotations

from collections.abc import Sequence

from sqsidem.messages.model import MAX_BATCH_ENTRIES, MAX_PAYLOAD_BYTES, OutgoingMessage


def plan_batches(
    messages: Sequence[OutgoingMessage], max_payload: int = MAX_PAYLOAD_BYTES
) -> list[list[OutgoingMessage]]:
    """Consecutive runs of up to 10 messages whose summed size stays within the limit."""
    batches: list[list[OutgoingMessage]] = []
    current: list[OutgoingMessage] = []
    size = 0
    for message in messages:
        if current and (len(current) == MAX_BATCH_ENTRIES or size + message.size > max_payload):
            batches.append(current)
            current, size = [], 0
        current.append(message)
        size += message.size
    if current:
        batches.append(current)
    return batches


def lanes_for(
    messages: Sequence[OutgoingMessage], concurrency: int
) -> list[list[list[OutgoingMessage]]]:
    """Batches per lane. FIFO: a group's messages share a lane; standard: batches spread."""
    if all(message.group_id is None for message in messages):
        batches = plan_batches(messages)
        spread = [batches[lane::concurrency] for lane in range(concurrency)]
        return [lane for lane in spread if lane]
    lane_of: dict[str | None, int] = {}
    per_lane: list[list[OutgoingMessage]] = [[] for _ in range(concurrency)]
    for message in messages:
        lane = lane_of.setdefault(message.group_id, len(lane_of) % concurrency)
        per_lane[lane].append(message)
    return [plan_batches(lane) for lane in per_lane if lane]
