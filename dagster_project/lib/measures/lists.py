"""Monitoring lists: measure 1's four lists and measure 33's 退库风险 list -> marts.policy_lists.

The lists are as of the latest reported month of the policy year (the latest
stats delivery that has arrived by the as-of date).
"""

from __future__ import annotations

from .rules import RuleContext, pct, sql_text, wan


def latest_month_sql(ctx: RuleContext) -> str:
    return (f"(select max(month) from marts.fct_enterprise_month "
            f"where month between date '{ctx.periods.year_start}' and date '{ctx.periods.q4_end}')")


def _list_sql(ctx: RuleContext) -> dict[str, str]:
    latest = latest_month_sql(ctx)
    near = f"{ctx.p('M01.near_threshold_share')} * {ctx.p('M01.above_size_revenue')}"
    since = f"strptime({ctx.p('M01.new_production_since')}, '%Y%m')::date"
    threshold = ctx.p("M33.exit_risk_threshold")
    sep = f"date '{ctx.periods.q3_last_month}'"
    q3_month = ctx.periods.q3_last_month.month
    base_q4 = f"date '{ctx.periods.base_q4_start}'"
    ytd = f"""
        select e.*, cur.output_ytd_yuan as ytd, prev.output_ytd_yuan as ytd_base
        from marts.dim_enterprise e
        join marts.fct_enterprise_month cur on cur.uscc = e.uscc and cur.month = {latest}
        left join marts.fct_enterprise_month prev on prev.uscc = e.uscc and prev.month = {latest} - interval 1 year
        -- MEASURES.md: on the lists only enterprises that have a base (Q4b output > 0), as M02 reads it
        join marts.fct_enterprise_quarter base on base.uscc = e.uscc and base.quarter_start = {base_q4}
                                              and base.serves_as_base
        where e.is_above_size and prev.output_ytd_yuan > 0
    """
    growth = "ytd / ytd_base - 1"
    return {
        "M01.list_positive": f"""
            select uscc, enterprise_name, city_code, industry_group, ({growth})::double as value,
                   '本年累计产值 ' || {wan('ytd')} || '，上年同期 ' || {wan('ytd_base')} || '，增速 ' || {pct(growth)} as detail
            from ({ytd}) where ytd > ytd_base""",
        "M01.list_negative": f"""
            select uscc, enterprise_name, city_code, industry_group, ({growth})::double as value,
                   '本年累计产值 ' || {wan('ytd')} || '，上年同期 ' || {wan('ytd_base')} || '，增速 ' || {pct(growth)} as detail
            from ({ytd}) where ytd < ytd_base""",
        "M01.list_new_production": f"""
            select uscc, enterprise_name, city_code, industry_group, null::double as value,
                   '投产年月 ' || strftime(production_start, '%Y%m') || ' ≥ ' || {ctx.p('M01.new_production_since')}
                   || '，' || scale_flag as detail
            from marts.dim_enterprise where production_start >= {since}""",
        "M01.list_near_above_size": f"""
            with recent as (
                select uscc, sum(revenue_month_yuan) as revenue
                from marts.fct_enterprise_month
                where month > {latest} - to_months({ctx.p('M01.near_threshold_months')}) and month <= {latest}
                group by uscc
            )
            select e.uscc, e.enterprise_name, e.city_code, e.industry_group, t.revenue::double as value,
                   '近' || {ctx.p('M01.near_threshold_months')}::varchar || '个月营业收入 ' || {wan('t.revenue')} || ' ≥ '
                   || {ctx.shown('M01.near_threshold_share')} || ' × ' || {ctx.shown('M01.above_size_revenue')} as detail
            from marts.dim_enterprise e join recent t using (uscc)
            where e.scale_flag = {ctx.p('M01.near_scale_flag')} and t.revenue >= {near}""",
        # Before September's report the list is screened on the months reported: a cumulative only
        # grows, so every enterprise below the threshold in January–September is below it now (the
        # screen holds the final list; September's report decides). Empty instead until 15 October,
        # as it was, it read as "no enterprise at risk". A 规上 enterprise that did not report that
        # month is screened on its latest report of the year, and says so: left off, as it was until an
        # independent audit found it, an enterprise that stopped reporting in August below the
        # threshold was on no list, the one a department most needs to look at (docs/decisions.md).
        "M33.exit_risk": f"""
            with latest_report as (
                select uscc, max(month) as month from marts.fct_enterprise_month
                where month <= least({sep}, {latest}) and year(month) = year({sep})
                group by uscc
            )
            select e.uscc, e.enterprise_name, e.city_code, e.industry_group,
                   least(m.output_ytd_yuan, m.revenue_ytd_yuan)::double as value,
                   '1—' || month(m.month)::varchar || '月产值 ' || {wan('m.output_ytd_yuan')}
                   || '，营业收入 ' || {wan('m.revenue_ytd_yuan')}
                   || '，门槛 ' || {ctx.shown('M33.exit_risk_threshold')}
                   || case when m.month < least({sep}, {latest})
                        then '（' || month(least({sep}, {latest}))::varchar || '月未报送：按最近一期报送初筛，'
                             || '报送后确定）'
                        when m.month < {sep} then '（{q3_month}月统计未到：按已报月份初筛，累计只增不减，'
                        || '1—{q3_month}月低于门槛的企业都在其中，{q3_month}月统计到达后确定）' else '' end as detail
            from marts.dim_enterprise e
            join latest_report r on r.uscc = e.uscc
            join marts.fct_enterprise_month m on m.uscc = r.uscc and m.month = r.month
            where e.is_above_size and (m.output_ytd_yuan < {threshold} or m.revenue_ytd_yuan < {threshold})""",
    }


# The lists of the run, before `publish` writes them to marts.policy_lists with the run's other marts.
LISTS = "monitoring_lists"


def build(con, ctx: RuleContext, binds: dict, execute) -> None:
    """Temp table LISTS: every monitoring list's members as of the run."""
    titles = {lst.id: lst.title for m in ctx.catalogue.measures for lst in m.lists}
    parts = [
        f"select {sql_text(list_id)} as list_id, {sql_text(titles[list_id])} as list_title, * from ({sql})"
        for list_id, sql in _list_sql(ctx).items()
        if list_id in titles
    ]
    execute(
        con,
        f"create or replace temp table {LISTS} as select cast('{ctx.periods.as_of}' as date) as as_of, * "
        f"from ({' union all '.join(parts)}) order by list_id, uscc",
        binds,
    )


def publish(con) -> None:
    con.execute(f"create or replace table marts.policy_lists as select * from {LISTS} order by list_id, uscc")


def members(list_id: str) -> str:
    """SQL for the USCCs on a list (after `build`), for the KPIs built on the lists."""
    return f"(select uscc from {LISTS} where list_id = {sql_text(list_id)})"
