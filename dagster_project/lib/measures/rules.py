"""Shared pieces for writing scheme rules as SQL over the scenario quantities.

A scheme module exposes `SCHEMES`: scheme id -> function(RuleContext) -> SQL
selecting `scenario, scheme_id, uscc, project_code, eligible, amount_yuan,
reason, basis` from the quantities of quantities.py (one row per scenario and
beneficiary; a scenario is a simulated draw or a representative one). Thresholds and rates are never written in the SQL: they are bound
parameters named after the catalogue ids (`$M02_min_output` for
`M02.min_output`), in 元 and fractions; the reason trace shows them as the
policy states them (万元, %).
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project.lib.ingest.stats import PROJECT_TAG_SEPARATOR

from .catalogue import Catalogue
from .parameters import Parameters
from .quantities import Periods


@dataclass(frozen=True)
class LiveFormula:
    """How a workbook recomputes a scheme's amount from the row's basis: MIN(rate × basis, cap),
    so that finance can change the rate or the cap in a spreadsheet and see the effect."""

    rate: str  # parameter id
    cap: str | None  # parameter id, or None when the scheme has no cap
    basis_label: str  # what the basis column of the beneficiary table holds


@dataclass(frozen=True)
class RuleContext:
    catalogue: Catalogue
    params: Parameters
    periods: Periods

    def p(self, pid: str) -> str:
        """The bound-parameter placeholder for a catalogue parameter."""
        self.params.get(pid)  # fails early on an unknown id
        return "$" + bind_name(pid)

    def shown(self, pid: str) -> str:
        """The parameter as the policy states it, as an SQL string literal (e.g. '5000万元')."""
        return sql_text(self.params.display(pid))

    def industry_group(self, kpi_id: str) -> str:
        """The industry group a growth KPI of the catalogue is about, as an SQL literal."""
        kpi = next(k for _, k in self.catalogue.kpis if k.id == kpi_id)
        return sql_text(kpi.industry_group)

    def in_quarter(self, column: str) -> str:
        return f"({column} between date '{self.periods.q4_start}' and date '{self.periods.q4_end}')"


def matches(ctx: RuleContext, column: str, pid: str) -> str:
    """`column` equals the category parameter's text, or is one of its texts (a list)."""
    if isinstance(ctx.params.get(pid).value, tuple):
        return f"list_contains({ctx.p(pid)}, {column})"
    return f"{column} = {ctx.p(pid)}"


def tagged(ctx: RuleContext, pid: str) -> str:
    """The project's `tags` (项目标签 as delivered: tags joined by the feed's separator, no blanks)
    hold the category parameter's tag, or one of its tags (a list); false when it has none."""
    tags = f"string_split(coalesce(tags, ''), {sql_text(PROJECT_TAG_SEPARATOR)})"
    if isinstance(ctx.params.get(pid).value, tuple):
        return f"list_has_any({tags}, {ctx.p(pid)})"
    return f"list_contains({tags}, {ctx.p(pid)})"


def applications_in_quarter(ctx: RuleContext, activity_types: str) -> str:
    """Per scenario and applicant: `events` held in the policy quarter and their claimed `cost`, for the
    activity types of the category parameter `activity_types`."""
    return f"""
        select scenario, uscc,
               count(*) filter (where {ctx.in_quarter('held_on')}) as events,
               coalesce(sum(claimed_cost_yuan) filter (where {ctx.in_quarter('held_on')}), 0) as cost
        from q_applications where {matches(ctx, 'activity_type', activity_types)}
        group by scenario, uscc
    """


def bind_name(pid: str) -> str:
    return pid.replace(".", "_")


def bindings(params: Parameters) -> dict[str, object]:
    return {bind_name(p.parameter.id): params.base(p.parameter.id) for p in params}


def sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def wan(expr: str) -> str:
    """An amount in 元 shown in 万元 with two decimals."""
    return f"printf('%.2f万元', ({expr})::double / 10000)"


def base_output(alias: str = "") -> str:
    """Q4b output as the base conditions show it: a base quarter that did not report through
    December has an output (to its last report) but is no base (fct_enterprise_quarter,
    serves_as_base), and says so: "上年四季度产值 4000.00万元 > 0 ✗" read as a contradiction."""
    q4b, has_base = f"{alias}q4b_output", f"{alias}has_base"
    return (f"({wan(q4b)} || case when not {has_base} and coalesce({q4b}, 0) > 0 "
            f"then '（上年12月未报，不作基数）' else '' end)")


def pct(expr: str) -> str:
    """A fraction shown as a percentage."""
    return f"coalesce(printf('%.2f%%', ({expr})::double * 100), '—')"


def basis(expr: str) -> str:
    """The `basis` column of a scheme's evaluations (see LiveFormula)."""
    return f"({expr})::decimal(20, 3) as basis"


def wide(expr: str) -> str:
    """An amount widened so that products of two amounts cannot overflow DECIMAL(18)."""
    return f"({expr})::decimal(38, 2)"


def money(expr: str) -> str:
    """A resulting amount: in 万元 as finance reads it, and exact in 元."""
    return f"format('{{:.2f}}万元（{{:,.2f}}元）', ({expr})::double / 10000, ({expr})::decimal(18, 2))"


def yi(expr: str) -> str:
    """元 -> 亿元 (for KPI values)."""
    return f"(({expr})::double / 100000000)"


def as_percent(expr: str) -> str:
    """A fraction -> percent points (8.5 means 8.5%, the KPI unit)."""
    return f"(({expr})::double * 100)"


def percent_to_fraction(expr: str) -> str:
    return f"(({expr}) / 100)"


def mark(condition: str) -> str:
    return f"(case when coalesce({condition}, false) then ' ✓' else ' ✗' end)"


def condition(label: str, value_sql: str, op: str, threshold_sql: str, ok_sql: str) -> str:
    """`label value op threshold ✓/✗` as an SQL string expression."""
    return f"({sql_text(label + ' ')} || {value_sql} || {sql_text(' ' + op + ' ')} || {threshold_sql} || {mark(ok_sql)})"


def reason(*parts: str, amount_sql: str | None = None, eligible_sql: str = "false") -> str:
    """Join conditions with '；' and append the amount when eligible."""
    joined = " || '；' || ".join(parts)
    if amount_sql is None:
        return joined
    return f"({joined} || case when {eligible_sql} then ' → ' || {amount_sql} else ' → 不符合' end)"


def cap(expr: str, cap_placeholder: str) -> str:
    """min(expr, cap); a NULL cap (none) leaves expr as it is."""
    return f"least({expr}, coalesce({cap_placeholder}, {expr}))"
