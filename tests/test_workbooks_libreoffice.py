"""The budget workbook in a real spreadsheet engine: headless LibreOffice with forced recalculation.

1. Recalculated at the engine's rates, every number equals the cached one, and every base is the
   engine's median to the last bit (base = median + an adjustment that is exactly 0).
2. Open quarter: with M02.rate changed from 1 to 1.5 in the parameter cell, M02.growth's base (and
   the totals containing it) moves by exactly the change of the listed beneficiaries' amounts,
   nothing else moves, and the stale flag shows.
3. Closed quarter (one draw): after the same edit the recalculated totals equal the engine's run
   under the same override (on a copy of the warehouse).
"""

from __future__ import annotations

import shutil
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.lib.measures import engine
from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.parameters import Parameters
from reports.budget_workbook import STALE_ROW
from reports.libreoffice import convert, soffice
from reports.styles import wan
from test_workbooks import (
    AS_OF, BASE, CLOSED, HIGH, LOW, SUBTOTALS, TOTAL, built_warehouse, closed_warehouse, header_row, label_row,
    measure_sheets, summary_schemes,
)

pytestmark = pytest.mark.skipif(
    soffice() is None,
    reason="LibreOffice is not installed (apt-get install libreoffice-calc; .ci/run installs it)",
)
STALE_CELL = f"A{STALE_ROW + 1}"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, dbt_manifest):
    return built_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def workbook(pipeline):
    return pipeline / "reports" / AS_OF.isoformat() / f"budget_forecast_{AS_OF}.xlsx"


@pytest.fixture(scope="module")
def closed(tmp_path_factory, dbt_manifest):
    return closed_warehouse(tmp_path_factory)


def recalculated(path, tmp):
    """Copy, recalculate in LibreOffice, save as xlsx; the values LibreOffice computed."""
    source = tmp / "in" / path.name
    source.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, source)
    return load_workbook(convert(source, tmp / "out", "xlsx"), data_only=True)


def with_rate(path, tmp, name: str, value: float):
    """The workbook with one parameter cell changed (as finance would), recalculated by LibreOffice."""
    wb = load_workbook(path)
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    cell = wb[sheet][ref.replace("$", "")]
    assert not cell.protection.locked
    cell.value = value
    changed = tmp / "changed" / path.name
    changed.parent.mkdir()
    wb.save(changed)
    return recalculated(changed, tmp)


def base_figures(wb) -> tuple[dict[str, float], dict[str, float]]:
    """汇总's base column: per scheme, and per total row (subtotals, overall), in 万元 as computed."""
    ws = wb["汇总"]
    _, cols = header_row(ws, "方案编号")
    schemes = {sid: row[BASE] for sid, row in summary_schemes(ws).items()}
    totals = {label: ws.cell(label_row(ws, label), cols[BASE]).value for label in (*SUBTOTALS.values(), TOTAL)}
    return schemes, totals


def stale_flags(wb) -> list:
    headline = label_row(wb["汇总"], "奖补资金测算总额（基准情景）")
    return [wb["汇总"].cell(headline, 7).value] + [ws[STALE_CELL].value for ws in measure_sheets(wb)]


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
    # at the engine's rates the base is the engine's median exactly: the adjustments are exactly 0
    with duckdb.connect(str(pipeline / "wh.duckdb"), read_only=True) as con:
        medians = dict(con.execute(
            "select scheme_id, amount_yuan from marts.policy_budget where scenario = 'base'").fetchall())
        totals = dict(con.execute("select key, amount_yuan from marts.policy_budget_rollup "
                                  "where level in ('funding', 'total') and scenario = 'base'").fetchall())
    schemes, rows = base_figures(fresh)
    assert schemes == {sid: wan(amount) for sid, amount in medians.items()}
    assert rows == {SUBTOTALS["grant"]: wan(totals["grant"]), SUBTOTALS["revolving_fund"]: wan(totals["revolving_fund"]),
                    TOTAL: wan(totals["全部"])}


def test_unchanged_parameters_raise_no_stale_flag(workbook, tmp_path):
    assert not any(stale_flags(recalculated(workbook, tmp_path)))


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
        if name == "budget_forecast":
            assert {"预测区间", "预测方法"} <= set(report.sheets), report.sheets.keys()


def test_汇总_prints_within_its_pages_after_a_rerun_and_in_a_city_pack(pipeline, tmp_path):
    """Page 1 of 汇总 holds the headline, the cut-off and the notes, and is nearly full: a rerun for the
    same date adds to 较上次测算 what it replaces, a city pack a note of its own. Both print in 3
    pages: the 9 pt rows as tall as their text needs and no taller (estimated as 10 pt text, the last
    notes went onto a page of their own), no note repeating the headline."""
    from datetime import datetime

    from reports.budget_workbook import write_budget_workbook
    from reports.render_check import MAX_PAGES, render, tools_missing

    if tools_missing():
        pytest.skip(f"missing {tools_missing()} (apt-get install poppler-utils fonts-noto-cjk)")
    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(pipeline / "wh.duckdb", warehouse)
    catalogue = load_catalogue()
    with duckdb.connect(str(warehouse)) as con:
        fingerprint = Parameters(catalogue).fingerprint()
        con.execute("insert into marts.policy_runs (as_of, finished_at, params_fingerprint, beneficiaries, base_yuan, "
                    "low_yuan, high_yuan) values (?, ?, ?, 1, 123456789.12, 0, 0)",
                    [AS_OF, datetime(2000, 1, 1), fingerprint])
        [city] = con.execute("select key from marts.policy_budget_rollup where level = 'city' and scenario = 'base' "
                             "and regexp_full_match(key, '[0-9]{6}') order by amount_yuan desc limit 1").fetchone()
        books = [write_budget_workbook(con, catalogue, Parameters(catalogue), tmp_path / "reports", AS_OF, city)
                 for city in (None, city)]
    ws = load_workbook(books[0])["汇总"]
    assert "同一测算基准日已于 2000-01-01 00:00 测算过，基准 12,345.68 万元" in ws.cell(label_row(ws, "较上次测算"), 7).value
    for book in books:
        report = render(book, tmp_path / "png", dpi=30)
        assert report.sheets["汇总"].pages <= MAX_PAGES["汇总"], report.problems()


def _new_amount(basis: Decimal, rate_pct: Decimal, cap: Decimal | None) -> Decimal:
    """The engine's rule round(min(rate × basis, cap), 2) in 元, half up as LibreOffice's ROUND."""
    amount = basis * rate_pct / 100
    if cap is not None:
        amount = min(amount, cap)
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_open_quarter_rate_edit_moves_the_base_by_the_listed_rows(workbook, pipeline, tmp_path):
    """The quarter is open: a changed rate moves M02.growth's base, the grant subtotal and the total
    by the change of the listed rows (each beneficiary in its median scenario, counted in the base)
    at the new rate; the other schemes, low and high stay; the flag says low/high are stale."""
    before = load_workbook(workbook, data_only=True)
    after = with_rate(workbook, tmp_path, "M02_rate", 1.5)
    catalogue = load_catalogue()
    cap = Parameters(catalogue).base("M02.cap")
    with duckdb.connect(str(pipeline / "wh.duckdb"), read_only=True) as con:
        listed = con.execute(
            """select a.amount_yuan, b.basis from marts.policy_awards a
               join marts.policy_award_basis b on b.scenario = a.scenario and b.scheme_id = a.scheme_id
                and b.uscc = a.uscc and b.project_code is not distinct from a.project_code
               where a.scenario = 'base' and a.chosen and a.scheme_id = 'M02.growth'""").fetchall()
    delta = sum(_new_amount(Decimal(basis), Decimal("1.5"), cap) - amount for amount, basis in listed)
    assert delta > 0, "the edit must move something for the test to mean anything"
    old_schemes, old_totals = base_figures(before)
    new_schemes, new_totals = base_figures(after)
    for sid, value in new_schemes.items():
        moved = float(delta) / 10_000 if sid == "M02.growth" else 0
        assert value == pytest.approx(old_schemes[sid] + moved, abs=5e-7), sid  # 0.005 元
    for label, value in new_totals.items():
        moved = float(delta) / 10_000 if label != SUBTOTALS["revolving_fund"] else 0
        assert value == pytest.approx(old_totals[label] + moved, abs=5e-7), label
    for sid, row in summary_schemes(after["汇总"]).items():
        old = summary_schemes(before["汇总"])[sid]
        assert (row[LOW], row[HIGH]) == (old[LOW], old[HIGH]), sid
    flags = stale_flags(after)
    assert all(f and f.startswith("注意：「参数」表中的费率或上限已在表内修改") for f in flags)


def test_closed_quarter_rate_edit_equals_an_engine_rerun(closed, tmp_path):
    """The quarter is fully reported (one draw): every beneficiary's row is the outcome, so the
    recalculated totals after an edit are what the engine computes with that override."""
    workbook = closed / "reports" / CLOSED.isoformat() / f"budget_forecast_{CLOSED}.xlsx"
    schemes, totals = base_figures(with_rate(workbook, tmp_path, "M02_rate", 1.5))
    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(closed / "wh.duckdb", warehouse)
    catalogue = load_catalogue()
    with duckdb.connect(str(warehouse)) as con:
        before = dict(con.execute(
            "select scheme_id, amount_yuan from marts.policy_budget where scenario = 'base'").fetchall())
        engine.run(con, catalogue, Parameters(catalogue, {"M02.rate": Decimal("1.5")}, "test"), CLOSED)
        after = dict(con.execute(
            "select scheme_id, amount_yuan from marts.policy_budget where scenario = 'base'").fetchall())
        total = con.execute("select amount_yuan from marts.policy_budget_rollup "
                            "where level = 'total' and scenario = 'base'").fetchone()[0]
        assert con.execute("select draws from forecast.runs").fetchone()[0] == 1
    assert after["M02.growth"] != before["M02.growth"], "the override must matter for the test to mean anything"
    for sid, amount in after.items():
        assert schemes[sid] * 10_000 == pytest.approx(float(amount), abs=0.005), sid
    assert totals[TOTAL] * 10_000 == pytest.approx(float(total), abs=0.005)
    assert total == sum(after.values())


def test_a_positive_award_under_50_yuan_reads_below_one_cent_of_a_wan(tmp_path):
    """An eligible award of 14.84元 (0.001484万) reads "<0.01", not 0.00; from 0.005万 (50元) the
    award rounds to the cent of a 万 as before; 0 stays 0.00 (a spreadsheet's own display, via CSV)."""
    import xlsxwriter

    from reports.styles import AWARD_MONEY

    values = [0.001484, 0.0049999, 0.005, 0, 12.345, 1234.5]
    source = tmp_path / "awards.xlsx"
    book = xlsxwriter.Workbook(source)
    sheet, money = book.add_worksheet(), book.add_format({"num_format": AWARD_MONEY})
    for r, value in enumerate(values):
        sheet.write_number(r, 0, value, money)
    book.close()
    as_shown = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true"  # the last: contents as shown
    shown = convert(source, tmp_path / "out", as_shown).read_text(encoding="utf-8").split()
    assert [s.strip('"') for s in shown] == ["<0.01", "<0.01", "0.01", "0.00", "12.35", "1,234.50"]
