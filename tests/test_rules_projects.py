"""Per-project schemes: M11 revolving fund, M15's exclusive three, M20 equipment renewal."""

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from rulekit import Warehouse, add_project


@pytest.fixture
def wh(empty_warehouse):
    w = Warehouse(empty_warehouse)
    w.owner = w.enterprise(1, q4_wan=100, q4b_wan=100)
    return w


@pytest.mark.parametrize(
    ("planned_wan", "start", "tags", "eligible"),
    [
        ("50000.01", None, "双百双新", True),
        (50000, None, "双百双新", False),  # strictly more than 5亿
        (80000, date(2024, 11, 1), "双百双新", False),  # already started
        (80000, None, "千企技改", False),  # not 双百双新
        (None, None, "双百双新", False),  # no 计划总投资 delivered: not known to be large
    ],
)
def test_m11_revolving_fund(wh, planned_wan, start, tags, eligible):
    add_project(wh, "P1", wh.owner, planned_wan=planned_wan, start=start, tags=tags)
    wh.run()
    if tags != "双百双新":
        assert wh.con.execute("select count(*) from marts.policy_awards where scheme_id = 'M11'").fetchone()[0] == 0
        return
    got = wh.award("M11", "P1")
    expected = (Decimal(str(planned_wan)) * 10_000 * Decimal("0.02")).quantize(Decimal("0.01")) if eligible else 0
    assert (got[0], got[2]) == (eligible, expected)
    if planned_wan is None:
        assert got[3] == "计划总投资 空 > 5亿元 ✗；开工年月 空 = 空（未开工） ✓ → 不符合"


def test_m15_thresholds_choice_and_tie(wh):
    q4 = date(2024, 10, 1)
    add_project(wh, "INC", wh.owner, q4_wan=1000, q4b_wan=800)  # increment only: 5% × 200万 = 10万
    add_project(wh, "INC_LOW", wh.owner, q4_wan="999.99", q4b_wan=0)  # below 1000万
    add_project(wh, "INC_FLAT", wh.owner, q4_wan=1500, q4b_wan=1500)  # not higher than Q4b
    add_project(wh, "MAJOR", wh.owner, q4_wan=20000, q4b_wan=19000)  # major 1% × 2亿 = 200万 > increment 50万
    add_project(wh, "MAJOR_LOW", wh.owner, q4_wan="19999.99", q4b_wan=19999)  # not major; increment 5% × 0.99万 = 495元
    add_project(wh, "NEW", wh.owner, q4_wan=1000, kind="新建", start=q4, entry=q4)  # new start 100万 > increment 50万
    add_project(wh, "RENO", wh.owner, q4_wan=500, kind="技术改造", start=q4, entry=date(2024, 11, 1))  # 50万
    add_project(wh, "RENO_LOW", wh.owner, q4_wan="499.99", kind="技术改造", start=q4, entry=q4)
    add_project(wh, "EXPAND", wh.owner, q4_wan=5000, kind="扩建", start=q4, entry=q4)  # 扩建 never a new start
    add_project(wh, "OLD_START", wh.owner, q4_wan=1000, kind="新建", start=date(2024, 9, 1), entry=q4)
    # Tie: increment 5% × 2000万 = 100万 = new-start amount: the increment (listed first) is chosen.
    add_project(wh, "TIE", wh.owner, q4_wan=2000, q4b_wan=0, kind="新建", start=q4, entry=q4)
    wh.run()
    expect = {
        "INC": {"M15.increment": (True, True, "100000.00")},
        "INC_LOW": {"M15.increment": (False, False, "0")},
        "INC_FLAT": {"M15.increment": (False, False, "0")},
        "MAJOR": {"M15.increment": (True, False, "500000.00"), "M15.major": (True, True, "2000000.00")},
        "MAJOR_LOW": {"M15.major": (False, False, "0"), "M15.increment": (True, True, "495.00")},
        "NEW": {"M15.increment": (True, False, "500000.00"), "M15.new_start": (True, True, "1000000.00")},
        "RENO": {"M15.new_start": (True, True, "500000.00")},
        "RENO_LOW": {"M15.new_start": (False, False, "0")},
        "EXPAND": {"M15.new_start": (False, False, "0"), "M15.increment": (True, True, "2500000.00")},
        "OLD_START": {"M15.new_start": (False, False, "0")},
        "TIE": {"M15.increment": (True, True, "1000000.00"), "M15.new_start": (True, False, "1000000.00")},
    }
    for project, schemes in expect.items():
        for scheme, (eligible, chosen, amount) in schemes.items():
            got = wh.award(scheme, project)
            assert got[:3] == (eligible, chosen, Decimal(amount)), (project, scheme, got)
    chosen = wh.con.execute(
        "select project_code, count(*) from marts.policy_awards where measure_id = 'M15' and chosen "
        "and scenario = 'base' group by 1 having count(*) > 1").fetchall()
    assert chosen == []
    # All three evaluations are kept for every project.
    per_project = wh.con.execute("select distinct count(*) from marts.policy_awards where measure_id = 'M15' "
                                 "and scenario = 'base' group by project_code").fetchall()
    assert per_project == [(3,)]


@pytest.mark.parametrize(
    ("kwargs", "amount"),
    [
        (dict(equipment_2024_wan=300, equipment_before_wan=200), "240000.00"),  # 500万 since start: 8% × 300万
        (dict(equipment_2024_wan="299.99", equipment_before_wan=200), "0"),  # 499.99万 since start
        (dict(equipment_2024_wan=12500, equipment_before_wan=0), "10000000.00"),  # 8% × 12500万 = cap 1000万
        (dict(equipment_2024_wan=20000, equipment_before_wan=0), "10000000.00"),  # capped
        (dict(equipment_2024_wan=600, kind="新建"), "0"),  # not 技术改造
        (dict(equipment_2024_wan=600, tags="千企技改"), "0"),  # not tagged 设备更新重点方向
    ],
)
def test_m20_equipment_renewal(wh, kwargs, amount):
    args = dict(kind="技术改造", tags="设备更新重点方向", start=date(2023, 6, 1)) | kwargs
    add_project(wh, "P1", wh.owner, **args)
    wh.run()
    got = wh.award("M20", "P1")
    assert got[2] == Decimal(amount)


def test_an_award_of_nothing_is_no_award(wh):
    """A renovation project that bought 600万 of equipment in 2023 and none in 2024 qualifies for
    M20 (500万 since the start) at 8% × 0: eligible, but no award and no beneficiary."""
    add_project(wh, "P1", wh.owner, kind="技术改造", tags="设备更新重点方向", start=date(2023, 6, 1),
                equipment_2024_wan=0, equipment_before_wan=600)
    wh.run()
    eligible, chosen, amount, _ = wh.award("M20", "P1")
    assert (eligible, chosen, amount) == (True, False, 0)
    assert wh.con.execute("select beneficiaries, amount_yuan from marts.policy_budget "
                          "where scheme_id = 'M20' and scenario = 'base'").fetchone() == (0, 0)


def test_m20_selects_the_catalogue_tag_among_several(wh):
    """A project qualifies when one of its tags is M20.project_tag; finance may select another FEEDS.md tag."""
    args = dict(kind="技术改造", start=date(2023, 6, 1), equipment_2024_wan=600)  # 8% × 600万 = 48万
    add_project(wh, "BOTH", wh.owner, tags="千企技改;设备更新重点方向", **args)
    add_project(wh, "QIANQI", wh.owner, tags="千企技改", **args)
    add_project(wh, "UNTAGGED", wh.owner, tags="", **args)
    wh.run()
    assert [wh.award("M20", p)[2] for p in ("BOTH", "QIANQI", "UNTAGGED")] == [Decimal("480000.00"), 0, 0]
    assert "技术改造/千企技改 含 技术改造/设备更新重点方向 ✗" in wh.award("M20", "QIANQI")[3]
    wh.run({"M20.project_tag": "千企技改"})
    assert [wh.award("M20", p)[2] for p in ("BOTH", "QIANQI", "UNTAGGED")] == [Decimal("480000.00")] * 2 + [0]
    assert "技术改造/千企技改 含 技术改造/千企技改 ✓" in wh.award("M20", "QIANQI")[3]


def test_m11_selects_the_catalogue_tag(wh):
    add_project(wh, "SBSX", wh.owner, planned_wan=80000, tags="招商引资;双百双新")  # 2% × 8亿 = 1600万
    add_project(wh, "ZSYZ", wh.owner, planned_wan=80000, tags="招商引资")
    wh.run()
    assert wh.award("M11", "SBSX")[:3:2] == (True, Decimal("16000000.00"))
    assert wh.con.execute("select count(*) from marts.policy_awards where project_code = 'ZSYZ'"
                          " and scheme_id = 'M11'").fetchone()[0] == 0
    wh.run({"M11.project_tag": "招商引资"})
    assert [wh.award("M11", p)[:3:2] for p in ("SBSX", "ZSYZ")] == [(True, Decimal("16000000.00"))] * 2


def test_m11_a_project_waiting_to_start_may_start_before_the_quarter_ends(wh):
    """As of September's statistics a 双百双新 project not started yet qualifies only in the draws
    where it does not start by December. The history's waiting months (end of the month before, in
    the library, not started): A and B waited April–November 2023 and started in November (16
    months, 2 starts), C and D April 2023–September 2024 (36), WAIT April–September 2024 (6): 2
    starts in 58 project-months, so WAIT goes through October–December without a start in
    E[(1 − rate)³] of the draws, rate ~ beta(2 + ½, 56 + ½) (the base trace shows the start as
    forecast where the base draw has one); once December is reported it qualifies."""
    add_project(wh, "WAIT", wh.owner, planned_wan=80000, tags="双百双新", entry=date(2024, 3, 1))
    for code, start in (("A", date(2023, 11, 1)), ("B", date(2023, 11, 1)), ("C", None), ("D", None)):
        add_project(wh, code, wh.owner, entry=date(2023, 3, 1), start=start)
    # project statistics from January 2023: the history whose waiting months count
    wh.insert("marts.fct_project_month", project_code="A", month=date(2023, 1, 1), uscc=wh.owner,
              investment_yuan=Decimal(0), equipment_yuan=Decimal(0))
    wh.run(as_of=date(2024, 10, 20))
    [(probability,)] = wh.con.execute("""select p_eligible from marts.policy_award_forecast
                                         where scheme_id = 'M11' and project_code = 'WAIT'""").fetchall()
    a, b = 2.5, 56.5
    assert float(probability) == pytest.approx(np.prod([(b + i) / (a + b + i) for i in range(3)]), abs=0.05)
    eligible, _, amount, reason = wh.award("M11", "WAIT")
    assert ("202411（预计）" in reason) != eligible
    wh.run()
    assert wh.award("M11", "WAIT")[:3:2] == (True, Decimal("16000000.00"))
