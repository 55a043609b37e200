"""The quantities the rules read: actuals of the marts plus the forecast's draws of the rest.

Creates temp tables on the engine's connection, each with a `scenario` column that is either a
draw number (1..N: the rules run on every simulated draw) or, for the reason traces, the name of a
representative scenario (`base`, `low`, `high`: per beneficiary, the draw at that quantile of its
own simulated amount; see engine.py):

* `scenarios(scenario)` — the scenarios of this evaluation;
* `q_enterprise(scenario, uscc, city_code, industry_group, is_difficult_industry, production_start,
  above_size_since, above_size_since_forecast (the entry into the statistics is the forecast's),
  q4_output, q4b_output, has_base, q3_output, ytd9_output, ytd9_base_output, fy_output,
  fy_base_output, fy_comparable and ytd9_comparable (both years' figures reach December, resp.
  September: reported or drawn), q3_known (September reported or drawn: Q3 and January–September
  are defined), q4_forecast_yuan)`: the enterprises, reported and still to come
  (new plants);
* `q_row_enterprise` — the same columns, plus a pseudo row per register or export row still to
  come (`q_row_pseudo`: its source enterprise's quantities under the row's pseudo key): what the
  schemes paying on such rows (M21, M22) judge a row's enterprise by;
* `q_project(scenario, project_code, uscc, city_code, industry_group, construction_type, start_month,
  start_month_forecast (the start is the forecast's), library_entry_month, tags,
  planned_investment_yuan, q4_investment, q4b_investment, equipment_since_start, equipment_in_year)`;
* `q_power(scenario, uscc, q4_kwh, q4b_kwh)`;
* `q_export(scenario, uscc, destination, q4_cny, last_export_month_before_quarter)`;
* `q_loans`, `q_applications`, `q_supply_links` — the register rows, per scenario (the rules
  count those dated in the policy quarter).

Actual quarter quantities come from the dbt marts (fct_enterprise_quarter, fct_project_quarter,
fct_power_quarter, fct_export_destination_quarter: reported so far); the forecast tables
(schema `forecast`, lib/forecast/draws.py) add the unreported part per draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb


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


def _per_draw(actuals: str, draws: str, keys: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """The rows of `actuals` once per scenario, with the `columns` of the forecast table `draws` in
    the scenarios where it has the entity (null where it has none: nothing left to forecast).

    The draws table (a row per draw and entity, millions) is joined to the actuals (one row per
    entity) rather than the actuals crossed with every scenario and then joined to it: the join
    builds its hash table on the small side (at province size 1.4 s -> 0.2 s for power)."""
    match = " and ".join(f"f.{k} = a.{k}" for k in keys)
    return f"""(select f.draw::integer as scenario, a.*, {', '.join(f'f.{c}' for c in columns)}
               from {draws} f join {actuals} a on {match}
               union all by name
               select sc.scenario, a.* from {actuals} a cross join scenarios sc
               where not exists (select 1 from {draws} f where {match}))"""


def build_draws(con: duckdb.DuckDBPyConnection, p: Periods, draws: int) -> None:
    """The quantities of every draw 1..draws."""
    con.execute(f"create or replace temp table scenarios as select range::integer as scenario from range(1, {draws + 1})")
    _actuals(con, p)
    enterprises = _per_draw("a_enterprise", "forecast.enterprise_draws", ("uscc",),
                            ("q4_output_fc", "q3_output_fc", "fy_output_fc"))
    con.execute(f"""
        create or replace temp table q_enterprise as
        select a.scenario, a.uscc, a.city_code, a.industry_group, a.is_difficult_industry, a.production_start,
               coalesce(a.above_size_since, s.above_size_since::date) as above_size_since,
               a.above_size_since is null and s.above_size_since is not null as above_size_since_forecast,
               (a.q4_output + coalesce(a.q4_output_fc, 0))::decimal(18, 2) as q4_output,
               a.q4b_output, a.has_base,
               (a.q3_output + coalesce(a.q3_output_fc, 0))::decimal(18, 2) as q3_output,
               (a.ytd9_output + coalesce(a.q3_output_fc, 0))::decimal(18, 2) as ytd9_output,
               a.ytd9_base_output,
               (a.ytd_output + coalesce(a.fy_output_fc, 0))::decimal(18, 2) as fy_output,
               a.fy_base_output,
               a.fy_known and a.fy_base_reported as fy_comparable, a.q3_known,
               a.q3_known and a.ytd9_base_reported as ytd9_comparable,
               coalesce(a.q4_output_fc, 0) as q4_forecast_yuan
        from {enterprises} a
        -- entries into the above-size statistics still to come (入统)
        left join forecast.scale_entries s on s.uscc = a.uscc and s.draw = a.scenario
        union all by name
        -- enterprises that will first report later in the quarter (no base: new plants)
        select draw as scenario, uscc, city_code, industry_group, is_difficult_industry, production_start,
               above_size_since, q4_output::decimal(18, 2) as q4_output, 0::decimal(18, 2) as q4b_output,
               false as has_base, 0::decimal(18, 2) as q3_output, 0::decimal(18, 2) as ytd9_output,
               0::decimal(18, 2) as ytd9_base_output, q4_output::decimal(18, 2) as fy_output,
               0::decimal(18, 2) as fy_base_output, false as fy_comparable, false as q3_known, false as ytd9_comparable,
               q4_output::decimal(18, 2) as q4_forecast_yuan
        from forecast.new_enterprises
    """)
    # A register row still to come is its own pseudo beneficiary, judged by the quantities of the
    # enterprise whose row it was resampled from, in the same draw. Only the schemes that pay on
    # such rows see it (through q_row_enterprise): a loan still to come is no second enterprise
    # with its own output growth, as it was until 2026-12-04, when those pseudo beneficiaries were
    # in q_enterprise and M02 paid each the award of the enterprise its row came from.
    from dagster_project.lib.forecast.draws import PSEUDO  # draws reads this module's latest_delivered_month

    con.execute(f"""
        create or replace temp table q_row_pseudo as
        select n.scenario, n.uscc, q.* exclude (scenario, uscc)
        from (select distinct draw as scenario, uscc, source_uscc from forecast.new_loans
              union select distinct draw, uscc, source_uscc from forecast.new_applications
              union select distinct draw, uscc, source_uscc from forecast.new_supply_links
              union select distinct draw, uscc, source_uscc from forecast.new_export_destinations
                    where starts_with(uscc::varchar, '{PSEUDO}')) n
        join q_enterprise q on q.uscc = n.source_uscc and q.scenario = n.scenario
    """)
    con.execute("""
        create or replace temp view q_row_enterprise as
        select * from q_enterprise union all by name select * from q_row_pseudo
    """)
    projects = _per_draw("a_project", "forecast.project_draws", ("project_code",), ("q4_investment_fc", "equipment_fc"))
    con.execute(f"""
        create or replace temp table q_project as
        select a.scenario, a.project_code, a.uscc, a.city_code, a.industry_group, a.construction_type,
               coalesce(a.start_month, s.start_month::date) as start_month,
               a.start_month is null and s.start_month is not null as start_month_forecast,
               a.library_entry_month, a.tags, a.planned_investment_yuan,
               (a.q4_investment + coalesce(a.q4_investment_fc, 0))::decimal(18, 2) as q4_investment,
               a.q4b_investment,
               (a.equipment_since_start + case when a.start_month is not null
                    then coalesce(a.equipment_fc, 0) else 0 end)::decimal(18, 2) as equipment_since_start,
               (a.equipment_in_year + coalesce(a.equipment_fc, 0))::decimal(18, 2) as equipment_in_year
        from {projects} a
        -- projects of the library that start in a month not delivered yet
        left join forecast.project_starts s on s.project_code = a.project_code and s.draw = a.scenario
        union all by name
        -- projects that will first report later in the quarter
        select draw as scenario, project_code, uscc, city_code, industry_group, construction_type, start_month,
               false as start_month_forecast, library_entry_month, tags, planned_investment_yuan,
               q4_investment::decimal(18, 2) as q4_investment, 0::decimal(18, 2) as q4b_investment,
               equipment::decimal(18, 2) as equipment_since_start, equipment::decimal(18, 2) as equipment_in_year
        from forecast.new_projects
    """)
    power = _per_draw("a_power", "forecast.power_draws", ("uscc",), ("q4_kwh_fc",))
    con.execute(f"""
        create or replace temp table q_power as
        select a.scenario, a.uscc, (a.q4_kwh + coalesce(a.q4_kwh_fc, 0))::decimal(18, 3) as q4_kwh, a.q4b_kwh
        from {power} a
    """)
    exports = _per_draw("a_export", "forecast.export_draws", ("uscc", "destination"), ("q4_cny_fc",))
    con.execute(f"""
        create or replace temp table q_export as
        select a.scenario, a.uscc, a.destination,
               (a.q4_cny + coalesce(a.q4_cny_fc, 0))::decimal(18, 2) as q4_cny,
               a.last_export_month_before_quarter
        from {exports} a
        union all by name
        -- destinations that will first be served in the quarter's unreported months
        select draw as scenario, uscc, destination, q4_cny::decimal(18, 2) as q4_cny,
               null::date as last_export_month_before_quarter
        from forecast.new_export_destinations
    """)
    for table in ("loans", "applications", "supply_links"):
        con.execute(f"""create or replace temp table q_{table} as
                        select sc.scenario, r.* from a_{table} r cross join scenarios sc
                        union all by name
                        select draw as scenario, * exclude (draw, source_uscc) from forecast.new_{table}""")


def build_representative(con: duckdb.DuckDBPyConnection) -> None:
    """Relabel the draw quantities by the temp table `representative(scenario, kind, key, draw)`: per
    scenario and entity (kind `enterprise` keyed by USCC, `project` by project code), the draw to show."""
    con.execute("create or replace temp table scenarios as select distinct scenario from representative order by scenario")
    mapping = {
        "q_enterprise": ("enterprise", "uscc"),
        "q_row_pseudo": ("enterprise", "uscc"),
        "q_power": ("enterprise", "uscc"),
        "q_export": ("enterprise", "uscc"),
        "q_loans": ("enterprise", "uscc"),
        "q_applications": ("enterprise", "uscc"),
        "q_supply_links": ("enterprise", "uscc"),
        "q_project": ("project", "project_code"),
    }
    for table, (kind, key) in mapping.items():
        con.execute(f"""
            create or replace temp table {table} as
            select r.scenario, q.* exclude (scenario)
            from {table} q join representative r
              on r.kind = '{kind}' and r.key = q.{key} and r.draw = q.scenario
        """)


def _actuals(con, p: Periods) -> None:
    """Per entity: what the marts report for the policy quarter, its base quarter and the year."""
    q4, q4b, q3 = f"date '{p.q4_start}'", f"date '{p.base_q4_start}'", f"date '{p.q3_start}'"
    december, september = p.year_end_month, p.q3_last_month
    con.execute(f"""
        create or replace temp table a_enterprise as
        with q as (select * from marts.fct_enterprise_quarter),
        ytd as (
            select uscc, arg_max(output_ytd_yuan, month) as ytd_now
            from marts.fct_enterprise_month where month >= date '{p.year_start}' and month <= date '{p.q4_end}'
            group by uscc
        ),
        -- the years' cumulative figures compare like with like only at the same month: an
        -- enterprise that left the statistics in June has half a year against a whole one
        span_ends as (
            select uscc,
                   bool_or(month = date '{december}') as fy_reported,
                   bool_or(month = date '{december.replace(year=december.year - 1)}') as fy_base_reported,
                   bool_or(month = date '{september}') as ytd9_reported,
                   bool_or(month = date '{september.replace(year=september.year - 1)}') as ytd9_base_reported
            from marts.fct_enterprise_month group by uscc
        ),
        -- ... or where the forecast draws that month (the enterprise is still reporting)
        forecast_ends as (
            select key as uscc, bool_or(month::date = date '{december}') as fy_drawn,
                   bool_or(month::date = date '{september}') as ytd9_drawn
            from forecast.months where series = 'output' group by key
        )
        select e.uscc, e.city_code, e.industry_group, e.is_difficult_industry, e.production_start, e.above_size_since,
               coalesce(cur.output_yuan, 0)::decimal(18, 2) as q4_output,
               coalesce(cur.base_output_yuan, base.output_yuan, 0)::decimal(18, 2) as q4b_output,
               -- the mart's has_base, from the base quarter itself where the policy quarter has no row yet
               coalesce(cur.has_base, base.serves_as_base, false) as has_base,
               coalesce(q3.output_yuan, 0)::decimal(18, 2) as q3_output,
               coalesce(q3.output_ytd_yuan, 0)::decimal(18, 2) as ytd9_output,
               coalesce(q3.base_output_ytd_yuan, 0)::decimal(18, 2) as ytd9_base_output,
               coalesce(ytd.ytd_now, 0)::decimal(18, 2) as ytd_output,
               coalesce(cur.base_output_ytd_yuan, base.output_ytd_yuan, 0)::decimal(18, 2) as fy_base_output,
               (coalesce(ends.fy_reported, false) or coalesce(drawn.fy_drawn, false)) as fy_known,
               coalesce(ends.fy_base_reported, false) as fy_base_reported,
               (coalesce(ends.ytd9_reported, false) or coalesce(drawn.ytd9_drawn, false)) as q3_known,
               coalesce(ends.ytd9_base_reported, false) as ytd9_base_reported
        from marts.dim_enterprise e
        left join q cur on cur.uscc = e.uscc and cur.quarter_start = {q4}
        left join q base on base.uscc = e.uscc and base.quarter_start = {q4b}
        left join q q3 on q3.uscc = e.uscc and q3.quarter_start = {q3}
        left join ytd on ytd.uscc = e.uscc
        left join span_ends ends on ends.uscc = e.uscc
        left join forecast_ends drawn on drawn.uscc = e.uscc
    """)
    con.execute(f"""
        create or replace temp table a_project as
        with latest as (
            -- equipment since the start and in the year, through the latest quarter reported so far
            select project_code, arg_max(equipment_since_start_yuan, quarter_start) as since_start,
                   arg_max(case when year = {p.q4_start.year} then equipment_ytd_yuan end, quarter_start) as in_year
            from marts.fct_project_quarter where quarter_start <= {q4}
            group by project_code
        )
        select d.project_code, d.uscc, d.city_code, d.industry_group, d.construction_type, d.start_month,
               d.library_entry_month, d.tags, d.planned_investment_yuan,
               coalesce(cur.investment_yuan, 0)::decimal(18, 2) as q4_investment,
               coalesce(base.investment_yuan, 0)::decimal(18, 2) as q4b_investment,
               coalesce(latest.since_start, 0)::decimal(18, 2) as equipment_since_start,
               coalesce(latest.in_year, 0)::decimal(18, 2) as equipment_in_year
        from marts.dim_project d
        left join marts.fct_project_quarter cur on cur.project_code = d.project_code and cur.quarter_start = {q4}
        left join marts.fct_project_quarter base on base.project_code = d.project_code and base.quarter_start = {q4b}
        left join latest on latest.project_code = d.project_code
    """)
    con.execute(f"""
        create or replace temp table a_power as
        select uscc,
               coalesce(sum(kwh) filter (where quarter_start = {q4}), 0)::decimal(18, 3) as q4_kwh,
               coalesce(sum(kwh) filter (where quarter_start = {q4b}), 0)::decimal(18, 3) as q4b_kwh
        from marts.fct_power_quarter
        group by uscc
    """)
    con.execute(f"""
        create or replace temp table a_export as
        select uscc, destination, value_cny_yuan as q4_cny, last_export_month_before_quarter
        from marts.fct_export_destination_quarter where quarter_start = {q4}
    """)
    # Every register row: a row outside the quarter still makes an evaluation (with its reason: 不符合).
    for table in ("loans", "applications", "supply_links"):
        con.execute(f"create or replace temp table a_{table} as select * from marts.fct_{table}")
