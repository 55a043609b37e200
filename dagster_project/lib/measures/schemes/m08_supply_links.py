"""M08 电子信息首次供需奖励: first-time supply links of electronics enterprises in Q4 (per enterprise)."""

from ..rules import LiveFormula, RuleContext, basis, cap, condition, money, reason


def supply_links(ctx: RuleContext) -> str:
    electronics = ctx.industry_group("M08.electronics")
    links = f"count(*) filter (where industry_group = {electronics} and {ctx.in_quarter('first_supply_on')})"
    amount = cap(f"{ctx.p('M08.per_link')} * links", ctx.p("M08.cap"))
    eligible = "(links > 0)"
    trace = reason(
        condition("供方行业组", "industry_group", "=", electronics, f"industry_group = {electronics}"),
        condition("四季度首次供货", "links::varchar || '户'", "≥", "'1户'", "links > 0"),
        amount_sql=f"{ctx.shown('M08.per_link')} || ' × ' || links::varchar || '，上限 ' || {ctx.shown('M08.cap')} "
                   f"|| ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        with per_enterprise as (
            select scenario, uscc, any_value(industry_group) as industry_group, {links} as links
            from q_supply_links group by scenario, uscc
        )
        select scenario, 'M08' as scheme_id, uscc, null as project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("links")}
        from per_enterprise
    """


SCHEMES = {"M08": supply_links}
LIVE = {"M08": LiveFormula("M08.per_link", "M08.cap", "四季度首次供需关系（户）")}
