"""The crash-point hook: parsing TOCSIN_CRASH_AT, and no effect at other points."""

from __future__ import annotations

import pytest

from tocsin.daemon.crash import CRASH_ENV, crash_point


def test_no_variable_means_no_crash(monkeypatch):
    monkeypatch.delenv(CRASH_ENV, raising=False)
    crash_point("after_commit")


def test_other_points_and_later_turns_do_not_crash(monkeypatch):
    monkeypatch.setenv(CRASH_ENV, "after_commit:1000000")
    crash_point("before_evaluate")
    crash_point("after_commit")


@pytest.mark.parametrize("value", ["after_comit:3", "after_commit", "after_commit:x"])
def test_a_bad_value_says_what_is_expected(monkeypatch, value):
    monkeypatch.setenv(CRASH_ENV, value)
    with pytest.raises(ValueError, match=r"is not '<point>:<n>'.*e\.g\. after_commit:17"):
        crash_point("after_commit")
