"""Months of the data window and the providers' delivery calendar (docs/contract/OUTPUTS.md)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

FIRST_MONTH = 202301  # the data window starts in January 2023 ...
FIRST_DAY = date(2023, 1, 1)
EARLIEST_HISTORY = date(2022, 1, 1)  # ... or, with history (generate_feeds(history_start=...)), as early as this
TRACKING_FROM = 202301  # the bureau tracks 临规 enterprises from January 2023 on
STATS_DAY = 15  # stats and tax for month M arrive on the 15th of M+1
TAX_DAY = 15
CUSTOMS_DAY = 10  # customs on the 10th of M+1

Q4_2023 = (202310, 202311, 202312)  # the base quarter of the policy (Q4b)
Q4_2024 = (202410, 202411, 202412)  # the policy quarter


def ordinal(yyyymm: int) -> int:
    """Months since year 0, so that month arithmetic is integer arithmetic."""
    return (yyyymm // 100) * 12 + yyyymm % 100 - 1


def from_ordinal(o: int) -> int:
    return (o // 12) * 100 + o % 12 + 1


def add_months(yyyymm: int, n: int) -> int:
    return from_ordinal(ordinal(yyyymm) + n)


def month_of(d: date) -> int:
    return d.year * 100 + d.month


def days_in_month(yyyymm: int) -> int:
    return calendar.monthrange(yyyymm // 100, yyyymm % 100)[1]


def first_day(yyyymm: int) -> date:
    return date(yyyymm // 100, yyyymm % 100, 1)


def delivery_date(yyyymm: int, day: int) -> date:
    """The day of the month after `yyyymm` on which a monthly file arrives."""
    return first_day(add_months(yyyymm, 1)).replace(day=day)


def first_monday(d: date) -> date:
    """The first Monday on or after `d`."""
    return d + timedelta(days=(7 - d.weekday()) % 7)


def check_history_start(history_start: date) -> int:
    """The first month (YYYYMM) of a window starting on `history_start`; ValueError if it cannot start there."""
    if not isinstance(history_start, date) or isinstance(history_start, datetime):
        raise ValueError(f"history_start must be a date, not {type(history_start).__name__}")
    if history_start.day != 1:
        raise ValueError(f"history_start {history_start} must be the first day of a month")
    if history_start > FIRST_DAY:
        raise ValueError(f"history_start {history_start} is after {FIRST_DAY}: history can only extend the "
                         f"data window (which starts on {FIRST_DAY}) backwards")
    if history_start < EARLIEST_HISTORY:
        raise ValueError(f"history_start {history_start} is before {EARLIEST_HISTORY}, the earliest month the "
                         "sample can simulate")
    return month_of(history_start)


@dataclass(frozen=True)
class Window:
    """The simulated months (January of `first_month`'s year to the as-of month) and what was
    delivered by as-of (from `first_month` on, by default January 2023). An earlier `first_month`
    adds history before 2023 (see check_history_start); simulating from January keeps its 累计 right."""

    as_of: date
    first_month: int = FIRST_MONTH  # first month delivered

    @property
    def start_day(self) -> date:
        """First day delivered."""
        return first_day(self.first_month)

    @property
    def has_history(self) -> bool:
        """Whether the window starts before 2023."""
        return self.first_month < FIRST_MONTH

    @property
    def simulated_from(self) -> int:
        return self.first_month // 100 * 100 + 1

    @property
    def months(self) -> list[int]:
        """Simulated months, the columns of the (enterprise × month) arrays."""
        return [from_ordinal(o) for o in range(ordinal(self.simulated_from), ordinal(month_of(self.as_of)) + 1)]

    def index(self, yyyymm: int) -> int:
        """Column of a month in the (enterprise × month) arrays."""
        return ordinal(yyyymm) - ordinal(self.simulated_from)

    def delivered_months(self, day: int) -> list[int]:
        """Data months whose monthly file (arriving on `day` of the next month) is in by as-of."""
        return [m for m in self.months if m >= self.first_month and delivery_date(m, day) <= self.as_of]

    def mondays(self) -> list[date]:
        """Weekly power deliveries: every Monday up to as-of, from the first Monday of the window."""
        first = first_monday(self.start_day)
        return [first + timedelta(weeks=k) for k in range((self.as_of - first).days // 7 + 1)] if self.as_of >= first else []

    def first_mondays(self) -> list[date]:
        """Monthly power account snapshots: the first Monday of each month."""
        return [d for d in self.mondays() if d.day <= 7]
