"""KPI targets -> marts.policy_kpis: every KPI of the catalogue, plus one row per measure
that has no quantified indicator (qualitative measures, monitoring lists).

A KPI that reads forecast quantities is computed on every simulated draw; its actual value is the
median over the draws (the forecast while the quarter is open, the actual once it is reported).
Units: counts in 家/项/个, money in 亿元, growth in % (8.5 means 8.5%).
"""

from __future__ import annotations

import statistics

from .lists import members
from dagster_project.lib.ingest.stats import ARRIVAL_DAY as STATS_ARRIVAL_DAY

from .quantities import latest_delivered_month
from .rules import RuleContext, as_percent, sql_text, wide, yi

NO_TARGET = "无量化指标"


def _recognitions(category: str, level: str | None, kind: str | None, since: str, until: str) -> str:
    where = [f"list_category = {sql_text(category)}", f"recognised_on between {since} and {until}"]
    if level:
        where.append(f"level = {sql_text(level)}")
    if kind:
        where.append(f"recognition_type = {sql_text(kind)}")
    return f"select count(*)::double from marts.fct_recognitions where {' and '.join(where)}"


def _per_draw(condition: str, value: str = "count(q.uscc)::double", table: str = "q_enterprise") -> str:
    """(scenario, value) for every draw, also where no row meets `condition`."""
    return f"""
        select sc.scenario, {value} as value
        from scenarios sc left join (select * from {table} q where {condition}) q on q.scenario = sc.scenario
        group by sc.scenario
    """


def _group_growth(group: str, ytd_column: str, base_column: str) -> str:
    """Σ policy year / Σ year before − 1 in %, over enterprises reporting in both years (comparable basis)."""
    return _per_draw(
        f"q.uscc in (select uscc from marts.dim_enterprise where industry_group = {sql_text(group)}) "
        f"and q.{base_column} > 0 and q.{ytd_column} > 0",
        as_percent(f"sum(q.{ytd_column}) / nullif(sum(q.{base_column}), 0) - 1"),
    )


def _actual_sql(ctx: RuleContext) -> dict[str, str]:
    """Per KPI: SQL of (scenario, value) for every draw, or of one value where no forecast enters."""
    p = ctx.periods
    q4 = f"date '{p.q4_start}' and date '{p.q4_end}'"
    sql = {
        "M01.expand": _per_draw(f"q.has_base and q.q4_output > q.q4b_output and q.uscc in {members('M01.list_positive')}"),
        "M01.ramp_up": _per_draw(f"q.q4_output >= q.q3_output and q.uscc in {members('M01.list_new_production')} "
                                 f"and q.uscc in (select uscc from marts.dim_enterprise where is_above_size)"),
        "M01.turnaround": _per_draw(f"q.has_base and q.ytd9_base_output > 0 "
                                    f"and {wide('q.q4_output')} * q.ytd9_base_output > {wide('q.ytd9_output')} * q.q4b_output "
                                    f"and q.uscc in {members('M01.list_negative')}"),
        "M13.new_projects": f"select count(*)::double from marts.dim_project where has_tag_shuangbai_shuangxin "
                            f"and library_entry_month between {q4}",
        "M14.q4_investment": _per_draw("true", yi("coalesce(sum(q.q4_investment), 0)"), "q_project"),
        "M16.new_renovation": f"select count(*)::double from marts.dim_project where has_tag_qianqi_jigai "
                              f"and library_entry_month between {q4}",
        "M17.green_factories": _recognitions("绿色工厂", "国家级", "新认定",
                                             f"strptime({ctx.p('M17.window_start')}, '%Y%m')::date", f"date '{p.q4_end}'"),
        "M17.green_parks": _recognitions("绿色园区", "国家级", "新认定",
                                         f"strptime({ctx.p('M17.window_start')}, '%Y%m')::date", f"date '{p.q4_end}'"),
        "M19.digital_scenarios": _recognitions("数字化转型典型场景", None, None, f"date '{p.year_start}'", f"date '{p.q4_end}'"),
        "M27.specialised": _recognitions("专精特新中小企业", "自治区级", "新认定", f"date '{p.year_start}'", f"date '{p.q4_end}'"),
        "M29.champions_new": _recognitions("制造业单项冠军", "自治区级", "新认定", f"date '{p.year_start}'", f"date '{p.q4_end}'"),
        "M29.champions_review": _recognitions("制造业单项冠军", "自治区级", "复核", f"date '{p.year_start}'", f"date '{p.q4_end}'"),
        "M32.new_above_size": f"select count(*)::double from marts.dim_enterprise where above_size_since between {q4}",
        "M32.new_above_size_newly_built": f"select count(*)::double from marts.dim_enterprise where above_size_since between {q4} "
                                          f"and production_start >= strptime({ctx.p('M32.newly_built_since')}, '%Y%m')::date",
    }
    for _, kpi in ctx.catalogue.kpis:
        if kpi.industry_group:
            sql[kpi.id] = _group_growth(kpi.industry_group, "fy_output", "fy_base_output")
    return sql


def evaluate(con, ctx: RuleContext, binds: dict, execute) -> list[tuple]:
    """(measure id, kpi id, indicator, unit, target, actual, status) of every KPI and of every measure
    without one; run while the quantities hold every draw."""
    quarter_closed = latest_delivered_month(ctx.periods.as_of, STATS_ARRIVAL_DAY) >= ctx.periods.year_end_month
    actual_sql = _actual_sql(ctx)
    rows = []
    for measure, kpi in ctx.catalogue.kpis:
        if kpi.id not in actual_sql:
            raise KeyError(f"no computation for KPI {kpi.id}")
        actual = _median(execute(con, actual_sql[kpi.id], binds).fetchall())
        target = float(kpi.target_value) if kpi.target_value is not None else None
        if kpi.target_op == "narrows":
            target = _median(execute(con, _group_growth(kpi.industry_group, "ytd9_output", "ytd9_base_output"),
                                     binds).fetchall())
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
                count = con.execute("select count(*)::double from marts.policy_lists where list_id = ?", [lst.id]).fetchone()[0]
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
    """The lower median of the per-draw values (rows (scenario, value)), or the single value (rows
    (value,)); None where no draw has a value (e.g. no comparable enterprise)."""
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
