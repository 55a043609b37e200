"""KPI targets -> marts.policy_kpis: every KPI of the catalogue, plus one row per measure
that has no quantified indicator (qualitative measures, monitoring lists).

The catalogue defines a KPI that counts mart rows (`count`: columns matched to category
parameters, a tag the rows carry, a date window) or an industry group's output growth
(`industry_group`); this module interprets those definitions. The KPIs read from the forecast's
draws or from the monitoring lists are written here (`_computed_sql`), as the catalogue's
declarative forms cannot say them.

Every KPI is computed on every simulated draw (a count: the rows so far plus the draw's rows still
to come, FORECAST_ROWS); its actual value is the median over the draws (the forecast while the
quarter is open, the actual once it is reported).
Units: counts in 家/项/个, money in 亿元, growth in % (8.5 means 8.5%).
"""

from __future__ import annotations

import statistics

from .lists import LISTS, members
from dagster_project.lib.ingest.stats import ARRIVAL_DAY as STATS_ARRIVAL_DAY

from .catalogue import COUNTED_ROWS, KpiCount
from .quantities import latest_delivered_month
from .rules import RuleContext, as_percent, matches, tagged, wide, yi

NO_TARGET = "无量化指标"


def _per_draw(condition: str, value: str = "count(q.uscc)::double", table: str = "q_enterprise") -> str:
    """(scenario, value) for every draw, also where no row meets `condition`."""
    return f"""
        select sc.scenario, {value} as value
        from scenarios sc left join (select * from {table} q where {condition}) q on q.scenario = sc.scenario
        group by sc.scenario
    """


def _group_growths(con, execute, binds: dict, span: str) -> dict[str, list[tuple]]:
    """Per industry group, (scenario, Σ policy year / Σ year before − 1 in %) of every draw, for
    `span` fy (the year) or ytd9 (January–September), over enterprises reporting in both years
    (comparable basis: both years' cumulative figures reach the span's last month, reported or
    drawn; an enterprise that left the statistics in June is not compared, half a year against a
    whole one; one that reported all year with an output of 0 is, as MEASURES.md says), in one pass over every draw's quantities (a query per group read them all again for
    each of the catalogue's 16 group KPIs and targets). A draw where a group has no comparable
    enterprise has no row: its growth is undefined."""
    rows = execute(con, f"""
        select e.industry_group, q.scenario,
               {as_percent(f"sum(q.{span}_output) / nullif(sum(q.{span}_base_output), 0) - 1")} as value
        from q_enterprise q join marts.dim_enterprise e on e.uscc = q.uscc
        where q.{span}_comparable
        group by all
    """, binds).fetchall()
    growths: dict[str, list[tuple]] = {}
    for group, scenario, value in rows:
        growths.setdefault(group, []).append((scenario, value))
    return growths


# Per kind of counted rows (catalogue.COUNTED_ROWS), the rows the forecast adds in each draw, with
# the columns a count's definition may name: recognitions the register will still get, projects
# that will first report (enter the library) later in the quarter, enterprises that will enter the
# above-size statistics in a month not delivered yet (candidates reporting now, and new plants).
# Their keys are pseudo keys or enterprises not counted so far, so a draw's count is the count so
# far plus theirs. Once the quarter is reported the forecast tables are empty.
FORECAST_ROWS = {
    "recognitions": """select draw, list_category, level, recognition_type, recognised_on, uscc, name
                       from forecast.new_recognitions""",
    "projects": """select draw, project_code, construction_type, library_entry_month, start_month, tags
                   from forecast.new_projects""",
    "enterprises": """select s.draw, s.uscc, s.above_size_since::date as above_size_since, e.production_start
                      from forecast.scale_entries s join marts.dim_enterprise e using (uscc)
                      union all by name
                      select draw, uscc, above_size_since::date as above_size_since, production_start
                      from forecast.new_enterprises""",
}


def _count(ctx: RuleContext, count: KpiCount) -> str:
    """SQL of (scenario, value) of a counting KPI in every draw: the rows dated in the window so
    far (registers, library entries, entries into the statistics) plus the draw's rows still to
    come. OUTPUTS.md: `actual_value` is the forecast while the quarter is open. Counted so far only
    (before docs/decisions.md's "KPI counts while the quarter is open"), a sixth data process's
    entries into the statistics read none in early November, and its status judged the count so
    far as if it were the quarter's forecast."""
    table, _, counted = COUNTED_ROWS[count.rows]
    where = [matches(ctx, column, pid) for column, pid in count.match.items()]
    where += [tagged(ctx, count.tagged)] if count.tagged else []
    where.append(f"{count.dated.column} between {_bound(ctx, count.dated.start)} and {_bound(ctx, count.dated.end)}")
    where += [f"{column} >= {_bound(ctx, pid)}" for column, pid in count.since.items()]
    condition = " and ".join(where)
    return f"""
        select sc.scenario,
               (select count(distinct {counted}) from {table} where {condition})::double + coalesce(n.added, 0) as value
        from scenarios sc
        left join (select draw, count(distinct {counted}) as added from ({FORECAST_ROWS[count.rows]})
                   where {condition} group by draw) n on n.draw = sc.scenario
    """


def _bound(ctx: RuleContext, name: str) -> str:
    """A window bound: the policy year's start, the quarter's start or end, or a month parameter's first day."""
    p = ctx.periods
    periods = {"year_start": p.year_start, "quarter_start": p.q4_start, "quarter_end": p.q4_end}
    if name in periods:
        return f"date '{periods[name]}'"
    return f"strptime({ctx.p(name)}, '%Y%m')::date"


def _computed_sql(ctx: RuleContext) -> dict[str, str]:
    """The KPIs the catalogue cannot define declaratively: conditions on every forecast draw of the
    quantities, over the members of a monitoring list (M01), and a forecast sum (M14)."""
    return {
        "M01.expand": _per_draw(f"q.has_base and q.q4_output > q.q4b_output and q.uscc in {members('M01.list_positive')}"),
        # Q3 needs September's cumulative (a span's missing end is no 0): an enterprise first
        # reporting in Q4 has no Q3 to have grown from, as measure 33's list has no Jan–Sep for it
        "M01.ramp_up": _per_draw(f"q.q3_known and q.q4_output >= q.q3_output "
                                 f"and q.uscc in {members('M01.list_new_production')} "
                                 f"and q.uscc in (select uscc from marts.dim_enterprise where is_above_size)"),
        "M01.turnaround": _per_draw(f"q.has_base and q.ytd9_base_output > 0 "
                                    f"and {wide('q.q4_output')} * q.ytd9_base_output > {wide('q.ytd9_output')} * q.q4b_output "
                                    f"and q.uscc in {members('M01.list_negative')}"),
        "M14.q4_investment": _per_draw("true", yi("coalesce(sum(q.q4_investment), 0)"), "q_project"),
    }


def _actual_sql(ctx: RuleContext) -> dict[str, str]:
    """Per KPI but the industry groups' growth: SQL of (scenario, value) for every draw."""
    sql = _computed_sql(ctx)
    for _, kpi in ctx.catalogue.kpis:
        if kpi.count:
            sql[kpi.id] = _count(ctx, kpi.count)
    return sql


def evaluate(con, ctx: RuleContext, binds: dict, execute) -> list[tuple]:
    """(measure id, kpi id, indicator, unit, target, actual, status) of every KPI and of every measure
    without one; run while the quantities hold every draw."""
    quarter_closed = latest_delivered_month(ctx.periods.as_of, STATS_ARRIVAL_DAY) >= ctx.periods.year_end_month
    actual_sql = _actual_sql(ctx)
    full_year = _group_growths(con, execute, binds, "fy")
    narrows = any(kpi.target_op == "narrows" for _, kpi in ctx.catalogue.kpis)
    jan_to_sep = _group_growths(con, execute, binds, "ytd9") if narrows else {}
    rows = []
    for measure, kpi in ctx.catalogue.kpis:
        if kpi.industry_group:
            actual = _median(full_year.get(kpi.industry_group, []))
        elif kpi.id in actual_sql:
            actual = _median(execute(con, actual_sql[kpi.id], binds).fetchall())
        else:
            raise KeyError(f"no computation for KPI {kpi.id}")
        target = float(kpi.target_value) if kpi.target_value is not None else None
        if kpi.target_op == "narrows":
            target = _median(jan_to_sep.get(kpi.industry_group, []))
        elif kpi.target_op == "positive":
            target = 0.0
        rows.append((measure.id, kpi.id, kpi.indicator, kpi.unit, target, actual,
                     _status(kpi.target_op, target, actual, quarter_closed)))
    return rows


def write(con, ctx: RuleContext, kpi_rows: list[tuple]) -> None:
    """marts.policy_kpis: the evaluated KPIs, plus a row per measure without a quantified indicator."""
    rows = list(kpi_rows)
    with_kpi = {m.id for m, _ in ctx.catalogue.kpis}
    for m in ctx.catalogue.measures:
        if m.id in with_kpi or m.kind == "subsidy":
            continue
        if m.lists:
            for lst in m.lists:
                count = con.execute(f"select count(*)::double from {LISTS} where list_id = ?", [lst.id]).fetchone()[0]
                rows.append((m.id, lst.id, f"{lst.title}（监测名单）", "家", None, count, NO_TARGET))
        else:
            rows.append((m.id, m.id, m.title, None, None, None, NO_TARGET))
    con.execute(
        "create or replace table marts.policy_kpis (as_of date, measure_id varchar, kpi_id varchar, indicator varchar,"
        " unit varchar, target_value double, actual_value double, status varchar)"
    )
    con.executemany(
        "insert into marts.policy_kpis values (?, ?, ?, ?, ?, ?, ?, ?)",
        [(ctx.periods.as_of, *row) for row in rows],
    )


def _median(rows: list[tuple]) -> float | None:
    """The lower median of the per-draw values (rows (scenario, value)); None where no draw has a
    value (e.g. no comparable enterprise)."""
    values = [r[-1] for r in rows if r[-1] is not None]
    return _rounded(statistics.median_low(values)) if values else None


def _rounded(value: float | None) -> float | None:
    """Growth rates come out of a division in floating point (8.499999999999996 for 8.5%): KPI values are
    kept to 6 decimals, far below what any target distinguishes, so that a target met exactly is met."""
    return None if value is None else round(value, 6)


def _status(op: str, target: float | None, actual: float | None, quarter_closed: bool) -> str:
    """达标 when met; while the quarter is open a forecast that meets it is 进度正常; else 滞后."""
    if op == "none" or actual is None or target is None:
        return NO_TARGET
    met = actual > target if op in (">", "narrows", "positive") else actual >= target
    if met:
        return "达标" if quarter_closed else "进度正常"
    return "滞后"
