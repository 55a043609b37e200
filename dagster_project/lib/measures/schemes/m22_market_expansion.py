"""M22 开拓市场: trade-fair booths and exports to new destinations in Q4 (per enterprise)."""

from ..rules import LiveFormula, RuleContext, applications_in_quarter, basis, cap, condition, money, reason, wan


def fair(ctx: RuleContext) -> str:
    output_ok = f"q.q4_output >= {ctx.p('M22.fair_min_output')}"
    eligible = f"(a.events > 0 and {output_ok})"
    amount = cap(f"{ctx.p('M22.fair_share')} * a.cost", ctx.p("M22.fair_cap"))
    trace = reason(
        condition("四季度参展", "a.events::varchar || '次，展位费 ' || " + wan("a.cost"), "≥", "'1次'", "a.events > 0"),
        condition("四季度产值", wan("q.q4_output"), "≥", ctx.shown("M22.fair_min_output"), output_ok),
        amount_sql=f"{ctx.shown('M22.fair_share')} || ' × ' || {wan('a.cost')} || '，上限 ' "
                   f"|| {ctx.shown('M22.fair_cap')} || ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        with a as ({applications_in_quarter(ctx, "M22.fair_activity_type")})
        select q.scenario, 'M22.fair' as scheme_id, a.uscc, null as project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("a.cost")}
        from a join q_row_enterprise q on q.uscc = a.uscc and q.scenario = a.scenario
    """


def new_market(ctx: RuleContext) -> str:
    window_start = f"(date '{ctx.periods.q4_start}' - to_months({ctx.p('M22.lookback_months')}))"
    is_new = f"(last_export_month_before_quarter is null or last_export_month_before_quarter < {window_start})"
    exports_ok = f"x.new_exports >= {ctx.p('M22.new_market_min_exports')}"
    output_ok = f"q.q4_output >= {ctx.p('M22.new_market_min_output')}"
    eligible = f"({exports_ok} and {output_ok})"
    amount = cap(f"{ctx.p('M22.new_market_rate')} * x.new_exports", ctx.p("M22.new_market_cap"))
    trace = reason(
        condition("四季度新市场出口", wan("x.new_exports") + " || '（' || coalesce(x.new_destinations, '无') || '）'",
                  "≥", ctx.shown("M22.new_market_min_exports"), exports_ok),
        condition("四季度产值", wan("q.q4_output"), "≥", ctx.shown("M22.new_market_min_output"), output_ok),
        amount_sql=f"{ctx.shown('M22.new_market_rate')} || ' × ' || {wan('x.new_exports')} || '，上限 ' "
                   f"|| {ctx.shown('M22.new_market_cap')} || ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        with x as (
            select scenario, uscc,
                   coalesce(sum(q4_cny) filter (where {is_new}), 0) as new_exports,
                   string_agg(destination, ',' order by destination) filter (where {is_new}) as new_destinations
            from q_export group by scenario, uscc
        )
        select q.scenario, 'M22.new_market' as scheme_id, x.uscc, null as project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("x.new_exports")}
        from x join q_row_enterprise q on q.uscc = x.uscc and q.scenario = x.scenario
    """


SCHEMES = {"M22.fair": fair, "M22.new_market": new_market}
LIVE = {
    "M22.fair": LiveFormula("M22.fair_share", "M22.fair_cap", "四季度展位费（元）"),
    "M22.new_market": LiveFormula("M22.new_market_rate", "M22.new_market_cap", "四季度新市场出口（元）"),
}
