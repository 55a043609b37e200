"""Daily power as an early signal for the output of a month the statistics have not reported yet.

Power is read day by day and delivered every week, the statistics for a month only on the 15th of
the next. When a month's power is in (in full, or for at least `forecast.min_power_days` days),
its growth against the same month a year earlier, compared with the growth of the months the
output forecast's growth window covers, says whether the month runs faster or slower than the
window did. The forecast of that month's output is scaled by

    (group's power change)^β_group × (the enterprise's power change beyond its group's)^β_own,

where a power change is (kWh per day in the month / a year earlier) ÷ (kWh of the window / a year
earlier). β_group and β_own are estimated from the data: over every past origin, how the first
unreported month's output surprise followed these two changes (least squares; each kept within
[0, 1]: no signal at all to one-for-one). On data where power says nothing about output they come
out near 0, and the forecast is the plain one.

A change of pace seen in the latest month with power in may last: the months after it, whose power
is not in yet, are scaled by (group's power change of that month)^γ_k, k months on. γ_1, γ_2, …
are estimated the same way: how the output surprise k months after a past origin's first month
followed that month's group power change (0: a month's change says nothing about the next ones; 1:
it lasts in full). A level shift that starts in October (an industry's orders picking up) then
moves November and December too, before October's statistics arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np

from .panel import Panel, key_positions, month_index_sql


# The kWh of the month being read, per enterprise, with its account-days flagged 缺失 filled at the
# pace of its account-days read that month. A 缺失 day there is a day not read yet, not a day
# without power: a later delivery re-reads it (FEEDS.md). On an eighth data process a week delivered
# 缺失 for every account (re-read two weeks later) read as a week without power: every group's
# October power change 0.62–0.69 and the output forecast ×0.69 (M02.growth 26万 against 461万,
# 2026-12-07); on the other process M24 was a median 9% low on the first Monday of December.
# Complete months stay as delivered, as the rules read them: on the other process 1.6% of every
# month's readings stay 缺失 for good, and filling those too raised the whole history (its M24 7
# points higher in weeks 1–8 of the 20 replayed quarters).
KWH_BEING_READ_SQL = """(case when account_days_with_reading > 0
                       then kwh::double * (account_days_with_reading + account_days_missing) / account_days_with_reading
                       else kwh::double end)"""


def read_shares(con: duckdb.DuckDBPyConnection, keys: np.ndarray, groups: np.ndarray, month: date,
                elapsed: np.ndarray, length: np.ndarray, min_entities: int) -> np.ndarray:
    """(n,) the share of `month` that its days read so far carry, per entity. Where `month` is the
    month being read (marts.fct_power_month_to_date), the share the year before says, per group:

        Σ kWh a year before on the same dates / Σ the same dates priced at each enterprise's mean kWh
        per weekday that month (what the dates carried beyond their weekdays: National Day)
      × Σ this year's days read priced so / Σ this year's month priced so (their weekdays)

    over the group's enterprises with a full year before, or over every entity's where the group has
    fewer than `min_entities` (one enterprise's days are noisy; M24 adds many up). Elsewhere, and
    where no entity has a year before, the share of calendar days (`elapsed` / `length`)."""
    shares = elapsed / np.maximum(length, 1)
    rows = con.execute(
        """select uscc, days_read, kwh_year_before_same_dates::double, weekday_kwh_year_before_same_dates::double,
                  weekday_kwh_days_read::double, weekday_kwh_month::double
           from marts.fct_power_month_to_date
           where month = ? and kwh_year_before_same_dates > 0 and weekday_kwh_year_before_same_dates > 0
             and weekday_kwh_days_read > 0 and weekday_kwh_month > weekday_kwh_days_read""",
        [month]).fetchall()
    position = {k: i for i, k in enumerate(keys.tolist())}
    days_read = rows[0][1] if rows else None  # the same latest day read on every row
    rows = [(position[uscc], *sums) for uscc, _, *sums in rows if uscc in position]
    if not rows:
        return shares
    index, *sums = (np.array(column) for column in zip(*rows))
    codes, group_of = np.unique(groups.astype(str), return_inverse=True)
    members = np.bincount(group_of[index], minlength=len(codes))
    per_group = [np.bincount(group_of[index], column, len(codes)) for column in sums]
    everyone = [column.sum() for column in sums]

    def share(dates, dates_priced, read_priced, month_priced):
        return dates / dates_priced * read_priced / month_priced

    with np.errstate(divide="ignore", invalid="ignore"):  # groups without a member: the pool of everyone
        pooled = np.where(members >= min_entities, share(*per_group), share(*everyone))
    # An entity whose meters stopped before the latest day read keeps the calendar share.
    return np.where(elapsed == days_read, np.clip(pooled[group_of], 0.0, 1.0), shares)


@dataclass
class PowerSignal:
    kwh: np.ndarray  # (n, T) kWh of complete months, aligned with the output panel (NaN: none)
    days: np.ndarray  # (T,) days in each month
    # month column -> (kWh read, days read, share of the month those days carry) of a month read in part
    partial: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    window: int
    min_days: int
    max_adjustment: float  # the power moves a month's output by this factor at most, either way
    beta_group: float = 0.0
    beta_own: float = 0.0
    carry: tuple[float, ...] = ()  # γ_k: how much of the latest group power change lasts k months on

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, panel: Panel, window: int, min_days: int,
             max_adjustment: float, min_group_entities: int) -> PowerSignal:
        n, width = panel.values.shape
        kwh = np.full((n, width), np.nan)
        end = panel.month(width - 1)
        rows = con.execute(
            f"""select uscc, {month_index_sql('month', panel.start)} as col,
                       case when last_reading_date = last_day(month) then kwh::double else {KWH_BEING_READ_SQL} end as kwh,
                       last_reading_date = last_day(month) as complete,
                       datediff('day', month, last_reading_date) + 1 as days_read
                from marts.fct_power_month where month between ? and ?""", [panel.start, end]).fetchnumpy()
        row = key_positions(panel.keys, rows["uscc"])
        cols, values = np.asarray(rows["col"], dtype=np.int64), np.asarray(rows["kwh"], dtype=float)
        days_read = np.asarray(rows["days_read"], dtype=float)
        known = row >= 0
        complete = known & np.asarray(rows["complete"], dtype=bool)
        kwh[row[complete], cols[complete]] = values[complete]
        reading: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # month read in part -> (kWh read, days read)
        for col in np.unique(cols[known & ~complete]).tolist():
            at = known & ~complete & (cols == col)
            read, elapsed = np.full(n, np.nan), np.zeros(n)
            read[row[at]], elapsed[row[at]] = values[at], days_read[at]
            reading[col] = (read, elapsed)
        days = np.array([_days_in(panel.month(c)) for c in range(width)], dtype=float)
        partial = {col: (read, elapsed, read_shares(con, panel.keys, panel.groups, panel.month(col), elapsed,
                                                    np.full(n, days[col]), min_group_entities))
                   for col, (read, elapsed) in reading.items()}
        return cls(kwh, days, partial, window, min_days, max_adjustment)

    def changes(self, groups: np.ndarray, origin: int, target: int, live: bool) -> tuple[np.ndarray, np.ndarray]:
        """Per entity: log power change of its group and its own beyond the group's, for month
        `target` from `origin`'s window (NaN where the power does not tell). `live`: a month read
        in part counts (with enough days)."""
        n = self.kwh.shape[0]
        nan = np.full(n, np.nan)
        if target - 12 < 0:
            return nan, nan
        if not np.isnan(self.kwh[:, target]).all():
            now, days_now = self.kwh[:, target], np.full(n, self.days[target])
        elif live and target in self.partial:
            read, elapsed, share = self.partial[target]
            # the month as its days read say it will be, with what those days carry of a month
            now = np.where((elapsed >= self.min_days) & (share > 0), read / np.maximum(share, 1e-9), np.nan)
            days_now = np.full(n, self.days[target])
        else:
            return nan, nan
        before = self.kwh[:, target - 12]
        cols = np.arange(origin - self.window + 1, origin + 1)
        cols = cols[cols - 12 >= 0]
        win, win_before = self.kwh[:, cols], self.kwh[:, cols - 12]
        usable = (~np.isnan(now) & (now > 0) & (before > 0) & (days_now > 0)
                  & (~np.isnan(win) & ~np.isnan(win_before)).all(1) & (np.nansum(win_before, 1) > 0))
        rate_now = np.where(usable, now / np.maximum(days_now, 1), 0)
        rate_before = np.where(usable, before / self.days[target - 12], 0)
        win_now, win_then = np.where(usable[:, None], win, 0).sum(1), np.where(usable[:, None], win_before, 0).sum(1)
        codes, index = np.unique(groups.astype(str), return_inverse=True)

        def group_sum(x: np.ndarray) -> np.ndarray:
            return np.bincount(index, x, len(codes))[index]

        with np.errstate(divide="ignore", invalid="ignore"):
            own = np.log((rate_now / rate_before) / (win_now / win_then))
            group = np.log((group_sum(rate_now) / group_sum(rate_before)) / (group_sum(win_now) / group_sum(win_then)))
        own = np.where(usable, own - group, np.nan)
        group = np.where(usable, group, np.nan)
        return group, own

    def factor(self, groups: np.ndarray, origin: int, horizon: int, live: bool) -> np.ndarray:
        """(n, H) multiplicative adjustment of the forecast months (1 where the power does not tell).
        A past origin (not `live`) has the power of its next month only: when that month's statistics
        were still to come, its power was in but the month after's was not. Months after the latest
        month with power in carry part of its group change (γ)."""
        out = np.ones((self.kwh.shape[0], horizon))
        latest: tuple[int, np.ndarray] | None = None  # (month ahead, group change) of the latest power in
        for h in range(1, horizon + 1):
            if live or h == 1:
                group, own = self.changes(groups, origin, origin + h, live)
                if np.isfinite(group).any():
                    out[:, h - 1] = self._bounded(np.exp(self.beta_group * group + self.beta_own * own))
                    latest = (h, group)
                    continue
            if latest is not None and 0 < h - latest[0] <= len(self.carry):
                out[:, h - 1] = self._bounded(np.exp(self.carry[h - latest[0] - 1] * latest[1]))
        return out

    def _bounded(self, adjust: np.ndarray) -> np.ndarray:
        """An adjustment where the power tells, 1 where it does not; never beyond max_adjustment
        either way (a meter read wrongly must not multiply a month's output by a hundred)."""
        return np.where(np.isfinite(adjust), np.clip(adjust, 1 / self.max_adjustment, self.max_adjustment), 1.0)


def _days_in(month: date) -> int:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return (nxt - month).days


def estimate(signal: PowerSignal, panel: Panel, forecasts: dict[int, np.ndarray], min_samples: int) -> PowerSignal:
    """β_group, β_own and the carry γ from past origins: `forecasts` maps an origin column to the
    plain forecast of its next months (n, H); the outcome is the panel's reported value."""
    xs, ys = [], []
    carried: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for origin, plain in forecasts.items():
        target = origin + 1
        if target > panel.last:
            continue
        group, own = signal.changes(panel.groups, origin, target, live=False)
        for k in range(plain.shape[1]):
            if origin + 1 + k > panel.last:
                break
            with np.errstate(divide="ignore", invalid="ignore"):
                surprise = np.log(panel.values[:, origin + 1 + k] / plain[:, k])
            keep = (np.isfinite(group) & np.isfinite(own) & np.isfinite(surprise) & (np.abs(surprise) < 2)
                    & (np.abs(own) < 2))
            if k == 0:
                xs.append(np.column_stack([group[keep], own[keep]]))
                ys.append(surprise[keep])
            else:
                later_x, later_y = carried.setdefault(k, ([], []))
                later_x.append(group[keep])
                later_y.append(surprise[keep])
    if not xs or sum(len(y) for y in ys) < min_samples:
        return signal
    x, y = np.vstack(xs), np.concatenate(ys)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    signal.beta_group, signal.beta_own = (float(np.clip(b, 0.0, 1.0)) for b in beta)
    carry = []
    for k in sorted(carried):
        x, y = np.concatenate(carried[k][0]), np.concatenate(carried[k][1])
        if len(x) < min_samples or not (x @ x) > 0:
            break
        carry.append(float(np.clip((x @ y) / (x @ x), 0.0, 1.0)))
    signal.carry = tuple(carry)
    return signal
