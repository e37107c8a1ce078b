"""Fixtures shared by the functional tests: lock tables on moto, and on ministack for races."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sqsidem.aws import Aws
from tests.functional.support_consumer import TABLE
from tests.support_locks import create_lock_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def ddb(moto_aws: Aws) -> DynamoDBClient:
    """moto's DynamoDB client with an empty lock table named ``TABLE``."""
    client = moto_aws.dynamodb
    create_lock_table(client, TABLE)
    return client


@pytest.fixture
def racing_lock_table(local_aws: Aws, stack_name: str) -> str:
    """An empty lock table of its own on the shared ministack, for tests that race threads
    on one item: moto's conditional writes are not atomic across threads, ministack's are."""
    table = f"Idempotent-{stack_name}"
    create_lock_table(local_aws.dynamodb, table)
    return table
