"""M23 桂惠贷工业流动资金贷贴息: interest subsidy on working-capital loans disbursed in Q4 (per enterprise)."""

from ..rules import RuleContext, basis, cap, money, percent_to_fraction, reason, sql_text, wan


def loan_interest(ctx: RuleContext) -> str:
    product = ctx.p("M23.loan_product")
    rate = f"least({ctx.p('M23.max_subsidy_pp')}, {percent_to_fraction('annual_rate_pct')})"
    days = f"least(loan_days, {ctx.p('M23.max_days')})"
    per_loan = f"principal_yuan * {rate} * {days} / {ctx.p('M23.day_basis')}"
    loan_text = (f"lender || ' ' || strftime(disbursed_on, '%Y-%m-%d') || ' ' || {wan('principal_yuan')} || ' × min('"
                 f" || {ctx.shown('M23.max_subsidy_pp')} || ', ' || annual_rate_pct::varchar || '%) × ' || {days}::varchar"
                 f" || '/' || {ctx.p('M23.day_basis')}::varchar || '天 = ' || {wan(per_loan)}")
    amount = cap("l.subsidy", ctx.p("M23.cap"))
    eligible = "(l.loans > 0)"
    trace = reason(
        f"'四季度放款' || {product} || ' ' || l.loans::varchar || '笔：' || coalesce(l.detail, '无')",
        amount_sql=f"{sql_text('合计 ')} || {wan('l.subsidy')} || '，每户上限 ' || {ctx.shown('M23.cap')} "
                   f"|| ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        with l as (
            select scenario, uscc,
                   count(*) filter (where {ctx.in_quarter('disbursed_on')}) as loans,
                   coalesce(sum({per_loan}) filter (where {ctx.in_quarter('disbursed_on')}), 0) as subsidy,
                   string_agg({loan_text}, '；' order by disbursed_on, lender, principal_yuan, annual_rate_pct, loan_days)
                       filter (where {ctx.in_quarter('disbursed_on')}) as detail
            from q_loans where product = {product}
            group by scenario, uscc
        )
        select scenario, 'M23' as scheme_id, l.uscc, null as project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("null")}
        from l
    """


SCHEMES = {"M23": loan_interest}
# No live formula: each loan has its own min(subsidy points, contract rate) and day count.
LIVE: dict = {}
