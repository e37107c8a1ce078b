"""The embedded backend as the shared fixture and `sqsidem local` see it."""

from __future__ import annotations

from sqsidem.aws import Aws
from tests.backend import Ministack


def test_shared_backend_answers(local_aws: Aws, ministack: Ministack) -> None:
    """The session's emulator is bound to loopback and accepts the dummy credentials."""
    assert ministack.endpoint.startswith("http://127.0.0.1:")
    assert local_aws.sts.get_caller_identity()["Account"].isdigit()
