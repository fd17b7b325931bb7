"""How often a scheduled sync runs: ``--every 30m`` / ``2h`` / ``1d``, and how each OS scheduler says it.

Intervals that divide a day evenly (15m, 30m, 1h, 2h, 6h, 1d, ...) run on the clock: at :00 and :30, at
00:00, 02:00, ... so a bookkeeper can say when the next run is, and a run missed while the computer was off
or asleep is made up when it wakes. Other intervals (45m, 5h, 2d) run that long after the previous run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MINUTES_PER_DAY = 24 * 60
MIN_MINUTES = 5                    # more often would spend the package's daily call limit on polling
MAX_MINUTES = 7 * MINUTES_PER_DAY

_UNITS = {"m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
          "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
          "d": MINUTES_PER_DAY, "day": MINUTES_PER_DAY, "days": MINUTES_PER_DAY}
_PATTERN = re.compile(r"^\s*(\d{1,5})\s*([a-z]+)\s*$")


class IntervalError(ValueError):
    """``--every`` was not understood or is out of range; the message says what is accepted."""


@dataclass(frozen=True, order=True)
class Interval:
    minutes: int

    def __post_init__(self) -> None:
        if not MIN_MINUTES <= self.minutes <= MAX_MINUTES:
            raise IntervalError(f"The interval must be between {MIN_MINUTES} minutes and "
                                f"{MAX_MINUTES // MINUTES_PER_DAY} days (it was {self.minutes} minutes).")

    @classmethod
    def parse(cls, text: str) -> Interval:
        """``30m``, ``90min``, ``2h``, ``1d``, ``3 days``: a whole number and a unit."""
        match = _PATTERN.match(text.lower())
        if not match or match.group(2) not in _UNITS:
            raise IntervalError(f"{text!r} is not an interval: write a number and a unit, "
                                "for example 30m, 2h or 1d.")
        return cls(int(match.group(1)) * _UNITS[match.group(2)])

    # --- words ----------------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The shortest ``--every`` spelling: ``30m``, ``2h``, ``1d``."""
        if self.minutes % MINUTES_PER_DAY == 0:
            return f"{self.minutes // MINUTES_PER_DAY}d"
        if self.minutes % 60 == 0:
            return f"{self.minutes // 60}h"
        return f"{self.minutes}m"

    @property
    def words(self) -> str:
        """``every 30 minutes``, ``every hour``, ``every 2 days``."""
        for size, unit in ((MINUTES_PER_DAY, "day"), (60, "hour"), (1, "minute")):
            if self.minutes % size == 0:
                n = self.minutes // size
                return f"every {unit}" if n == 1 else f"every {n} {unit}s"
        raise AssertionError("unreachable: every interval is a whole number of minutes")

    @property
    def seconds(self) -> int:
        return self.minutes * 60

    # --- on the clock ---------------------------------------------------------------------------------

    @property
    def on_the_clock(self) -> bool:
        """True when the runs can sit at fixed times of day (the interval divides an hour or a day)."""
        return self.minute_step is not None or self.hour_step is not None or self.minutes == MINUTES_PER_DAY

    @property
    def minute_step(self) -> int | None:
        """For intervals under an hour that divide it: the minutes between runs within each hour."""
        return self.minutes if self.minutes < 60 and 60 % self.minutes == 0 else None

    @property
    def hour_step(self) -> int | None:
        """For whole-hour intervals under a day that divide it: the hours between runs."""
        hours, rest = divmod(self.minutes, 60)
        return hours if rest == 0 and 0 < hours < 24 and 24 % hours == 0 else None

    def times_of_day(self) -> list[tuple[int, int]]:
        """The (hour, minute) pairs of the runs within a day, for an interval on the clock."""
        if not self.on_the_clock:
            raise ValueError(f"{self.words} does not divide a day")
        return [divmod(m, 60) for m in range(0, MINUTES_PER_DAY, self.minutes)]

    def iso8601(self) -> str:
        """The ISO 8601 duration the Task Scheduler wants: ``PT30M``, ``PT2H``, ``P1D``."""
        days, rest = divmod(self.minutes, MINUTES_PER_DAY)
        hours, minutes = divmod(rest, 60)
        time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
        return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
