"""Forecast the months of a quarter that have not been reported yet.

Method (explained in docs/forecast.md), per entity (enterprise, project, ...):

* seasonal ratio: value(m) = value(m − 12 months) × ratio, where ratio is the
  sum of the entity's last three reported months over the same three months a
  year earlier — last year's seasonality carried by this year's trend;
* where that is not possible (no history a year back), the mean of the last
  three reported months times the seasonal step that the entities with a year of
  history share (e.g. the year-end push of investment in Q4);
* an early signal may replace the ratio for a month (daily power for output).

The spread comes from the method's own errors: the same forecast is replayed
in-sample on every month already reported this year, at horizons 1..3
months, and the 10th and 90th percentiles of the relative error per horizon
turn the base forecast into the `low` and `high` scenarios. Once every month
is reported there is nothing to forecast and the three scenarios coincide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

SCENARIOS = ("base", "low", "high")
# Percentiles of the in-sample relative error that bound the range.
LOW_QUANTILE = 0.9  # a forecast that overshoots by the 90th-percentile error gives the low case
HIGH_QUANTILE = 0.1
MIN_ERRORS_FOR_QUANTILES = 30
HISTORY_MONTHS = 3


@dataclass(frozen=True)
class SeriesForecast:
    """Names the temp table of monthly values to forecast and what to forecast."""

    name: str  # output table: fc_<name>(key, month, horizon, base, low, high)
    series_sql: str  # select key, month (DATE), value from ... — reported months only
    targets_sql: str  # select key, month, last_reported — months to forecast per key


def forecast_months(con: duckdb.DuckDBPyConnection, fc: SeriesForecast, year_start: date,
                    fallback_spread: float) -> None:
    """Create temp table fc_<name>(key, month, horizon, base, low, high) with DOUBLE values."""
    con.execute(f"create or replace temp table s_{fc.name} as {fc.series_sql}")
    con.execute(f"create or replace temp table t_{fc.name} as {fc.targets_sql}")
    # Relative errors of the method replayed in-sample on this year's reported months.
    con.execute(
        f"""
        create or replace temp table e_{fc.name} as
        with origins as (
            select s.key, s.month as target, h.horizon,
                   s.month - to_months(h.horizon) as origin, s.value as actual
            from s_{fc.name} s cross join range(1, 4) h(horizon)
            where s.month >= $year_start and s.value > 0
        ),
        ratio as (
            select o.key, o.target, o.horizon, o.actual,
                   sum(cur.value) / nullif(sum(prev.value), 0) as ratio
            from origins o
            join s_{fc.name} cur on cur.key = o.key
                 and cur.month between o.origin - to_months({HISTORY_MONTHS - 1}) and o.origin
            left join s_{fc.name} prev on prev.key = o.key and prev.month = cur.month - to_months(12)
            group by all
            having count(prev.value) = {HISTORY_MONTHS}
        )
        select r.horizon, (b.value * r.ratio) / r.actual - 1 as rel_error
        from ratio r
        join s_{fc.name} b on b.key = r.key and b.month = r.target - to_months(12)
        where r.ratio is not null and b.value > 0
        """,
        {"year_start": year_start},
    )
    con.execute(
        f"""
        create or replace temp table q_{fc.name} as
        select h.horizon,
               coalesce(case when count(e.rel_error) >= {MIN_ERRORS_FOR_QUANTILES}
                             then quantile_cont(e.rel_error, {LOW_QUANTILE}) end, $spread) as over,
               coalesce(case when count(e.rel_error) >= {MIN_ERRORS_FOR_QUANTILES}
                             then quantile_cont(e.rel_error, {HIGH_QUANTILE}) end, -$spread) as under
        from range(1, 4) h(horizon) left join e_{fc.name} e on e.horizon = h.horizon
        group by h.horizon
        """,
        {"spread": fallback_spread},
    )
    con.execute(
        f"""
        create or replace temp table fc_{fc.name} as
        with history as (
            select t.key, t.month, t.last_reported,
                   sum(cur.value) / nullif(sum(prev.value), 0) as ratio,
                   count(prev.value) as prev_months,
                   sum(prev.value) as prev_sum,
                   avg(cur.value) as recent_mean
            from t_{fc.name} t
            left join s_{fc.name} cur on cur.key = t.key
                 and cur.month between t.last_reported - to_months({HISTORY_MONTHS - 1}) and t.last_reported
            left join s_{fc.name} prev on prev.key = t.key and prev.month = cur.month - to_months(12)
            group by all
        ),
        pooled as (
            -- The seasonal step shared by the entities that have a year of history: the target month a
            -- year ago over the mean of the three months before the latest report a year ago.
            select h.month, h.last_reported, sum(b.value) / nullif(sum(h.prev_sum) / {HISTORY_MONTHS}, 0) as factor
            from history h
            join s_{fc.name} b on b.key = h.key and b.month = h.month - to_months(12)
            where h.prev_months = {HISTORY_MONTHS}
            group by h.month, h.last_reported
        ),
        point as (
            select h.key, h.month,
                   least(greatest(datediff('month', h.last_reported, h.month), 1), 3) as horizon,
                   case when h.prev_months = {HISTORY_MONTHS} and h.ratio is not null and b.value is not null
                        then b.value * h.ratio
                        else coalesce(h.recent_mean, 0) * coalesce(pooled.factor, 1) end as base
            from history h
            left join s_{fc.name} b on b.key = h.key and b.month = h.month - to_months(12)
            left join pooled on pooled.month = h.month and pooled.last_reported = h.last_reported
        )
        select p.key, p.month, p.horizon, greatest(p.base, 0) as base,
               greatest(p.base, 0) / (1 + q.over) as low,
               greatest(p.base, 0) / greatest(1 + q.under, 0.05) as high
        from point p join q_{fc.name} q using (horizon)
        """
    )


def error_quantiles(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[int, float, float]]:
    """(horizon, over, under) quantiles used for one series — for the docs and the run log."""
    return con.execute(f"select horizon, over, under from q_{name} order by horizon").fetchall()
