"""The quantities the rules read, per scenario: actuals plus forecasts of what has not arrived.

Creates temp tables on the engine's connection:

* `q_enterprise(scenario, uscc, q4_output, q4b_output, has_base, q3_output,
  ytd9_output, ytd9_base_output, fy_output, fy_base_output, q4_forecast_yuan)`
* `q_project(scenario, project_code, q4_investment, q4b_investment,
  equipment_since_start, equipment_in_year)`
* `q_power(scenario, uscc, q4_kwh, q4b_kwh)`
* `q_export(scenario, uscc, destination, q4_cny, last_export_month_before_quarter)`

A month counts as delivered when its feed's arrival date is on or before the
as-of date (stats on the 15th of the next month, customs on the 10th, power
day by day); delivered months are actuals, the rest of the year is forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from dagster_project.lib.ingest import customs as customs_feed
from dagster_project.lib.ingest import stats as stats_feed

from .forecast import SeriesForecast, forecast_months

# When a forecast has no in-sample errors to learn its spread from (too little history).
FALLBACK_SPREAD = 0.2
# Exports to a new destination have no seasonal history: the range is a plain ± share of the forecast part.
EXPORT_FORECAST_SPREAD = 0.5
# Days of daily power in a month before its run-rate is used as the early signal for output.
MIN_POWER_DAYS_FOR_SIGNAL = 7


@dataclass(frozen=True)
class Periods:
    as_of: date
    year_start: date  # 2024-01-01
    q4_start: date
    q4_end: date
    base_q4_start: date
    q3_start: date

    @property
    def q3_last_month(self) -> date:
        """September: the month whose cumulative values are Jan–Sep."""
        return date(self.q3_start.year, self.q3_start.month + 2, 1)

    @property
    def year_end_month(self) -> date:
        return date(self.q4_end.year, 12, 1)


def latest_delivered_month(as_of: date, arrival_day: int) -> date:
    """The latest month whose monthly delivery has arrived by `as_of`."""
    year, month = as_of.year, as_of.month - (1 if as_of.day >= arrival_day else 2)
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def build(con: duckdb.DuckDBPyConnection, periods: Periods) -> None:
    stats_month = latest_delivered_month(periods.as_of, stats_feed.ARRIVAL_DAY)
    customs_month = latest_delivered_month(periods.as_of, customs_feed.EXPORT.arrival_day)
    _enterprise(con, periods, stats_month)
    _projects(con, periods, stats_month)
    _power(con, periods)
    _exports(con, periods, customs_month)


def _scenarios_sql() -> str:
    return "(values ('base'), ('low'), ('high')) sc(scenario)"


def _targets(series: str, key: str, periods: Periods, delivered: date, extra_where: str = "") -> str:
    """Months after each key's last report, up to December, not delivered yet — only for keys that
    reported the latest delivered month (a key that stopped reporting is not forecast)."""
    return f"""
        with last as (
            select {key} as key, max(month) as last_reported from {series} group by 1
        )
        select last.key, m.month::date as month, last.last_reported
        from last
        cross join generate_series(date '{delivered}' + interval 1 month, date '{periods.year_end_month}',
                                   interval 1 month) m(month)
        where last.last_reported = date '{delivered}' {extra_where}
    """


def _enterprise(con, p: Periods, delivered: date) -> None:
    forecast_months(
        con,
        SeriesForecast(
            name="output",
            series_sql="select uscc as key, month, output_month_yuan::double as value from marts.fct_enterprise_month",
            targets_sql=_targets("marts.fct_enterprise_month", "uscc", p, delivered),
        ),
        p.year_start,
        FALLBACK_SPREAD,
    )
    # Early signal: where a month has daily power but no report yet, its power run-rate against
    # the same month last year replaces the trend ratio.
    con.execute(
        f"""
        update fc_output f set
            base = sig.base_output * sig.ratio,
            low = sig.base_output * sig.ratio * (f.low / nullif(f.base, 0)),
            high = sig.base_output * sig.ratio * (f.high / nullif(f.base, 0))
        from (
            select cur.uscc, cur.month, bo.output_month_yuan::double as base_output,
                   (cur.kwh::double / cur.days_with_reading) / (prev.kwh::double / prev.days_in_month) as ratio
            from marts.fct_power_month cur
            join marts.fct_power_month prev on prev.uscc = cur.uscc and prev.month = cur.month - interval 12 month
            join marts.fct_enterprise_month bo on bo.uscc = cur.uscc and bo.month = cur.month - interval 12 month
            where cur.days_with_reading >= {MIN_POWER_DAYS_FOR_SIGNAL} and prev.kwh > 0
              and prev.days_with_reading = prev.days_in_month and bo.output_month_yuan > 0
        ) sig
        where f.key = sig.uscc and f.month = sig.month and f.base > 0
        """
    )
    con.execute(
        f"""
        create or replace temp table q_enterprise as
        with q as (select * from marts.fct_enterprise_quarter),
        fc as (
            select key as uscc, sc.scenario,
                   sum(case when month >= date '{p.q4_start}' then
                       case sc.scenario when 'base' then base when 'low' then low else high end end) as q4_fc,
                   sum(case sc.scenario when 'base' then base when 'low' then low else high end) as year_fc
            from fc_output cross join {_scenarios_sql()}
            group by all
        ),
        ytd as (
            select uscc, arg_max(output_ytd_yuan, month) as ytd_now
            from marts.fct_enterprise_month where month >= date '{p.year_start}' group by uscc
        )
        select sc.scenario, e.uscc,
               (coalesce(q4.output_yuan, 0) + coalesce(fc.q4_fc, 0)::decimal(18, 2))::decimal(18, 2) as q4_output,
               coalesce(q4.base_output_yuan, q4b.output_yuan, 0)::decimal(18, 2) as q4b_output,
               coalesce(q4.base_output_yuan, q4b.output_yuan, 0) > 0 as has_base,
               coalesce(q3.output_yuan, 0)::decimal(18, 2) as q3_output,
               coalesce(q3.output_ytd_yuan, 0)::decimal(18, 2) as ytd9_output,
               coalesce(q3.base_output_ytd_yuan, 0)::decimal(18, 2) as ytd9_base_output,
               (coalesce(ytd.ytd_now, 0) + coalesce(fc.year_fc, 0)::decimal(18, 2))::decimal(18, 2) as fy_output,
               coalesce(q4.base_output_ytd_yuan, q4b.output_ytd_yuan, 0)::decimal(18, 2) as fy_base_output,
               coalesce(fc.q4_fc, 0)::decimal(18, 2) as q4_forecast_yuan
        from marts.dim_enterprise e
        cross join {_scenarios_sql()}
        left join q q4 on q4.uscc = e.uscc and q4.quarter_start = date '{p.q4_start}'
        left join q q4b on q4b.uscc = e.uscc and q4b.quarter_start = date '{p.base_q4_start}'
        left join q q3 on q3.uscc = e.uscc and q3.quarter_start = date '{p.q3_start}'
        left join fc on fc.uscc = e.uscc and fc.scenario = sc.scenario
        left join ytd on ytd.uscc = e.uscc
        """
    )


def _projects(con, p: Periods, delivered: date) -> None:
    active = "and not exists (select 1 from marts.dim_project d where d.project_code = last.key and d.completion_month <= last.last_reported)"
    for name, column in (("investment", "investment_yuan"), ("equipment", "equipment_yuan")):
        forecast_months(
            con,
            SeriesForecast(
                name=name,
                series_sql=f"select project_code as key, month, {column}::double as value from marts.fct_project_month",
                targets_sql=_targets("marts.fct_project_month", "project_code", p, delivered, active),
            ),
            p.year_start,
            FALLBACK_SPREAD,
        )
    pick = "case sc.scenario when 'base' then base when 'low' then low else high end"
    con.execute(
        f"""
        create or replace temp table q_project as
        with fc_inv as (
            select key, sc.scenario, sum(case when month >= date '{p.q4_start}' then {pick} end) as q4_fc
            from fc_investment cross join {_scenarios_sql()} group by all
        ),
        fc_eq as (
            select key, sc.scenario, sum(case when month <= date '{p.q4_end}' then {pick} end) as fc
            from fc_equipment cross join {_scenarios_sql()} group by all
        ),
        actual as (
            select project_code,
                   sum(case when month between date '{p.q4_start}' and date '{p.q4_end}' then investment_yuan else 0 end) as q4_inv,
                   sum(case when month between date '{p.base_q4_start}' and date '{p.base_q4_start}' + interval 2 month
                            then investment_yuan else 0 end) as q4b_inv,
                   sum(case when month <= date '{p.q4_end}' then equipment_yuan else 0 end) as eq_to_q4_end,
                   sum(case when month between date '{p.year_start}' and date '{p.q4_end}' then equipment_yuan else 0 end) as eq_year
            from marts.fct_project_month group by project_code
        )
        select sc.scenario, d.project_code,
               (coalesce(a.q4_inv, 0) + coalesce(fi.q4_fc, 0)::decimal(18, 2))::decimal(18, 2) as q4_investment,
               coalesce(a.q4b_inv, 0)::decimal(18, 2) as q4b_investment,
               (coalesce(a.eq_to_q4_end, 0) + coalesce(fe.fc, 0)::decimal(18, 2))::decimal(18, 2) as equipment_since_start,
               (coalesce(a.eq_year, 0) + coalesce(fe.fc, 0)::decimal(18, 2))::decimal(18, 2) as equipment_in_year
        from marts.dim_project d
        cross join {_scenarios_sql()}
        left join actual a on a.project_code = d.project_code
        left join fc_inv fi on fi.key = d.project_code and fi.scenario = sc.scenario
        left join fc_eq fe on fe.key = d.project_code and fe.scenario = sc.scenario
        """
    )


def _power(con, p: Periods) -> None:
    # Complete months feed the seasonal forecast; a month read only in part is run-rated.
    last_day = "last_day(month)"
    forecast_months(
        con,
        SeriesForecast(
            name="kwh",
            series_sql=f"select uscc as key, month, kwh::double as value from marts.fct_power_month where last_reading_date = {last_day}",
            targets_sql=f"""
                with last as (
                    select uscc as key, max(month) as last_reported from marts.fct_power_month
                    where last_reading_date = {last_day} group by 1
                )
                select last.key, m.month::date as month, last.last_reported
                from last cross join generate_series(last.last_reported + interval 1 month,
                                                     date '{p.year_end_month}', interval 1 month) m(month)
                where date_trunc('month', date '{p.as_of}') - interval 2 month <= last.last_reported
                  and m.month <= date '{p.q4_end}' and last_day(m.month::date) >= date '{p.as_of}'
            """,
        ),
        p.year_start,
        FALLBACK_SPREAD,
    )
    con.execute(
        """
        update fc_kwh f set
            base = pm.kwh::double / pm.days_with_reading * pm.days_in_month,
            low = pm.kwh::double / pm.days_with_reading * pm.days_in_month * (f.low / nullif(f.base, 0)),
            high = pm.kwh::double / pm.days_with_reading * pm.days_in_month * (f.high / nullif(f.base, 0))
        from marts.fct_power_month pm
        where pm.uscc = f.key and pm.month = f.month and pm.days_with_reading > 0
        """
    )
    pick = "case sc.scenario when 'base' then base when 'low' then coalesce(low, base) else coalesce(high, base) end"
    con.execute(
        f"""
        create or replace temp table q_power as
        with fc as (
            select key as uscc, sc.scenario, sum({pick}) as q4_fc
            from fc_kwh cross join {_scenarios_sql()} group by all
        ),
        actual as (
            select uscc,
                   sum(case when quarter_start = date '{p.q4_start}' and last_reading_date = last_day(month) then kwh else 0 end) as q4,
                   sum(case when quarter_start = date '{p.base_q4_start}' then kwh else 0 end) as q4b
            from marts.fct_power_month group by uscc
        )
        select sc.scenario, a.uscc,
               (a.q4 + coalesce(fc.q4_fc, 0)::decimal(18, 3))::decimal(18, 3) as q4_kwh,
               a.q4b::decimal(18, 3) as q4b_kwh
        from actual a cross join {_scenarios_sql()}
        left join fc on fc.uscc = a.uscc and fc.scenario = sc.scenario
        """
    )


def _exports(con, p: Periods, delivered: date) -> None:
    """Q4 exports per enterprise and destination; months not delivered yet are forecast at the
    quarter's monthly rate so far (new destinations have no seasonal history to go by)."""
    q4_months = [date(p.q4_start.year, p.q4_start.month + i, 1) for i in range(3)]
    reported = sum(m <= delivered for m in q4_months)
    missing = len(q4_months) - reported
    factor = {"base": 1.0, "low": 1 - EXPORT_FORECAST_SPREAD, "high": 1 + EXPORT_FORECAST_SPREAD}
    forecast = f"x.value_cny_yuan / {reported} * {missing}" if reported and missing else "0"
    con.execute(
        f"""
        create or replace temp table q_export as
        select sc.scenario, x.uscc, x.destination,
               (x.value_cny_yuan + {forecast} * case sc.scenario when 'base' then {factor['base']}
                    when 'low' then {factor['low']} else {factor['high']} end)::decimal(18, 2) as q4_cny,
               x.last_export_month_before_quarter
        from marts.fct_export_destination_quarter x cross join {_scenarios_sql()}
        where x.quarter_start = date '{p.q4_start}'
        """
    )
