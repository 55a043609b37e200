"""M15 工业投资激励: increment, major project, new start (per project; only one may be claimed).

The three evaluations are all kept; which one a project claims is decided by the
engine from the catalogue's exclusive group (largest amount, ties in listed order).
"""

from ..rules import LiveFormula, RuleContext, basis, condition, money, reason, wan

_PROJECTS = "select * from q_project"


def increment(ctx: RuleContext) -> str:
    enough = f"q4_investment >= {ctx.p('M15.increment_min_investment')}"
    eligible = f"({enough} and q4_investment > q4b_investment)"
    amount = f"{ctx.p('M15.increment_rate')} * (q4_investment - q4b_investment)"
    trace = reason(
        condition("四季度完成投资", wan("q4_investment"), "≥", ctx.shown("M15.increment_min_investment"), enough),
        condition("较上年四季度", wan("q4b_investment"), "增长", "''", "q4_investment > q4b_investment"),
        amount_sql=f"{ctx.shown('M15.increment_rate')} || ' × 增量 ' || {wan('q4_investment - q4b_investment')} "
                   f"|| ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        select scenario, 'M15.increment' as scheme_id, uscc, project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("(q4_investment - q4b_investment)")}
        from ({_PROJECTS})
    """


def major(ctx: RuleContext) -> str:
    eligible = f"(q4_investment >= {ctx.p('M15.major_min_investment')})"
    amount = f"{ctx.p('M15.major_rate')} * q4_investment"
    trace = reason(
        condition("四季度完成投资", wan("q4_investment"), "≥", ctx.shown("M15.major_min_investment"), eligible),
        amount_sql=f"{ctx.shown('M15.major_rate')} || ' × ' || {wan('q4_investment')} || ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        select scenario, 'M15.major' as scheme_id, uscc, project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("q4_investment")}
        from ({_PROJECTS})
    """


def new_start(ctx: RuleContext) -> str:
    started = f"({ctx.in_quarter('start_month')} and {ctx.in_quarter('library_entry_month')})"
    new_type, renovation_type = ctx.p("M15.new_start_new_build"), ctx.p("M15.new_start_renovation")
    new_build = f"(construction_type = {new_type} and q4_investment >= {ctx.p('M15.new_start_min_new')})"
    renovation = f"(construction_type = {renovation_type} and q4_investment >= {ctx.p('M15.new_start_min_renovation')})"
    eligible = f"({started} and ({new_build} or {renovation}))"
    amount = (f"case when {new_build} then {ctx.p('M15.new_start_amount')} "
              f"else {ctx.p('M15.new_start_amount_renovation')} end")
    threshold = (f"case construction_type when {new_type} then {ctx.shown('M15.new_start_min_new')} "
                 f"when {renovation_type} then {ctx.shown('M15.new_start_min_renovation')} "
                 f"else '不适用（' || coalesce(construction_type, '空') || '）' end")
    trace = reason(
        condition("开工与入库年月", "coalesce(strftime(start_month, '%Y%m'), '空') || '/' || "
                  "coalesce(strftime(library_entry_month, '%Y%m'), '空')", "在", "'四季度'", started),
        condition("建设性质", "construction_type", "属于", f"{new_type} || '/' || {renovation_type}",
                  f"construction_type in ({new_type}, {renovation_type})"),
        condition("四季度完成投资", wan("q4_investment"), "≥", threshold, f"({new_build} or {renovation})"),
        amount_sql=money(amount),
        eligible_sql=eligible,
    )
    return f"""
        select scenario, 'M15.new_start' as scheme_id, uscc, project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("null")}
        from ({_PROJECTS})
    """


SCHEMES = {"M15.increment": increment, "M15.major": major, "M15.new_start": new_start}
LIVE = {
    "M15.increment": LiveFormula("M15.increment_rate", None, "四季度投资增量（元）"),
    "M15.major": LiveFormula("M15.major_rate", None, "四季度完成投资（元）"),
}
