"""Ingestion: decoding, header mapping, row rejection, manifest, idempotency, re-deliveries."""

from __future__ import annotations

import io
import os
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from dagster_project.lib.ingest import landing_as_of
from dagster_project.lib.ingest.loader import ingest_feed
from dagster_project.lib.uscc import make_uscc
from reports import wording

pytestmark = pytest.mark.usefixtures("reasons_read_in_chinese")

GOOD = make_uscc("450102", "MA5K1234")
OTHER = make_uscc("450202", "MA5K9999")
BAD = GOOD[:17] + ("0" if GOOD[17] != "0" else "1")

INDUSTRY_HEADER = "统一社会信用代码,报告期,工业总产值_本月_千元,工业总产值_累计_千元,营业收入_本月_千元,营业收入_累计_千元,利润总额_累计_千元,从业人员期末人数"


def write(landing: Path, feed: str, name: str, text: str, encoding: str) -> Path:
    path = landing / feed / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as c:
        yield c


def test_gb18030_file_loads_with_lines_and_rejections(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv", "\n".join([
        INDUSTRY_HEADER,
        f'{GOOD},202410,100.5,"1,200.5",90,900,-5,12',
        f"{BAD},202410,1,2,3,4,5,6",
        ",,,,,,,",
        f"{OTHER},202410,abc,2,3,4,5,6",
    ]) + "\n", "gb18030")
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.status, outcome.rows_read, outcome.rows_accepted, outcome.rows_rejected, outcome.rows_blank) == (
        "loaded", 3, 1, 2, 1)
    row = con.execute("select uscc, output_ytd_k_yuan, _line, _available_on from raw.stats_industry").fetchone()
    assert row == (GOOD, "1200.5", 2, date(2024, 11, 15))
    rejected = con.execute("select line, field, value, reason from raw._rejected_rows order by line").fetchall()
    assert rejected[0][:3] == (3, "uscc", BAD) and rejected[0][3].startswith("invalid USCC: check character")
    assert rejected[1] == (5, "output_month_k_yuan", "abc", "not a number")
    manifest = con.execute("select rows_read, rows_accepted, rows_rejected from raw._manifest").fetchone()
    assert manifest == (3, 1, 2)


def test_columns_matched_by_name_in_any_order_and_extras_kept(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "power", "power_daily_20241125.csv",
          "\ufeff 日期 ,数据标志,用电户号,用电量_千瓦时,备注\r\n2024-11-18,正常,A1,120.5,x\r\n2024-11-19,缺失,A1,,\r\n",
          "utf-8")
    [outcome] = ingest_feed(con, landing, "power")
    assert outcome.rows_accepted == 2 and outcome.extra_columns == ["备注"]
    rows = con.execute("select account_no, reading_date, kwh, data_flag, _extra from raw.power_daily order by _line").fetchall()
    assert rows[0] == ("A1", "2024-11-18", "120.5", "正常", '{"备注": "x"}')
    assert rows[1][2] is None


def test_missing_required_column_refuses_the_file(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "tax", "tax_vat_202410.csv", "纳税人识别号,所属期,开票销售额_元\n" + f"{GOOD},202410,1\n", "gb18030")
    [outcome] = ingest_feed(con, landing, "tax")
    assert outcome.status == "refused"
    assert "missing required column(s) 应纳增值税额_元" in outcome.message
    assert con.execute("select count(*) from raw.tax_vat").fetchone()[0] == 0
    assert con.execute("select count(*) from raw._manifest").fetchone()[0] == 0


def test_wrong_encoding_is_refused_with_a_hint(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "tax", "tax_vat_202410.csv",
          "纳税人识别号,所属期,开票销售额_元,应纳增值税额_元,申报日期\n" + f"{GOOD},202410,1,2,2024-11-10\n", "utf-8")
    [outcome] = ingest_feed(con, landing, "tax")
    assert outcome.status == "refused"
    assert "not valid GB18030" in outcome.message and "decodes as UTF-8" in outcome.message


@pytest.mark.parametrize(("text_encoding", "cause"), [
    ("gb18030", "the text after the mark is GB18030; ask the provider to save it again without the mark"),
    ("utf-8", "the file was saved as UTF-8; ask the provider to send it in GB18030"),
])
def test_a_utf8_byte_order_mark_before_a_gb18030_feed_is_named(tmp_path, con, text_encoding, cause):
    """A program saving "as UTF-8" puts EF BB BF first: before GB18030 text it was refused as "bytes
    not valid GB18030" with no hint (issue 15's damaged-delivery pass). The mark is named, and what
    follows it."""
    landing = tmp_path / "landing"
    (landing / "tax").mkdir(parents=True)
    text = "纳税人识别号,所属期,开票销售额_元,应纳增值税额_元,申报日期\n" + f"{GOOD},202410,1,2,2024-11-10\n"
    (landing / "tax" / "tax_vat_202410.csv").write_bytes(b"\xef\xbb\xbf" + text.encode(text_encoding))
    [outcome] = ingest_feed(con, landing, "tax")
    assert outcome.status == "refused"
    assert outcome.message == ("tax/tax_vat_202410.csv: starts with a UTF-8 byte-order mark (EF BB BF), but the tax "
                               f"provider sends GB18030: {cause}")
    assert con.execute("select count(*) from raw.tax_vat").fetchone()[0] == 0


def test_second_ingest_adds_nothing_and_changed_bytes_are_refused(tmp_path, con):
    landing = tmp_path / "landing"
    path = write(landing, "stats", "stats_industry_202410.csv", INDUSTRY_HEADER + f"\n{GOOD},202410,1,1,1,1,1,1\n", "gb18030")
    ingest_feed(con, landing, "stats")
    [again] = ingest_feed(con, landing, "stats")
    assert again.status == "skipped"
    path.write_bytes((INDUSTRY_HEADER + f"\n{GOOD},202410,9,9,9,9,9,9\n").encode("gb18030"))
    [changed] = ingest_feed(con, landing, "stats")
    assert changed.status == "refused"
    assert "already loaded with different bytes" in changed.message
    assert "stats_industry_202410_v2.csv" in changed.message
    assert con.execute("select output_ytd_k_yuan from raw.stats_industry").fetchall() == [("1",)]
    assert con.execute("select count(*) from raw._file_refusals").fetchone()[0] == 1


def _reads(monkeypatch) -> list[str]:
    """The names of the files ingestion reads the bytes of, from now on."""
    from dagster_project.lib.ingest import loader

    names: list[str] = []
    real = loader.read_regular_file

    def spy(path):
        names.append(path.name)
        return real(path)

    monkeypatch.setattr(loader, "read_regular_file", spy)
    return names


def test_a_settled_file_whose_status_is_unchanged_is_not_read_again(tmp_path, con, monkeypatch):
    """Once a loaded file has been left alone for SETTLED_SECONDS, a later run knows it unchanged by
    its status (device, inode, size, mtime, ctime) and does not read it: a weekly run does not hash
    every landed byte again. A file rewritten in place, even to the same size with its modification
    time set back, has a new ctime: it is read, and refused as before."""
    from dagster_project.lib.ingest import loader

    monkeypatch.setattr(loader, "SETTLED_SECONDS", 0)
    landing = tmp_path / "landing"
    path = write(landing, "stats", "stats_industry_202410.csv", INDUSTRY_HEADER + f"\n{GOOD},202410,1,1,1,1,1,1\n", "gb18030")
    reads = _reads(monkeypatch)
    assert [o.status for o in ingest_feed(con, landing, "stats")] == ["loaded"]
    assert [o.status for o in ingest_feed(con, landing, "stats")] == ["skipped"]
    assert reads == ["stats_industry_202410.csv"]  # the first run only
    mtime = path.stat().st_mtime_ns
    path.write_bytes((INDUSTRY_HEADER + f"\n{GOOD},202410,9,1,1,1,1,1\n").encode("gb18030"))  # same size
    os.utime(path, ns=(mtime, mtime))
    [changed] = ingest_feed(con, landing, "stats")
    assert (changed.status, reads) == ("refused", ["stats_industry_202410.csv"] * 2)
    assert "already loaded with different bytes" in changed.message
    assert con.execute("select output_ytd_k_yuan from raw.stats_industry").fetchall() == [("1",)]


def test_a_file_changed_within_the_settling_time_is_read_again(tmp_path, con, monkeypatch):
    """A status taken less than SETTLED_SECONDS after the file last changed is not recorded: a write
    within the same tick of the file clock could follow unseen. Such a file is read every run until
    it has settled, and then once more, to record its status."""
    from dagster_project.lib.ingest import loader

    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv", INDUSTRY_HEADER + f"\n{GOOD},202410,1,1,1,1,1,1\n", "gb18030")
    reads = _reads(monkeypatch)
    ingest_feed(con, landing, "stats")
    ingest_feed(con, landing, "stats")  # written just now: not settled
    assert len(reads) == 2 and con.execute("select count(*) from raw._file_status").fetchone()[0] == 0
    monkeypatch.setattr(loader, "SETTLED_SECONDS", 0)
    ingest_feed(con, landing, "stats")
    ingest_feed(con, landing, "stats")
    assert len(reads) == 3


def test_v2_rows_are_kept_beside_the_original(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv",
          INDUSTRY_HEADER + f"\n{GOOD},202410,1,1,1,1,1,1\n{OTHER},202410,2,2,2,2,2,2\n", "gb18030")
    write(landing, "stats", "stats_industry_202410_v2.csv", INDUSTRY_HEADER + f"\n{GOOD},202410,5,5,5,5,5,5\n", "gb18030")
    outcomes = ingest_feed(con, landing, "stats")
    assert [o.status for o in outcomes] == ["loaded", "loaded"]
    rows = con.execute("select uscc, output_ytd_k_yuan, _version from raw.stats_industry order by _version, uscc").fetchall()
    assert sorted(rows) == sorted([(GOOD, "1", 1), (OTHER, "2", 1), (GOOD, "5", 2)])


@pytest.mark.parametrize("name", ["stats_industry_2024-10.csv", "stats_unknown_202410.csv", "tax_vat_202410.csv",
                                  "stats_industry_202413.csv", "stats_industry_202410_v1.csv", "stats_industry.csv"])
def test_names_outside_the_rule_are_reported_and_left_alone(tmp_path, con, name):
    landing = tmp_path / "landing"
    path = write(landing, "stats", name, INDUSTRY_HEADER + "\n", "gb18030")
    before = path.read_bytes()
    [outcome] = ingest_feed(con, landing, "stats")
    assert outcome.status == "refused" and name in outcome.message
    assert path.read_bytes() == before


def _register_workbook(rows: list[list], title: bool) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("桂惠贷")
    r = 0
    if title:
        ws.merge_range(0, 0, 0, 6, "2024年桂惠贷台账")
        r = 1
    for row in rows:
        for c, v in enumerate(row):
            if v is not None:
                ws.write_string(r, c, v) if isinstance(v, str) else ws.write(r, c, v)
        r += 1
    wb.close()
    return buf.getvalue()


def test_hand_kept_register_with_title_row_blank_rows_and_numbers_as_text(tmp_path, con):
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    data = _register_workbook([
        ["统一社会信用代码 ", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"],
        [GOOD, "广西农信 ", "工业流动资金贷", "2024-10-08", "2025-10-07", "500", 3.45],
        [None] * 7,
        [OTHER, "桂林银行", "工业流动资金贷", "2024-11-01", "2025-05-01", 1200, "1.8"],
    ], title=True)
    (landing / "registers" / "registers_loans.xlsx").write_bytes(data)
    [outcome] = ingest_feed(con, landing, "registers")
    assert (outcome.status, outcome.rows_accepted, outcome.rows_blank) == ("loaded", 2, 1)
    rows = con.execute("select uscc, lender, principal_10k_yuan, annual_rate_pct, _line from raw.registers_loans order by _line").fetchall()
    assert rows == [(GOOD, "广西农信", "500", "3.45", 3), (OTHER, "桂林银行", "1200", "1.8", 5)]


def test_a_block_of_notes_above_the_header_may_name_a_header(tmp_path, con):
    """The header is the row with the most of the register's headers: a note row that names one
    (统一社会信用代码 of the reporting office) is no header."""
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    data = _register_workbook([
        ["填报单位", "广西工业和信息化厅", "统一社会信用代码", "11450000MB1234567X"],
        [None] * 7,
        ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"],
        [GOOD, "广西农信", "工业流动资金贷", "2024-10-08", "2025-10-07", "500", 3.45],
    ], title=False)
    (landing / "registers" / "registers_loans.xlsx").write_bytes(data)
    [outcome] = ingest_feed(con, landing, "registers")
    assert (outcome.status, outcome.rows_accepted) == ("loaded", 1)
    assert con.execute("select uscc, _line from raw.registers_loans").fetchall() == [(GOOD, 4)]


def test_default_as_of_is_the_latest_arrival(tmp_path):
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv", INDUSTRY_HEADER + "\n", "gb18030")
    write(landing, "power", "power_daily_20241111.csv", "用电户号,日期,用电量_千瓦时,数据标志\n", "utf-8")
    assert landing_as_of(landing) == date(2024, 11, 15)
    write(landing, "power", "power_daily_20241118.csv", "用电户号,日期,用电量_千瓦时,数据标志\n", "utf-8")
    assert landing_as_of(landing) == date(2024, 11, 18)


def test_project_tags_are_checked_and_normalised(tmp_path, con):
    landing = tmp_path / "landing"
    header = "项目代码,项目名称,统一社会信用代码,行政区划代码,行业代码,建设性质,计划总投资_万元,开工年月,入库年月,本月完成投资_万元,本月设备购置_万元,项目标签,竣工年月"
    write(landing, "stats", "stats_projects_202410.csv", "\n".join([
        header,
        f"P1,甲,{GOOD},450102,3411,新建,1000,202410,202410,10,1, 双百双新 ;千企技改;,",
        f"P2,乙,{GOOD},450102,3411,新建,1000,202410,202410,10,1,双百;千企技改,",
    ]) + "\n", "gb18030")
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 1)
    assert con.execute("select tags from raw.stats_projects").fetchone() == ("双百双新;千企技改",)
    assert con.execute("select field from raw._rejected_rows").fetchone() == ("tags",)


def test_a_project_without_a_planned_total_loads_its_months(tmp_path, con):
    """计划总投资 may be blank: rejected, the project's investment and equipment were lost with it
    (M20 and M15 paid on them, the KPIs counted them); M11, which needs the plan, does not pay."""
    landing = tmp_path / "landing"
    header = "项目代码,项目名称,统一社会信用代码,行政区划代码,行业代码,建设性质,计划总投资_万元,开工年月,入库年月,本月完成投资_万元,本月设备购置_万元,项目标签,竣工年月"
    write(landing, "stats", "stats_projects_202410.csv", "\n".join([
        header, f"P1,甲,{GOOD},450102,3411,技术改造,,202401,202401,383.5,120,设备更新重点方向,",
    ]) + "\n", "gb18030")
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 0)
    assert con.execute("select planned_investment_10k_yuan, investment_month_10k_yuan from raw.stats_projects"
                       ).fetchone() == (None, "383.5")


def test_a_planned_total_of_zero_or_below_rejects_the_row(tmp_path, con):
    """A 计划总投资 of 0 is not a plan (a blank says "none"): loaded, it read as a plan and took a 6亿
    双百双新 project's M11 award (1,200万) away with no word. Rejected, the row is named (and on 汇总,
    mart_rejected_policy_rows); the smallest positive amount loads."""
    landing = tmp_path / "landing"
    header = "项目代码,项目名称,统一社会信用代码,行政区划代码,行业代码,建设性质,计划总投资_万元,开工年月,入库年月,本月完成投资_万元,本月设备购置_万元,项目标签,竣工年月"
    write(landing, "stats", "stats_projects_202410.csv", "\n".join([header] + [
        f"P{i},甲,{GOOD},450102,3411,新建,{plan},,202401,0,0,双百双新," for i, plan in
        enumerate(("0", "0.00", "-5", "0.01"), 1)]) + "\n", "gb18030")
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 3)
    assert con.execute("select line, value, reason from raw._rejected_rows order by line").fetchall() == [
        (2, "0", "not above 0 (leave it blank when there is none)"),
        (3, "0.00", "not above 0 (leave it blank when there is none)"),
        (4, "-5", "not above 0 (leave it blank when there is none)")]
    assert wording.reason("not above 0 (leave it blank when there is none)") == "须大于 0（没有时留空）"


def test_quoted_commas_and_quotes_in_names_load_exactly(tmp_path, con):
    landing = tmp_path / "landing"
    header = "统一社会信用代码,企业名称,行政区划代码,行业代码,规模标志,入统年月,投产年月,退库年月"
    write(landing, "stats", "stats_enterprise_202410.csv", "\r\n".join([
        header,
        f'{GOOD},"玉林市""宏达""动力机械有限公司,玉州分公司",450902,3412,规上,201001,200806,',
        f'{OTHER},"=HYPERLINK(""http://x"",""y"")",450202,3411,临规,,201506,',
    ]) + "\r\n", "gb18030")
    [outcome] = ingest_feed(con, landing, "stats")
    assert outcome.rows_accepted == 2
    names = [r[0] for r in con.execute("select enterprise_name from raw.stats_enterprise order by _line").fetchall()]
    assert names == ['玉林市"宏达"动力机械有限公司,玉州分公司', '=HYPERLINK("http://x","y")']


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"\r\n  \r\n", "empty file"),
        (("纳税人识别号,所属期,开票销售额_元,应纳增值税额_元,申报日期\n" + f'{GOOD},202410,1,"2').encode("gb18030"), "truncated"),
    ],
)
def test_empty_and_truncated_files_are_refused(tmp_path, con, content, message):
    path = tmp_path / "landing" / "tax" / "tax_vat_202410.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    [outcome] = ingest_feed(con, tmp_path / "landing", "tax")
    assert outcome.status == "refused" and message in outcome.message
    assert path.read_bytes() == content


@pytest.mark.parametrize("group_rows, loaded_before_crash", [(1, 1), (10, 0)])
def test_a_crash_mid_feed_loses_nothing_and_a_rerun_equals_a_clean_run(tmp_path, monkeypatch, group_rows,
                                                                       loaded_before_crash):
    """Killed while writing the second group: the groups before it are loaded whole, nothing of the
    group being written is (one file per group, then all three files in one)."""
    from dagster_project.lib.ingest import loader

    landing = tmp_path / "landing"
    for month in ("202408", "202409", "202410"):
        write(landing, "stats", f"stats_industry_{month}.csv", INDUSTRY_HEADER + f"\n{GOOD},{month},1,1,1,1,1,1\n", "gb18030")
    monkeypatch.setattr(loader, "WRITE_GROUP_ROWS", group_rows)
    real_record, calls = loader._record_loaded, []

    def crash_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real_record(*args, **kwargs)

    with duckdb.connect(str(tmp_path / "crashed.duckdb")) as crashed:
        monkeypatch.setattr(loader, "_record_loaded", crash_on_second)
        with pytest.raises(KeyboardInterrupt):
            ingest_feed(crashed, landing, "stats")
        assert crashed.execute("select count(*) from raw._manifest").fetchone()[0] == loaded_before_crash
        assert crashed.execute("select count(distinct _file) from raw.stats_industry").fetchone()[0] == loaded_before_crash
        monkeypatch.setattr(loader, "_record_loaded", real_record)
        ingest_feed(crashed, landing, "stats")
        after_rerun = crashed.execute("select report_month, uscc from raw.stats_industry order by 1").fetchall()
        manifest = crashed.execute("select file_name, rows_accepted from raw._manifest order by 1").fetchall()
    with duckdb.connect(str(tmp_path / "clean.duckdb")) as clean:
        ingest_feed(clean, landing, "stats")
        assert clean.execute("select report_month, uscc from raw.stats_industry order by 1").fetchall() == after_rerun
        assert clean.execute("select file_name, rows_accepted from raw._manifest order by 1").fetchall() == manifest


@pytest.mark.parametrize("group_rows", [1, 2, 1_000_000])
def test_files_written_in_groups_load_as_written_one_by_one(tmp_path, monkeypatch, group_rows):
    """Every row with its own file's provenance, in file and line order, rejected rows left out and
    kept, whatever the grouping; a file with an extra column keeps it in _extra, the others NULL."""
    from dagster_project.lib.ingest import loader

    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202408.csv",
          INDUSTRY_HEADER + f"\n{GOOD},202408,1,1,1,1,1,1\n{OTHER},202408,2,2,2,2,2,2\n", "gb18030")
    write(landing, "stats", "stats_industry_202409.csv",
          INDUSTRY_HEADER + f"\n{GOOD},202409,x,1,1,1,1,1\n{OTHER},202409,3,3,3,3,3,3\n", "gb18030")
    write(landing, "stats", "stats_industry_202410.csv",
          INDUSTRY_HEADER + ",备注" + f"\n{GOOD},202410,4,4,4,4,4,4,甲\n", "gb18030")
    write(landing, "stats", "stats_industry_202409_v2.csv",
          INDUSTRY_HEADER + f"\n{GOOD},202409,5,5,5,5,5,5\n", "gb18030")
    monkeypatch.setattr(loader, "WRITE_GROUP_ROWS", group_rows)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        outcomes = ingest_feed(con, landing, "stats", as_of=date(2024, 11, 18))
        rows = con.execute("select _file, _line, _dataset_period, _version, uscc, _extra from raw.stats_industry"
                           " order by rowid").fetchall()
        rejected = con.execute("select file_name, line, field from raw._rejected_rows").fetchall()
        manifest = con.execute("select file_name, rows_accepted, rows_rejected from raw._manifest order by 1").fetchall()
    assert [o.status for o in outcomes] == ["loaded"] * 4
    assert rows == [
        ("stats_industry_202408.csv", 2, "202408", 1, GOOD, None),
        ("stats_industry_202408.csv", 3, "202408", 1, OTHER, None),
        ("stats_industry_202409.csv", 3, "202409", 1, OTHER, None),
        ("stats_industry_202409_v2.csv", 2, "202409", 2, GOOD, None),
        ("stats_industry_202410.csv", 2, "202410", 1, GOOD, '{"备注": "甲"}'),
    ]
    assert [r[:2] for r in rejected] == [("stats_industry_202409.csv", 2)]
    assert manifest == [("stats_industry_202408.csv", 2, 0), ("stats_industry_202409.csv", 1, 1),
                        ("stats_industry_202409_v2.csv", 1, 0), ("stats_industry_202410.csv", 1, 0)]


def test_a_failed_write_waits_for_the_file_being_read_and_reports_its_own_error(tmp_path, monkeypatch):
    """The next file is read in a thread with its own cursor while this one is written. When the
    write fails, the reader is still on the next file: the feed waits for it before closing its
    cursor, so the caller sees the write's error, not DuckDB's "connection is busy" (seen in CI)."""
    import threading
    import time

    from dagster_project.lib.ingest import loader

    landing = tmp_path / "landing"
    for month in ("202409", "202410"):
        write(landing, "stats", f"stats_industry_{month}.csv", INDUSTRY_HEADER + f"\n{GOOD},{month},1,1,1,1,1,1\n", "gb18030")
    real_read, reading = loader._read, threading.Event()

    def slow_second_read(path, feed, datasets, loaded, statuses, checker, *args):
        if path.name.endswith("202410.csv"):  # the reader is inside a query on its cursor
            reading.set()
            checker.execute("select sum(range * range) from range(400000000)").fetchall()
        return real_read(path, feed, datasets, loaded, statuses, checker, *args)

    def fail_once_the_next_read_started(*args, **kwargs):
        assert reading.wait(5)
        time.sleep(0.2)  # the query is under way
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(loader, "_read", slow_second_read)
    monkeypatch.setattr(loader, "WRITE_GROUP_ROWS", 1)  # the first file is written while the second is read
    monkeypatch.setattr(loader, "_load_group", fail_once_the_next_read_started)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        with pytest.raises(KeyboardInterrupt, match="killed"):
            ingest_feed(con, landing, "stats")
        assert con.execute("select count(*) from raw._manifest").fetchone()[0] == 0


def test_unknown_county_industry_and_country_codes_are_quarantined(tmp_path, con):
    landing = tmp_path / "landing"
    header = "统一社会信用代码,企业名称,行政区划代码,行业代码,规模标志,入统年月,投产年月,退库年月"
    write(landing, "stats", "stats_enterprise_202410.csv", "\n".join([
        header,
        f"{GOOD},甲,440106,3411,规上,201001,200806,",  # Guangdong, not Guangxi
        f"{OTHER},乙,450102,9999,规上,201001,200806,",  # no such GB/T 4754 class
    ]) + "\n", "gb18030")
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (0, 2)
    reasons = dict(con.execute("select field, reason from raw._rejected_rows").fetchall())
    assert reasons == {"county_code": "unknown county code (not a Guangxi GB/T 2260 code)",
                       "industry_code": "unknown GB/T 4754-2017 class"}


@pytest.mark.parametrize("depth", [1, 3])
def test_files_are_read_at_most_depth_ahead_of_the_writes_and_written_in_name_order(depth):
    from dagster_project.lib.ingest.loader import _read_ahead

    events = []

    def read(name):
        if name == "a":  # the second reader finishes "b" first: "a" is still written first
            time.sleep(0.2)
        events.append(("read", name))
        return name

    for name in _read_ahead(read, ["a", "b", "c", "d", "e", "f"], depth):
        events.append(("write", name))
    writes = [name for kind, name in events if kind == "write"]
    assert writes == ["a", "b", "c", "d", "e", "f"]
    for k, name in enumerate(writes):
        assert events.index(("read", name)) < events.index(("write", name))
        if k + depth + 1 < len(writes):  # never more than `depth` files read ahead of the one being written
            assert events.index(("write", name)) < events.index(("read", writes[k + depth + 1]))


def test_a_mixed_folder_gives_the_same_outcomes_in_name_order(tmp_path, con):
    landing = tmp_path / "landing"
    for month in ("202408", "202409", "202410"):
        write(landing, "stats", f"stats_industry_{month}.csv", INDUSTRY_HEADER + f"\n{GOOD},{month},1,1,1,1,1,1\n", "gb18030")
    write(landing, "stats", "stats_industry_2024xx.csv", INDUSTRY_HEADER + "\n", "gb18030")
    ingest_feed(con, landing, "stats")
    write(landing, "stats", "stats_industry_202409.csv", INDUSTRY_HEADER + f"\n{GOOD},202409,2,2,2,2,2,2\n", "gb18030")
    write(landing, "stats", "stats_industry_202411.csv", INDUSTRY_HEADER + f"\n{BAD},202411,1,1,1,1,1,1\n", "gb18030")
    outcomes = ingest_feed(con, landing, "stats")
    assert [(o.file_name, o.status) for o in outcomes] == [
        ("stats_industry_202408.csv", "skipped"),
        ("stats_industry_202409.csv", "refused"),  # same name, other bytes
        ("stats_industry_202410.csv", "skipped"),
        ("stats_industry_202411.csv", "loaded"),
        ("stats_industry_2024xx.csv", "refused"),  # not a file name of the feed
    ]
    assert outcomes[3].rows_rejected == 1


def test_a_correction_counts_from_the_run_that_first_saw_it(tmp_path, con):
    """A `_vN` name carries no delivery date: the first run that sees it dates its arrival (never
    before the delivery it corrects); first deliveries keep their arrival rule."""
    landing = tmp_path / "landing"
    row = f"{GOOD},202409,1,1,1,1,1,1"
    write(landing, "stats", "stats_industry_202409.csv", f"{INDUSTRY_HEADER}\n{row}\n", "gb18030")
    write(landing, "stats", "stats_industry_202409_v2.csv", f"{INDUSTRY_HEADER}\n{row}\n", "gb18030")
    write(landing, "stats", "stats_industry_202408_v2.csv", f"{INDUSTRY_HEADER}\n{row}\n", "gb18030")
    ingest_feed(con, landing, "stats", as_of=date(2024, 9, 20))
    arrived = dict(con.execute("select file_name, available_on from raw._manifest").fetchall())
    assert arrived == {
        "stats_industry_202408_v2.csv": date(2024, 9, 20),  # first seen on 09-20, after its base (09-15)
        "stats_industry_202409.csv": date(2024, 10, 15),  # the arrival rule
        "stats_industry_202409_v2.csv": date(2024, 10, 15),  # landed early: not before its base
    }
    stored = dict(con.execute("select _file, max(_available_on) from raw.stats_industry group by 1").fetchall())
    assert stored == arrived


def test_ingestion_shows_its_progress_in_files_and_rows(tmp_path, con, capfd):
    """A long ingestion step is not silent: files done of total and rows/s, on the run's terminal
    (stderr; a plain line at the end when it is not a terminal)."""
    landing = tmp_path / "landing"
    for month in ("202408", "202409", "202410"):
        write(landing, "stats", f"stats_industry_{month}.csv", INDUSTRY_HEADER + f"\n{GOOD},{month},1,1,1,1,1,1\n", "gb18030")
    ingest_feed(con, landing, "stats")
    err = capfd.readouterr().err
    assert "ingest stats" in err and "3/3" in err and "rows/s" in err
