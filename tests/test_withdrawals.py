"""Withdrawn deliveries: raw stays append-only, the rows of a withdrawn file are used nowhere; the
landing dir withdraws what leaves it; blocking verdicts are facts about the inputs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.incremental import clear_full_refresh_requests, full_refresh_reason
from dagster_project.lib.ingest.loader import ingest_feed
from dagster_project.lib.ingest.withdrawals import WithdrawalError, reinstate, withdraw, withdrawn_files
from dagster_project.lib.quality import warehouse
from dagster_project.lib.quality.run import DATASET_BY_TABLE, validate_suites
from dagster_project.lib.quality.suites import load_suites
from dagster_project.lib.uscc import make_uscc

A = make_uscc("450102", "MA5K1234")
B = make_uscc("450202", "MA5K9999")
INDUSTRY_HEADER = ("统一社会信用代码,报告期,工业总产值_本月_千元,工业总产值_累计_千元,营业收入_本月_千元,"
                   "营业收入_累计_千元,利润总额_累计_千元,从业人员期末人数")
SUITE = next(s for s in load_suites() if s.name == "raw_stats_industry")
DS = DATASET_BY_TABLE["stats_industry"]
AS_OF = date(2024, 12, 1)
GXINDUSTRY = str(Path(sys.executable).with_name("gxindustry"))


def write_industry(landing: Path, name: str, rows: list[str]) -> Path:
    path = landing / "stats" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\r\n".join([INDUSTRY_HEADER, *rows, ""]).encode("gb18030"))
    return path


def month_rows(month: str, scale: int = 1) -> list[str]:
    """A month's report of two enterprises whose 累计 grows by each month's output (`scale`: ×1000, in 元)."""
    m = int(month[4:])
    return [f"{A},{month},{1000 * scale},{1000 * m * scale},950,{950 * m},10,50",
            f"{B},{month},{2000 * scale},{2000 * m * scale},1900,{1900 * m},10,50"]


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as c:
        yield c


def news(outcomes) -> list:
    """What an ingestion did, files already loaded aside."""
    return [o for o in outcomes if o.status != "skipped"]


def active_files(con) -> list[str]:
    return [r[0] for r in con.execute("select distinct _file from raw_active.stats_industry order by 1").fetchall()]


# ---------------------------------------------------------------- withdrawing


def test_a_file_gone_from_the_landing_dir_is_withdrawn_and_reinstated_when_back(tmp_path, con):
    landing = tmp_path / "landing"
    october = write_industry(landing, "stats_industry_202410.csv", month_rows("202410"))
    write_industry(landing, "stats_industry_202409.csv", month_rows("202409"))
    ingest_feed(con, landing, "stats", now=datetime(2024, 11, 20))
    clear_full_refresh_requests(con)
    kept = october.read_bytes()
    october.unlink()

    [outcome] = news(ingest_feed(con, landing, "stats", now=datetime(2024, 11, 27)))
    assert (outcome.status, outcome.file_name, outcome.message) == (
        "withdrawn", "stats_industry_202410.csv", "no longer in the landing dir as a delivery")
    assert active_files(con) == ["stats_industry_202409.csv"]
    assert con.execute("select count(*) from raw.stats_industry").fetchone() == (4,)  # raw keeps every row
    assert withdrawn_files(con) == {
        "stats_industry_202410.csv": "landing: no longer in the landing dir as a delivery"}
    assert full_refresh_reason(con, AS_OF).startswith("a delivery was withdrawn or reinstated since the last complete "
                                                      "build: stats_industry_202410.csv withdrawn")
    assert news(ingest_feed(con, landing, "stats")) == []  # recorded once

    october.write_bytes(kept.replace(b"1000", b"1001"))  # other bytes: refused, stays withdrawn
    [outcome] = news(ingest_feed(con, landing, "stats"))
    assert outcome.status == "refused" and active_files(con) == ["stats_industry_202409.csv"]
    october.write_bytes(kept)
    [back] = news(ingest_feed(con, landing, "stats"))
    assert (back.status, back.message) == ("reinstated", "back in the landing dir with the same bytes")
    assert active_files(con) == ["stats_industry_202409.csv", "stats_industry_202410.csv"]
    log = con.execute("select seq, file_name, action, source from raw._withdrawals order by seq").fetchall()
    assert log == [(1, "stats_industry_202410.csv", "withdrawn", "landing"),
                   (2, "stats_industry_202410.csv", "reinstated", "landing")]


def test_a_missing_feed_folder_withdraws_nothing(tmp_path, con):
    landing = tmp_path / "landing"
    write_industry(landing, "stats_industry_202410.csv", month_rows("202410"))
    ingest_feed(con, landing, "stats")
    (landing / "stats" / "stats_industry_202410.csv").unlink()
    (landing / "stats").rmdir()
    assert ingest_feed(con, landing, "stats") == []
    assert active_files(con) == ["stats_industry_202410.csv"]


def test_an_operator_withdraws_and_reinstates_with_a_reason(tmp_path, con):
    landing = tmp_path / "landing"
    write_industry(landing, "stats_industry_202410.csv", month_rows("202410"))
    ingest_feed(con, landing, "stats")
    with pytest.raises(WithdrawalError, match="stats_industry_202411.csv is not a loaded delivery"):
        withdraw(con, "stats_industry_202411.csv", "wrong month")
    with pytest.raises(WithdrawalError, match="needs a reason"):
        withdraw(con, "stats_industry_202410.csv", "  ")
    change = withdraw(con, "stats_industry_202410.csv", "the bureau says the file is wrong")
    assert (change.feed, change.action) == ("stats", "withdrawn")
    assert active_files(con) == []
    with pytest.raises(WithdrawalError, match="already withdrawn"):
        withdraw(con, "stats_industry_202410.csv", "again")
    assert ingest_feed(con, landing, "stats")[0].status == "skipped"  # still in the landing dir: stays withdrawn
    assert active_files(con) == []
    reinstate(con, "stats_industry_202410.csv", "the bureau was wrong")
    assert active_files(con) == ["stats_industry_202410.csv"]
    with pytest.raises(WithdrawalError, match="not withdrawn by an operator"):
        reinstate(con, "stats_industry_202410.csv", "again")


def test_a_withdrawn_delivery_is_no_delivery_for_what_reports_the_latest_month(tmp_path, con):
    """`gxindustry status` (its freshness and its default date), the workbooks' 数据截至 and the 数据质量
    sheet read the deliveries in use: with October's report withdrawn the feed is behind at
    September (it read "ok up to 2024-10" while the marts had no October), its files and rows are
    not counted, and the sheet lists the withdrawal with its reason."""
    import xlsxwriter
    from openpyxl import load_workbook

    from dagster_project.lib.status import freshness, warehouse_as_of
    from reports import data, kpi_workbook
    from reports.styles import Styles

    landing = tmp_path / "landing"
    for month in ("202409", "202410"):
        write_industry(landing, f"stats_industry_{month}.csv", month_rows(month))
    ingest_feed(con, landing, "stats")
    as_of = date(2024, 11, 25)

    def stats_now() -> tuple:
        fresh = next(f for f in freshness(con, as_of) if f.feed == "stats")
        cutoff = next(c for c in data.data_cutoff(con, as_of) if c.feed == "stats")
        return fresh.files, fresh.rows_accepted, fresh.latest, cutoff.period, cutoff.files

    assert stats_now() == (2, 4, "202410", "202410", 2)
    assert warehouse_as_of(con)[0] == date(2024, 11, 15)  # no measures run: dated by its latest delivery
    withdraw(con, "stats_industry_202410.csv", "报告期数据有误")
    assert stats_now() == (1, 2, "202409", "202409", 1)
    assert warehouse_as_of(con)[0] == date(2024, 10, 15)
    cutoff = next(c for c in data.data_cutoff(con, as_of) if c.feed == "stats")
    # the datasets behind at the same month named together
    assert cutoff.text == "数据至 2024年9月（2024-10-15 到达）；其中企业名录、项目库月报尚无到达文件"

    path = tmp_path / "quality.xlsx"
    with xlsxwriter.Workbook(str(path)) as wb:
        kpi_workbook._quality(wb, Styles(wb), con, as_of, None)
    cells = list(load_workbook(path).active.iter_rows(values_only=True))
    industry = next(row for row in cells if row[1] == "规上工业月报（industry）")
    assert industry[2:5] == (1, 2, 2)  # files, rows read, rows accepted: September's only
    title = next(i for i, row in enumerate(cells) if str(row[0]).startswith("已撤回的文件"))
    assert cells[title][0] == "已撤回的文件（1 个；其数据保留在原始层，不进入测算）"
    assert [cells[title + 2][c] for c in (0, 1, 7, 8)] == ["stats_industry_202410.csv", "报告期数据有误", "stats", "操作员"]


def test_the_withdraw_command(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write_industry(landing, "stats_industry_202410.csv", month_rows("202410"))
    with duckdb.connect(str(wh)) as con:
        ingest_feed(con, landing, "stats")

    def run(*args):
        return subprocess.run([GXINDUSTRY, "withdraw", *args, "--warehouse", str(wh)], capture_output=True, text=True,
                              env=dict(os.environ, DAGSTER_HOME=str(tmp_path)))

    unknown = run("stats_industry_202411.csv", "--reason", "x")
    assert unknown.returncode == 2
    assert unknown.stderr == ("gxindustry withdraw: stats_industry_202411.csv is not a loaded delivery "
                              "(see raw._manifest): nothing to withdraw; did you mean stats_industry_202410.csv?\n")
    bare = run("stats_industry_202410", "--reason", "x")  # the name without its extension
    assert bare.stderr.endswith("nothing to withdraw; did you mean stats_industry_202410.csv?\n")
    far = run("customs_export_202301.csv", "--reason", "x")
    assert far.stderr.endswith("nothing to withdraw\n")
    done = run(str(landing / "stats" / "stats_industry_202410.csv"), "--reason", "header only")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("withdrawn stats/stats_industry_202410.csv: header only\n")
    from dagster_project.lib.lock import warehouse_lock

    with warehouse_lock(wh):
        busy = run("stats_industry_202410.csv", "--reinstate", "--reason", "x")
    assert busy.returncode == 3 and "another refresh is running" in busy.stderr
    assert run("stats_industry_202410.csv", "--reinstate", "--reason", "ok").returncode == 0


# ---------------------------------------------------------------- blocking verdicts


@pytest.fixture(scope="module")
def session():
    from dagster_project.lib.quality.gx_runner import GxSession

    return GxSession("test-verdicts")


def verdict(con, session, run_id: str) -> tuple[bool, set[str], list[str]]:
    [result] = validate_suites(con, [SUITE], AS_OF, session, run_id)
    failed = {f"{b.name}:{o.expectation}" for b, o in result.failures("blocking")}
    return result.passed("blocking"), failed, result.cleared


def test_a_header_only_report_blocks_on_every_rerun_until_its_correction(tmp_path, con, session):
    landing = tmp_path / "landing"
    write_industry(landing, "stats_industry_202409.csv", month_rows("202409"))
    write_industry(landing, "stats_industry_202410.csv", [])
    ingest_feed(con, landing, "stats")
    first = verdict(con, session, "run-1")
    assert first[0] is False and "stats_industry_202410.csv:not_empty" in first[1]
    assert verdict(con, session, "run-2") == first  # a plain rerun: the same verdict
    write_industry(landing, "stats_industry_202411.csv", month_rows("202411"))  # another month clears nothing
    ingest_feed(con, landing, "stats")
    assert verdict(con, session, "run-3")[:2] == first[:2]
    latest = con.execute(f"select expectation, success from {warehouse.LATEST_VIEW} "
                         "where file_name = 'stats_industry_202410.csv' and not success").fetchall()
    assert ("not_empty", False) in latest

    write_industry(landing, "stats_industry_202410_v2.csv", month_rows("202410"))
    ingest_feed(con, landing, "stats")
    assert verdict(con, session, "run-4") == (True, set(), ["stats_industry_202410.csv"])
    observed = con.execute(f"select expectation, observed_value from {warehouse.LATEST_VIEW} "
                           "where file_name = 'stats_industry_202410.csv'").fetchall()
    assert observed == [("superseded", "every row is replaced by later deliveries (stats_industry_202410_v2.csv): "
                                       "earlier failures cleared")]


def test_a_withdrawal_clears_a_blocking_failure(tmp_path, con, session):
    landing = tmp_path / "landing"
    write_industry(landing, "stats_industry_202410.csv", [])
    ingest_feed(con, landing, "stats")
    assert verdict(con, session, "run-1")[0] is False
    withdraw(con, "stats_industry_202410.csv", "header only, the bureau re-sends it next week")
    assert verdict(con, session, "run-2") == (True, set(), ["stats_industry_202410.csv"])
    observed = con.execute(f"select expectation, label, observed_value from {warehouse.LATEST_VIEW} "
                           "where file_name = 'stats_industry_202410.csv'").fetchone()
    assert observed == ("withdrawn", "已撤回", "withdrawn (operator: header only, the bureau re-sends it next week): "
                                             "earlier failures cleared")
    assert verdict(con, session, "run-3") == (True, set(), [])
    reinstate(con, "stats_industry_202410.csv", "taken back")  # the same inputs as run 1: its verdict again
    assert verdict(con, session, "run-4")[:2] == (False, {"stats_industry_202410.csv:not_empty",
                                                        "stats_industry_202410.csv:unit_median_output"})


def test_a_file_already_corrected_gets_its_final_verdict_in_the_first_run(tmp_path, con, session):
    """A report in 元 and its _v2 arrive together: the first run validates the report as delivered
    (it fails), then what of it is in force (nothing: cleared) -- the verdict a rerun would reach."""
    landing = tmp_path / "landing"
    write_industry(landing, "stats_industry_202409.csv", month_rows("202409"))
    write_industry(landing, "stats_industry_202410.csv", month_rows("202410", scale=1000))
    write_industry(landing, "stats_industry_202410_v2.csv", month_rows("202410"))
    ingest_feed(con, landing, "stats")
    first = verdict(con, session, "run-1")
    assert first == (True, set(), ["stats_industry_202410.csv"])
    history = con.execute("select run_id, expectation, success from marts.dq_check_results "
                          "where file_name = 'stats_industry_202410.csv' and expectation in "
                          "('unit_jump_vs_previous_report', 'superseded') order by checked_at").fetchall()
    assert history == [("run-1", "unit_jump_vs_previous_report", False), ("run-1", "superseded", True)]
    assert verdict(con, session, "run-2") == (True, set(), [])
