"""The budget workbook in a real spreadsheet engine: headless LibreOffice with forced recalculation.

1. Recalculated, every number equals the cached one and the totals equal marts.policy_budget.
2. With M02.rate changed from 1 to 1.5 in the parameter cell, the recalculated totals equal the
   engine's run under the same override (on a copy of the warehouse).
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.lib.measures import engine
from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.parameters import Parameters
from reports.libreoffice import convert, soffice
from test_workbooks import AS_OF, built_warehouse, label_row, summary_schemes

pytestmark = pytest.mark.skipif(
    soffice() is None,
    reason="LibreOffice is not installed (apt-get install libreoffice-calc; .ci/run installs it)",
)
BASE = "基准\n（万元）"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, dbt_manifest):
    return built_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def workbook(pipeline):
    return pipeline / "reports" / AS_OF.isoformat() / f"budget_forecast_{AS_OF}.xlsx"


def recalculated(path, tmp):
    """Copy, recalculate in LibreOffice, save as xlsx; the values LibreOffice computed."""
    source = tmp / "in" / path.name
    source.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, source)
    return load_workbook(convert(source, tmp / "out", "xlsx"), data_only=True)


def base_totals(wb) -> tuple[dict[str, float], float]:
    ws = wb["汇总"]
    schemes = {sid: row[BASE] * 10_000 for sid, row in summary_schemes(ws).items()}
    return schemes, ws.cell(label_row(ws, "总计（无偿补助 + 周转资金）"), 7).value * 10_000


def test_recalculated_workbook_equals_the_engine(workbook, pipeline, tmp_path):
    cached = load_workbook(workbook, data_only=True)
    fresh = recalculated(workbook, tmp_path)
    compared = 0
    for ws in cached.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    got = fresh[ws.title].cell(c.row, c.column).value
                    assert got == pytest.approx(c.value, rel=1e-9, abs=1e-9), (ws.title, c.coordinate)
                    compared += 1
    assert compared > 500
    with duckdb.connect(str(pipeline / "wh.duckdb"), read_only=True) as con:
        expected = dict(con.execute(
            "select scheme_id, amount_yuan from marts.policy_budget where scenario = 'base'").fetchall())
    schemes, total = base_totals(fresh)
    for sid, amount in expected.items():
        assert schemes[sid] == pytest.approx(float(amount), abs=0.005), sid
    assert total == pytest.approx(float(sum(expected.values())), abs=0.005)


def test_unchanged_parameters_raise_no_stale_flag(workbook, tmp_path):
    wb = recalculated(workbook, tmp_path)
    headline = label_row(wb["汇总"], "奖补资金测算总额（基准情景）")
    assert not wb["汇总"].cell(headline, 7).value
    assert not any(wb[name]["A6"].value for name in wb.sheetnames[3:-1])


def test_every_sheet_prints_readable(pipeline, tmp_path):
    """Printed by LibreOffice: no text under 8 pt, summary sheets within their page budget, and the
    pages rendered to PNG (reports.render_check; look at them with `python -m reports.render_check`)."""
    from reports.render_check import render, tools_missing

    if tools_missing():
        pytest.skip(f"missing {tools_missing()} (apt-get install poppler-utils fonts-noto-cjk)")
    for name in ("budget_forecast", "kpi_report"):
        report = render(pipeline / "reports" / AS_OF.isoformat() / f"{name}_{AS_OF}.xlsx", tmp_path, dpi=30)
        assert report.pngs and not report.problems(), report.problems()
        assert "汇总" in report.sheets or "指标总览" in report.sheets, report.sheets.keys()


def test_changing_a_rate_moves_the_total_by_the_engines_result(workbook, pipeline, tmp_path):
    wb = load_workbook(workbook)
    sheet, ref = next(iter(wb.defined_names["M02_rate"].destinations))
    cell = wb[sheet][ref.replace("$", "")]
    assert cell.value == 1 and not cell.protection.locked
    cell.value = 1.5
    changed = tmp_path / "changed" / workbook.name
    changed.parent.mkdir()
    wb.save(changed)
    recalc = recalculated(changed, tmp_path)
    schemes, total = base_totals(recalc)
    # the edit is flagged where low/high are read: 汇总's headline, every measure sheet, 参数
    headline = label_row(recalc["汇总"], "奖补资金测算总额（基准情景）")
    assert recalc["汇总"].cell(headline, 7).value.startswith("注意：「参数」表中的费率或上限已在表内修改")
    assert all(recalc[name]["A6"].value.startswith("注意") for name in recalc.sheetnames[3:-1])

    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(pipeline / "wh.duckdb", warehouse)
    catalogue = load_catalogue()
    with duckdb.connect(str(warehouse)) as con:
        before = dict(con.execute(
            "select scheme_id, amount_yuan from marts.policy_budget where scenario = 'base'").fetchall())
        engine.run(con, catalogue, Parameters(catalogue, {"M02.rate": Decimal("1.5")}, "test"), AS_OF)
        after = dict(con.execute(
            "select scheme_id, amount_yuan from marts.policy_budget where scenario = 'base'").fetchall())
    assert after["M02.growth"] != before["M02.growth"], "the override must matter for the test to mean anything"
    for sid, amount in after.items():
        assert schemes[sid] == pytest.approx(float(amount), abs=0.005), sid
    assert total == pytest.approx(float(sum(after.values())), abs=0.005)
    moved = total - float(sum(before.values()))
    assert moved == pytest.approx(float(sum(after.values()) - sum(before.values())), abs=0.01)
