"""M24 增量用电奖励: incremental electricity of growing, independently metered, non-两高 enterprises.

"All its accounts": the accounts the latest account snapshot lists (a snapshot, FEEDS.md); an
account closed since, not independently metered, no longer disqualifies its former holder, and
its readings of the base quarter still count in the increment (the enterprise used that power)."""

from ..rules import LiveFormula, RuleContext, basis, cap, condition, money, pct, reason, wan


def power_increment(ctx: RuleContext) -> str:
    metered = "(coalesce(acc.accounts, 0) > 0 and acc.accounts = acc.independent)"
    output_ok = f"q.q4_output >= {ctx.p('M24.min_output')}"
    growth_ok = f"(q.has_base and q.q4_output >= q.q4b_output * (1 + {ctx.p('M24.min_growth')}))"
    increment = "(coalesce(p.q4_kwh, 0) - coalesce(p.q4b_kwh, 0))"
    eligible = f"(not e.is_two_high and {metered} and {output_ok} and {growth_ok} and {increment} > 0)"
    amount = cap(f"{ctx.p('M24.rate')} * {increment}", ctx.p("M24.cap"))
    trace = reason(
        condition("两高名单", "case when e.is_two_high then '在' else '不在' end", "应", "'不在'", "not e.is_two_high"),
        condition("电表", "coalesce(acc.independent, 0)::varchar || '/' || coalesce(acc.accounts, 0)::varchar || '户独立计量'",
                  "应", "'全部独立'", metered),
        condition("四季度产值", wan("q.q4_output"), "≥", ctx.shown("M24.min_output"), output_ok),
        condition("同比", pct("q.q4_output / nullif(q.q4b_output, 0) - 1"), "≥", ctx.shown("M24.min_growth"), growth_ok),
        condition("增量用电", f"printf('%.0f千瓦时', {increment}::double)", ">", "'0'", f"{increment} > 0"),
        amount_sql=f"{ctx.shown('M24.rate')} || ' × ' || printf('%.0f千瓦时', {increment}::double) || ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        with acc as (
            select uscc, count(*) as accounts, count(*) filter (where is_independently_metered) as independent
            from marts.dim_power_account where uscc is not null and is_in_latest_snapshot group by uscc
        )
        select q.scenario, 'M24' as scheme_id, q.uscc, null as project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("(coalesce(p.q4_kwh, 0) - coalesce(p.q4b_kwh, 0))")}
        from q_enterprise q
        join marts.dim_enterprise e using (uscc)
        left join acc using (uscc)
        left join q_power p on p.uscc = q.uscc and p.scenario = q.scenario
    """


SCHEMES = {"M24": power_increment}
LIVE = {"M24": LiveFormula("M24.rate", "M24.cap", "四季度增量用电（千瓦时）")}
