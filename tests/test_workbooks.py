"""The Excel workbooks, read back with openpyxl: sheets, headers, formats, defined names, unlocked
inputs, live formulas, text from feeds never stored as a formula, totals equal to the engine's,
atomic writing, per-city packs, and the Dagster asset that writes them.

One small warehouse is built per session by `gxindustry refresh` (the real Dagster graph) on tiny
generated feeds, as of 2024-11-25 (quarter open: base, low and high differ).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
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
from reports import budget_workbook, write_budget_workbook, write_city_packs, write_kpi_workbook
from reports.data import StaleWarehouse
from reports.styles import MONEY, put

AS_OF = date(2024, 11, 25)
GXINDUSTRY = str(Path(sys.executable).with_name("gxindustry"))
FEED_NAMES = ('=HYPERLINK("http://x","y")', "+86")  # planted in the tiny sample (names from the stats feed)
# every formula the writers produce starts with one of these
OUR_FORMULAS = re.compile(r"^=(ROUND\(|SUMIFS\(|SUM\(|IF\(|[A-Z]+\d+(\+[A-Z]+\d+)?$|0$|\"另有周转资金)")
_BUILT: dict[str, Path] = {}


def built_warehouse(tmp_path_factory) -> Path:
    """Generate tiny feeds and run `gxindustry refresh` once per test session (shared with the LibreOffice test)."""
    if "tmp" not in _BUILT:
        from dagster_project.cli import DEFAULT_SEED
        from dagster_project.lib.generate import generate_feeds

        tmp = tmp_path_factory.mktemp("workbooks")
        generate_feeds(tmp / "landing", scale="tiny", seed=DEFAULT_SEED, as_of=date(2025, 2, 1))
        env = dict(os.environ, DAGSTER_HOME=str(tmp / "dagster_home"))
        for var in ("GXINDUSTRY_PARAMS", "GXINDUSTRY_AS_OF"):
            env.pop(var, None)
        result = subprocess.run(
            [GXINDUSTRY, "refresh", "--landing", str(tmp / "landing"), "--warehouse", str(tmp / "wh.duckdb"),
             "--reports", str(tmp / "reports"), "--as-of", AS_OF.isoformat()],
            env=env, capture_output=True, text=True, timeout=600,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        _BUILT["tmp"] = tmp
    return _BUILT["tmp"]


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


def table_rows(ws, first_header: str, key: str) -> list[dict[str, object]]:
    """{header: value} per row of the table headed by `first_header`, down to the first blank `key`."""
    row, cols = header_row(ws, first_header)
    out = []
    for r in range(row + 1, ws.max_row + 1):
        if not ws.cell(r, cols[key]).value:
            break
        out.append({h: ws.cell(r, c).value for h, c in cols.items()})
    return out


def label_row(ws, label: str) -> int:
    return next(c.row for row in ws.iter_rows() for c in row if c.value == label)


def engine_budget(con) -> dict[tuple[str, str], tuple[int, Decimal]]:
    return {(s, sid): (n, a) for s, sid, n, a in con.execute(
        "select scenario, scheme_id, beneficiaries, amount_yuan from marts.policy_budget").fetchall()}


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


def test_budget_sheets_headers_and_frozen_tables(budget_file, catalogue):
    wb = load_workbook(budget_file)
    subsidy = [m for m in catalogue.measures if m.kind == "subsidy"]
    names = wb.sheetnames
    assert names[:3] == ["汇总", "按城市", "按行业"] and names[-1] == "参数"
    assert [n.split(" ")[0] for n in names[3:-1]] == [m.id for m in subsidy]
    for name, measure in zip(names[3:-1], subsidy):
        ws = wb[name]
        row, cols = header_row(ws, "方案编号")
        for header in ("企业名称", "统一社会信用代码", "城市", "行业组", "计入基准预算", "基准金额（万元）",
                       "低情景计入（万元）", "高情景计入（万元）", "计算式（基准情景）",
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
    assert wb["汇总"]._charts and wb["按城市"]._charts and wb["按行业"]._charts


def test_budget_totals_equal_policy_budget(budget_file, con, catalogue):
    """The cached values (what a viewer shows without recalculating) are the engine's figures."""
    ws = load_workbook(budget_file, data_only=True)["汇总"]
    expected = engine_budget(con)
    rows = summary_schemes(ws)
    assert set(rows) == set(catalogue.schemes)
    for sid, row in rows.items():
        assert row["奖补笔数\n（基准）"] == expected[("base", sid)][0]
        for scenario, header in (("base", "基准\n（万元）"), ("low", "低情景\n（万元）"), ("high", "高情景\n（万元）")):
            assert row[header] * 10_000 == pytest.approx(float(expected[(scenario, sid)][1]), abs=0.005), (sid, scenario)
    total = label_row(ws, "总计（无偿补助 + 周转资金）")
    for col, scenario in ((7, "base"), (8, "low"), (9, "high")):
        engine_total = sum(float(a) for (s, _), (_, a) in expected.items() if s == scenario)
        assert ws.cell(total, col).value * 10_000 == pytest.approx(engine_total, abs=0.005)
    revolving = label_row(ws, "周转资金合计")
    assert ws.cell(revolving, 7).value * 10_000 == pytest.approx(float(expected[("base", "M11")][1]), abs=0.005)
    # by city and by industry group add up to the same base total
    wb = load_workbook(budget_file, data_only=True)
    for sheet, first_header in (("按城市", "城市代码"), ("按行业", "行业组")):
        total_row = label_row(wb[sheet], "合计")
        _, cols = header_row(wb[sheet], first_header)
        assert wb[sheet].cell(total_row, cols["基准合计\n（万元）"]).value == pytest.approx(ws.cell(total, 7).value,
                                                                                          abs=1e-6)


def test_summary_opens_with_the_headline(budget_file, con):
    ws = load_workbook(budget_file, data_only=True)["汇总"]
    formulas = load_workbook(budget_file)["汇总"]
    total = label_row(ws, "总计（无偿补助 + 周转资金）")
    base = label_row(ws, "奖补资金测算总额（基准情景）")
    assert base < 10  # at the top, above the notes
    assert formulas.cell(base, 4).value == f"=G{total}"  # live: follows the parameter cells
    assert ws.cell(base, 4).value == pytest.approx(ws.cell(total, 7).value)
    awards, firms = con.execute("select count(*), count(distinct uscc) from marts.policy_awards "
                                "where scenario = 'base' and chosen").fetchone()
    assert ws.cell(label_row(ws, "奖补笔数（基准）"), 4).value == awards
    assert ws.cell(label_row(ws, "受益企业（不重复计）"), 4).value == firms
    low, high = con.execute(
        "select sum(amount_yuan) filter (where scenario = 'low'), sum(amount_yuan) filter (where scenario = 'high') "
        "from marts.policy_budget").fetchone()
    assert ws.cell(label_row(ws, "可能区间（P10 – P90）"), 4).value == f"{wan_text(low)} – {wan_text(high)}"
    assert label_row(ws, "较上次测算") and label_row(ws, "编制人（签字）")


def test_print_setup(budget_file, kpi_file):
    for path in (budget_file, kpi_file):
        wb = load_workbook(path)
        for ws in wb.worksheets:
            assert ws.page_setup.orientation == "landscape", ws.title
            assert "&P" in ws.oddFooter.center.text, ws.title
    budget = load_workbook(budget_file)
    for ws in budget.worksheets[3:]:
        assert ws.print_title_rows, ws.title  # header rows repeated on every page


def test_money_is_in_wan_with_two_decimals(budget_file):
    wb = load_workbook(budget_file)
    ws = wb["汇总"]
    row, cols = header_row(ws, "方案编号")
    for header in ("基准\n（万元）", "低情景\n（万元）", "高情景\n（万元）"):
        assert ws.cell(row + 1, cols[header]).number_format == MONEY
    m02 = wb[wb.sheetnames[3]]
    row, cols = header_row(m02, "方案编号")
    for header in ("基准金额（万元）", "低情景计入（万元）", "高情景计入（万元）", "上年四季度产值（万元）"):
        assert m02.cell(row + 1, cols[header]).number_format == MONEY


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


def test_live_schemes_have_formulas_over_the_parameter_names(budget_file, catalogue):
    wb = load_workbook(budget_file)
    summary = summary_schemes(wb["汇总"])
    for sid, row in summary.items():
        assert str(row["基准\n（万元）"]).startswith("=SUMIFS("), sid
    seen = set()
    for name in wb.sheetnames[3:-1]:
        ws = wb[name]
        row, cols = header_row(ws, "方案编号")
        for r in range(row + 1, ws.max_row + 1):
            sid = ws.cell(r, cols["方案编号"]).value
            amount = ws.cell(r, cols["基准金额（万元）"]).value
            if sid in LIVE and ws.cell(r, cols["基准符合条件"]).value == "是":
                live = LIVE[sid]
                assert isinstance(amount, str) and amount.startswith("=ROUND("), (sid, amount)
                assert live.rate.replace(".", "_") in amount
                if live.cap:
                    assert f'IF({live.cap.replace(".", "_")}=""' in amount
                seen.add(sid)
            elif sid:
                assert not isinstance(amount, str), (sid, amount)  # static values
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
    assert "按城市" not in wb.sheetnames and name in wb["汇总"]["A1"].value
    rows = summary_schemes(wb["汇总"])
    expected = dict(con.execute(
        """select scheme_id, coalesce(sum(amount_yuan) filter (where chosen), 0) from marts.policy_awards
           where scenario = 'base' and city_code = ? group by scheme_id""", [code]).fetchall())
    for sid, row in rows.items():
        assert row["基准\n（万元）"] * 10_000 == pytest.approx(float(expected.get(sid, 0)), abs=0.005), sid
    for ws in wb.worksheets[2:-1]:
        row, cols = header_row(ws, "方案编号")
        assert {ws.cell(r, cols["城市"]).value for r in range(row + 1, ws.max_row + 1)} <= {name, None}
    positives = load_workbook(kpi, data_only=True)["正增长重点企业清单"]
    row, cols = header_row(positives, "序号")
    assert {positives.cell(r, cols["城市"]).value for r in range(row + 1, positives.max_row + 1)} <= {name, None}
