"""KPIs and monitoring lists on hand-made marts (quarter fully reported)."""

from datetime import date

import pytest
import yaml

from dagster_project.lib.measures.catalogue import DEFAULT_CATALOGUE, load_catalogue
from rulekit import Warehouse, add_project


@pytest.fixture
def wh(empty_warehouse):
    return Warehouse(empty_warehouse)


def kpis(wh) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in wh.con.execute(
        "select kpi_id, target_value, actual_value, status from marts.policy_kpis").fetchall()}


def members(wh, list_id) -> set[str]:
    return {r[0] for r in wh.con.execute("select uscc from marts.policy_lists where list_id = ?", [list_id]).fetchall()}


def test_measure_1_lists_and_kpis(wh):
    up = wh.enterprise(1, q4_wan=550, q4b_wan=500, fy_wan=1100, fy_base_wan=1000)
    turning = wh.enterprise(2, q4_wan=480, q4b_wan=500, fy_wan=900, fy_base_wan=1000, ytd9_wan=420, ytd9_base_wan=500)
    sinking = wh.enterprise(3, q4_wan=400, q4b_wan=500, fy_wan=800, fy_base_wan=1000, ytd9_wan=400, ytd9_base_wan=500)
    ramping = wh.enterprise(4, q4_wan=300, fy_wan=500, q3_wan=200, production_start=date(2024, 3, 1))
    stalling = wh.enterprise(5, q4_wan=100, fy_wan=500, q3_wan=200, production_start=date(2023, 1, 1))
    wh.run()
    assert members(wh, "M01.list_positive") == {up}
    assert members(wh, "M01.list_negative") == {turning, sinking}
    assert members(wh, "M01.list_new_production") == {ramping, stalling}
    got = kpis(wh)
    assert got["M01.expand"][1] == 1
    assert got["M01.turnaround"][1] == 1  # -4% in Q4 beats -16% in Jan–Sep; -20% does not beat -20%
    assert got["M01.ramp_up"][1] == 1
    assert got["M01.expand"][2] == "滞后"


def test_a_new_plant_first_reporting_in_q4_has_no_q3_to_ramp_up_from(wh):
    """Q3 output is September's cumulative less June's; with no September report it is undefined,
    not 0 (as measure 33's list treats a missing Jan–Sep): an enterprise that entered the
    statistics in November is on the 新建投产 list, and not counted as ramping up."""
    reporting = wh.enterprise(1, q4_wan=300, fy_wan=500, q3_wan=200, production_start=date(2024, 3, 1))
    entered = wh.enterprise(2, q4_wan=300, fy_wan=300, production_start=date(2024, 5, 1),
                            above_size_since=date(2024, 11, 1))
    wh.run()
    assert members(wh, "M01.list_new_production") == {reporting, entered}
    assert kpis(wh)["M01.ramp_up"][1] == 1


def test_industry_group_growth_and_targets(wh):
    wh.enterprise(1, group="钢铁", q4_wan=100, q4b_wan=100, fy_wan=1100, fy_base_wan=1000)
    wh.enterprise(2, group="钢铁", q4_wan=100, q4b_wan=100, fy_wan=1070, fy_base_wan=1000)
    wh.enterprise(3, group="钢铁", q4_wan=100, fy_wan=5000)  # no 2023 output: not comparable
    wh.enterprise(4, group="医药", q4_wan=100, q4b_wan=100, fy_wan=1001, fy_base_wan=1000,
                  ytd9_wan=700, ytd9_base_wan=800)
    wh.run()
    got = kpis(wh)
    assert got["M03.steel"][0] == 8.5 and got["M03.steel"][1] == pytest.approx(8.5) and got["M03.steel"][2] == "达标"
    assert got["M06.pharma"][1] == pytest.approx(0.1) and got["M06.pharma"][2] == "达标"  # turned positive
    assert got["M05.building_materials"][1] is None


def test_an_enterprise_that_left_the_statistics_mid_year_is_not_compared(wh):
    """Comparable basis: both years' cumulative figures reach December (reported or forecast). An
    enterprise that left 规上 in July has January–June for 2024 against a whole 2023; counting it
    took a food group's growth from 10.4% to 6.0% (found by an independent hand check)."""
    wh.enterprise(1, group="食品", q4_wan=300, q4b_wan=250, fy_wan=1100, fy_base_wan=1000)
    left = wh.enterprise(2, group="食品", q4b_wan=250, fy_base_wan=1000)
    wh.insert("marts.fct_enterprise_month", uscc=left, month=date(2024, 6, 1), output_ytd_yuan=6_000_000)
    wh.run()
    assert kpis(wh)["M07.food"][1] == pytest.approx(10.0)


def test_an_enterprise_reporting_an_output_of_0_all_year_is_compared(wh):
    """MEASURES.md: group growth over enterprises reporting in both years. One that reported every
    month of 2024 with an output of 0 reports: (1000 + 0) / (1000 + 1000) − 1 = −50%. Until
    2026-12-07 an output of 0 in either year left it out (0.0%, found by an independent audit)."""
    wh.enterprise(1, group="造纸", q4_wan=100, q4b_wan=100, fy_wan=1000, fy_base_wan=1000)
    wh.enterprise(2, group="造纸", q4_wan=0, q4b_wan=100, fy_wan=0, fy_base_wan=1000)
    wh.run()
    assert kpis(wh)["M09.paper"][1] == pytest.approx(-50.0)


def test_the_growth_lists_hold_only_enterprises_with_a_base(wh):
    """MEASURES.md: 正增长 (规上, has a base, year-to-date growth > 0); has a base = Q4b output > 0.
    An enterprise that stopped in Q4 2023 (Q4b 0, 2023 year to date 1000万) is on neither list,
    whatever its growth; one just above and one just below last year's year to date are."""
    stopped = wh.enterprise(1, q4_wan=500, q4b_wan=0, fy_wan=2000, fy_base_wan=1000)
    up = wh.enterprise(2, q4_wan=500, q4b_wan=0.01, fy_wan=1000.01, fy_base_wan=1000)
    down = wh.enterprise(3, q4_wan=500, q4b_wan=0.01, fy_wan=999.99, fy_base_wan=1000)
    wh.run()
    assert members(wh, "M01.list_positive") == {up}
    assert members(wh, "M01.list_negative") == {down}
    assert stopped not in members(wh, "M01.list_positive") | members(wh, "M01.list_negative")


def test_a_recognition_entered_twice_counts_once(wh):
    """The unit of M27 is 家: an enterprise listed 新认定 in June and again in December (a hand-kept
    register's duplicate) is one enterprise; two scenarios of one enterprise stay two."""
    rows = [("专精特新中小企业", "自治区级", "新认定", date(2024, 6, 18), "E1", "甲公司"),
            ("专精特新中小企业", "自治区级", "新认定", date(2024, 12, 10), "E1", "甲公司"),
            ("专精特新中小企业", "自治区级", "新认定", date(2024, 6, 18), "E2", "乙公司"),
            ("数字化转型典型场景", "自治区级", "新认定", date(2024, 5, 1), "E1", "智能排产"),
            ("数字化转型典型场景", "自治区级", "新认定", date(2024, 5, 1), "E1", "设备联网")]
    for i, (category, level, kind, on, uscc, name) in enumerate(rows):
        wh.insert("marts.fct_recognitions", recognition_key=f"k{i}", list_category=category, level=level,
                  recognition_type=kind, recognised_on=on, uscc=uscc, name=name)
    wh.run()
    got = kpis(wh)
    assert got["M27.specialised"][1] == 2
    assert got["M19.digital_scenarios"][1] == 2


def test_new_above_size_and_recognitions(wh):
    wh.enterprise(1, above_size_since=date(2024, 11, 1), production_start=date(2023, 5, 1))
    wh.enterprise(2, above_size_since=date(2024, 10, 1), production_start=date(2022, 12, 1))
    wh.enterprise(3, above_size_since=date(2024, 9, 1), production_start=date(2024, 1, 1))
    for i, (category, level, kind, on) in enumerate([
        ("绿色工厂", "国家级", "新认定", date(2024, 7, 1)),
        ("绿色工厂", "国家级", "新认定", date(2024, 6, 30)),  # first half: not counted
        ("绿色工厂", "自治区级", "新认定", date(2024, 8, 1)),  # not national
        ("制造业单项冠军", "自治区级", "复核", date(2024, 3, 1)),
        ("制造业单项冠军", "自治区级", "新认定", date(2023, 12, 31)),  # 2023
    ]):
        wh.insert("marts.fct_recognitions", recognition_key=f"k{i}", list_category=category, level=level,
                  recognition_type=kind, recognised_on=on, name=f"n{i}")
    wh.run()
    got = kpis(wh)
    assert got["M32.new_above_size"][1] == 2
    assert got["M32.new_above_size_newly_built"][1] == 1
    assert got["M17.green_factories"][1] == 1
    assert got["M29.champions_review"][1] == 1 and got["M29.champions_new"][1] == 0


def test_every_measure_is_in_kpis_or_budget(wh):
    wh.run()
    kpi_measures = {r[0] for r in wh.con.execute("select measure_id from marts.policy_kpis").fetchall()}
    budget_measures = {r[0] for r in wh.con.execute("select measure_id from marts.policy_budget").fetchall()}
    assert kpi_measures | budget_measures == {f"M{n:02d}" for n in range(1, 35)}
    qualitative = wh.con.execute("select status from marts.policy_kpis where kpi_id = 'M10'").fetchone()
    assert qualitative == ("无量化指标",)


def test_project_counts_select_by_the_catalogue_tag(wh, tmp_path):
    """M13/M16 count the projects entering the library in Q4 whose tags include the measure's tag."""
    owner = wh.enterprise(1)
    for code, tags, entry in [
        ("A", "双百双新", date(2024, 10, 1)),
        ("B", "千企技改;双百双新", date(2024, 12, 1)),
        ("C", "双百双新", date(2024, 9, 1)),  # entered before Q4
        ("D", "千企技改", date(2024, 11, 1)),
        ("E", "", date(2024, 11, 1)),  # no tag
        ("F", "招商引资;设备更新重点方向", date(2024, 12, 1)),
    ]:
        add_project(wh, code, owner, tags=tags, entry=entry)
    wh.run()
    got = kpis(wh)
    assert (got["M13.new_projects"][1], got["M16.new_renovation"][1]) == (2, 2)
    wh.run({"M13.project_tag": "招商引资", "M16.project_tag": "重大产业标志性工程"})
    got = kpis(wh)
    assert (got["M13.new_projects"][1], got["M16.new_renovation"][1]) == (1, 0)
    # A catalogue may select by several tags (a list): a project carrying any of them counts once.
    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    tag = next(p for m in data["measures"] for p in m.get("parameters", []) if p["id"] == "M16.project_tag")
    tag["value"] = ["千企技改", "设备更新重点方向"]
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    wh.catalogue = load_catalogue(tmp_path / "catalogue.yaml")
    wh.run()
    assert kpis(wh)["M16.new_renovation"][1] == 3


def test_the_exit_risk_list_is_screened_on_the_months_reported_before_septembers_report(wh):
    """Measure 33's list is on January–September. Before September's report (15 October) it is
    screened on the months reported, named as a screen: a cumulative only grows, so every
    enterprise below the threshold in January–September is below it in January–August. Empty
    until then, as it was, it told the department that no enterprise was at risk."""
    low, high, exited = wh.enterprise(1), wh.enterprise(2), wh.enterprise(3)
    wh.con.execute("update marts.dim_enterprise set is_above_size = false, above_size_exit = date '2024-06-01' "
                   "where uscc = ?", [exited])

    def month(code, m, wan):
        wh.insert("marts.fct_enterprise_month", uscc=code, month=date(2024, m, 1),
                  output_ytd_yuan=wan * 10_000, revenue_ytd_yuan=wan * 10_000)

    month(low, 8, 1_400)
    month(high, 8, 1_500)  # at the threshold is not below it
    month(exited, 8, 100)  # left the statistics: no longer at risk of leaving
    wh.run(as_of=date(2024, 10, 14))
    listed = dict(wh.con.execute("select uscc, detail from marts.policy_lists where list_id = 'M33.exit_risk'").fetchall())
    assert set(listed) == {low}
    assert listed[low].startswith("1—8月产值 1400.00万元") and "9月统计未到：按已报月份初筛" in listed[low]
    month(low, 9, 1_600)  # September decides: above it
    month(high, 9, 1_700)
    wh.run(as_of=date(2024, 10, 15))
    assert members(wh, "M33.exit_risk") == set()
    wh.con.execute("update marts.fct_enterprise_month set revenue_ytd_yuan = 1_499 * 10_000 "
                   "where uscc = ? and month = date '2024-09-01'", [high])
    wh.run(as_of=date(2024, 10, 15))
    [(detail,)] = wh.con.execute("select detail from marts.policy_lists where list_id = 'M33.exit_risk'").fetchall()
    assert detail.startswith("1—9月产值") and "初筛" not in detail
    # An enterprise that stopped reporting in August is screened on its August report and says so;
    # one whose latest report is last year's is not on it.
    stopped, last_year = wh.enterprise(4), wh.enterprise(5)
    month(stopped, 8, 1_400)
    wh.insert("marts.fct_enterprise_month", uscc=last_year, month=date(2023, 9, 1),
              output_ytd_yuan=100 * 10_000, revenue_ytd_yuan=100 * 10_000)
    wh.run(as_of=date(2024, 10, 15))
    listed = dict(wh.con.execute("select uscc, detail from marts.policy_lists where list_id = 'M33.exit_risk'").fetchall())
    assert set(listed) == {high, stopped}
    assert listed[stopped].startswith("1—8月产值 1400.00万元") and "9月未报送：按最近一期报送初筛" in listed[stopped]


def test_a_count_is_forecast_while_the_quarter_is_open(wh):
    """OUTPUTS.md: `actual_value` is the forecast while the quarter is open. Last year the list of
    专精特新 was published in December (five enterprises); this year three so far, in June. On 25
    November the count is three plus the recognitions the register will still get in each draw
    (the median over the draws), not three — at most two in a draw: a list's year holds about as
    many as its last. A list whose batch is out already (国家级 绿色工厂: two in December 2023, two in
    September 2024) gets none; once the quarter is reported, the count."""
    def recognise(i, on, kind="新认定", category="专精特新中小企业", level="自治区级"):
        wh.insert("marts.fct_recognitions", recognition_key=f"k{i}", list_category=category, level=level,
                  recognition_type=kind, recognised_on=on, recognised_year=on.year, uscc=f"E{i}", name=f"企业{i}")

    for i in range(5):
        recognise(i, date(2023, 12, 12))
    recognise(9, date(2023, 12, 12), kind="复核")  # not counted by M27, drawn like the others
    for i in range(5, 8):
        recognise(i, date(2024, 6, 18))
    for i, on in ((10, date(2023, 12, 12)), (11, date(2023, 12, 12)), (12, date(2024, 9, 26)), (13, date(2024, 9, 26))):
        recognise(i, on, category="绿色工厂", level="国家级")
    wh.run(as_of=date(2024, 11, 25))
    most = wh.con.execute("""select list_category, max(n) from (select draw, list_category, count(*) as n
                             from forecast.new_recognitions where recognition_type = '新认定' group by all) group by all""").fetchall()
    assert most == [("专精特新中小企业", 2)]
    drawn = wh.con.execute("""
        select d.draw, count(n.uscc) filter (where n.recognition_type = '新认定')
        from (select range as draw from range(1, (select draws from forecast.runs) + 1)) d
        left join forecast.new_recognitions n on n.draw = d.draw group by all""").fetchall()
    per_draw = sorted(3 + added for _, added in drawn)
    assert len(per_draw) > 1 and per_draw[-1] > 3  # the register will still get rows in some draws
    new = wh.con.execute("select min(recognised_on)::date, max(recognised_on)::date, bool_and(uscc like '~%'), "
                         "bool_and(recognised_year = 2024) from forecast.new_recognitions").fetchone()
    assert new[0] > date(2024, 6, 18) and new[1] <= date(2024, 12, 31) and new[2] and new[3]
    target, actual, status = kpis(wh)["M27.specialised"]
    assert actual == per_draw[(len(per_draw) - 1) // 2] and actual > 3  # the lower median over the draws
    assert status == "滞后"  # a forecast of a few against a target of 50
    wh.run()  # the quarter reported: nothing still to come
    assert kpis(wh)["M27.specialised"][1] == 3


def test_the_forecast_adds_rows_of_every_kind_a_count_may_count_with_every_column_it_may_name(wh):
    """A count's definition may name any column catalogue.COUNTED_ROWS allows; the rows still to
    come (kpis.FORECAST_ROWS) must carry each, or the count would fail, or miss them."""
    from dagster_project.lib.measures.catalogue import COUNTED_ROWS, TAGGED_ROWS
    from dagster_project.lib.measures.kpis import FORECAST_ROWS

    wh.run(as_of=date(2024, 11, 25))  # the forecast tables exist
    assert set(FORECAST_ROWS) == set(COUNTED_ROWS)
    for kind, (_, columns, counted) in COUNTED_ROWS.items():
        named = sorted(columns | ({"tags"} if kind in TAGGED_ROWS else set()))
        wh.con.execute(f"select draw, {counted}, {', '.join(named)} from ({FORECAST_ROWS[kind]}) limit 0")
