"""Backtest of the weekly forecast: replay a past quarter week by week.

The policy document is shifted back a year (Q4 2023 against Q4 2022, with
every date and month parameter moved with it), the warehouse is rebuilt by
dbt at each Monday of that quarter as if it were "today", the engine runs,
and each weekly budget is compared with the budget computed once the quarter
was fully reported. Plain Python; `gxindustry backtest` wraps it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project.paths import DBT_PROJECT_DIR

from . import engine
from .catalogue import Catalogue
from .parameters import Parameters


def shift_catalogue(catalogue: Catalogue, years: int) -> Catalogue:
    """The same document moved by `years`: periods, year, and every month/date/year parameter."""

    def move(d: date) -> date:
        return d.replace(year=d.year + years)

    doc = catalogue.document
    document = doc.model_copy(update={
        "year": doc.year + years,
        "policy_quarter": doc.policy_quarter.model_copy(update={"start": move(doc.policy_quarter.start),
                                                                "end": move(doc.policy_quarter.end)}),
        "base_quarter": doc.base_quarter.model_copy(update={"start": move(doc.base_quarter.start),
                                                            "end": move(doc.base_quarter.end)}),
    })
    measures = []
    for m in catalogue.measures:
        params = []
        for p in m.parameters:
            value = p.value
            if p.type == "month":
                value = f"{int(value[:4]) + years}{value[4:]}"
            elif p.type == "date":
                value = move(value)
            elif p.unit == "年":
                value = value + years
            params.append(p.model_copy(update={"value": value}))
        measures.append(m.model_copy(update={"parameters": params}))
    return catalogue.model_copy(update={"document": document, "measures": measures})


def dbt_build(warehouse: Path, as_of: date) -> None:
    env = dict(os.environ, GXINDUSTRY_WAREHOUSE=str(warehouse))
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "build", "--quiet", "--vars", json.dumps({"as_of": as_of.isoformat()}),
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt build as of {as_of} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")


@dataclass(frozen=True)
class WeeklyResult:
    as_of: date
    scheme_id: str
    base: Decimal
    low: Decimal
    high: Decimal
    beneficiaries: int


def budget(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, tuple[Decimal, int]]]:
    out: dict[str, dict[str, tuple[Decimal, int]]] = {}
    for scenario, scheme, amount, n in con.execute(
        "select scenario, scheme_id, amount_yuan, beneficiaries from marts.policy_budget"
    ).fetchall():
        out.setdefault(scheme, {})[scenario] = (amount, n)
    return out


def mondays(start: date, end: date) -> list[date]:
    first = start + timedelta(days=(7 - start.weekday()) % 7)
    return [first + timedelta(weeks=k) for k in range((end - first).days // 7 + 1)]


def replay(warehouse: Path, catalogue: Catalogue, weeks: list[date], final_as_of: date,
           progress=print) -> tuple[list[WeeklyResult], dict[str, tuple[Decimal, int]]]:
    """Weekly forecasts and the final (fully reported) budget per scheme, base scenario."""
    params = Parameters(catalogue)
    results = []
    for as_of in [*weeks, final_as_of]:
        dbt_build(warehouse, as_of)
        with duckdb.connect(str(warehouse)) as con:
            engine.run(con, catalogue, params, as_of)
            b = budget(con)
        if as_of == final_as_of:
            actual = {s: v["base"] for s, v in b.items()}
        else:
            results.extend(WeeklyResult(as_of, s, v["base"][0], v["low"][0], v["high"][0], v["base"][1])
                           for s, v in b.items())
        progress(f"  as of {as_of}: base total {sum(v['base'][0] for v in b.values()) / 10_000:,.2f}万元")
    return results, actual


def report(results: list[WeeklyResult], actual: dict[str, tuple[Decimal, int]], command: str) -> str:
    """Markdown: per scheme, mean absolute error of budget and beneficiaries, and range coverage."""
    lines = [
        f"Produced by `{command}`.",
        "",
        "| scheme | actual 万元 | actual beneficiaries | weeks | mean abs. budget error | mean abs. beneficiaries error | actual inside low–high |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    schemes = sorted({r.scheme_id for r in results})
    for scheme in [*schemes, "total"]:
        rows = [r for r in results if r.scheme_id == scheme] if scheme != "total" else _totals(results)
        amount, n = actual[scheme] if scheme != "total" else (
            sum(a for a, _ in actual.values()), sum(b for _, b in actual.values()))
        errors = [abs(r.base - amount) / amount for r in rows if amount]
        n_errors = [abs(r.beneficiaries - n) / n for r in rows if n]
        inside = sum(r.low <= amount <= r.high for r in rows)
        lines.append(
            f"| {scheme} | {amount / 10_000:,.2f} | {n} | {len(rows)} | "
            f"{_pct(errors)} | {_pct(n_errors)} | {inside}/{len(rows)} |"
        )
    lines += ["", "Week by week (all schemes, 万元):", "", "| as of | base | low | high | actual |", "|---|---:|---:|---:|---:|"]
    total_actual = sum(a for a, _ in actual.values())
    for r in _totals(results):
        lines.append(f"| {r.as_of} | {r.base / 10_000:,.2f} | {r.low / 10_000:,.2f} | {r.high / 10_000:,.2f} | "
                     f"{total_actual / 10_000:,.2f} |")
    return "\n".join(lines) + "\n"


def _totals(results: list[WeeklyResult]) -> list[WeeklyResult]:
    by_week: dict[date, list[WeeklyResult]] = {}
    for r in results:
        by_week.setdefault(r.as_of, []).append(r)
    return [WeeklyResult(d, "total", sum(r.base for r in rs), sum(r.low for r in rs), sum(r.high for r in rs),
                         sum(r.beneficiaries for r in rs)) for d, rs in sorted(by_week.items())]


def _pct(values: list) -> str:
    return f"{float(sum(values) / len(values)) * 100:.1f}%" if values else "—"
