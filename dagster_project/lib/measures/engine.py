"""Evaluate every subsidy scheme, KPI and monitoring list of a catalogue over the marts.

Writes, in one transaction, tables in schema `marts` (OUTPUTS.md):
`policy_awards`, `policy_budget`, `policy_kpis`, plus `policy_lists` (measure 1's
four lists and measure 33's 退库风险 list), `policy_parameters` (the values in
force and their origin) and a row in `policy_runs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from . import kpis, lists, quantities
from .catalogue import Catalogue, CatalogueError
from .forecast import SCENARIOS
from .parameters import Parameters
from .quantities import Periods
from .rules import RuleContext, bindings
from .schemes import SCHEMES

_PLACEHOLDER = re.compile(r"\$([A-Za-z][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class EngineResult:
    as_of: date
    beneficiaries: int  # base scenario, chosen awards
    budget_yuan: dict[str, object]  # scenario -> total (grants and revolving fund)
    params_fingerprint: str


def periods_for(catalogue: Catalogue, as_of: date) -> Periods:
    doc = catalogue.document
    q4 = doc.policy_quarter
    return Periods(
        as_of=as_of,
        year_start=date(doc.year, 1, 1),
        q4_start=q4.start,
        q4_end=q4.end,
        base_q4_start=doc.base_quarter.start,
        q3_start=date(q4.start.year, q4.start.month - 3, 1),
    )


def execute(con: duckdb.DuckDBPyConnection, sql: str, binds: dict[str, object]):
    """Run SQL binding only the parameters it names (DuckDB rejects unused names)."""
    used = {name: binds[name] for name in set(_PLACEHOLDER.findall(sql)) if name in binds}
    return con.execute(sql, used) if used else con.execute(sql)


def run(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, params: Parameters, as_of: date) -> EngineResult:
    missing = sorted(set(catalogue.schemes) - set(SCHEMES))
    if missing:
        raise CatalogueError(f"no rule implements scheme(s) {', '.join(missing)}")
    periods = periods_for(catalogue, as_of)
    ctx = RuleContext(catalogue, params, periods)
    binds = bindings(params)
    quantities.build(con, periods)

    union = "\nunion all\n".join(f"select * from ({SCHEMES[sid](ctx)})" for sid in catalogue.schemes)
    execute(con, f"create or replace temp table evaluated as {union}", binds)
    order = {sid: i for i, sid in enumerate(catalogue.schemes)}
    groups = {sid: s.exclusive_group for sid, s in catalogue.schemes.items()}
    con.execute("create or replace temp table scheme_meta (scheme_id varchar, listed integer, exclusive_group varchar, funding varchar)")
    con.executemany(
        "insert into scheme_meta values (?, ?, ?, ?)",
        [(sid, order[sid], groups[sid], s.funding) for sid, s in catalogue.schemes.items()],
    )
    con.begin()
    try:
        _write_awards(con, as_of)
        _write_basis(con)
        _write_budget(con, as_of)
        lists.write(con, ctx, binds, execute)
        kpis.write(con, ctx, binds, execute)
        _write_parameters(con, params, as_of)
        result = _summary(con, as_of, params)
        con.execute(
            "create table if not exists marts.policy_runs (as_of date, finished_at timestamp, params_fingerprint varchar,"
            " beneficiaries integer, base_yuan decimal(18, 2), low_yuan decimal(18, 2), high_yuan decimal(18, 2))"
        )
        con.execute(
            "insert into marts.policy_runs values (?, ?, ?, ?, ?, ?, ?)",
            [as_of, datetime.now(), result.params_fingerprint, result.beneficiaries,
             result.budget_yuan["base"], result.budget_yuan["low"], result.budget_yuan["high"]],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return result


def _write_awards(con, as_of: date) -> None:
    con.execute(
        """
        create or replace table marts.policy_awards as
        with ranked as (
            select v.*, m.listed, m.exclusive_group,
                   row_number() over (
                       partition by v.scenario, coalesce(v.project_code, v.uscc), coalesce(m.exclusive_group, v.scheme_id)
                       order by v.eligible desc, v.amount_yuan desc, m.listed
                   ) as preference
            from evaluated v join scheme_meta m using (scheme_id)
        )
        select cast(? as date) as as_of,
               r.scenario,
               split_part(r.scheme_id, '.', 1) as measure_id,
               r.scheme_id,
               r.uscc,
               r.project_code,
               coalesce(p.city_code, e.city_code, substr(r.uscc, 3, 4) || '00') as city_code,
               coalesce(p.industry_group, e.industry_group) as industry_group,
               r.eligible,
               r.eligible and (r.exclusive_group is null or r.preference = 1) as chosen,
               cast(round(case when r.eligible then r.amount_yuan else 0 end, 2) as decimal(18, 2)) as amount_yuan,
               r.reason
        from ranked r
        left join marts.dim_enterprise e on e.uscc = r.uscc
        left join marts.dim_project p on p.project_code = r.project_code
        order by r.scenario, r.scheme_id, r.uscc, r.project_code
        """,
        [as_of],
    )


def _write_basis(con) -> None:
    """The quantity each rate applies to, per evaluation: what a workbook formula multiplies."""
    con.execute(
        """
        create or replace table marts.policy_award_basis as
        select scenario, scheme_id, uscc, project_code, basis from evaluated
        """
    )


def _write_budget(con, as_of: date) -> None:
    scenarios = ", ".join(f"('{s}')" for s in SCENARIOS)
    con.execute(
        f"""
        create or replace table marts.policy_budget as
        select cast(? as date) as as_of, sc.scenario, split_part(m.scheme_id, '.', 1) as measure_id, m.scheme_id,
               cast(count(a.uscc) filter (where a.chosen) as integer) as beneficiaries,
               cast(coalesce(sum(a.amount_yuan) filter (where a.chosen), 0) as decimal(18, 2)) as amount_yuan
        from scheme_meta m
        cross join (values {scenarios}) sc(scenario)
        left join marts.policy_awards a on a.scheme_id = m.scheme_id and a.scenario = sc.scenario
        group by all
        order by sc.scenario, min(m.listed)
        """,
        [as_of],
    )


def _write_parameters(con, params: Parameters, as_of: date) -> None:
    con.execute(
        """create or replace table marts.policy_parameters (as_of date, parameter_id varchar, measure_id varchar,
           description varchar, value varchar, unit varchar, origin varchar, source varchar, assumption boolean)"""
    )
    con.executemany(
        "insert into marts.policy_parameters values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (as_of, p.parameter.id, p.parameter.id.split(".")[0], p.parameter.description,
             None if p.value is None else str(p.value), p.parameter.unit, p.origin,
             p.parameter.source or p.parameter.assumption_note, p.parameter.assumption)
            for p in params
        ],
    )


def _summary(con, as_of: date, params: Parameters) -> EngineResult:
    totals = dict(con.execute("select scenario, sum(amount_yuan) from marts.policy_budget group by scenario").fetchall())
    beneficiaries = con.execute(
        "select count(distinct coalesce(project_code, uscc)) from marts.policy_awards where scenario = 'base' and chosen"
    ).fetchone()[0]
    return EngineResult(as_of, beneficiaries, totals, params.fingerprint())
