"""Lambda's Python runtimes: AWS's three dates decide what setup accepts and warns about."""

from __future__ import annotations

import datetime as dt

import pytest

from sqsidem.errors import UsageError
from sqsidem.stack.options import SetupOptions, check_new_function, validate
from sqsidem.stack.runtimes import BY_NAME, RUNTIMES, check_runtime, creatable

D = dt.date.fromisoformat
DAY = dt.timedelta(days=1)
PY310 = BY_NAME["python3.10"]
PY312 = BY_NAME["python3.12"]


def test_the_table_has_the_three_dates_in_order_and_3_14() -> None:
    """Every runtime: deprecation <= block create <= block update; python3.14 is there."""
    assert RUNTIMES[0].name == "python3.14"
    for runtime in RUNTIMES:
        if runtime.name != "python3.9":  # its block dates were moved; we take the earliest
            assert runtime.deprecation <= runtime.block_create <= runtime.block_update
    assert PY312.deprecation == D("2028-10-31") and PY312.block_update == D("2029-01-10")


def test_python3_12_stays_the_default_and_is_quiet_today() -> None:
    """The default runtime is accepted with no warning on the day this was written."""
    assert SetupOptions().runtime == "python3.12"
    assert validate(SetupOptions(), D("2026-11-30")) == []
    check_new_function(SetupOptions(), D("2026-11-30"))


def test_a_new_function_is_accepted_until_block_create() -> None:
    """The day before block create: fine (with a warning); on the day: refused for a new one."""
    assert check_runtime("python3.10", creating=True, today=PY310.block_create - DAY)
    with pytest.raises(UsageError, match="blocks it for new functions since 2026-11-30") as raised:
        check_runtime("python3.10", creating=True, today=PY310.block_create)
    assert "python3.14" in raised.value.one_line()


def test_an_update_is_accepted_until_block_update() -> None:
    """An existing function may keep the runtime past block create, until block update."""
    assert check_runtime("python3.10", creating=False, today=PY310.block_create)
    assert check_runtime("python3.10", creating=False, today=PY310.block_update - DAY)
    with pytest.raises(UsageError, match="function updates since 2027-01-15"):
        check_runtime("python3.10", creating=False, today=PY310.block_update)


def test_warns_from_six_months_before_deprecation() -> None:
    """2028-04-30 is six months before python3.12's deprecation: quiet the day before."""
    assert check_runtime("python3.12", creating=True, today=D("2028-04-29")) is None
    warning = check_runtime("python3.12", creating=True, today=D("2028-04-30"))
    assert warning is not None and "will be deprecated on 2028-10-31" in warning
    after = check_runtime("python3.12", creating=False, today=PY312.deprecation)
    assert after is not None and "was deprecated" in after


def test_six_months_before_a_month_end_lands_on_that_months_last_day() -> None:
    """python3.13 is deprecated 2029-06-30: the warning starts 2028-12-30."""
    assert check_runtime("python3.13", creating=True, today=D("2028-12-29")) is None
    assert check_runtime("python3.13", creating=True, today=D("2028-12-30"))


def test_unknown_and_blocked_runtimes_are_refused_before_any_call() -> None:
    """python3.9 is blocked, python2.7 and python3.15 are unknown: exit 2 with a hint."""
    for name in ("python3.9", "python2.7", "python3.15", "nodejs22.x"):
        with pytest.raises(UsageError) as raised:
            validate(SetupOptions(runtime=name), D("2026-11-30"))
        assert raised.value.exit_code == 2
        assert "use python3.14 or python3.13" in raised.value.one_line()


def test_creatable_today() -> None:
    """What a new function may use on 2026-11-30 (python3.10's block-create day)."""
    assert creatable(D("2026-11-30")) == ["python3.14", "python3.13", "python3.12", "python3.11"]
