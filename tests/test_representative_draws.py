"""Which draw each beneficiary's base/low/high rows show (lib/measures/engine.py)."""

import duckdb

from dagster_project.lib.forecast.draws import PSEUDO
from dagster_project.lib.measures.engine import _write_representative

QUANTILES = {"low": 0.1, "base": 0.5, "high": 0.9}  # of 5 draws: ranks 1, 3 and 5


def test_each_beneficiary_shows_the_draw_at_its_own_quantile_and_the_others_the_draw_of_that_rank():
    con = duckdb.connect()
    awards = [  # (draw, uscc, project, chosen, amount)
        *[(d, "E1", None, True, a) for d, a in zip(range(1, 6), (50, 10, 40, 20, 30))],
        *[(d, "E2", None, True, 7) for d in range(1, 6)],  # all tied: by draw number
        # a project's amount counts only where its scheme is the one chosen (draw 1: 0)
        *[(d, "E1", "P1", d != 1, a) for d, a in zip(range(1, 6), (5, 4, 3, 2, 1))],
        *[(d, f"{PSEUDO}new", None, True, d) for d in range(1, 6)],  # a register row still to come
    ]
    con.execute("create temp table draw_awards (scenario integer, scheme_id varchar, uscc varchar, "
                "project_code varchar, eligible boolean, amount_yuan decimal(18, 2), chosen boolean)")
    con.executemany("insert into draw_awards values (?, 'S', ?, ?, true, ?, ?)",
                    [(d, u, p, a, c) for d, u, p, c, a in awards])
    con.execute("create temp table q_project as select 1 as scenario, 'P1' as project_code")
    con.execute(f"create temp table q_enterprise as select 1 as scenario, * from (values ('E1'), ('E2'), ('E3'), "
                f"('{PSEUDO}new')) t(uscc)")
    for table in ("q_power", "q_export", "q_loans", "q_applications", "q_supply_links"):
        con.execute(f"create temp table {table} as select 1 as scenario, 'E3' as uscc")
    _write_representative(con, 5, QUANTILES)
    got = {(kind, key, scenario): draw for scenario, kind, key, draw in
           con.execute("select scenario, kind, key, draw from representative").fetchall()}
    assert got == {
        # E1 sorted: 10 (draw 2), 20 (4), 30 (5), 40 (3), 50 (1)
        ("enterprise", "E1", "low"): 2, ("enterprise", "E1", "base"): 5, ("enterprise", "E1", "high"): 1,
        ("enterprise", "E2", "low"): 1, ("enterprise", "E2", "base"): 3, ("enterprise", "E2", "high"): 5,
        # P1 sorted: 0 (draw 1, not chosen), 1 (5), 2 (4), 3 (3), 4 (2)
        ("project", "P1", "low"): 1, ("project", "P1", "base"): 4, ("project", "P1", "high"): 2,
        # no award in any draw: the draw of the rank
        ("enterprise", "E3", "low"): 1, ("enterprise", "E3", "base"): 3, ("enterprise", "E3", "high"): 5,
    }
