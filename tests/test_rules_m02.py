"""M02 增产增效奖励 at, just below and just above every threshold and cap."""

from datetime import date
from decimal import Decimal

import pytest

from rulekit import Warehouse

CASES = {
    # n: (enterprise kwargs, expected eligible, expected amount in 元)
    1: (dict(q4_wan=5500, q4b_wan=5000), True, Decimal("50000.00")),  # YoY exactly 10%: 1% × 500万
    2: (dict(q4_wan="5499.99", q4b_wan=5000), False, Decimal(0)),  # YoY just below 10%
    3: (dict(q4_wan=5000, q4b_wan=4000), True, Decimal("100000.00")),  # output exactly 5000万
    4: (dict(q4_wan="4999.99", q4b_wan=4000), False, Decimal(0)),  # output just below
    5: (dict(q4_wan=30000, q4b_wan=10000), True, Decimal("2000000.00")),  # 1% × 20000万 = cap exactly
    6: (dict(q4_wan="30000.01", q4b_wan=10000), True, Decimal("2000000.00")),  # above the cap: capped
    7: (dict(q4_wan="29999.99", q4b_wan=10000), True, Decimal("1999999.00")),  # just under the cap
    8: (dict(q4_wan=3000, q4b_wan=2500, difficult=True), True, Decimal("50000.00")),  # difficult: 3000万 × 0.6
    9: (dict(q4_wan="2999.99", q4b_wan=2500, difficult=True), False, Decimal(0)),
    10: (dict(q4_wan=5300, q4b_wan=5000, difficult=True), True, Decimal("30000.00")),  # difficult: 6% growth
    11: (dict(q4_wan="5299.99", q4b_wan=5000, difficult=True), False, Decimal(0)),
    12: (dict(q4_wan=9000, q4b_wan=None), False, Decimal(0)),  # no base
}


@pytest.fixture
def wh(empty_warehouse):
    return Warehouse(empty_warehouse)


def test_growth_thresholds_and_cap(wh):
    codes = {n: wh.enterprise(n, **kw) for n, (kw, _, _) in CASES.items()}
    wh.run()
    for n, (_, eligible, amount) in CASES.items():
        got = wh.award("M02.growth", codes[n])
        assert (got[0], got[2]) == (eligible, amount), (n, got)


def test_growth_reason_names_values_and_thresholds(wh):
    code = wh.enterprise(1, q4_wan=3000, q4b_wan=2500, difficult=True)
    wh.run()
    reason = wh.award("M02.growth", code)[3]
    assert "四季度产值 3000.00万元 ≥ 3000.00万元（困难行业×0.6倍） ✓" in reason
    assert "同比 20.00% ≥ 6.00%（困难行业×0.6倍） ✓" in reason
    assert reason.endswith("= 5.00万元（50,000.00元）")


def test_a_base_quarter_not_reported_through_december_is_no_base_and_the_reason_says_why(wh):
    """A base quarter reported to November has an output (November less September: 4000万) but is no
    base (a missing end month is no 0). The reason read "上年四季度产值 4000.00万元 > 0 ✗" under M02.growth
    and "… 4000.00万元 = 0 ✓" under M02.new, contradicting itself (an independent audit); it says why."""
    code = wh.enterprise(1, q4_wan=7500, q4b_wan=4000, production_start=date(2023, 10, 1))
    wh.con.execute("update marts.fct_enterprise_quarter set serves_as_base = false, last_reported_month = "
                   "date '2023-11-01' where quarter_start = date '2023-10-01'")
    wh.con.execute("update marts.fct_enterprise_quarter set has_base = false where quarter_start = date '2024-10-01'")
    wh.run()
    growth, new = wh.award("M02.growth", code), wh.award("M02.new", code)
    assert not growth[0] and "有基数：上年四季度产值 4000.00万元（上年12月未报，不作基数） > 0 ✗" in growth[3]
    assert new[0] and "无基数：上年四季度产值 4000.00万元（上年12月未报，不作基数） = 0 ✓" in new[3]
    full = wh.enterprise(2, q4_wan=7500, q4b_wan=4000)
    wh.run()
    assert "有基数：上年四季度产值 4000.00万元 > 0 ✓" in wh.award("M02.growth", full)[3]


@pytest.mark.parametrize(
    ("kwargs", "eligible"),
    [
        (dict(q4_wan=2500, production_start=date(2023, 10, 1)), True),
        (dict(q4_wan="2499.99", production_start=date(2023, 10, 1)), False),
        (dict(q4_wan=2500, production_start=date(2023, 9, 1)), False),
        (dict(q4_wan=1500, production_start=date(2024, 2, 1), difficult=True), True),
        (dict(q4_wan="1499.99", production_start=date(2024, 2, 1), difficult=True), False),
        (dict(q4_wan=9000, q4b_wan=1, production_start=date(2024, 2, 1)), False),  # has a base
    ],
)
def test_new_production(wh, kwargs, eligible):
    code = wh.enterprise(1, **kwargs)
    wh.run()
    got = wh.award("M02.new", code)
    assert (got[0], got[2]) == (eligible, Decimal("300000.00") if eligible else Decimal(0))


@pytest.mark.parametrize(
    ("kwargs", "eligible"),
    [
        (dict(above_size_since=date(2024, 3, 1), fy_wan=1100, fy_base_wan=1000), True),
        (dict(above_size_since=date(2024, 3, 1), fy_wan="1099.99", fy_base_wan=1000), False),
        (dict(above_size_since=date(2023, 12, 1), fy_wan=2000, fy_base_wan=1000), False),
        (dict(above_size_since=date(2024, 12, 1), fy_wan=2000, fy_base_wan=None), False),  # no 2023 reports
    ],
)
def test_small_to_large(wh, kwargs, eligible):
    code = wh.enterprise(1, q4_wan=100, q4b_wan=90, **kwargs)
    wh.run()
    got = wh.award("M02.small_to_large", code)
    assert (got[0], got[2]) == (eligible, Decimal("100000.00") if eligible else Decimal(0))


def test_small_to_large_combines_with_growth_and_overrides_change_amounts(wh):
    code = wh.enterprise(1, q4_wan=6000, q4b_wan=5000, above_size_since=date(2024, 1, 1), fy_wan=22000, fy_base_wan=20000)
    wh.run({"M02.rate": Decimal("2"), "M02.small_to_large_amount": 15})
    assert wh.award("M02.growth", code)[1:3] == (True, Decimal("200000.00"))
    assert wh.award("M02.small_to_large", code)[1:3] == (True, Decimal("150000.00"))
    budget = dict(wh.con.execute("select scheme_id, amount_yuan from marts.policy_budget where scenario = 'base'").fetchall())
    assert budget["M02.growth"] == Decimal("200000.00") and budget["M02.small_to_large"] == Decimal("150000.00")


def test_a_second_policy_document_is_a_second_file(wh, tmp_path):
    """Another document (lower threshold, another quarter) is data: the same code gives other awards."""
    import yaml

    from dagster_project.lib.measures.catalogue import DEFAULT_CATALOGUE, load_catalogue

    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    data["document"]["id"] = "gx-2025q4-industrial-measures"
    next(p for m in data["measures"] for p in m.get("parameters", []) if p["id"] == "M02.min_output")["value"] = 4000
    path = tmp_path / "gx-2025q4-industrial-measures.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code = wh.enterprise(1, q4_wan=4500, q4b_wan=4000)
    wh.run()
    assert wh.award("M02.growth", code)[0] is False
    wh.catalogue = load_catalogue(path)
    wh.run()
    assert wh.award("M02.growth", code)[1:3] == (True, Decimal("50000.00"))


def test_another_quarter_moves_every_date(wh):
    from dagster_project.lib.forecast.backtest import shift_catalogue

    shifted = shift_catalogue(wh.catalogue, -1)
    assert shifted.document.policy_quarter.start == date(2023, 10, 1)
    assert shifted.document.base_quarter.start == date(2022, 10, 1)
    assert shifted.parameters["M02.new_production_since"].value == "202210"
    assert shifted.parameters["M02.small_to_large_entry_year"].value == 2023
    code = wh.enterprise(1, q4_wan=9000, q4b_wan=5000)  # Q4 2024 figures: nothing in Q4 2023
    wh.catalogue = shifted
    wh.run(as_of=date(2024, 2, 1))
    assert wh.award("M02.growth", code)[0] is False
