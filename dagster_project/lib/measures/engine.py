"""Evaluate every subsidy scheme, KPI and monitoring list of a catalogue over the marts and the forecast.

The rules run on every simulated draw of the quarter (lib/forecast: the actuals plus one joint
draw of everything not reported yet; a single draw once the quarter is fully reported), so every
reported figure has a distribution. What is written, in one transaction, in schema `marts`
(docs/contract/OUTPUTS.md):

* `policy_budget` — per scheme, `low`/`base`/`high` = the `forecast.quantile_low` / median /
  `forecast.quantile_high` quantile of the scheme's simulated total (each row its own
  distribution, so low ≤ base ≤ high); `policy_budget_draws` — the per-draw totals behind them;
  `policy_budget_rollup` — the same quantiles of the totals per measure, funding, city, industry
  group and overall (each its own distribution: a total's median is not the sum of medians);
  `policy_budget_history` — `policy_budget` of every as-of date refreshed (`record`).
* `policy_awards` — per beneficiary and scenario, the rules' evaluation in a representative draw:
  for `base` the draw at the median of the beneficiary's own simulated amount, for `low`/`high`
  at its low/high quantile, with the reason trace of that draw; `policy_award_basis` — the
  quantity each rate applies to in that row (what a workbook formula multiplies);
  `policy_award_forecast` — per beneficiary: probability of qualifying and of being chosen,
  expected amount and its quantiles over all draws.
* `policy_kpis` (the median over draws while the quarter is open), `policy_lists`,
  `policy_parameters`.

`record` then keeps the run for later comparison (`policy_budget_history`, a row in
`policy_runs`), once the measure checks have passed: a run they stop must not become the
"previous run" of the next one, nor replace its date's history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd

from dagster_project.lib.forecast.draws import PSEUDO

from . import kpis, lists, quantities
from .catalogue import Catalogue, CatalogueError
from .parameters import Parameters
from .quantities import Periods
from .rules import RuleContext, bindings
from .schemes import SCHEMES

# The city of an award to a register row still to come (a loan, an application, a supply link, an export
# to a new destination): its enterprise is not known yet (marts.policy_budget_rollup, level 'city').
UNASSIGNED_CITY = "待定"
# The marts the forecast and the engine read (and nothing else): the dependencies of both assets, and
# what a replay snapshots for each replayed day.
ENGINE_INPUTS = (
    "dim_enterprise", "dim_project", "dim_power_account", "fct_enterprise_month", "fct_enterprise_quarter",
    "fct_project_month", "fct_project_quarter", "fct_power_month", "fct_power_month_to_date", "fct_power_quarter",
    "fct_export_destination_month", "fct_export_destination_quarter", "fct_loans", "fct_applications",
    "fct_supply_links", "fct_recognitions", "fct_register_row_versions",
)
_PLACEHOLDER = re.compile(r"\$([A-Za-z][A-Za-z0-9_]*)")
# Evaluation columns the budget needs from every draw (the reason trace is built for the
# representative scenarios only).
# An award is paid in 元 and 分: each is rounded to the cent once, here, and every total adds cents.
# An award in 元, rounded to the fen once, from each scheme's exact amount: before the schemes'
# rows are unioned, where a scheme computing in DOUBLE (days / 365) would turn every scheme's exact
# DECIMAL into a double (1,227.495 元 became 1,227.49 in the awards and 1,227.50 in the budget).
_AMOUNT = "cast(round(case when eligible then amount_yuan else 0 end, 2) as decimal(18, 2))"
_LEAN = f"scenario, scheme_id, uscc, project_code, eligible, {_AMOUNT} as amount_yuan"


@dataclass(frozen=True)
class EngineResult:
    as_of: date
    draws: int
    beneficiaries: int  # distinct enterprises and projects awarded in the median outcome (marts.policy_budget_rollup)
    budget_yuan: dict[str, object]  # scenario -> the total's own quantile (grants and revolving fund)
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


def forecast_draws(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """The number of draws of the forecast written for `as_of` (lib/forecast/draws.py)."""
    try:
        row = con.execute("select as_of, draws from forecast.runs").fetchone()
    except duckdb.CatalogException:
        row = None
    if row is None or row[0] != as_of:
        raise CatalogueError(f"no forecast as of {as_of} in the warehouse (found {row[0] if row else 'none'}): "
                             "the forecast step runs before the measures")
    return int(row[1])


def run(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, params: Parameters, as_of: date) -> EngineResult:
    missing = sorted(set(catalogue.schemes) - set(SCHEMES))
    if missing:
        raise CatalogueError(f"no rule implements scheme(s) {', '.join(missing)}")
    periods = periods_for(catalogue, as_of)
    ctx = RuleContext(catalogue, params, periods)
    binds = bindings(params)
    draws = forecast_draws(con, as_of)
    quantiles = {"low": float(params.base("forecast.quantile_low")), "base": 0.5,
                 "high": float(params.base("forecast.quantile_high"))}
    _scheme_meta(con, catalogue)

    quantities.build_draws(con, periods, draws)
    lean = "\nunion all\n".join(f"select {_LEAN} from ({SCHEMES[sid](ctx)}) where eligible" for sid in catalogue.schemes)
    execute(con, f"create or replace temp table draw_awards as {lean}", binds)
    _choose(con, "draw_awards")
    lists.build(con, ctx, binds, execute)
    kpi_rows = kpis.evaluate(con, ctx, binds, execute)  # over every draw, before the quantities are relabelled
    _write_representative(con, draws, quantiles)
    # Relabelled outside the transaction below: inside it DuckDB kept every draw's quantities (1.3 GB
    # at province size) until the commit, and the writes after them took the step to 3 GiB.
    quantities.build_representative(con)
    union = "\nunion all\n".join(f"select * replace ({_AMOUNT} as amount_yuan) from ({SCHEMES[sid](ctx)})"
                                 for sid in catalogue.schemes)
    execute(con, f"create or replace temp table evaluated as {union}", binds)

    con.begin()  # the marts of the run: all of them, or none
    try:
        lists.publish(con)
        _write_budget(con, as_of, draws, quantiles)
        _write_award_forecast(con, as_of, draws, quantiles)
        _write_awards(con, as_of)
        _write_basis(con)
        kpis.write(con, ctx, kpi_rows)
        _write_parameters(con, params, as_of)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return summary(con, as_of, params)


def record(con: duckdb.DuckDBPyConnection, result: EngineResult) -> None:
    """Keep the run of `result` for later comparison: `policy_budget` as its as-of date's rows of
    `policy_budget_history` (a rerun replaces them) and a row in `policy_runs`, in one transaction.
    The Dagster asset `policy_run_record` calls it once the measure checks have passed; plain
    callers (the backtest, tools) right after `run`."""
    con.begin()
    try:
        con.execute("create table if not exists marts.policy_budget_history as select * from marts.policy_budget limit 0")
        con.execute("delete from marts.policy_budget_history where as_of = ?", [result.as_of])
        con.execute("insert into marts.policy_budget_history select * from marts.policy_budget")
        con.execute(
            "create table if not exists marts.policy_runs (as_of date, finished_at timestamp, params_fingerprint varchar,"
            " beneficiaries integer, base_yuan decimal(18, 2), low_yuan decimal(18, 2), high_yuan decimal(18, 2))"
        )
        con.execute(
            "insert into marts.policy_runs values (?, ?, ?, ?, ?, ?, ?)",
            [result.as_of, datetime.now(), result.params_fingerprint, result.beneficiaries,
             result.budget_yuan["base"], result.budget_yuan["low"], result.budget_yuan["high"]],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _scheme_meta(con, catalogue: Catalogue) -> None:
    con.execute("create or replace temp table scheme_meta (scheme_id varchar, listed integer, exclusive_group varchar,"
                " funding varchar)")
    con.executemany(
        "insert into scheme_meta values (?, ?, ?, ?)",
        [(sid, i, s.exclusive_group, s.funding) for i, (sid, s) in enumerate(catalogue.schemes.items())],
    )


def _choose(con, table: str) -> None:
    """Add `chosen` to the evaluations of `table`: per scenario and beneficiary, of the schemes of an
    exclusive group only the one that pays most is claimed (ties: the one listed first). An award
    of 0 (M20's rate × no equipment bought this year, by a project that qualifies on what it
    bought before) is claimed by no one: it is no award and its project no beneficiary. The window
    runs over the exclusive groups' evaluations only (at province size 0.3 M of the 2.2 M of every
    draw): over all of them it was the measures step's peak of memory."""
    con.execute(f"""
        create or replace temp table {table} as
        select v.*, v.eligible and v.amount_yuan > 0 as chosen
        from {table} v join scheme_meta m using (scheme_id) where m.exclusive_group is null
        union all
        select v.*, v.eligible and v.amount_yuan > 0 and row_number() over (
                   partition by v.scenario, coalesce(v.project_code, v.uscc), m.exclusive_group
                   order by v.eligible desc, v.amount_yuan desc, m.listed) = 1 as chosen
        from {table} v join scheme_meta m using (scheme_id) where m.exclusive_group is not null
    """)


def _position(q: float, draws: int) -> int:
    """The rank (1..draws) of the q-quantile among sorted draws (the lower value where q splits two)."""
    return max(1, min(draws, int(-(-q * draws // 1))))


def _write_representative(con, draws: int, quantiles: dict[str, float]) -> None:
    """Temp table `representative(scenario, kind, key, draw)`: per beneficiary, the draw at each
    scenario's quantile of its total chosen amount (ties by draw number); entities with no award in
    any draw take the draw of that rank (every draw is as good: they qualify in none)."""
    # Entities are numbered in DuckDB and only numbers cross into Python: the ~2 M (entity, draw)
    # sums at province size as a DataFrame of strings took the step's memory up by ~0.3 GiB.
    con.execute(f"""
        create or replace temp table award_sums as
        select case when project_code is null then 'enterprise' else 'project' end as kind,
               coalesce(project_code, uscc) as key, scenario as draw,
               sum(case when chosen then amount_yuan else 0 end)::double as amount
        from draw_awards where not starts_with(coalesce(project_code, uscc), '{PSEUDO}')
        group by all
    """)
    con.execute("""create or replace temp table award_entities as
                   select kind, key, (row_number() over (order by kind, key) - 1)::integer as row
                   from (select distinct kind, key from award_sums)""")
    sums = con.sql("select e.row, s.draw, s.amount from award_sums s join award_entities e using (kind, key)"
                   ).to_arrow_table()
    [(entities,)] = con.execute("select count(*) from award_entities").fetchall()
    amounts = np.zeros((entities, draws))
    amounts[sums["row"].to_numpy(), sums["draw"].to_numpy() - 1] = sums["amount"].to_numpy()
    order = np.argsort(amounts, axis=1, kind="stable")  # a tie goes to the lower draw number
    rows = np.arange(entities, dtype=np.int32)
    picks = pd.concat([pd.DataFrame({"row": rows, "scenario": scenario, "draw": order[:, _position(q, draws) - 1] + 1})
                       for scenario, q in quantiles.items()], ignore_index=True)
    ranks = ", ".join(f"('{s}', {_position(q, draws)})" for s, q in quantiles.items())
    con.register("picks_frame", picks)
    try:
        con.execute("create or replace temp table awarded as select p.scenario, e.kind, e.key, p.draw::integer as draw "
                    "from picks_frame p join award_entities e using (row)")
    finally:
        con.unregister("picks_frame")
    con.execute("drop table award_sums; drop table award_entities")
    con.execute(f"""
        create or replace temp table representative as
        select scenario, kind, key, draw from awarded
        union all
        select r.scenario, k.kind, k.key, r.position
        from (values {ranks}) r(scenario, position) cross join (
            select 'project' as kind, project_code as key from q_project where scenario = 1
            union select 'enterprise', uscc from (
                select uscc from q_enterprise where scenario = 1
                union select uscc from q_power where scenario = 1
                union select uscc from q_export where scenario = 1
                union select uscc from q_loans where scenario = 1
                union select uscc from q_applications where scenario = 1
                union select uscc from q_supply_links where scenario = 1
            )
        ) k
        where not starts_with(k.key, '{PSEUDO}')
          and not exists (select 1 from awarded a where a.kind = k.kind and a.key = k.key)
    """)


def _write_budget(con, as_of: date, draws: int, quantiles: dict[str, float]) -> None:
    """Per draw and scheme the chosen total, then each row's quantiles; the roll-ups."""
    con.execute(f"""
        create or replace table marts.policy_budget_draws as
        select cast(? as date) as as_of, d.draw, split_part(m.scheme_id, '.', 1) as measure_id, m.scheme_id,
               cast(count(a.uscc) filter (where a.chosen) as integer) as beneficiaries,
               cast(coalesce(sum(a.amount_yuan) filter (where a.chosen), 0) as decimal(18, 2)) as amount_yuan
        from scheme_meta m cross join (select range::integer as draw from range(1, {draws + 1})) d
        left join draw_awards a on a.scheme_id = m.scheme_id and a.scenario = d.draw
        group by all
    """, [as_of])
    picks = ", ".join(
        f"('{s}', {_position(q, draws)})" for s, q in quantiles.items()
    )
    con.execute(f"""
        create or replace table marts.policy_budget as
        with ranks(scenario, position) as (values {picks}),
        amounts as (
            select scheme_id, amount_yuan, row_number() over (partition by scheme_id order by amount_yuan, draw) as position
            from marts.policy_budget_draws
        ),
        counts as (
            select scheme_id, beneficiaries, row_number() over (partition by scheme_id order by beneficiaries, draw) as position
            from marts.policy_budget_draws
        )
        select cast(? as date) as as_of, r.scenario, split_part(m.scheme_id, '.', 1) as measure_id, m.scheme_id,
               c.beneficiaries, a.amount_yuan
        from scheme_meta m cross join ranks r
        join amounts a on a.scheme_id = m.scheme_id and a.position = r.position
        join counts c on c.scheme_id = m.scheme_id and c.position = r.position
        order by case r.scenario when 'base' then 0 when 'low' then 1 else 2 end, m.listed
    """, [as_of])
    _write_rollup(con, as_of, picks)
    con.execute(f"""
        create or replace table marts.policy_budget_components as
        with ranks(scenario, position) as (values {picks}),
        per_draw as (
            select m.scheme_id, c.component, d.draw,
                   cast(coalesce(sum(a.amount_yuan), 0) as decimal(18, 2)) as amount_yuan,
                   cast(count(a.scheme_id) as integer) as beneficiaries
            from scheme_meta m
            cross join (values ('reported'), ('forecast_new')) c(component)
            cross join (select distinct draw from marts.policy_budget_draws) d
            left join draw_awards a on a.scheme_id = m.scheme_id and a.scenario = d.draw and a.chosen
                 and starts_with(coalesce(a.project_code, a.uscc), '{PSEUDO}') = (c.component = 'forecast_new')
            group by all
        ),
        ordered as (
            select *, row_number() over (partition by scheme_id, component order by amount_yuan, draw) as by_amount,
                      row_number() over (partition by scheme_id, component order by beneficiaries, draw) as by_count
            from per_draw
        )
        select cast(? as date) as as_of, o.scheme_id, o.component, r.scenario, o.amount_yuan, c.beneficiaries
        from ordered o join ranks r on o.by_amount = r.position
        join ordered c on c.scheme_id = o.scheme_id and c.component = o.component and c.by_count = r.position
        order by o.scheme_id, o.component, r.scenario
    """, [as_of])


def _write_rollup(con, as_of: date, picks: str) -> None:
    """The quantiles of the total per measure, funding, city, industry group and overall."""
    con.execute(f"""
        create or replace temp table simulated_entities as
        select distinct uscc as key, city_code, industry_group from q_row_enterprise where starts_with(uscc, '{PSEUDO}')
        union select distinct project_code, city_code, industry_group from q_project where starts_with(project_code, '{PSEUDO}')
    """)
    # Each beneficiary's city and industry group once (not per award and draw), and a number for it: a
    # register row still to come has no enterprise yet, so no city (UNASSIGNED_CITY); an enterprise
    # outside the directory the prefecture of its USCC's registration code.
    con.execute(f"""
        create or replace temp table beneficiaries as
        select b.beneficiary, (row_number() over (order by b.beneficiary))::integer as id,
               coalesce(p.city_code, e.city_code, s.city_code,
                        case when starts_with(b.beneficiary, '{PSEUDO}') then '{UNASSIGNED_CITY}'
                             else substr(b.uscc, 3, 4) || '00' end) as city_code,
               coalesce(p.industry_group, e.industry_group, s.industry_group, '其他') as industry_group
        from (select coalesce(project_code, uscc) as beneficiary, any_value(uscc) as uscc,
                     any_value(project_code) as project_code
              from draw_awards where chosen group by all) b
        left join simulated_entities s on s.key = b.beneficiary
        left join marts.dim_enterprise e on e.uscc = b.uscc
        left join marts.dim_project p on p.project_code = b.project_code
    """)
    con.execute("""
        create or replace temp table chosen_awards as
        select a.scenario as draw, split_part(a.scheme_id, '.', 1) as measure_id, m.funding,
               b.city_code, b.industry_group, a.amount_yuan, b.id as beneficiary
        from draw_awards a join scheme_meta m using (scheme_id)
        join beneficiaries b on b.beneficiary = coalesce(a.project_code, a.uscc)
        where a.chosen
    """)
    con.execute(f"""
        create or replace table marts.policy_budget_rollup as
        with ranks(scenario, position) as (values {picks}),
        sums as (
            -- one scan for every level: grouping(...) tells which set a row belongs to
            select draw,
                   case when grouping(funding) = 0 then 'funding' when grouping(measure_id) = 0 then 'measure'
                        when grouping(city_code) = 0 then 'city' when grouping(industry_group) = 0 then 'industry_group'
                        else 'total' end as level,
                   coalesce(funding, measure_id, city_code, industry_group, '全部') as key,
                   sum(amount_yuan) as amount_yuan, count(*) as awards
            from chosen_awards
            group by grouping sets ((draw), (draw, funding), (draw, measure_id), (draw, city_code), (draw, industry_group))
        ),
        -- Distinct beneficiaries, counted from the distinct (draw, beneficiary, key) rows of each
        -- level (a city and an industry group are a beneficiary's own): count(distinct) in the
        -- grouping sets above took 3 of the roll-up's 4 s at province size.
        counts as (
            select draw,
                   case when grouping(city_code) = 0 then 'city' when grouping(industry_group) = 0 then 'industry_group'
                        else 'total' end as level,
                   coalesce(city_code, industry_group, '全部') as key, count(*) as beneficiaries
            from (select distinct draw, beneficiary, city_code, industry_group from chosen_awards)
            group by grouping sets ((draw), (draw, city_code), (draw, industry_group))
            union all
            select draw, 'funding', funding, count(*) from (select distinct draw, beneficiary, funding from chosen_awards)
            group by all
            union all
            select draw, 'measure', measure_id, count(*) from (select distinct draw, beneficiary, measure_id from chosen_awards)
            group by all
        ),
        grouped as (
            select s.draw, s.level, s.key, s.amount_yuan, s.awards, c.beneficiaries
            from sums s join counts c using (draw, level, key)
        ),
        keys as (
            select 'total' as level, '全部' as key
            union select 'funding', funding from scheme_meta
            union select 'measure', split_part(scheme_id, '.', 1) from scheme_meta
            union select distinct level, key from grouped
        ),
        per_draw as (
            select k.level, k.key, d.draw,
                   cast(coalesce(g.amount_yuan, 0) as decimal(18, 2)) as amount_yuan,
                   cast(coalesce(g.awards, 0) as integer) as awards,
                   cast(coalesce(g.beneficiaries, 0) as integer) as beneficiaries
            from keys k cross join (select distinct draw from marts.policy_budget_draws) d
            left join grouped g on g.level = k.level and g.key = k.key and g.draw = d.draw
        ),
        ordered as (
            select *, row_number() over (partition by level, key order by amount_yuan, draw) as by_amount,
                      row_number() over (partition by level, key order by beneficiaries, draw) as by_count,
                      row_number() over (partition by level, key order by awards, draw) as by_awards
            from per_draw
        )
        select cast(? as date) as as_of, o.level, o.key, r.scenario, o.amount_yuan, c.beneficiaries, w.awards
        from ordered o join ranks r on o.by_amount = r.position
        join ordered c on c.level = o.level and c.key = o.key and c.by_count = r.position
        join ordered w on w.level = o.level and w.key = o.key and w.by_awards = r.position
        order by o.level, o.key, r.scenario
    """, [as_of])
    con.execute("drop table beneficiaries; drop table chosen_awards")


def _write_award_forecast(con, as_of: date, draws: int, quantiles: dict[str, float]) -> None:
    """Per beneficiary and scheme, over all draws: how likely it qualifies and is chosen, and its amount."""
    con.execute(f"""
        create or replace table marts.policy_award_forecast as
        select cast(? as date) as as_of, a.scheme_id, split_part(a.scheme_id, '.', 1) as measure_id, a.uscc,
               a.project_code,
               {draws}::integer as draws,
               count(*)::double / {draws} as p_eligible,
               count(*) filter (where a.chosen)::double / {draws} as p_chosen,
               cast(sum(case when a.chosen then a.amount_yuan else 0 end) / {draws} as decimal(18, 2))
                   as expected_amount_yuan
        from draw_awards a
        where not starts_with(coalesce(a.project_code, a.uscc), '{PSEUDO}')
        group by all
        order by a.scheme_id, expected_amount_yuan desc, a.uscc, a.project_code
    """, [as_of])


def _write_awards(con, as_of: date) -> None:
    _choose(con, "evaluated")
    con.execute(
        """
        create or replace table marts.policy_awards as
        select cast(? as date) as as_of,
               r.scenario,
               split_part(r.scheme_id, '.', 1) as measure_id,
               r.scheme_id,
               r.uscc,
               r.project_code,
               coalesce(p.city_code, e.city_code, substr(r.uscc, 3, 4) || '00') as city_code,
               coalesce(p.industry_group, e.industry_group) as industry_group,
               r.eligible,
               r.chosen,
               r.amount_yuan,
               r.reason
        from evaluated r
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


def _write_parameters(con, params: Parameters, as_of: date) -> None:
    con.execute(
        """create or replace table marts.policy_parameters (as_of date, parameter_id varchar, measure_id varchar,
           description varchar, value varchar, unit varchar, origin varchar, source varchar, assumption boolean)"""
    )
    con.executemany(
        "insert into marts.policy_parameters values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (as_of, p.parameter.id, p.parameter.id.split(".")[0], p.parameter.description,
             p.text, p.parameter.unit, p.origin,
             p.parameter.source or p.parameter.assumption_note, p.parameter.assumption)
            for p in params
        ],
    )


def summary(con: duckdb.DuckDBPyConnection, as_of: date, params: Parameters) -> EngineResult:
    """The run in the measure tables, as `run` returned it."""
    draws = con.execute("select max(draw) from marts.policy_budget_draws").fetchone()[0]
    totals = dict(con.execute(
        "select scenario, amount_yuan from marts.policy_budget_rollup where level = 'total'").fetchall())
    beneficiaries = con.execute(  # as 汇总 counts them: the median outcome's distinct enterprises and projects
        "select beneficiaries from marts.policy_budget_rollup where level = 'total' and scenario = 'base'"
    ).fetchone()[0]
    return EngineResult(as_of, draws, beneficiaries, totals, params.fingerprint())
