"""The Excel workbooks, read back with openpyxl: sheets, headers, formats, defined names, unlocked
inputs, live formulas, text from feeds never stored as a formula, cached values equal to the
engine's quantiles, the change since the previous run, the fan charts, the method sheet,
probabilities per beneficiary, atomic writing, per-city packs, and the Dagster asset that writes them.

One small warehouse is built per session by `gxindustry refresh` (the real Dagster graph) on tiny
generated feeds, as of 2024-11-25 (quarter open: base, low and high differ); a copy of it is
refreshed as of 2025-01-20 (quarter closed, one draw; its history holds both runs).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from openpyxl import load_workbook

from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.parameters import Parameters
from dagster_project.lib.measures.schemes import LIVE
from dagster_project.lib.money import wan_text
from reports import budget_workbook, data, forecast_sheets, styles, write_budget_workbook, write_city_packs, write_kpi_workbook
from reports.budget_workbook import ADJUST_HEADER, AMOUNT_HEADER, ENGINE_HEADER, EXPECTED_HEADER, P_ELIGIBLE_HEADER
from reports.data import StaleWarehouse
from reports.styles import AWARD_MONEY, MONEY, put, wan

AS_OF = date(2024, 11, 25)
CLOSED = date(2025, 1, 20)  # December's statistics arrived on 2025-01-15: nothing left to forecast
GXINDUSTRY = str(Path(sys.executable).with_name("gxindustry"))
FEED_NAMES = ('=HYPERLINK("http://x","y")', "+86")  # planted in the tiny sample (names from the stats feed)
# every formula the writers produce starts with one of these
OUR_FORMULAS = re.compile(r"^=(ROUND\(|SUMIFS\(|SUM\(|IF\(|[A-Z]+\d+(\+[A-Z]+\d+)?$|0$|\"另有周转资金)")
BASE, LOW, HIGH, AWARDS, CHANGE = "基准\n（万元）", "低情景\n（万元）", "高情景\n（万元）", "奖补笔数\n（基准）", "较上次\n（万元）"
TOTAL = "总计（无偿补助 + 周转资金）"
SUBTOTALS = {"grant": "无偿补助合计", "revolving_fund": "周转资金合计"}
_BUILT: dict[str, Path] = {}


def _refresh(landing: Path, folder: Path, as_of: date) -> None:
    env = dict(os.environ, DAGSTER_HOME=str(folder / "dagster_home"))
    for var in ("GXINDUSTRY_PARAMS", "GXINDUSTRY_AS_OF"):
        env.pop(var, None)
    result = subprocess.run(
        [GXINDUSTRY, "refresh", "--landing", str(landing), "--warehouse", str(folder / "wh.duckdb"),
         "--reports", str(folder / "reports"), "--as-of", as_of.isoformat()],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def built_warehouse(tmp_path_factory) -> Path:
    """Generate tiny feeds and run `gxindustry refresh` once per test session (shared with the LibreOffice test)."""
    if "tmp" not in _BUILT:
        from dagster_project.cli import DEFAULT_SEED
        from dagster_project.lib.generate import generate_feeds

        tmp = tmp_path_factory.mktemp("workbooks")
        generate_feeds(tmp / "landing", scale="tiny", seed=DEFAULT_SEED, as_of=date(2025, 2, 1))
        _refresh(tmp / "landing", tmp, AS_OF)
        _BUILT["tmp"] = tmp
    return _BUILT["tmp"]


def closed_warehouse(tmp_path_factory) -> Path:
    """The session's warehouse copied and refreshed as of CLOSED: the quarter fully reported (one draw),
    the run of AS_OF kept in its history."""
    if "closed" not in _BUILT:
        open_quarter = built_warehouse(tmp_path_factory)
        tmp = tmp_path_factory.mktemp("closed")
        shutil.copy(open_quarter / "wh.duckdb", tmp / "wh.duckdb")
        _refresh(open_quarter / "landing", tmp, CLOSED)
        _BUILT["closed"] = tmp
    return _BUILT["closed"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, dbt_manifest) -> Path:
    return built_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def con(pipeline):
    with duckdb.connect(str(pipeline / "wh.duckdb"), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def budget_file(pipeline) -> Path:
    return pipeline / "reports" / AS_OF.isoformat() / f"budget_forecast_{AS_OF}.xlsx"


@pytest.fixture(scope="module")
def kpi_file(pipeline) -> Path:
    return pipeline / "reports" / AS_OF.isoformat() / f"kpi_report_{AS_OF}.xlsx"


@pytest.fixture(scope="module")
def closed(tmp_path_factory, dbt_manifest) -> Path:
    return closed_warehouse(tmp_path_factory)


def header_row(ws, first_header: str, column: int | None = None):
    """(row number, {header: column}) of the first row holding `first_header`."""
    for row in ws.iter_rows():
        for c in row:
            if c.value == first_header and (column is None or c.column == column):
                return c.row, {x.value: x.column for x in row if x.value is not None}
    raise AssertionError(f"{ws.title}: no header {first_header!r}")


def summary_schemes(ws) -> dict[str, dict[str, object]]:
    """汇总: scheme id -> {header: value} for the table by measure and scheme."""
    return {r["方案编号"]: r for r in table_rows(ws, "方案编号", "方案编号")}


def table_rows(ws, first_header: str, key: str, column: int | None = None) -> list[dict[str, object]]:
    """{header: value} per row of the table headed by `first_header`, down to the first blank `key`."""
    row, cols = header_row(ws, first_header, column)
    out = []
    for r in range(row + 1, ws.max_row + 1):
        if not ws.cell(r, cols[key]).value:
            break
        out.append({h: ws.cell(r, c).value for h, c in cols.items()} | {"_row": r})
    return out


def label_row(ws, label: str) -> int:
    return next(c.row for row in ws.iter_rows() for c in row if c.value == label)


def engine_budget(con) -> dict[tuple[str, str], tuple[int, Decimal]]:
    return {(s, sid): (n, a) for s, sid, n, a in con.execute(
        "select scenario, scheme_id, beneficiaries, amount_yuan from marts.policy_budget").fetchall()}


def rollup(con) -> dict[tuple[str, str, str], tuple[Decimal, int]]:
    """(level, key, scenario) -> (amount, awards) of marts.policy_budget_rollup."""
    return {(lvl, key, s): (a, n) for lvl, key, s, a, n in con.execute(
        "select level, key, scenario, amount_yuan, awards from marts.policy_budget_rollup").fetchall()}


def measure_sheets(wb) -> list:
    return [ws for ws in wb.worksheets if re.match(r"M\d\d ", ws.title)]


# ----------------------------------------------------------------------------- the pipeline's workbooks


def test_refresh_writes_both_workbooks_and_nothing_half_written(pipeline, budget_file, kpi_file):
    folder = budget_file.parent
    assert budget_file.is_file() and kpi_file.is_file()
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted([budget_file.name, kpi_file.name])


def test_dagster_asset_records_the_paths(pipeline, budget_file, kpi_file, monkeypatch):
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(pipeline / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        for key, path in ((["reports", "budget_forecast"], budget_file), (["reports", "kpi_report"], kpi_file)):
            event = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert event is not None, key
            assert event.asset_materialization.metadata["path"].value == str(path)
        budget = instance.get_latest_materialization_event(dg.AssetKey(["marts", "policy_budget"]))
        with duckdb.connect(str(pipeline / "wh.duckdb"), read_only=True) as con:
            total = con.execute("select amount_yuan from marts.policy_budget_rollup "
                                "where level = 'total' and scenario = 'base'").fetchone()[0]
        assert budget.asset_materialization.metadata["total_base_wan_yuan"].value == wan_text(total)


def test_budget_sheets_headers_and_frozen_tables(budget_file, catalogue):
    wb = load_workbook(budget_file)
    subsidy = [m for m in catalogue.measures if m.kind == "subsidy"]
    names = wb.sheetnames
    assert names[:5] == ["汇总", "按城市", "按行业", "预测区间", "预测方法"] and names[-1] == "参数"
    assert [n.split(" ")[0] for n in names[5:-1]] == [m.id for m in subsidy]
    for name, measure in zip(names[5:-1], subsidy):
        ws = wb[name]
        row, cols = header_row(ws, "方案编号")
        assert row == budget_workbook.STALE_ROW + 2
        for header in ("企业名称", "统一社会信用代码", "城市", "行业组", "计入基准预算", AMOUNT_HEADER, P_ELIGIBLE_HEADER,
                       EXPECTED_HEADER, "低情景计入（万元）", "高情景计入（万元）", "计算式（基准情景）",
                       "测算依据（基准情景；引擎测算时的参数）"):
            assert header in cols, (name, header)
        basis = [h for h in cols if h.startswith("计算基数") and h != "计算基数口径"]  # one unit per column, in its header
        assert len(basis) == 1 and (basis[0] == "计算基数" or basis[0][4] == "（"), (name, basis)
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith(str(row + 1)), (name, ws.freeze_panes)
        if ws.tables:  # a filterable table over the beneficiaries
            table = next(iter(ws.tables.values()))
            assert table.ref.startswith("A" + str(row)) and table.autoFilter is not None
    city_row, city_cols = header_row(wb["按城市"], "城市代码")
    cities = [wb["按城市"].cell(r, 2).value for r in range(city_row + 1, city_row + 15)]
    assert len(cities) == 14 and all(c.endswith("市") for c in cities)
    assert wb["汇总"]._charts and wb["按城市"]._charts and wb["按行业"]._charts and wb["预测区间"]._charts


def test_cached_values_are_the_engines_quantiles(budget_file, con, catalogue):
    """What a viewer shows without recalculating: every row its own distribution as the engine wrote
    it, to the last bit of the 万元 value (exact 元 ÷ 10000): schemes from policy_budget, totals,
    measures, cities and industry groups from policy_budget_rollup."""
    wb = load_workbook(budget_file, data_only=True)
    ws = wb["汇总"]
    expected, totals = engine_budget(con), rollup(con)
    rows = summary_schemes(ws)
    assert set(rows) == set(catalogue.schemes)
    for sid, row in rows.items():
        assert row[AWARDS] == expected[("base", sid)][0]
        for scenario, header in (("base", BASE), ("low", LOW), ("high", HIGH)):
            assert row[header] == wan(expected[(scenario, sid)][1]), (sid, scenario)
        assert (row[ENGINE_HEADER], row[ADJUST_HEADER]) == (row[BASE], 0), sid
    _, cols = header_row(ws, "方案编号")
    for level, key, label in (("funding", "grant", SUBTOTALS["grant"]),
                              ("funding", "revolving_fund", SUBTOTALS["revolving_fund"]), ("total", "全部", TOTAL)):
        r = label_row(ws, label)
        for scenario, header in (("base", BASE), ("low", LOW), ("high", HIGH)):
            assert ws.cell(r, cols[header]).value == wan(totals[(level, key, scenario)][0]), (label, scenario)
        assert ws.cell(r, cols[AWARDS]).value == totals[(level, key, "base")][1]
    # a total's median is its own, not the sum of the schemes' medians (the sheet says so)
    total = ws.cell(label_row(ws, TOTAL), cols[BASE]).value
    assert total == wan(totals[("total", "全部", "base")][0])
    assert any("合计的中位数不等于各行中位数之和" in str(c.value) for row in ws.iter_rows() for c in row)
    for r in table_rows(ws, "基准\n（万元）", "措施", column=3):  # 按措施, on page 3
        for scenario, header in (("base", "基准\n（万元）"), ("low", "低情景\n（万元）"), ("high", "高情景\n（万元）")):
            assert r[header] == wan(totals[("measure", r["措施"], scenario)][0]), (r["措施"], scenario)
    for sheet, first_header, level, key in (("按城市", "城市代码", "city", "城市代码"),
                                            ("按行业", "行业组", "industry_group", "行业组")):
        listed = table_rows(wb[sheet], first_header, first_header)
        listed = listed[:[r[first_header] for r in listed].index("合计")] if sheet == "按行业" else listed
        for r in listed:
            for scenario, header in (("base", BASE), ("low", "低情景 P10\n（万元）"), ("high", "高情景 P90\n（万元）")):
                amount = totals.get((level, r[key], scenario), (Decimal(0), 0))[0]
                assert r[header] == wan(amount), (sheet, r[key], scenario)
        keys = {r[key] for r in listed}
        assert {k for lvl, k, _ in totals if lvl == level} <= keys, sheet  # every key the engine has is shown
        total_row = label_row(wb[sheet], "合计")
        _, cols = header_row(wb[sheet], first_header)
        assert wb[sheet].cell(total_row, cols[BASE]).value == wan(totals[("total", "全部", "base")][0])


def test_summary_opens_with_the_headline(budget_file, con):
    ws = load_workbook(budget_file, data_only=True)["汇总"]
    formulas = load_workbook(budget_file)["汇总"]
    _, cols = header_row(ws, "方案编号")
    total = label_row(ws, TOTAL)
    base = label_row(ws, "奖补资金测算总额（基准情景）")
    assert base < 10  # at the top, above the notes
    assert formulas.cell(base, 4).value == f"=G{total}" and cols[BASE] == 7  # live: follows the parameter cells
    amounts = dict(con.execute("select scenario, amount_yuan from marts.policy_budget_rollup where level = 'total'")
                   .fetchall())
    awards, beneficiaries = con.execute("select awards, beneficiaries from marts.policy_budget_rollup "
                                        "where level = 'total' and scenario = 'base'").fetchone()
    assert ws.cell(base, 4).value == wan(amounts["base"]) == ws.cell(total, 7).value
    assert ws.cell(label_row(ws, "奖补笔数（基准）"), 4).value == awards
    assert ws.cell(label_row(ws, "受益对象（不重复计）"), 4).value == beneficiaries
    assert ws.cell(label_row(ws, "可能区间（P10 – P90）"), 4).value == \
        f"{wan_text(amounts['low'])} – {wan_text(amounts['high'])}"
    assert ws.cell(label_row(ws, "较上次测算"), 4).value == "—"  # the session's first run
    assert "同一测算基准日" not in ws.cell(label_row(ws, "较上次测算"), 7).value  # nothing replaced
    assert label_row(ws, "编制人（签字）")


def test_headline_and_schemes_show_the_change_since_the_previous_run(closed):
    """As of CLOSED the previous run is AS_OF's: the total's change from policy_runs, each scheme's
    from policy_budget_history."""
    path = closed / "reports" / CLOSED.isoformat() / f"budget_forecast_{CLOSED}.xlsx"
    ws = load_workbook(path, data_only=True)["汇总"]
    with duckdb.connect(str(closed / "wh.duckdb"), read_only=True) as con:
        before = dict(con.execute("select scheme_id, amount_yuan from marts.policy_budget_history "
                                  "where as_of = ? and scenario = 'base'", [AS_OF]).fetchall())
        now = dict(con.execute("select scheme_id, amount_yuan from marts.policy_budget where scenario = 'base'")
                   .fetchall())
        total_before = con.execute("select base_yuan from marts.policy_runs where as_of = ? "
                                   "order by finished_at desc limit 1", [AS_OF]).fetchone()[0]
        total_now = con.execute("select amount_yuan from marts.policy_budget_rollup "
                                "where level = 'total' and scenario = 'base'").fetchone()[0]
        assert con.execute("select draws from forecast.runs").fetchone()[0] == 1
    assert set(before) == set(now)
    change = label_row(ws, "较上次测算")
    assert ws.cell(change, 4).value == wan(total_now - total_before)
    assert str(AS_OF) in ws.cell(change, 7).value
    rows = summary_schemes(ws)
    for sid, row in rows.items():
        assert row[CHANGE] == wan(now[sid] - before[sid]), sid
    _, cols = header_row(ws, "方案编号")
    assert ws.cell(label_row(ws, TOTAL), cols[CHANGE]).value == wan(total_now - total_before)
    # closed: one draw, so the total is the sum of the schemes and low = base = high
    assert ws.cell(label_row(ws, TOTAL), cols[BASE]).value == wan(sum(now.values()))
    assert all(row[LOW] == row[BASE] == row[HIGH] for row in rows.values())


def test_a_rerun_that_changes_a_dates_total_says_what_it_replaces(tmp_path):
    """A rerun for the same as-of date (a withdrawal, a late correction, other parameters) replaces
    that date's figures: the headline names the earlier total, also after a plain rerun on top (the
    latest run that differs, not the one just before); an unchanged rerun replaces nothing."""
    from datetime import datetime

    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.policy_runs (as_of date, finished_at timestamp, params_fingerprint varchar, "
                "beneficiaries integer, base_yuan decimal(18, 2), low_yuan decimal(18, 2), high_yuan decimal(18, 2))")
    day = date(2024, 11, 25)

    def run(hour: int, base: str, fingerprint: str = "p1", as_of: date = day) -> None:
        con.execute("insert into marts.policy_runs values (?, ?, ?, 1, ?, 0, 0)",
                    [as_of, datetime(2026, 12, 6, hour), fingerprint, Decimal(base)])

    assert data.replaced_estimate(con, day) is None
    run(1, "72626400.00")
    run(2, "72626400.00")  # unchanged rerun
    assert data.replaced_estimate(con, day) is None
    run(3, "46958000.00")  # after a withdrawal
    run(4, "46958000.00")  # a plain rerun on top
    run(5, "10.00", as_of=date(2024, 11, 18))  # another date
    assert data.replaced_estimate(con, day) == data.ReplacedEstimate(datetime(2026, 12, 6, 2), Decimal("72626400.00"), True)
    run(6, "50000000.00", fingerprint="p2")  # other parameters
    assert data.replaced_estimate(con, day) == data.ReplacedEstimate(datetime(2026, 12, 6, 4), Decimal("46958000.00"), False)


def test_print_setup(budget_file, kpi_file):
    for path in (budget_file, kpi_file):
        wb = load_workbook(path)
        for ws in wb.worksheets:
            assert ws.page_setup.orientation == "landscape", ws.title
            assert "&P" in ws.oddFooter.center.text, ws.title
    budget = load_workbook(budget_file)
    for ws in measure_sheets(budget) + [budget["参数"]]:
        assert ws.print_title_rows, ws.title  # header rows repeated on every page


def test_every_fan_chart_prints_whole(budget_file):
    """The print area of 预测区间 reaches the last row of every chart (it ended with the last table,
    and the last scheme's chart printed as a title and half a legend)."""
    ws = load_workbook(budget_file)["预测区间"]
    last_printed = int(re.search(r"\$(\d+)$", ws.print_area[0] if isinstance(ws.print_area, list) else ws.print_area)[1])
    assert ws._charts
    for chart in ws._charts:
        assert chart.anchor._from.row + forecast_sheets.CHART_ROWS <= last_printed, chart.anchor._from.row


def test_every_city_of_the_roll_up_has_its_row(budget_file, con):
    """按城市 lists every city the roll-up has money for, the awards to register rows still to come
    (no enterprise yet) under 城市待定: without that row the cities' shares did not add up to 100%."""
    keys = {k for (k,) in con.execute("select distinct key from marts.policy_budget_rollup where level = 'city' "
                                      "and amount_yuan > 0").fetchall()}
    ws = load_workbook(budget_file)["按城市"]
    codes = {c.value for c in ws["A"] if isinstance(c.value, str)}
    assert keys <= codes, keys - codes


def test_the_power_cut_off_is_the_latest_reading_not_the_delivery_date(budget_file, kpi_file, con):
    """A weekly power file is named by its delivery date; the data it holds end the day before (or
    earlier). 汇总 and 预测方法 say how far the readings go, and 预测方法 forecasts from the day after."""
    latest = con.execute("select max(reading_date) from staging.stg_power__daily").fetchone()[0]
    delivered = con.execute("select max(available_on) from raw._manifest where feed = 'power' and dataset = 'daily'").fetchone()[0]
    assert latest < delivered  # the tiny run's latest file holds no reading of its own date
    wb = load_workbook(budget_file)
    texts = [c.value for ws in (wb["汇总"], wb["预测方法"]) for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and ("数据至 " in c.value or "已读至 " in c.value)]
    assert f"数据至 {latest}（" in " ".join(texts) and f"已读至 {latest}；{latest + timedelta(days=1)} 至" in " ".join(texts)
    assert f"数据至 {delivered}" not in " ".join(texts) and f"已读至 {delivered}" not in " ".join(texts)
    quality = load_workbook(kpi_file)["数据质量"]
    [daily] = [row for row in quality.iter_rows(values_only=True) if row[1] and "（daily）" in str(row[1])]
    assert daily[7].date() == latest


def test_the_registers_cut_off_is_each_registers_latest_row(budget_file, con):
    """A register has no period: 汇总 and 预测方法 name the day of each register's latest row, from
    which its rows still to come are forecast (a register re-delivered late lacks the days since)."""
    latest = dict(con.execute("""
        select '桂惠贷放款', max(disbursed_on) from marts.fct_loans
        union all select '活动申报', max(held_on) from marts.fct_applications
        union all select '首次供需', max(first_supply_on) from marts.fct_supply_links""").fetchall())
    wb = load_workbook(budget_file)
    summary = " ".join(c.value for row in wb["汇总"].iter_rows() for c in row if isinstance(c.value, str))
    method = " ".join(c.value for row in wb["预测方法"].iter_rows() for c in row if isinstance(c.value, str))
    for label, day in latest.items():
        assert day is not None and f"{label} {day}" in summary and f"{label} {day}" in method


def test_breakdown_charts_reach_the_highest_p90(budget_file):
    """The error bars of 按城市 and 按行业 end inside their chart: the axis runs to the highest P90."""
    wb = load_workbook(budget_file)
    for name in ("按城市", "按行业"):
        ws = wb[name]
        header = next(r for r in ws.iter_rows(min_row=1, max_row=10) if any(
            isinstance(c.value, str) and c.value.startswith("高情景") for c in r))
        col = next(c.column for c in header if isinstance(c.value, str) and c.value.startswith("高情景"))
        total = next(r for r in range(header[0].row + 1, ws.max_row + 1)
                     if any(ws.cell(r, c).value == "合计" for c in (1, 2)))
        top = max(ws.cell(r, col).value for r in range(header[0].row + 1, total))  # the rows charted
        [chart] = ws._charts
        assert chart.y_axis.scaling.max >= top > 0, name


def test_every_listed_beneficiary_has_a_name_or_says_why_not(budget_file, con):
    """A project owner outside the enterprise directory printed a blank 企业名称 beside a 400万 award:
    the cell says it is not in the directory."""
    from reports.budget_workbook import NOT_IN_DIRECTORY

    directory = dict(con.execute("select uscc, enterprise_name from marts.dim_enterprise").fetchall())
    wb = load_workbook(budget_file)
    wrong = []
    for ws in measure_sheets(wb):
        row, cols = header_row(ws, "统一社会信用代码")
        for r in range(row + 1, ws.max_row + 1):
            if uscc := ws.cell(r, cols["统一社会信用代码"]).value:
                name = ws.cell(r, cols["企业名称"]).value
                if name != (directory.get(uscc) or NOT_IN_DIRECTORY):
                    wrong.append((ws.title, r, uscc, name))
    assert wrong == []


def test_list_explanations_separate_thousands(kpi_file):
    """A list's 说明 reads 1,788.80万元, not 1788.80万元, like every other amount finance reads."""
    wb = load_workbook(kpi_file)
    unseparated = [(ws.title, c.value) for ws in wb.worksheets if ws.title.endswith("清单") for row in ws.iter_rows()
                   for c in row if isinstance(c.value, str) and re.search(r"(?<![\d,.])\d{4,}(\.\d+)?万元", c.value)]
    assert unseparated == []


def test_money_is_in_wan_with_two_decimals(budget_file):
    wb = load_workbook(budget_file)
    ws = wb["汇总"]
    row, cols = header_row(ws, "方案编号")
    for header in (BASE, LOW, HIGH, ENGINE_HEADER, ADJUST_HEADER):
        assert ws.cell(row + 1, cols[header]).number_format == MONEY
    m02 = measure_sheets(wb)[0]
    row, cols = header_row(m02, "方案编号")
    # one beneficiary's amounts: "<0.01" for a positive award under 50元 (test_workbooks_libreoffice)
    for header in (AMOUNT_HEADER, EXPECTED_HEADER, "低情景计入（万元）", "高情景计入（万元）"):
        assert m02.cell(row + 1, cols[header]).number_format == AWARD_MONEY
    assert m02.cell(row + 1, cols["上年四季度产值（万元）"]).number_format == MONEY
    assert m02.cell(row + 1, cols[P_ELIGIBLE_HEADER]).number_format == "0.0%"


def test_parameters_sheet_names_inputs_and_protection(budget_file, catalogue):
    wb = load_workbook(budget_file)
    ws = wb["参数"]
    assert ws.protection.sheet, "the parameter sheet is protected so that only the inputs are editable"
    params = Parameters(catalogue)
    live_ids = {pid for live in LIVE.values() for pid in (live.rate, live.cap) if pid}
    row, cols = header_row(ws, "参数编号")
    listed = {ws.cell(r, 1).value: r for r in range(row + 1, ws.max_row + 1) if ws.cell(r, 1).value}
    assert set(listed) == set(catalogue.parameters)  # every parameter of the catalogue
    for pid, r in listed.items():
        name = pid.replace(".", "_")
        assert name in wb.defined_names, name
        sheet, ref = next(iter(wb.defined_names[name].destinations))
        assert sheet == "参数" and ref.replace("$", "") == f"C{r}"
        value_cell = ws.cell(r, cols["取值"])
        assert value_cell.protection.locked is (pid not in live_ids), pid
        shown = params.get(pid).value
        if isinstance(shown, Decimal):
            assert value_cell.value == pytest.approx(float(shown)), pid  # in the unit shown (1 means 1 %)
        assert ws.cell(r, cols["单位"]).value == catalogue.parameters[pid].unit
        assert ws.cell(r, cols["取值来源"]).value == "目录默认值"
    assert {ws.cell(r, 1).value for r in listed.values() if ws.cell(r, cols["表内联动"]).value == "是"} == live_ids


def test_live_formulas_add_the_listed_rows_change_to_the_engines_median(budget_file, catalogue):
    """汇总: base = engine median (static) + adjustment (SUMIFS of the measure tables' adjustments for
    live schemes, 0 otherwise); measure sheets: each live row's amount is the rate formula, its
    adjustment the amount less the engine's, rounded to the cent."""
    wb = load_workbook(budget_file)
    values = load_workbook(budget_file, data_only=True)
    ws = wb["汇总"]
    _, cols = header_row(ws, "方案编号")
    engine, adjust = (re.sub(r"\d", "", ws.cell(1, cols[h]).coordinate) for h in (ENGINE_HEADER, ADJUST_HEADER))
    for sid, row in summary_schemes(ws).items():
        r = row["_row"]
        assert row[BASE] == f"={engine}{r}+{adjust}{r}", sid
        if sid in LIVE:
            assert row[ADJUST_HEADER].startswith("=SUMIFS(") and f'"{sid}"' in row[ADJUST_HEADER], sid
        else:
            assert row[ADJUST_HEADER] == 0, sid
    for label in (*SUBTOTALS.values(), TOTAL):
        r = label_row(ws, label)
        assert ws.cell(r, cols[BASE]).value == f"={engine}{r}+{adjust}{r}"
    seen = set()
    for sheet in measure_sheets(wb):
        row, cols = header_row(sheet, "方案编号")
        cached = values[sheet.title]
        amount_col = re.sub(r"\d", "", sheet.cell(1, cols[AMOUNT_HEADER]).coordinate)
        engine_col = re.sub(r"\d", "", sheet.cell(1, cols["引擎基准金额（万元）"]).coordinate)
        for r in range(row + 1, sheet.max_row + 1):
            sid = sheet.cell(r, cols["方案编号"]).value
            amount = sheet.cell(r, cols[AMOUNT_HEADER]).value
            if sid in LIVE and sheet.cell(r, cols["基准符合条件"]).value == "是":
                live = LIVE[sid]
                assert isinstance(amount, str) and amount.startswith("=ROUND("), (sid, amount)
                assert live.rate.replace(".", "_") in amount
                if live.cap:
                    assert f'IF({live.cap.replace(".", "_")}=""' in amount
                assert sheet.cell(r, cols[ADJUST_HEADER]).value == \
                    f"=ROUND(({amount_col}{r}-{engine_col}{r})*10000,2)/10000"
                assert cached.cell(r, cols["引擎基准金额（万元）"]).value == cached.cell(r, cols[AMOUNT_HEADER]).value
                seen.add(sid)
            elif sid:
                assert not isinstance(amount, str), (sid, amount)  # static values
                assert sheet.cell(r, cols[ADJUST_HEADER]).value is None
    assert "M02.growth" in seen and "M24" in seen


def test_feed_strings_are_never_formulas(budget_file, kpi_file):
    found = set()
    for path in (budget_file, kpi_file):
        wb = load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type == "f":
                        assert OUR_FORMULAS.match(str(c.value)), (path.name, ws.title, c.coordinate, c.value)
                        assert "HYPERLINK" not in str(c.value)
                    elif isinstance(c.value, str) and c.value.startswith(FEED_NAMES):
                        assert c.data_type == "s"
                        found.add(c.value[:4])
    assert found == {"=HYP", "+86智"}, "the planted names must appear, as text"


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1:A2)", "=1+1", "http://x.y"])
def test_put_writes_any_string_as_text(tmp_path, text):
    path = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(path))  # even without the workbook options
    put(wb.add_worksheet("s"), 0, 0, text)
    wb.close()
    cell = load_workbook(path)["s"]["A1"]
    assert cell.data_type == "s" and cell.value == text


def test_document_properties(budget_file, kpi_file, catalogue):
    from reports.styles import project_version

    wb = load_workbook(budget_file)
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["as_of"] == AS_OF.isoformat()
    assert props["parameter_set"] == Parameters(catalogue).fingerprint()
    assert props["gxindustry_version"] == project_version()
    assert f"as_of={AS_OF}" in wb.properties.keywords
    assert {p.name: p.value for p in load_workbook(kpi_file).custom_doc_props.props}["as_of"] == AS_OF.isoformat()


# ----------------------------------------------------------------------------- the forecast on the sheets


def test_measure_sheets_list_every_possible_beneficiary_with_its_probability(budget_file, con):
    """Every (scheme, beneficiary) that qualifies in some draw is listed with the engine's probability
    and expected amount; the rows counted in the base come first (by amount), the others after them
    (per scheme, by expected amount); the note says a row is the beneficiary's median scenario."""
    wb = load_workbook(budget_file, data_only=True)
    forecast = {(sid, uscc, code): (p, amount) for sid, uscc, code, p, amount in con.execute(
        "select scheme_id, uscc, project_code, p_eligible, expected_amount_yuan from marts.policy_award_forecast "
        "where p_eligible > 0").fetchall()}
    listed = {}
    for ws in measure_sheets(wb):
        row, cols = header_row(ws, "方案编号")
        assert any("自身中位情景" in str(ws.cell(r, 1).value) for r in range(1, row))
        counted, order = [], []
        for r in range(row + 1, ws.max_row + 1):
            sid = ws.cell(r, cols["方案编号"]).value
            if not sid:
                continue
            code = ws.cell(r, cols["项目代码"]).value if "项目代码" in cols else None
            key = (sid, ws.cell(r, cols["统一社会信用代码"]).value, code)
            listed[key] = (ws.cell(r, cols[P_ELIGIBLE_HEADER]).value, ws.cell(r, cols[EXPECTED_HEADER]).value)
            counted.append(ws.cell(r, cols["计入基准预算"]).value == "是")
            order.append((sid, counted[-1], ws.cell(r, cols[AMOUNT_HEADER]).value, listed[key][1]))
        assert counted == sorted(counted, reverse=True), ws.title  # counted rows first (the printed part)
        for sid in {o[0] for o in order}:
            base = [a for s, c, a, _ in order if s == sid and c]
            others = [e for s, c, _, e in order if s == sid and not c]
            assert base == sorted(base, reverse=True) and others == sorted(others, reverse=True), (ws.title, sid)
    assert set(forecast) <= set(listed)
    for key, (p, amount) in forecast.items():
        assert listed[key] == (p, wan(amount)), key
    assert any(0 < p < 1 for p, _ in listed.values()), "the open quarter has uncertain beneficiaries"


def test_fan_chart_per_scheme_from_the_history_and_this_runs_draws(closed, catalogue):
    """预测区间: a block per scheme (and the total) with a row per run (history, then this run's draws'
    P10/P25/P50/P75/P90) and a chart whose series read that block's rows: the stacked bands add up to
    the quantiles, the line is the medians."""
    path = closed / "reports" / CLOSED.isoformat() / f"budget_forecast_{CLOSED}.xlsx"
    # the open run's workbook of the closed warehouse: history AS_OF, this run's 400 draws
    with duckdb.connect(str(closed / "wh.duckdb"), read_only=True) as con:
        history = {(sid, s): a for sid, s, a in con.execute(
            "select scheme_id, scenario, amount_yuan from marts.policy_budget_history where as_of = ?", [AS_OF])
            .fetchall()}
        now = {(sid, s): a for sid, s, a in con.execute(
            "select scheme_id, scenario, amount_yuan from marts.policy_budget").fetchall()}
    wb = load_workbook(path, data_only=True)
    ws = wb["预测区间"]
    charts = {chart.anchor._from.row: chart for chart in ws._charts}
    blocks = {c.value.split(" ")[0]: c.row for c in ws["A"] if isinstance(c.value, str) and
              re.match(r"M\d\d(\.\w+)? ", c.value)}
    assert set(blocks) == set(catalogue.schemes)
    charted = 0
    for sid, title_row in blocks.items():
        first = title_row + 2
        if not (now[(sid, "high")] or history[(sid, "high")]):
            # P90 0 in both runs (a few draws may pay): a note instead of the table and the chart
            assert ws.cell(title_row + 1, 1).value == forecast_sheets.ALL_ZERO_NOTE, sid
            assert charts.get(title_row) is None, sid
            continue
        assert ws.cell(first, 1).value == str(AS_OF) and ws.cell(first + 1, 1).value.startswith(str(CLOSED))
        for r, source in ((first, history), (first + 1, now)):
            assert [ws.cell(r, c).value for c in (2, 4, 6)] == \
                [wan(source[(sid, s)]) for s in ("low", "base", "high")], (sid, r)
        chart = charts.get(title_row)  # anchored on the header row (0-based = title row 1-based)
        charted += 1
        bars, line = chart._charts
        helper = forecast_sheets.FAN_HELPER + 1  # 1-based column of the labels
        for k, series in enumerate(bars.ser):
            col = ws.cell(1, helper + 1 + k).column_letter
            assert series.val.numRef.f == f"预测区间!${col}${first}:${col}${first + 1}", (sid, k)
        col = ws.cell(1, helper + 6).column_letter
        assert line.ser[0].val.numRef.f == f"预测区间!${col}${first}:${col}${first + 1}"
        for r in (first, first + 1):
            segments = [ws.cell(r, helper + 1 + k).value for k in range(5)]
            assert sum(segments) == pytest.approx(ws.cell(r, 6).value)  # up to P90
            assert segments[0] == ws.cell(r, 2).value  # from P10
            assert ws.cell(r, helper + 6).value == ws.cell(r, 4).value  # the median line
    assert charted >= 5


def test_fan_quartiles_of_this_run_from_the_draws(budget_file, con):
    wb = load_workbook(budget_file, data_only=True)
    ws = wb["预测区间"]
    draws: dict[str, list[Decimal]] = {}
    for sid, amount in con.execute("select scheme_id, amount_yuan from marts.policy_budget_draws").fetchall():
        draws.setdefault(sid, []).append(amount)
    budget = {(sid, s): a for (s, sid), (_, a) in engine_budget(con).items()}
    checked = 0
    for c in ws["A"]:
        sid = c.value.split(" ")[0] if isinstance(c.value, str) and re.match(r"M\d\d(\.\w+)? ", c.value) else None
        if sid is None or not any(draws[sid]):
            continue
        if not budget[(sid, "high")]:  # P90 0: the note, whatever the few draws above it pay
            assert ws.cell(c.row + 1, 1).value == forecast_sheets.ALL_ZERO_NOTE, sid
            continue
        r = c.row + 2
        ordered = sorted(draws[sid])
        n = len(ordered)
        assert [ws.cell(r, col).value for col in (2, 3, 4, 5, 6)] == [
            wan(budget[(sid, "low")]), wan(ordered[-(-n // 4) - 1]), wan(budget[(sid, "base")]),
            wan(ordered[-(-3 * n // 4) - 1]), wan(budget[(sid, "high")])], sid
        checked += 1
    assert checked >= 5


BACKTEST_ROWS = [  # case, year, week, method, scheme, outcome, base, low, high, error, covered, score
    ("s1", 2023, 7, "model", "total", 100, 104, 90, 110, 0.04, True, 0.2),
    ("s1", 2023, 8, "model", "total", 100, 103, 95, 108, 0.03, True, 0.13),
    ("s1", 2023, 8, "naive", "total", 100, 110, 105, 120, 0.10, False, 1.15),
    ("s2", 2023, 8, "model", "total", 100, 95, 96, 99, -0.05, False, 0.13),
    ("s2", 2023, 8, "naive", "total", 100, 99, 90, 110, -0.01, True, 0.2),
    ("s1", 2023, 8, "model", "M24", 10, 11, 9, 12, 0.1, True, 0.3),
    ("s1", 2023, 8, "model", "M08", 0, 0, 0, 1, "", True, ""),
]


def write_backtest(path: Path, rows=BACKTEST_ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(data.BACKTEST_COLUMNS)
        for case, year, week, method, sid, y, base, low, high, error, covered, score in rows:
            writer.writerow([case, year, "2023-11-20", week, method, sid, y, base, low, high, error, covered,
                             (high - low) / y if y else "", score])
    return path


def test_method_sheet_with_the_backtest(tmp_path, con, catalogue):
    path = write_budget_workbook(con, catalogue, Parameters(catalogue), tmp_path, AS_OF,
                                 backtest_csv=write_backtest(tmp_path / "backtest.csv"))
    ws = load_workbook(path, data_only=True)["预测方法"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    for phrase in ("已报至 2024年10月", "2024年11月、2024年12月", "模拟 ", "中位数", "第 10 百分位", "第 90 百分位",
                   "符合条件概率", "朴素预测"):
        assert any(phrase in t for t in texts), phrase
    rows = {r["季度第几周"]: r for r in table_rows(ws, "季度第几周", "季度第几周")}
    assert list(rows) == ["第 7 周", "第 8 周（本次）"]  # 2024-11-25 is the quarter's 8th Monday
    week8 = rows["第 8 周（本次）"]
    assert week8["回测次数"] == 2
    assert week8["模型：误差\n（中位数）"] == pytest.approx(0.04)  # median of |0.03|, |−0.05|
    assert week8["模型：80%区间\n覆盖实际"] == 0.5 and week8["朴素：80%区间\n覆盖实际"] == 0.5
    assert week8["朴素：误差\n（中位数）"] == pytest.approx(0.055)
    assert week8["区间评分\n优于朴素"] == 1.0  # 0.13 < 1.15 and 0.13 < 0.2
    assert rows["第 7 周"]["朴素：误差\n（中位数）"] == "—"
    assert any(t.startswith("各方案：1 个") for t in texts)  # M08's zero outcome does not count
    # this week's worst case beside its median: |−0.05| of the two
    assert any("误差中位数为 4.0%，最不利的一次误差为 5.0%" in t for t in texts)
    assert not any("尚无回测结果" in t for t in texts)
    origins = sorted(o for (o,) in con.execute("select origins from forecast.series where errors_measured").fetchall())
    told = f"{origins[0]}—{origins[-1]}" if origins[0] != origins[-1] else str(origins[0])
    assert any(f"（本次 {told} 个时点）" in t for t in texts)
    assert not any(t.startswith("注意：") for t in texts)  # every series' errors measured on this history


def _method_texts(con, catalogue, tmp_path, start: str) -> list[str]:
    path = write_budget_workbook(con, catalogue, Parameters(catalogue), tmp_path, AS_OF,
                                 backtest_csv=write_backtest(tmp_path / "backtest.csv"))
    return [c.value for row in load_workbook(path)["预测方法"].iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith(start)]


def test_method_sheet_says_how_many_enterprises_are_forecast_as_late(tmp_path, pipeline, catalogue):
    """Enterprises forecast as late (not reported the latest month yet) are named by their number;
    with none, nothing is said."""
    copy = tmp_path / "wh.duckdb"
    shutil.copyfile(pipeline / "wh.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update forecast.series set late_entities = 0")
        assert _method_texts(con, catalogue, tmp_path, "迟报：") == []
        con.execute("update forecast.series set late_entities = 3 where series = 'output'")
        assert _method_texts(con, catalogue, tmp_path, "迟报：") == [
            "迟报：3 家企业尚未报送最新一期月报（此前按月报送、未退库），视为迟报而非停报：其未报月份从最近一期"
            "报送起预测，计入模拟；补报到达后按实际数计。"]


def test_method_sheet_says_how_dormant_entities_were_forecast(tmp_path, pipeline, catalogue):
    """Entities at 0 in their latest months (point forecast 0) are counted per series, with the
    dormant paths of past origins and how many restarted; where too few were measured to draw from,
    the sheet says they are forecast 0 and may be low. With none, nothing is said."""
    copy = tmp_path / "wh.duckdb"
    shutil.copyfile(pipeline / "wh.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update forecast.series set dormant_entities = 0")
        assert _method_texts(con, catalogue, tmp_path, "停滞：") == []
        con.execute("update forecast.series set dormant_entities = 4, restart_paths = 70, restarted_paths = 10, "
                    "restarts_drawn = true where series = 'investment'")
        con.execute("update forecast.series set dormant_entities = 2, restart_paths = 12, restarted_paths = 0, "
                    "restarts_drawn = false where series = 'output'")
        assert _method_texts(con, catalogue, tmp_path, "停滞：") == [
            "停滞：产值：2 个对象最近的月份为 0（此前不为 0）；往年各时点同样停滞的 12 例中 0 例此后恢复，例数太少，无法估计恢复的"
            "可能，按 0 预测（若恢复则预测偏低）；项目投资：4 个对象最近的月份为 0（此前不为 0）；往年各时点同样停滞的 70 例中 10 例"
            "此后恢复，模拟中按此比例和幅度恢复。点预测按 0 计。"]


def test_method_sheet_says_how_many_register_rows_are_still_to_be_keyed_in(tmp_path, pipeline, catalogue):
    """Rows of a register's last weeks drawn as still to be keyed in (forecast.register_paces) are
    counted per register; a register its copies show complete is not named."""
    copy = tmp_path / "wh.duckdb"
    shutil.copyfile(pipeline / "wh.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        assert con.execute("select sum(unregistered_rows) from forecast.register_paces").fetchone()[0] == 0
        assert _method_texts(con, catalogue, tmp_path, "补录：") == []
        con.execute("update forecast.register_paces set unregistered_rows = 3.24 where register = 'loans'")
        assert _method_texts(con, catalogue, tmp_path, "补录：") == [
            "补录：登记表由人工整理、整本重新交付，最新记录之前几周已发生的事项常在其后才录入。按以往各版登记表对其最新记录"
            "之前相应天数的完整程度推算，尚未录入的约有 桂惠贷放款 3.2 笔，与此后可能新增的登记一起计入模拟（预计季末前新增）。"]


def test_method_sheet_warns_where_the_history_could_not_measure_the_errors(tmp_path, pipeline, catalogue):
    copy = tmp_path / "wh.duckdb"
    shutil.copyfile(pipeline / "wh.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update forecast.series set errors_measured = false where series in ('output', 'kwh')")
        measured = sorted(o for (o,) in con.execute("select origins from forecast.series where errors_measured").fetchall())
        path = write_budget_workbook(con, catalogue, Parameters(catalogue), tmp_path, AS_OF,
                                     backtest_csv=write_backtest(tmp_path / "backtest.csv"))
    texts = [c.value for row in load_workbook(path)["预测方法"].iter_rows() for c in row if isinstance(c.value, str)]
    assert [t for t in texts if t.startswith("注意：")] == [
        "注意：产值、用电量的历史数据太短（需上年同期及其前几个月），误差无法实测，其区间按默认离散度（假设参数，见「参数」表）模拟，"
        "可信度低于下文回测所示。"]
    # the origins stated are those of the series measured
    told = f"{measured[0]}—{measured[-1]}" if measured[0] != measured[-1] else str(measured[0])
    assert any(f"（本次 {told} 个时点）" in t for t in texts)


def test_method_sheet_without_the_backtest(tmp_path, con, catalogue):
    path = write_budget_workbook(con, catalogue, Parameters(catalogue), tmp_path, AS_OF,
                                 backtest_csv=tmp_path / "absent.csv")
    texts = [c.value for row in load_workbook(path)["预测方法"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "尚无回测结果。" in texts


def test_a_damaged_backtest_file_is_named_with_line_and_field(tmp_path):
    path = write_backtest(tmp_path / "backtest.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",True,", ",yes,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(data.BacktestFileError, match=r"backtest\.csv, line 3, field covered"):
        data.backtest(path)
    path.write_text("case,year\ns1,2023\n", encoding="utf-8")
    with pytest.raises(data.BacktestFileError, match="missing column"):
        data.backtest(path)
    assert data.backtest(tmp_path / "none.csv") is None


def test_known_and_expected_new_apart(budget_file, con, pipeline, tmp_path, catalogue):
    """Schemes with beneficiaries still to come show the known part (registered, reporting) and the
    part expected by quarter end apart, each its own quantiles (marts.policy_budget_components);
    without that table the section is left out."""
    ws = load_workbook(budget_file, data_only=True)["汇总"]
    parts = {(sid, c, s): (a, n) for sid, c, s, a, n in con.execute(
        "select scheme_id, component, scenario, amount_yuan, beneficiaries from marts.policy_budget_components")
        .fetchall()}
    expected = {sid for sid, c, s in parts if c == "forecast_new" and s == "high" and parts[(sid, c, s)][0] > 0}
    assert expected, "the open quarter expects new beneficiaries somewhere"
    shown = {r["方案编号"]: r for r in table_rows(ws, "已知对象\n笔数", "方案编号")}
    assert set(shown) == expected
    for sid, r in shown.items():
        assert r["已知对象\n中位数\n（万元）"] == wan(parts[(sid, "reported", "base")][0])
        assert r["已知对象\n笔数"] == parts[(sid, "reported", "base")][1]
        assert [r["新增 P10\n（万元）"], r["新增中位数\n（万元）"], r["新增 P90\n（万元）"]] == \
            [wan(parts[(sid, "forecast_new", s)][0]) for s in ("low", "base", "high")]
    copy = tmp_path / "wh.duckdb"
    shutil.copy(pipeline / "wh.duckdb", copy)
    with duckdb.connect(str(copy)) as other:
        other.execute("drop table marts.policy_budget_components")
        path = write_budget_workbook(other, catalogue, Parameters(catalogue), tmp_path / "out", AS_OF)
    texts = [c.value for row in load_workbook(path)["汇总"].iter_rows() for c in row if isinstance(c.value, str)]
    assert not any("已知对象与预计季末前新增" in t for t in texts)


# ----------------------------------------------------------------------------- KPI workbook


def test_kpi_overview_covers_all_34_measures_with_status_colours(kpi_file, catalogue, con):
    wb = load_workbook(kpi_file)
    assert wb.sheetnames[:2] == ["指标总览", "行业增速"] and wb.sheetnames[-1] == "数据质量"
    ws = wb["指标总览"]
    row, cols = header_row(ws, "序号")
    for header in ("措施", "措施名称", "类型", "指标", "目标口径", "实际/预测", "完成进度", "状态"):
        assert header in cols
    measures, statuses = set(), {}
    for r in range(row + 1, ws.max_row + 1):
        if ws.cell(r, cols["措施"]).value:
            measures.add(ws.cell(r, cols["措施"]).value)
            status_cell = ws.cell(r, cols["状态"])
            statuses[status_cell.value] = status_cell.fill.fgColor.rgb
    assert measures == {m.id for m in catalogue.measures} and len(measures) == 34
    assert set(statuses) <= {"达标", "进度正常", "滞后", "无量化指标"}
    assert len(set(statuses.values())) == len(statuses), "each status has its own colour"
    kpi_ids = {ws.cell(r, cols["指标编号"]).value for r in range(row + 1, ws.max_row + 1)}
    assert {k for (k,) in con.execute("select kpi_id from marts.policy_kpis where kpi_id like '%.%'").fetchall()} \
        <= kpi_ids
    # a subsidy measure's budget is its own median (the roll-up), as on the budget workbook
    medians = dict(con.execute("select key, amount_yuan from marts.policy_budget_rollup "
                               "where level = 'measure' and scenario = 'base'").fetchall())
    values = load_workbook(kpi_file, data_only=True)["指标总览"]
    budgets = {values.cell(r, cols["措施"]).value: values.cell(r, cols["实际/预测"]).value
               for r in range(row + 1, ws.max_row + 1) if values.cell(r, cols["指标"]).value == "奖补资金测算（基准情景）"}
    assert budgets == {m: wan(a) for m, a in medians.items()}


def test_kpi_growth_table_and_lists(kpi_file, catalogue, con):
    wb = load_workbook(kpi_file, data_only=True)
    growth = wb["行业增速"]
    row, cols = header_row(growth, "行业组")
    groups = [growth.cell(r, 1).value for r in range(row + 1, growth.max_row + 1) if growth.cell(r, 1).value]
    assert groups == [k.industry_group for _, k in catalogue.kpis if k.industry_group]
    assert growth._charts or load_workbook(kpi_file)["行业增速"]._charts
    for measure in catalogue.measures:
        for lst in measure.lists:
            ws = wb[lst.title]
            expected = con.execute("select count(*) from marts.policy_lists where list_id = ?", [lst.id]).fetchone()[0]
            row, cols = header_row(ws, "序号")
            listed = [r for r in range(row + 1, ws.max_row + 1) if ws.cell(r, cols["统一社会信用代码"]).value]
            assert len(listed) == expected, lst.id
    assert {lst.id for m in catalogue.measures for lst in m.lists} >= {
        "M01.list_positive", "M01.list_negative", "M01.list_new_production", "M01.list_near_above_size",
        "M33.exit_risk"}


def test_kpi_data_quality_sheet(kpi_file, con):
    ws = load_workbook(kpi_file, data_only=True)["数据质量"]
    per_dataset = {r["数据集"].split("（")[1].rstrip("）"): (r["文件数"], r["接受行数"], r["拒收行数"])
                   for r in table_rows(ws, "数据源", "数据集")}
    expected = {d: (f, a, j) for d, f, a, j in con.execute(
        "select dataset, count(*), sum(rows_accepted), sum(rows_rejected) from raw._manifest"
        " where available_on <= ? group by dataset", [AS_OF]).fetchall()}
    assert per_dataset == expected
    # a register (no arrival rule) reads 随时更新, not a blank; a delivery its latest arrival
    arrivals = {r["数据集"].split("（")[1].rstrip("）"): r["最近到达日"] for r in table_rows(ws, "数据源", "数据集")}
    latest = dict(con.execute("select dataset, max(available_on) from raw._manifest where available_on <= ?"
                              " and feed <> 'registers' group by dataset", [AS_OF]).fetchall())
    assert {d: a.date() for d, a in arrivals.items() if d in latest} == latest
    assert arrivals["supply_links"] == "随时更新"
    texts = [c.value for r in ws.iter_rows() for c in r if isinstance(c.value, str)]
    assert any(t.startswith("未通过的数据检查（共") for t in texts), "the run's checks are listed"
    assert any(t.startswith("统一社会信用代码校验码错误：末位为") for t in texts)  # rejection reasons in Chinese
    assert not any("invalid USCC" in t or "expectation(s) not met" in t or "carried over" in t for t in texts)
    # Every expectation not met in the latest validation of a file or mart is listed, whichever run made it.
    listed = set()
    for r in table_rows(ws, "文件或数据表", "期望（套件）"):
        label, suite = r["期望（套件）"].rsplit("\n（", 1)
        listed.add((r["文件或数据表"], suite.rstrip("）"), label))
    expected = set(con.execute(
        "select coalesce(file_name, asset), suite, label from marts.dq_check_results_latest where outcome <> 'pass'"
    ).fetchall())
    assert listed == expected and expected, "the sample feeds' defects fail some expectations"
    # The run's checks and the two long blocks each start a printed page, their title above their
    # header (never a title and header alone at the foot of a page: the checks' title was, at the
    # foot of page 1, once the first block's dataset labels took one line each).
    starts = [c.row for r in ws.iter_rows() for c in r
              if isinstance(c.value, str) and c.value.startswith(("未通过的数据检查", "未满足的数据期望", "拒收行明细"))]
    assert [brk.id for brk in ws.row_breaks.brk] == [row - 1 for row in starts] and len(starts) == 3



def test_kpi_written_outside_a_run_says_which_checks_it_lacks(tmp_path, con, catalogue):
    """Written outside a run (render_check, the screenshots) the run's checks are unknown: the sheet
    says so, and the expectations read from the warehouse are listed all the same (the note once
    read "no check results attached" above a list of them)."""
    ws = load_workbook(write_kpi_workbook(con, catalogue, tmp_path, AS_OF), data_only=True)["数据质量"]
    texts = [c.value for r in ws.iter_rows() for c in r if isinstance(c.value, str)]
    assert any(t.startswith("流水线检查（dbt 测试、资产检查）的通过情况只在流水线运行中附上") for t in texts)
    assert not any(t.startswith("未通过的数据检查（共") for t in texts)
    assert any(t.startswith("未满足的数据期望") for t in texts) and table_rows(ws, "文件或数据表", "期望（套件）")
    starts = [c.row for r in ws.iter_rows() for c in r
              if isinstance(c.value, str) and c.value.startswith(("未满足的数据期望", "拒收行明细"))]
    assert [brk.id for brk in ws.row_breaks.brk] == [row - 1 for row in starts]  # no break for checks not listed


def test_wrapped_text_takes_a_line_per_word_that_does_not_fit():
    """Excel and LibreOffice wrap Latin words whole: a label whose words meet the edge takes a line
    more than its characters alone would say (the row was cut off on 数据质量)."""
    label = "纳税人识别号校验码 (GB 32100-2015 校验码, GB 11714 组织机构代码校验位)\n（raw_tax_vat）"
    assert styles.lines_needed(label, 24) == 5
    assert styles.lines_needed("一二三四五六七八九十", 10) == 2  # CJK breaks anywhere
    assert styles.lines_needed("stats_industry_202303.csv", 20) == 2  # a word longer than the line is broken
    assert styles.lines_needed(None, 10) == styles.lines_needed("", 10) == 1


def test_headers_broken_by_hand_keep_their_lines_whole(tmp_path, con, catalogue):
    """A header with its own line break gets the width of its widest line: "差距（百分点）", left to
    wrap, printed its "）" alone on a second line. On 数据质量 a delivered file's name, `_vN` included,
    fits column A (at 20 the ".csv" of "customs_export_202305.csv" wrapped onto a line of its own)."""
    wb = load_workbook(write_kpi_workbook(con, catalogue, tmp_path, AS_OF))
    ws = wb["行业增速"]
    header_row = next(r for r in ws.iter_rows() if any(c.value == "状态" for c in r))
    for cell in header_row:
        if isinstance(cell.value, str) and "\n" in cell.value:
            widest = max(styles.text_width(line) for line in cell.value.split("\n"))
            assert ws.column_dimensions[cell.column_letter].width >= widest + 1, cell.value
    assert "差距\n（百分点）" in [c.value for c in header_row]
    quality = wb["数据质量"]
    assert styles.lines_needed("stats_industry_202409_v2.csv", quality.column_dimensions["A"].width) == 1


# ----------------------------------------------------------------------------- writing safely


def test_failed_write_leaves_previous_workbook_and_no_partial_file(tmp_path, con, catalogue, monkeypatch):
    params = Parameters(catalogue)
    path = write_budget_workbook(con, catalogue, params, tmp_path, AS_OF)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(budget_workbook, "_write_parameters", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_budget_workbook(con, catalogue, params, tmp_path, AS_OF)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_earlier_as_of_folders_are_kept(tmp_path, con, catalogue):
    earlier = tmp_path / "2024-11-18" / "budget_forecast_2024-11-18.xlsx"
    earlier.parent.mkdir()
    earlier.write_bytes(b"last week's workbook")
    write_budget_workbook(con, catalogue, Parameters(catalogue), tmp_path, AS_OF)
    write_kpi_workbook(con, catalogue, tmp_path, AS_OF)
    assert earlier.read_bytes() == b"last week's workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024-11-18", AS_OF.isoformat()]


def test_workbook_refuses_parameters_other_than_the_runs(tmp_path, con, catalogue):
    other = Parameters(catalogue, {"M02.rate": Decimal("1.5")}, "finance.yaml")
    with pytest.raises(StaleWarehouse, match="parameter set"):
        write_budget_workbook(con, catalogue, other, tmp_path, AS_OF)
    with pytest.raises(StaleWarehouse, match="as of"):
        write_kpi_workbook(con, catalogue, tmp_path, date(2024, 11, 18))
    assert not any(tmp_path.rglob("*.xlsx"))


# ----------------------------------------------------------------------------- per-city packs


def test_city_pack_is_filtered_to_the_prefecture(tmp_path, con, catalogue):
    code, name = con.execute(
        """select a.city_code, any_value(r.city_name) from marts.policy_awards a
           join marts.dim_region r using (city_code) where a.scenario = 'base' and a.chosen
           group by 1 order by count(*) desc, 1 limit 1""").fetchone()
    packs = write_city_packs(con, catalogue, Parameters(catalogue), tmp_path, AS_OF, cities=[code])
    budget, kpi = packs[code]
    assert budget == tmp_path / AS_OF.isoformat() / "cities" / f"budget_forecast_{AS_OF}_{code}.xlsx"
    wb = load_workbook(budget, data_only=True)
    assert "按城市" not in wb.sheetnames and "预测区间" not in wb.sheetnames and name in wb["汇总"]["A1"].value
    rows = summary_schemes(wb["汇总"])
    # per scheme: the sum over the prefecture's beneficiaries in their median scenario (no per-city
    # distribution per scheme); the total: the prefecture's own distribution
    expected = dict(con.execute(
        """select scheme_id, coalesce(sum(amount_yuan) filter (where chosen), 0) from marts.policy_awards
           where scenario = 'base' and city_code = ? group by scheme_id""", [code]).fetchall())
    for sid, row in rows.items():
        assert row[BASE] == wan(expected.get(sid, 0)), sid
    city_total = dict(con.execute("select scenario, amount_yuan from marts.policy_budget_rollup "
                                  "where level = 'city' and key = ?", [code]).fetchall())
    ws = wb["汇总"]
    _, cols = header_row(ws, "方案编号")
    assert [ws.cell(label_row(ws, TOTAL), cols[h]).value for h in (BASE, LOW, HIGH)] == \
        [wan(city_total[s]) for s in ("base", "low", "high")]
    for ws in measure_sheets(wb):
        row, cols = header_row(ws, "方案编号")
        assert {ws.cell(r, cols["城市"]).value for r in range(row + 1, ws.max_row + 1)} <= {name, None}
    positives = load_workbook(kpi, data_only=True)["正增长重点企业清单"]
    row, cols = header_row(positives, "序号")
    assert {positives.cell(r, cols["城市"]).value for r in range(row + 1, positives.max_row + 1)} <= {name, None}


@pytest.mark.parametrize(("as_of", "reported", "phase"), [
    (date(2024, 9, 30), False, "四季度尚未开始"),
    (date(2024, 11, 25), False, "四季度进行中"),
    # After 31 December the figures stay forecasts until December's statistics arrive (15 January):
    # the workbooks had said "四季度已结束，实际数" and left out the forecast's method.
    (date(2025, 1, 10), False, "四季度已结束、数据尚未报齐"),
    (date(2025, 1, 15), True, None),
])
def test_the_workbooks_say_where_the_quarter_stands(as_of, reported, phase):
    catalogue = load_catalogue()
    assert data.quarter_reported(catalogue, as_of) is reported
    if phase:
        assert data.quarter_phase(catalogue, as_of) == phase


def test_a_quarter_whose_december_library_is_missing_is_not_called_reported(tmp_path):
    """On 20 January December's industry report is in and its project library is not: December's
    projects are forecast (Horizon.as_delivered), so the workbooks say 数据尚未报齐, not 实际数."""
    from dagster_project.lib.ingest import DATASETS
    from dagster_project.lib.ingest.loader import ensure_raw_tables

    catalogue = load_catalogue()
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ensure_raw_tables(con, DATASETS)
        for dataset, period in (("industry", "202412"), ("projects", "202411")):
            con.execute("insert into raw._manifest (file_name, feed, dataset, period, available_on) "
                        "values (?, 'stats', ?, ?, '2025-01-15')", [f"stats_{dataset}_{period}.csv", dataset, period])
        assert data.quarter_reported(catalogue, date(2025, 1, 20))  # the arrival rule alone
        assert not data.quarter_reported(catalogue, date(2025, 1, 20), con)
        con.execute("insert into raw._manifest (file_name, feed, dataset, period, available_on) "
                    "values ('stats_projects_202412.csv', 'stats', 'projects', '202412', '2025-01-15')")
        assert data.quarter_reported(catalogue, date(2025, 1, 20), con)


def test_the_data_cut_off_names_a_monthly_dataset_behind_its_feed(tmp_path):
    """汇总's 数据截止 row of the statistics says October, from its industry report: a project library
    still at September (or never delivered) is named beside it, not hidden behind the newest file."""
    from dagster_project.lib.ingest import DATASETS
    from dagster_project.lib.ingest.loader import ensure_raw_tables

    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ensure_raw_tables(con, DATASETS)
        for dataset, period, arrived in (("enterprise", "202410", "2024-11-15"), ("industry", "202410", "2024-11-15"),
                                         ("projects", "202409", "2024-10-15")):
            con.execute("insert into raw._manifest (file_name, feed, dataset, period, available_on) "
                        "values (?, 'stats', ?, ?, ?)", [f"stats_{dataset}_{period}.csv", dataset, period, arrived])
        stats = next(c for c in data.data_cutoff(con, AS_OF) if c.feed == "stats")
        assert stats.text == "数据至 2024年10月（2024-11-15 到达）；其中项目库月报仅至 2024年9月"
        con.execute("delete from raw._manifest where dataset = 'projects'")
        stats = next(c for c in data.data_cutoff(con, AS_OF) if c.feed == "stats")
        assert stats.text == "数据至 2024年10月（2024-11-15 到达）；其中项目库月报尚无到达文件"
        con.execute("insert into raw._manifest (file_name, feed, dataset, period, available_on) values "
                    "('stats_projects_202410.csv', 'stats', 'projects', '202410', '2024-11-15')")
        stats = next(c for c in data.data_cutoff(con, AS_OF) if c.feed == "stats")
        assert stats.text == "数据至 2024年10月（2024-11-15 到达）"


def test_months_missing_from_the_base_quarter_or_the_year_are_named_on_the_summary(pipeline, budget_file, catalogue,
                                                                                  tmp_path):
    """With the base quarter missing the rules compare Q4 with nothing (every project's Q4 an
    increment); with a month of the policy year due and missing they take it as reported and empty.
    汇总 says which months, and that the amounts depending on them cannot be trusted; and which rows of
    known projects were rejected (their month counts as not reported). With the data complete it
    says nothing of the kind. The red rows take the notes' room on page 1: the notes then begin page 2."""
    def summary_text(path: Path) -> str:
        ws = load_workbook(path, read_only=True)["汇总"]
        return "\n".join(" ".join(str(v) for v in row if v is not None) for row in ws.iter_rows(values_only=True))

    assert not any(flag in summary_text(budget_file) for flag in ("基期数据缺失", "本年数据缺失", "数据行被拒收", "登记表行被拒收",
                                                                "数据疑似有误", "季度产值含本年此前月份", "交付文件"))
    shutil.copy(pipeline / "wh.duckdb", tmp_path / "wh.duckdb")
    base = '[{"feed": "customs_export", "month": "2023-10-01"}, {"feed": "stats_projects", "month": "2023-11-01"}]'
    this_year = '[{"feed": "stats_projects", "month": "2024-10-01"}]'
    rejected = ('[{"file_name": "stats_projects_202410.csv", "line": 5, "dataset": "projects", "period": "202410", '
                '"entity": "2023-450702-22-02-374756", "header": "开工年月", "reason": "not a month YYYYMM"}]')
    register = ('[{"file_name": "registers_applications.xlsx", "line": 11, "dataset": "applications", '
                '"entity": "91450206466697751T", "header": "活动类型", "reason": "unknown value (allowed: 新品发布会 产品订货会 展会)"}]')
    span = ('[{"uscc": "91450226MAW8DHFH4T", "quarter_start": "2024-10", "span_problem": '
            '"202409 未报（最近一次报送 202408）：按“缺失月份计0”，该季度产值为本年累计 9,876.54 万元"}]')
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        for suite, expectation, count, examples in (("mart_base_periods", "base_periods_delivered", 2, base),
                                                    ("mart_policy_periods", "policy_periods_delivered", 1, this_year),
                                                    ("mart_rejected_policy_rows", "policy_rows_in_force", 1, rejected),
                                                    ("mart_rejected_register_rows", "register_rows_in_force", 1, register),
                                                    ("mart_quarter_spans", "quarter_span_starts_reported", 1, span)):
            con.execute("""insert into marts.dq_check_results (run_id, checked_at, as_of, asset, suite, expectation,
                               severity, success, outcome, unexpected_count, unexpected_examples)
                           values ('later', now() + interval 1 day, ?, 'marts/fct_enterprise_quarter', ?, ?,
                                   'warning', false, 'warn', ?, ?)""", [AS_OF, suite, expectation, count, examples])
        jump = '[{"magnitude_jump": "工业总产值_本月 104,569,000 千元 = 上次报送（202409：95,823.7 千元）的 1,091 倍", "_line": 16}]'
        for file in ("stats_industry_202410.csv", "stats_industry_202411.csv"):  # November's arrives after the as-of
            con.execute("""insert into marts.dq_check_results (run_id, checked_at, as_of, asset, suite, file_name,
                               expectation, severity, success, outcome, unexpected_count, unexpected_examples)
                           values ('later', now() + interval 1 day, ?, 'raw/stats_industry', 'raw_stats_industry',
                                   ?, 'unit_jump_vs_previous_report_each', 'warning', false, 'warn', 1, ?)""",
                        [AS_OF, file, jump])
        loan = '[{"directory_problem": "914505124701767216 not in the enterprise directory", "_line": 21}]'
        con.execute("""insert into marts.dq_check_results (run_id, checked_at, as_of, asset, suite, file_name,
                           expectation, severity, success, outcome, unexpected_count, unexpected_examples)
                       values ('later', now() + interval 1 day, ?, 'raw/registers_loans', 'raw_registers_loans',
                               'registers_loans.xlsx', 'in_enterprise_directory_each', 'warning', false, 'warn', 1, ?)""",
                    [AS_OF, loan])
        start = ('[{"uscc": "91450602475386533K", "snapshot_month": "202410", "source_file": "stats_enterprise_202410.csv", '
                 '"source_line": 29, "production_start_change": "投产年月 202409 202309 → 202410 202410"}]')
        con.execute("""insert into marts.dq_check_results (run_id, checked_at, as_of, asset, suite, expectation,
                           severity, success, outcome, unexpected_count, unexpected_examples)
                       values ('later', now() + interval 1 day, ?, 'marts/dim_enterprise', 'mart_enterprise_changes',
                               'production_start_unchanged', 'warning', false, 'warn', 1, ?)""", [AS_OF, start])
        path = write_budget_workbook(con, catalogue, Parameters(catalogue), tmp_path / "reports", AS_OF)
    text = summary_text(path)
    assert "注意：基期数据缺失" in text
    assert "以下月份没有交付数据，共 2 个月：出口明细 2023-10；项目库月报 2023-11。" in text
    assert "注意：本年数据缺失" in text
    assert "以下月份按到达规则截至测算基准日应已交付，仓库中却没有数据，共 1 个月：项目库月报 2024-10。数据集最近的月份缺失时，" \
        in text
    assert "注意：数据行被拒收" in text
    assert ("以下企业或项目的统计行或海关出口行被拒收，也没有更正版补交，共 1 行：stats_projects_202410.csv 第 5 行"
            "（项目 2023-450702-22-02-374756，开工年月：不是有效年月（应为 YYYYMM））。") in text
    assert "注意：登记表行被拒收" in text
    assert ("以下登记表的行被拒收，登记表也没有更正版补交该企业，共 1 行：registers_applications.xlsx 第 11 行"
            "（企业 91450206466697751T，活动类型：取值不在允许范围内（允许：新品发布会 产品订货会 展会））。") in text

    def notes_begin_a_page(path: Path) -> bool:
        ws = load_workbook(path)["汇总"]
        notes = next(c.row for row in ws.iter_rows() for c in row if c.value == "情景与口径说明")
        return notes - 2 in {b.id for b in ws.row_breaks.brk}  # a break after row `id` (1-based), the blank one above

    assert "注意：季度产值含本年此前月份" in text
    assert ("共 1 行：企业 91450226MAW8DHFH4T（2024-10 季度：202409 未报（最近一次报送 202408）：按“缺失月份计0”，"
            "该季度产值为本年累计 9,876.54 万元）。") in text
    assert "注意：数据疑似有误" in text
    assert ("已按原值计入测算，共 3 行：stats_enterprise_202410.csv 第 29 行（投产年月 202409 202309 → 202410 202410）；"
            "registers_loans.xlsx 第 21 行（914505124701767216 不在企业名录中）；"
            "stats_industry_202410.csv 第 16 行（工业总产值_本月 104,569,000 千元 = 上次报送（202409：95,823.7 千元）的 1,091 倍）。") in text
    assert notes_begin_a_page(path)  # the red rows took their room on page 1: whole, on page 2
    assert not notes_begin_a_page(budget_file)


def test_a_delivery_whose_rows_were_mostly_rejected_is_named_on_the_summary(pipeline, catalogue, tmp_path):
    """A weekly power file whose dates were typed YYYY/MM/DD lost all its rows at ingestion: its week
    was forecast instead, and 汇总's data cut-off gave the file's arrival with nothing to say the
    file was not used. The files whose rows_quarantined check failed (more than a tenth of their
    rows rejected) are named in red, with rows rejected of rows read and the commonest reason."""
    shutil.copy(pipeline / "wh.duckdb", tmp_path / "wh.duckdb")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        name, read = con.execute("select file_name, rows_read from raw._manifest where dataset = 'daily' "
                                 "and available_on <= ? order by file_name desc limit 1", [AS_OF]).fetchone()
        assert data.broadly_rejected_files(con, AS_OF) is None
        con.execute("update raw._manifest set rows_accepted = 0, rows_rejected = rows_read where file_name = ?", [name])
        con.execute("insert into raw._rejected_rows (file_name, line, field, header, value, reason) "
                    "select ?, range + 2, 'reading_date', '日期', '2024/11/18', 'not a date YYYY-MM-DD' from range(?)",
                    [name, read])
        con.execute("""insert into marts.dq_check_results (run_id, checked_at, as_of, asset, suite, file_name, expectation,
                           severity, success, outcome, unexpected_count, unexpected_examples)
                       values ('later', now() + interval 1 day, ?, 'raw/power_daily', 'raw_power_daily', ?,
                               'rows_quarantined', 'warning', false, 'warn', ?, '[]')""", [AS_OF, name, read])
        assert data.broadly_rejected_files(con, AS_OF) == (
            f"1 个文件：{name}（{read:,} 行中 {read:,} 行被拒收，主要原因：不是有效日期）")
        path = write_budget_workbook(con, catalogue, Parameters(catalogue), tmp_path / "reports", AS_OF)
    ws = load_workbook(path, read_only=True)["汇总"]
    text = "\n".join(" ".join(str(v) for v in row if v is not None) for row in ws.iter_rows(values_only=True))
    assert "注意：交付文件大量行被拒收" in text
    assert f"以下交付文件超过一成的行被拒收，未计入测算，共 1 个文件：{name}（{read:,} 行中 {read:,} 行被拒收" in text


def test_a_delivery_with_columns_the_contract_does_not_define_is_named_on_the_summary(pipeline, catalogue, tmp_path):
    """A customs file with a 币制 column (one line in EUR) loaded that line's amount as US dollars,
    the extra column named in the Dagster log only: deliveries in use with extra columns are named
    in red on 汇总, with the columns; a delivery after the as-of date is not."""
    shutil.copy(pipeline / "wh.duckdb", tmp_path / "wh.duckdb")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        assert data.files_with_extra_columns(con, AS_OF) is None
        name = con.execute("select file_name from raw._manifest where dataset = 'export' and available_on <= ? "
                           "order by file_name desc limit 1", [AS_OF]).fetchone()[0]
        con.execute("update raw._manifest set extra_columns = '币制' where file_name = ?", [name])
        con.execute("update raw._manifest set extra_columns = '备注' where available_on > ?", [AS_OF])
        assert data.files_with_extra_columns(con, AS_OF) == f"1 个文件：{name}（币制）"
        con.execute("update raw._manifest set extra_columns = '主管税务机关' where dataset = 'vat' "
                    "and file_name in ('tax_vat_202409.csv', 'tax_vat_202410.csv')")
        assert data.files_with_extra_columns(con, AS_OF) == (
            f"3 个文件：{name}（币制）；tax_vat_202409.csv 至 tax_vat_202410.csv 等 2 个文件（主管税务机关）")
        path = write_budget_workbook(con, catalogue, Parameters(catalogue), tmp_path / "reports", AS_OF)
    ws = load_workbook(path, read_only=True)["汇总"]
    text = "\n".join(" ".join(str(v) for v in row if v is not None) for row in ws.iter_rows(values_only=True))
    assert (f"以下交付文件含接口规范（FEEDS.md）未定义的列，共 3 个文件：{name}（币制）；tax_vat_202409.csv 至 "
            "tax_vat_202410.csv 等 2 个文件（主管税务机关）。") in text


def test_the_print_check_allows_汇总_one_more_page_only_with_red_rows(tmp_path):
    """The red rows (注意：…) take the notes' room on page 1, which then begin page 2: four pages of
    汇总 pass with a red row and fail without one; five fail either way."""
    from reports.render_check import MAX_PAGES, PrintReport, SheetPrint

    def problems(pages: int, warned: bool) -> list[str]:
        report = PrintReport(tmp_path / "b.xlsx", tmp_path / "b.pdf", [], {"汇总": SheetPrint(1, pages, 10.0, "x", warned)})
        return report.problems()

    limit = MAX_PAGES["汇总"]
    assert problems(limit, False) == [] and problems(limit + 1, True) == []
    assert problems(limit + 1, False) == [f"b.xlsx 汇总: {limit + 1} pages (at most {limit})"]
    assert problems(limit + 2, True) == [f"b.xlsx 汇总: {limit + 2} pages (at most {limit + 1})"]


def test_the_print_check_takes_a_runs_workbooks_and_names_what_is_none(tmp_path, capsys):
    """`render_check FILE…` prints the workbooks a run wrote, as they are (their 数据质量 holds the
    run's check results, which a workbook written afresh lacks); a path that is no .xlsx file is
    named before anything is printed."""
    from reports.render_check import main

    text = tmp_path / "budget.csv"
    text.write_text("x\n", encoding="utf-8")
    assert main([str(tmp_path / "missing.xlsx"), str(text), "--out", str(tmp_path / "out")]) == 2
    assert f"not an .xlsx file: {tmp_path / 'missing.xlsx'}, {text}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_name_two_beneficiaries_share_prints_with_its_code():
    """Two projects named 防城港同创铜业智能化技术改造项目 printed on M15's sheet with different
    amounts could not be told apart: the codes are right of the printed columns (2026-12-07). A
    project or enterprise name another one of the sheet shares prints with its code; a name shared
    by one project's or one enterprise's rows (its several schemes, its several projects) prints
    as it is."""
    def row(uscc, code, enterprise, project):
        return budget_workbook.Row("M15.increment", "M15", uscc, code, enterprise, project, None, None, "450100", "南宁市",
                                   "g", True, True, Decimal(1), Decimal(1), Decimal(1), None, None, None, None, None, 1.0,
                                   Decimal(1))

    rows = [row("U1", "P1", "甲公司", "改造项目"), row("U1", "P2", "甲公司", "改造项目"),
            row("U2", "P3", "乙公司", "扩建项目"), row("U2", "P3", "乙公司", "扩建项目"),
            row("U3", "P4", "乙公司", "新建项目")]
    assert budget_workbook._unambiguous_names(rows) == {
        ("project", "P1"): "改造项目（P1）", ("project", "P2"): "改造项目（P2）",
        ("enterprise", "U2"): "乙公司（U2）", ("enterprise", "U3"): "乙公司（U3）"}


def test_the_printed_calculation_keeps_the_exact_yuan_only_where_the_wan_read_0_00():
    """The 计算式 column drops the exact 元 the amount column shows, except where the amount is a
    positive award under 50元: its column reads "<0.01" and the calculation says how much."""
    from reports.budget_workbook import _calculation

    trace = "增量用电 {kwh}千瓦时 > 0 ✓ → 0.03元/千瓦时 × {kwh}千瓦时 = {wan}万元（{yuan}元）"
    assert _calculation(trace.format(kwh=495, wan="0.00", yuan="14.84")) == "0.03元/千瓦时 × 495千瓦时 = 0.00万元（14.84元）"
    assert _calculation(trace.format(kwh="24,784,700", wan="74.35", yuan="743,541.01")) == (
        "0.03元/千瓦时 × 24,784,700千瓦时 = 74.35万元")
    assert _calculation(trace.format(kwh=0, wan="0.00", yuan="0.00")) == "0.03元/千瓦时 × 0千瓦时 = 0.00万元"
