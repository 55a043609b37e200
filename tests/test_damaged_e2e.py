"""End to end (issue 15): a damaged delivery never becomes a silently wrong number.

On the tiny sample, with `gxindustry refresh` (the real Dagster graph):
- a header-only monthly report stops the run, naming the file and the expectation, on the first
  run and on a plain rerun alike; its `_v2` makes the run pass with the budget of a clean landing;
- a delivery removed from the landing dir stops counting (its rows stay in raw); put back, the
  budget is the clean one again;
- Data Docs that cannot be written do not stop the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.generate import generate_feeds

pytestmark = pytest.mark.e2e
AS_OF = date(2024, 11, 25)
GXINDUSTRY = str(Path(sys.executable).with_name("gxindustry"))
OCTOBER = "stats_industry_202410.csv"


def refresh(site: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, DAGSTER_HOME=str(site / "dagster_home"))
    env.pop("GXINDUSTRY_AS_OF", None)
    env.pop("GXINDUSTRY_PARAMS", None)
    return subprocess.run(
        [GXINDUSTRY, "refresh", "--landing", str(site / "landing"), "--warehouse", str(site / "wh.duckdb"),
         "--reports", str(site / "reports")],
        env=env, capture_output=True, text=True, timeout=900,
    )


def budget(site: Path) -> list[tuple]:
    with duckdb.connect(str(site / "wh.duckdb"), read_only=True) as con:
        return con.execute("select scenario, scheme_id, beneficiaries, amount_yuan from marts.policy_budget "
                           "order by all").fetchall()


def power_days_consistent(site: Path) -> bool:
    """fct_power_month's day counts agree with the readings they count (DuckDB 2.0.0 once got them
    wrong through the raw_active views)."""
    with duckdb.connect(str(site / "wh.duckdb"), read_only=True) as con:
        return con.execute("""
            with days as (
                select a.uscc, r.reading_date, date_trunc('month', r.reading_date) as month
                from staging.stg_power__daily r join staging.stg_power__accounts a using (account_no)
                where a.uscc is not null and r.data_flag in ('正常', '估算') group by all)
            select (select count(*) from days) = (select sum(days_with_reading) from marts.fct_power_month)""").fetchone()[0]


@pytest.fixture(scope="module")
def clean(tmp_path_factory, dbt_manifest):
    site = tmp_path_factory.mktemp("clean")
    generate_feeds(site / "landing", scale="tiny", as_of=AS_OF)
    result = refresh(site)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert power_days_consistent(site)
    return site, budget(site)


def test_a_header_only_report_blocks_every_run_until_its_correction(clean, tmp_path):
    site, clean_budget = clean
    shutil.copytree(site / "landing", tmp_path / "landing")
    october = tmp_path / "landing" / "stats" / OCTOBER
    delivered = october.read_bytes()
    october.write_bytes(delivered.split(b"\r\n")[0] + b"\r\n")  # the header only

    for attempt in (1, 2):  # a plain rerun reaches the same verdict
        result = refresh(tmp_path)
        assert result.returncode == 1, f"run {attempt}: " + result.stdout[-2000:] + result.stderr[-2000:]
        assert "gxindustry refresh: FAILED in gx_raw_checks" in result.stderr
        assert f"blocking: raw/stats_industry {OCTOBER}: not_empty (月报不为空): rows 0" in result.stderr

    (tmp_path / "reports" / "data_docs").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(tmp_path / "reports" / "data_docs")
    (tmp_path / "reports" / "data_docs").write_text("a file where the Data Docs folder goes")
    (tmp_path / "landing" / "stats" / "stats_industry_202410_v2.csv").write_bytes(delivered)
    result = refresh(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Data Docs not written" in result.stdout
    assert budget(tmp_path) == clean_budget
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        latest = con.execute("select expectation, success from marts.dq_check_results_latest "
                             "where file_name = ?", [OCTOBER]).fetchall()
    assert latest == [("superseded", True)]


def test_a_delivery_removed_from_the_landing_dir_stops_counting_and_counts_again_when_back(clean):
    site, clean_budget = clean
    october = site / "landing" / "stats" / OCTOBER
    kept = october.read_bytes()
    october.unlink()
    result = refresh(site)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"stats/{OCTOBER}: by landing: no longer in the landing dir as a delivery" in result.stdout
    with duckdb.connect(str(site / "wh.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.stats_industry where _file = ?", [OCTOBER]).fetchone()[0] > 0
        assert con.execute("select count(*) from staging.stg_stats__industry where source_file = ?",
                           [OCTOBER]).fetchone()[0] == 0
        assert con.execute("select count(*) from staging.stg_stats__industry "
                           "where report_month = date '2024-10-01'").fetchone()[0] == 0
    assert budget(site) != clean_budget

    october.write_bytes(kept)
    result = refresh(site)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert budget(site) == clean_budget
    assert power_days_consistent(site)


@pytest.mark.parametrize("resent", ["byte for byte", "exported again with other line ends"])
def test_an_earlier_months_project_library_sent_again_as_octobers_is_named(clean, tmp_path, resent):
    """September's project library sent again as October's: it has no period column that would
    tell, and loaded it cut the budget by a third (every October investment gone) with nothing
    said, byte for byte until 2026-12-06 and exported again with other line ends until 2026-12-07.
    Now the run names both files, in red on 汇总 (a warning: a small library investing flat amounts
    could repeat itself truly)."""
    from reports.data import suspect_rows

    site, _ = clean
    shutil.copytree(site / "landing", tmp_path / "landing")
    stats = tmp_path / "landing" / "stats"
    september = (stats / "stats_projects_202409.csv").read_bytes()
    if resent != "byte for byte":
        september = september.replace(b"\r\n", b"\n") if b"\r\n" in september else september.replace(b"\n", b"\r\n")
    (stats / "stats_projects_202410.csv").write_bytes(september)
    result = refresh(tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        [(outcome, examples)] = con.execute(
            "select outcome, unexpected_examples from marts.dq_check_results_latest "
            "where file_name = 'stats_projects_202410.csv' and expectation = 'not_an_earlier_file_resent'").fetchall()
        named = suspect_rows(con, AS_OF)
    assert outcome == "warn" and "the same rows as stats_projects_202409.csv" in examples
    assert named is not None and "stats_projects_202410.csv" in named and "stats_projects_202409.csv" in named


def test_rows_sharing_a_register_key_are_each_paid_and_counted_and_replaced_together(clean, tmp_path):
    """FEEDS.md gives the loans and recognitions registers no key; MEASURES.md pays M23 per loan.
    Two loans of one enterprise from one bank on one day (100万 and 200万 at 3%, a year each) were
    both rejected as a key conflict: M23 paid nothing where 60,000.00 元 was due. Two 数字化转型典型场景
    of one enterprise recognised together were both rejected: M19 counted neither. Now each is a row;
    a row repeated exactly loads once; a `_v3` listing the key again (the 200万 corrected to 250万)
    replaces both loans of v2 with its own, and the rows are named in red on 汇总 for a check."""
    from datetime import datetime

    from openpyxl import load_workbook

    from reports.data import suspect_rows

    site, _ = clean
    shutil.copytree(site / "landing", tmp_path / "landing")
    registers = tmp_path / "landing" / "registers"
    with duckdb.connect(str(site / "wh.duckdb"), read_only=True) as con:
        borrower = con.execute("""select uscc from marts.dim_enterprise where uscc not in
                                  (select uscc from marts.fct_loans) order by uscc limit 1""").fetchone()[0]
    disbursed, matures = datetime(2024, 11, 1), datetime(2025, 11, 1)

    delivered = registers / "registers_loans_v2.xlsx"
    shutil.copyfile(delivered, tmp_path / "v2_as_generated.xlsx")

    def loans_version(name: str, second_loan_wan: int) -> None:
        book = load_workbook(tmp_path / "v2_as_generated.xlsx")
        sheet = book["桂惠贷"]
        for principal in (100, second_loan_wan, second_loan_wan):  # the last one a repeat of the one before
            sheet.append([borrower, "审计银行", "工业流动资金贷", disbursed, matures, principal, 3.0])
        book.save(registers / name)

    loans_version("registers_loans_v2.xlsx", 200)
    loans_version("registers_loans_v3.xlsx", 250)
    book = load_workbook(registers / "registers_recognitions.xlsx")
    for scenario in ("智能排产", "设备预测性维护"):
        book["认定名单"].append(["数字化转型典型场景", "自治区级", borrower, scenario, datetime(2024, 11, 5), "新认定"])
    book.save(registers / "registers_recognitions.xlsx")

    result = refresh(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        assert con.execute("select principal_yuan, source_file from marts.fct_loans where uscc = ? order by all",
                           [borrower]).fetchall() == [(Decimal("1000000.00"), "registers_loans_v3.xlsx"),
                                                      (Decimal("2500000.00"), "registers_loans_v3.xlsx")]
        assert con.execute("select amount_yuan from marts.policy_awards where scheme_id = 'M23' and uscc = ? "
                           "and scenario = 'base'", [borrower]).fetchone() == (Decimal("70000.00"),)
        repeats = con.execute("select file_name, reason from raw._rejected_rows where value like ? order by all",
                              [f"{borrower}%"]).fetchall()
        assert [f for f, _ in repeats] == ["registers_loans_v2.xlsx", "registers_loans_v3.xlsx"]
        assert all(r.startswith("repeats line ") and "loaded once" in r for _, r in repeats)
        assert con.execute("select name from marts.fct_recognitions where uscc = ? "
                           "and list_category = '数字化转型典型场景' order by name", [borrower]).fetchall() == [("智能排产",), ("设备预测性维护",)]
        named = suspect_rows(con, AS_OF)
    assert named is not None and "registers_loans_v3.xlsx" in named and "同一企业同一银行同日放款多笔" in named
