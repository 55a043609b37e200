"""M11 前期工作周转资金: a revolving fund for large projects tagged M11.project_tag (双百双新), not
yet started (per project). Judged at the quarter's end: a project of the library that starts in a
month not delivered yet (in a draw of the forecast, lib/forecast/draws.py) is no longer eligible in
that draw; a project still to enter the library is judged like the others."""

from ..rules import LiveFormula, RuleContext, basis, condition, money, reason, tagged, wan


def revolving_fund(ctx: RuleContext) -> str:
    # A project without a 计划总投资 is not known to be large: not eligible (and a false, not a NULL).
    big = f"coalesce(planned_investment_yuan > {ctx.p('M11.min_planned_investment')}, false)"
    in_scope = tagged(ctx, "M11.project_tag")
    eligible = f"({in_scope} and {big} and start_month is null)"
    amount = f"{ctx.p('M11.share')} * planned_investment_yuan"
    trace = reason(
        condition("计划总投资", f"coalesce({wan('planned_investment_yuan')}, '空')", ">",
                  ctx.shown("M11.min_planned_investment"), big),
        condition("开工年月", "coalesce(strftime(start_month, '%Y%m') || case when start_month_forecast then '（预计）' else '' end, '空')",
                  "=", "'空（未开工）'", "start_month is null"),
        amount_sql=f"{ctx.shown('M11.share')} || ' × ' || {wan('planned_investment_yuan')} || ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        select scenario, 'M11' as scheme_id, uscc, project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("planned_investment_yuan")}
        from q_project
        where {in_scope}
    """


SCHEMES = {"M11": revolving_fund}
LIVE = {"M11": LiveFormula("M11.share", None, "计划总投资（元）")}
