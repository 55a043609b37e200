"""M21 产销活动补助: product launch and order events held in Q4 (per enterprise)."""

from ..rules import (LiveFormula, RuleContext, applications_in_quarter, base_output, basis, cap, condition, money, pct,
                     reason, wan)


def sales_events(ctx: RuleContext) -> str:
    output_ok = f"q.q4_output >= {ctx.p('M21.min_output')}"
    growth_ok = f"(q.has_base and q.q4_output >= q.q4b_output * (1 + {ctx.p('M21.min_growth')}))"
    eligible = f"(a.events > 0 and {output_ok} and {growth_ok})"
    amount = cap(f"{ctx.p('M21.share')} * a.cost", ctx.p("M21.cap"))
    trace = reason(
        condition("四季度活动", "a.events::varchar || '场，费用 ' || " + wan("a.cost"), "≥", "'1场'", "a.events > 0"),
        condition("有基数：上年四季度产值", base_output("q."), ">", "'0'", "q.has_base"),
        condition("四季度产值", wan("q.q4_output"), "≥", ctx.shown("M21.min_output"), output_ok),
        condition("同比", pct("q.q4_output / nullif(q.q4b_output, 0) - 1"), "≥", ctx.shown("M21.min_growth"), growth_ok),
        amount_sql=f"{ctx.shown('M21.share')} || ' × ' || {wan('a.cost')} || '，上限 ' || {ctx.shown('M21.cap')} "
                   f"|| ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        with a as ({applications_in_quarter(ctx, "M21.activity_types")})
        select q.scenario, 'M21' as scheme_id, a.uscc, null as project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("a.cost")}
        from a join q_row_enterprise q on q.uscc = a.uscc and q.scenario = a.scenario
    """


SCHEMES = {"M21": sales_events}
LIVE = {"M21": LiveFormula("M21.share", "M21.cap", "四季度活动费用（元）")}
