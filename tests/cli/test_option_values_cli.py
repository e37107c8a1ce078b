"""Every option value is checked before any AWS call (issue 13, item 12): an empty string
where a value is required, NaN, infinities, numbers and dates out of range are one line on
stderr and exit 2, and not even a client is made (the endpoint, port 9, is never called)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support_seam import ClientSpy

NEVER_CALLED = ["--endpoint-url", "http://127.0.0.1:9"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        # worker: its flags, before the deployed function is read
        (["worker", "--concurrency", "100000"], "invalid --concurrency 100000: use a number "),
        (["worker", "--visibility-timeout", "-1"], "invalid --visibility-timeout -1"),
        (["worker", "--visibility-timeout", "43201"], "between 0 and 43,200"),
        (["worker", "--idle-exit", "nan"], "invalid --idle-exit nan"),
        (["worker", "--idle-exit", "inf"], "invalid --idle-exit inf"),
        (["worker", "--lock-ttl", "0"], "invalid --lock-ttl 0"),
        (["worker", "--key", ""], "--key '' is not a key source"),
        (["worker", "--key", "bogus"], "--key 'bogus' is not a key source"),
        (["worker", "--queue", ""], "--queue is empty"),
        (["worker", "--processor", ""], "--processor is empty"),
        # logs: empty filters and impossible start times
        (["logs", "--since", "9999-12-31"], "between 1970 and now"),
        (["logs", "--since", "0001-01-01"], "between 1970 and now"),
        (["logs", "--since", "99999999999d"], "between 1970 and now"),
        (["logs", "--filter", ""], "--filter is empty"),
        (["logs", "--transaction", ""], "--transaction is empty"),
        (["logs", "--log-group", "", "--follow"], "--log-group is empty"),
        # watch: an interval that overflows the clock, or longer than a refresh means
        (["watch", "--interval", "99999999999999d"], "--interval 99999999999999d is too long"),
        (["watch", "--interval", "2h"], "use at most 1h"),
        # setup: a lock lifetime no table should keep
        (["setup", "--dry-run", "--lock-ttl", "99999999999d"], "invalid --lock-ttl"),
        # build: the runtime the wheels are for, and where the zip goes
        (["build", "--runtime", ""], "--runtime '' is not a Lambda Python runtime"),
        (["build", "--runtime", "python9"], "--runtime 'python9' is not a Lambda Python runtime"),
        (["build", "--out", ""], "--out '.' is a directory"),
    ],
)
def test_bad_values_exit_2_before_any_call(
    fake_credentials: None,
    args: list[str],
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One line, exit 2, no client (and no file written)."""
    monkeypatch.chdir(tmp_path)
    spy = ClientSpy()
    result = spy.invoke([*NEVER_CALLED, *args])
    assert result.exit_code == 2, result.output
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert spy.clients == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("timeout", ["nan", "inf", "0", "-5", "86400"])
def test_demo_refuses_a_degenerate_timeout_before_starting_anything(
    fake_credentials: None, timeout: str
) -> None:
    """`demo --timeout nan` is exit 2 before the local backend or any client is started."""
    spy = ClientSpy()
    result = spy.invoke(["--local", "demo", "--timeout", timeout])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: invalid --timeout ")
    assert "between 1 and 3600" in result.stderr
    assert spy.clients == []
