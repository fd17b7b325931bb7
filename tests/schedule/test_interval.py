"""``--every``: what a bookkeeper may type, and what each scheduler is told."""

from __future__ import annotations

import pytest

from kcc_desktop.schedule import Interval, IntervalError


@pytest.mark.parametrize(("text", "minutes", "short", "words"), [
    ("30m", 30, "30m", "every 30 minutes"),
    ("90min", 90, "90m", "every 90 minutes"),
    ("2h", 120, "2h", "every 2 hours"),
    ("1 hour", 60, "1h", "every hour"),
    ("1d", 1440, "1d", "every day"),
    ("3 days", 4320, "3d", "every 3 days"),
    ("24h", 1440, "1d", "every day"),
])
def test_intervals_are_read_and_said_back(text, minutes, short, words):
    every = Interval.parse(text)
    assert (every.minutes, every.text, every.words) == (minutes, short, words)
    assert Interval.parse(every.text) == every


@pytest.mark.parametrize("text", ["", "30", "m", "half an hour", "30s", "-5m", "2w"])
def test_what_is_not_an_interval_says_how_to_write_one(text):
    with pytest.raises(IntervalError, match="for example 30m, 2h or 1d"):
        Interval.parse(text)


@pytest.mark.parametrize("text", ["4m", "8d"])
def test_too_often_or_too_rarely_is_refused(text):
    with pytest.raises(IntervalError, match="between 5 minutes and 7 days"):
        Interval.parse(text)


@pytest.mark.parametrize(("text", "on_clock", "first_runs"), [
    ("30m", True, [(0, 0), (0, 30), (1, 0)]),
    ("15m", True, [(0, 0), (0, 15), (0, 30)]),
    ("2h", True, [(0, 0), (2, 0), (4, 0)]),
    ("1d", True, [(0, 0)]),
    ("45m", False, None),     # 00:00, 00:45, 01:30 ... would need a different pattern each hour
    ("5h", False, None),
    ("2d", False, None),
])
def test_intervals_that_divide_a_day_run_on_the_clock(text, on_clock, first_runs):
    every = Interval.parse(text)
    assert every.on_the_clock is on_clock
    if on_clock:
        times = every.times_of_day()
        assert times[:3] == first_runs and len(times) == 1440 // every.minutes


@pytest.mark.parametrize(("text", "iso"), [("30m", "PT30M"), ("2h", "PT2H"), ("90m", "PT1H30M"), ("1d", "P1D"),
                                           ("36h", "P1DT12H")])
def test_iso8601_durations_for_the_task_scheduler(text, iso):
    assert Interval.parse(text).iso8601() == iso
