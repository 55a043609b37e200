"""The roll-up of the simulated awards (engine._write_rollup) on hand-made draws: amounts, awards and
distinct beneficiaries per level, and their quantiles over the draws."""

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from dagster_project.lib.forecast.draws import PSEUDO
from dagster_project.lib.measures.engine import UNASSIGNED_CITY, _write_rollup

# (draw, scheme, uscc, project, amount 元): enterprise A wins two M02 schemes and M24 in every draw,
# its project P M15 in draw 2; a register row still to come (a pseudo beneficiary) only in draw 3.
AWARDS = [
    (1, "M02.growth", "A", None, 100), (1, "M02.new", "A", None, 50), (1, "M24", "A", None, 10),
    (2, "M02.growth", "A", None, 100), (2, "M02.new", "A", None, 50), (2, "M24", "A", None, 10),
    (2, "M15.increment", "A", "P", 1000),
    (3, "M02.growth", "A", None, 100), (3, "M02.new", "A", None, 50), (3, "M24", "A", None, 10),
    (3, "M23", f"{PSEUDO}L1", None, 7),
    (3, "M02.growth", "B", None, 1, False),  # not chosen: counts nowhere
]


@pytest.fixture
def con():
    return _rolled_up(AWARDS)


def _rolled_up(awards) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.dim_enterprise as select * from (values ('A', '450100', '钢铁'), ('B', '450200', '医药'))"
                " t(uscc, city_code, industry_group)")
    con.execute("create table marts.dim_project as select 'P' as project_code, '450300' as city_code, '汽车' as industry_group")
    con.execute("create table marts.policy_budget_draws as select range::integer as draw from range(1, 4)")
    con.execute("create temp table scheme_meta as select * from (values ('M02.growth', 'province'), ('M02.new', 'province'),"
                " ('M24', 'city'), ('M15.increment', 'province'), ('M23', 'province')) t(scheme_id, funding)")
    con.execute(f"create temp table q_row_enterprise as select '{PSEUDO}L1' as uscc, '450400' as city_code, '食品' as industry_group")
    con.execute("create temp table q_project as select 'P' as project_code, '450300' as city_code, '汽车' as industry_group")
    con.execute("create temp table draw_awards (scenario integer, scheme_id varchar, uscc varchar, project_code varchar,"
                " amount_yuan decimal(18, 2), chosen boolean)")
    con.executemany("insert into draw_awards values (?, ?, ?, ?, ?, ?)", [(*a, *(() if len(a) == 6 else (True,))) for a in awards])
    _write_rollup(con, date(2024, 11, 25), "('low', 1), ('base', 2), ('high', 3)")
    return con


def rollup(con, level: str, key: str) -> dict[str, tuple]:
    return {s: (a, b, w) for s, a, b, w in con.execute(
        "select scenario, amount_yuan, beneficiaries, awards from marts.policy_budget_rollup where level = ? and key = ?",
        [level, key]).fetchall()}


def test_beneficiaries_are_counted_once_per_level_and_awards_each(con):
    # Draw totals 160, 1160, 167: low = draw 1, base = draw 3 (2nd smallest), high = draw 2.
    assert rollup(con, "total", "全部") == {"low": (Decimal("160.00"), 1, 3), "base": (Decimal("167.00"), 2, 4),
                                            "high": (Decimal("1160.00"), 2, 4)}
    # A's two M02 awards: one beneficiary, two awards.
    assert rollup(con, "measure", "M02")["base"] == (Decimal("150.00"), 1, 2)
    # Per funding: province pays A (M02, M15 in draw 2) and the pseudo loan (draw 3).
    assert rollup(con, "funding", "province") == {"low": (Decimal("150.00"), 1, 2), "base": (Decimal("157.00"), 2, 3),
                                                  "high": (Decimal("1150.00"), 2, 3)}
    assert rollup(con, "funding", "city")["base"] == (Decimal("10.00"), 1, 1)


def test_a_beneficiary_counts_in_its_own_city_and_industry_group(con):
    assert rollup(con, "city", "450300")["high"] == (Decimal("1000.00"), 1, 1)  # the project, not its owner's city
    assert rollup(con, "city", "450100")["base"] == (Decimal("160.00"), 1, 3)
    assert rollup(con, "industry_group", "食品")["high"] == (Decimal("7.00"), 1, 1)  # the pseudo row's own group
    assert rollup(con, "city", "450200") == {}  # B was not chosen in any draw


def test_a_register_row_still_to_come_has_no_city_yet():
    """A loan still to come (no simulated enterprise behind it) counts under UNASSIGNED_CITY and 其他,
    never under a code made of its pseudo key; an enterprise outside the directory under the
    prefecture of its USCC's registration code."""
    con = _rolled_up(AWARDS + [(3, "M23", f"{PSEUDO}loans:3:0", None, 5), (3, "M24", "91451000MA5XXXXXXX", None, 2)])
    assert rollup(con, "city", UNASSIGNED_CITY)["high"] == (Decimal("5.00"), 1, 1)
    assert rollup(con, "industry_group", "其他")["high"] == (Decimal("7.00"), 2, 2)
    assert rollup(con, "city", "451000")["high"] == (Decimal("2.00"), 1, 1)
    assert {k for (k,) in con.execute("select distinct key from marts.policy_budget_rollup where level = 'city'")
            .fetchall()} == {"450100", "450300", "450400", "451000", UNASSIGNED_CITY}
