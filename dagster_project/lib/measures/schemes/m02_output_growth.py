"""M02 增产增效奖励: output growth, new production, small-to-large (per enterprise)."""

from ..rules import LiveFormula, RuleContext, base_output, basis, cap, condition, money, pct, reason, wan


def _base(ctx: RuleContext) -> str:
    """Enterprise quantities with the difficult-industry factor applied to the thresholds."""
    return f"""
        select q.*,
               case when q.is_difficult_industry then {ctx.p('M02.difficult_factor')} else 1 end as factor,
               case when q.is_difficult_industry then '（困难行业×' || {ctx.shown('M02.difficult_factor')} || '）' else '' end as factor_note
        from q_enterprise q
    """


def growth(ctx: RuleContext) -> str:
    min_output = f"{ctx.p('M02.min_output')} * factor"
    min_growth = f"{ctx.p('M02.min_growth')} * factor"
    eligible = f"(has_base and q4_output >= {min_output} and q4_output >= q4b_output * (1 + {min_growth}))"
    amount = cap(f"{ctx.p('M02.rate')} * (q4_output - q4b_output)", ctx.p("M02.cap"))
    trace = reason(
        condition("有基数：上年四季度产值", base_output(), ">", "'0'", "has_base"),
        condition("四季度产值", wan("q4_output"), "≥", f"{wan(min_output)} || factor_note", f"q4_output >= {min_output}"),
        condition("同比", pct("q4_output / nullif(q4b_output, 0) - 1"), "≥", f"{pct(min_growth)} || factor_note",
                  f"has_base and q4_output >= q4b_output * (1 + {min_growth})"),
        amount_sql=f"{ctx.shown('M02.rate')} || ' × 增量 ' || {wan('q4_output - q4b_output')} || "
                   f"'，上限 ' || {ctx.shown('M02.cap')} || ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        select scenario, 'M02.growth' as scheme_id, uscc, null as project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("(q4_output - q4b_output)")}
        from ({_base(ctx)})
    """


def new_production(ctx: RuleContext) -> str:
    min_output = f"{ctx.p('M02.min_output_new')} * factor"
    since = f"strptime({ctx.p('M02.new_production_since')}, '%Y%m')::date"
    eligible = f"(not has_base and production_start >= {since} and q4_output >= {min_output})"
    trace = reason(
        condition("无基数：上年四季度产值", base_output(), "=", "'0'", "not has_base"),
        condition("投产年月", "coalesce(strftime(production_start, '%Y%m'), '空')", "≥",
                  f"{ctx.p('M02.new_production_since')}", f"production_start >= {since}"),
        condition("四季度产值", wan("q4_output"), "≥", f"{wan(min_output)} || factor_note", f"q4_output >= {min_output}"),
        amount_sql=ctx.shown("M02.new_amount"),
        eligible_sql=eligible,
    )
    return f"""
        select scenario, 'M02.new' as scheme_id, uscc, null as project_code, {eligible} as eligible,
               case when {eligible} then {ctx.p('M02.new_amount')} else 0 end as amount_yuan, {trace} as reason,
               {basis("null")}
        from ({_base(ctx)})
    """


def small_to_large(ctx: RuleContext) -> str:
    entered = f"year(above_size_since) = {ctx.p('M02.small_to_large_entry_year')}"
    grew = f"(fy_base_output > 0 and fy_output >= fy_base_output * (1 + {ctx.p('M02.small_to_large_min_growth')}))"
    eligible = f"({entered} and {grew})"
    trace = reason(
        condition("入统年月", "coalesce(strftime(above_size_since, '%Y%m'), '空') "
                  "|| case when above_size_since_forecast then '（预计）' else '' end", "在",
                  f"{ctx.p('M02.small_to_large_entry_year')}::varchar || '年'", entered),
        condition("全年产值", wan("fy_output"), "对比上年", wan("fy_base_output"), "fy_base_output > 0"),
        condition("全年增速", pct("fy_output / nullif(fy_base_output, 0) - 1"), "≥",
                  ctx.shown("M02.small_to_large_min_growth"), grew),
        amount_sql=ctx.shown("M02.small_to_large_amount"),
        eligible_sql=eligible,
    )
    return f"""
        select scenario, 'M02.small_to_large' as scheme_id, uscc, null as project_code, {eligible} as eligible,
               case when {eligible} then {ctx.p('M02.small_to_large_amount')} else 0 end as amount_yuan,
               {trace} as reason,
               {basis("null")}
        from ({_base(ctx)})
    """


SCHEMES = {"M02.growth": growth, "M02.new": new_production, "M02.small_to_large": small_to_large}
LIVE = {"M02.growth": LiveFormula("M02.rate", "M02.cap", "四季度产值增量（元）")}
