"""Damaged deliveries (issue 15): every value is loaded exactly as delivered, or rejected with file,
line, field and reason, or the file is refused with the reason; nothing refused counts anywhere."""

from __future__ import annotations

import io
import re
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from dagster_project.lib.ingest import landing_as_of, landing_span
from dagster_project.lib.ingest.readers import OLE2_SIGNATURE
from dagster_project.lib.ingest.filenames import FileNameError, PeriodBounds, parse_name
from dagster_project.lib.ingest.loader import ingest_feed, record_landing_root
from dagster_project.lib.ingest.stats import DATASETS as STATS
from dagster_project.lib.uscc import make_uscc
from reports import data

pytestmark = pytest.mark.usefixtures("reasons_read_in_chinese")

A = make_uscc("450102", "MA5K1234")
B = make_uscc("450202", "MA5K9999")
C = make_uscc("450102", "MA5K5555")

INDUSTRY_HEADER = ("统一社会信用代码,报告期,工业总产值_本月_千元,工业总产值_累计_千元,营业收入_本月_千元,"
                   "营业收入_累计_千元,利润总额_累计_千元,从业人员期末人数")
ENTERPRISE_HEADER = "统一社会信用代码,企业名称,行政区划代码,行业代码,规模标志,入统年月,投产年月,退库年月"
CUSTOMS_HEADER = "报关单号,项号,出口日期,经营单位编码,统一社会信用代码,商品编码,贸易方式,运抵国,美元金额,人民币金额_元"
DAILY_HEADER = "用电户号,日期,用电量_千瓦时,数据标志"


def write(landing: Path, feed: str, name: str, lines: list[str], encoding: str = "gb18030", eol: str = "\r\n",
          ) -> Path:
    path = landing / feed / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((eol.join(lines) + eol).encode(encoding))
    return path


def industry_row(uscc: str, output: str = "1000", employees: str = "13") -> str:
    def field(value: str) -> str:
        return f'"{value}"' if "," in value else value
    return f"{uscc},202410,{field(output)},9000,900,8100,10,{field(employees)}"


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as c:
        yield c


def rejected(con) -> list[tuple]:
    return con.execute("select file_name, line, field, value, reason from raw._rejected_rows order by line, field").fetchall()


# ---------------------------------------------------------------- file names and the default as-of


@pytest.mark.parametrize(("name", "message"), [
    ("stats_enterprise_2024１0.csv", "name does not match"),  # a full-width digit
    # a space after .csv: the refusal read exactly like a good name (2026-12-07)
    ("stats_enterprise_202410.csv ", "stats/stats_enterprise_202410.csv<U+0020>: name does not match"),
    ("stats_enterprise\u200b_202410.csv", "stats/stats_enterprise<U+200B>_202410.csv: name does not match"),
    ("stats_industry_203010.csv", "period 203010 is after today (2026-12-03): no delivery can carry it yet"),
    ("stats_industry_202112.csv", "period 202112 is before the policy's history, which starts in 2022-01"),
    ("stats_industry_202409_v3000000000.csv", "re-delivery suffix must be _v2 to _v99"),
    ("stats_industry_202409_v100.csv", "re-delivery suffix must be _v2 to _v99"),
    # _v02 and _v2 would both be version 2, and which of their rows wins a tie
    ("stats_industry_202409_v02.csv", "re-delivery suffix _v02 has a leading zero: write _v2"),
])
def test_names_are_strict(name, message):
    bounds = PeriodBounds(date(2022, 1, 1), date(2026, 12, 3))
    with pytest.raises(FileNameError, match=re.escape(message)):
        parse_name(name, "stats", STATS, bounds)
    assert parse_name("stats_industry_202409_v99.csv", "stats", STATS, bounds).version == 99
    assert parse_name("stats_industry_202201.csv", "stats", STATS, bounds).period == "202201"


def test_the_policy_history_starts_the_year_before_the_base_year():
    assert PeriodBounds.of_policy(date(2026, 12, 3)) == PeriodBounds(date(2022, 1, 1), date(2026, 12, 3))


def test_nothing_refused_moves_the_default_as_of(tmp_path):
    landing = tmp_path / "landing"
    good = write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, industry_row(A)])
    assert landing_as_of(landing) == date(2024, 11, 15)
    # A misnamed copy (period 2030-10), a dangling link named like a delivery, a link to a real file,
    # a file that is refused for its bytes, a hidden copy, a copy in a sub-folder.
    (landing / "stats" / "stats_industry_203010.csv").write_bytes(good.read_bytes())
    (landing / "power").mkdir()
    os.symlink(tmp_path / "nowhere.csv", landing / "power" / "power_daily_20250210.csv")
    os.symlink(good, landing / "stats" / "stats_industry_202411.csv")
    write(landing, "tax", "tax_vat_202411.csv", ["纳税人识别号,所属期,开票销售额_元"], encoding="utf-8")  # a column missing
    write(landing, "stats", "stats_industry_202412.csv", [INDUSTRY_HEADER, industry_row(A)], encoding="utf-8",
          eol="\n")  # UTF-8 where the bureau sends GB18030: refused
    (landing / "stats" / ".stats_industry_202501.csv").write_bytes(good.read_bytes())
    (landing / "stats" / "old").mkdir()
    (landing / "stats" / "old" / "stats_industry_202502.csv").write_bytes(good.read_bytes())
    # every row rejected: its 日期 typed 2024/12/01
    write(landing, "power", "power_daily_20241202.csv", [DAILY_HEADER, "P1,2024/12/01,10.5,正常"], encoding="utf-8")
    assert landing_as_of(landing) == date(2024, 11, 15)
    write(landing, "power", "power_daily_20241118.csv", [DAILY_HEADER, "P1,2024-11-17,10.5,正常"], encoding="utf-8")
    assert landing_as_of(landing) == date(2024, 11, 18)
    assert landing_as_of(landing, withdrawn={"power_daily_20241118.csv"}) == date(2024, 11, 15)
    first, last = landing_span(landing)
    assert (first.name, last.name) == ("stats_industry_202410.csv", "power_daily_20241118.csv")


# ---------------------------------------------------------------- rows: fields, numbers, keys, text


def test_an_unquoted_thousands_separator_rejects_the_row_naming_line_and_field_count(tmp_path, con):
    landing = tmp_path / "landing"
    rows = [industry_row(make_uscc("450102", f"MA5K{i:04d}")) for i in range(6)]
    rows.append(f"{A},202410,3,577.3,27700,900,8100,10,1316")  # line 8: 9 fields
    write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, *rows])
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.status, outcome.rows_read, outcome.rows_accepted, outcome.rows_rejected) == ("loaded", 7, 6, 1)
    assert rejected(con) == [("stats_industry_202410.csv", 8, "_row", "9 fields",
                              "9 fields where the header has 8: an unquoted comma or a missing separator shifts the "
                              "values, none of them is loaded")]
    assert con.execute("select count(*) from raw.stats_industry where uscc = ?", [A]).fetchone()[0] == 0


def test_a_quoted_thousands_separator_is_a_number(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, f'{A},202410,"3,577.3",9000,900,8100,10,13'])
    [outcome] = ingest_feed(con, landing, "stats")
    assert outcome.rows_accepted == 1
    assert con.execute("select output_month_k_yuan from raw.stats_industry").fetchone() == ("3577.3",)


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("employees_end", "367.4", "not a whole number"),
    ("employees_end", "0x10", "not a whole number"),
    ("employees_end", "1e3", "not a whole number"),
    ("employees_end", "１3", "not a whole number"),
    ("employees_end", "10000000", "out of range: must be below 10,000,000 in absolute value (stored as a 32-bit "
                                  "integer, with room for sums)"),
    ("output_month_k_yuan", "0x10", "not a number"),
    ("output_month_k_yuan", "１000", "not a number"),
    ("output_month_k_yuan", "1e5", "not a number"),
    ("output_month_k_yuan", "12,34", "not a number"),
    ("output_month_k_yuan", "nan", "not a number"),
    ("output_month_k_yuan", "12345678901234", "out of range: must be below 100,000,000,000 in absolute value "
                                              "(stored as DECIMAL(18, 2) after × 1,000, with room for sums)"),
    ("output_month_k_yuan", "1.123456", "more than 5 decimal places: the warehouse keeps 5 (stored as "
                                        "DECIMAL(18, 2) after × 1,000)"),
])
def test_numbers_are_plain_exact_and_fit_the_warehouse(tmp_path, con, field, value, reason):
    landing = tmp_path / "landing"
    row = industry_row(A, output=value) if field == "output_month_k_yuan" else industry_row(A, employees=value)
    write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, industry_row(B), row])
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 1)
    assert rejected(con) == [("stats_industry_202410.csv", 3, field, value, reason)]


def test_a_header_repeated_inside_a_file_is_a_rejected_row_not_data(tmp_path, con):
    """Two deliveries pasted into one file: the second header is a row whose every field fails its
    type, rejected with its line; the rows around it load."""
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, industry_row(A), INDUSTRY_HEADER, industry_row(B)])
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (2, 1)
    assert {(line, field) for _, line, field, _, _ in rejected(con)} >= {(3, "uscc"), (3, "report_month"),
                                                                         (3, "output_month_k_yuan")}
    assert {line for _, line, _, _, _ in rejected(con)} == {3}
    assert con.execute("select uscc from raw.stats_industry order by _line").fetchall() == [(A,), (B,)]


def test_a_nul_byte_in_a_field_rejects_the_row(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "power", "power_daily_20241125.csv", [DAILY_HEADER, "P1,2024-11-20,1,正常", "P2,\x002024-11-21,1,正常"],
          encoding="utf-8")
    [outcome] = ingest_feed(con, landing, "power")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 1)
    assert rejected(con) == [("power_daily_20241125.csv", 3, "reading_date", "\x002024-11-21",
                              "invisible character U+0000 in the value: remove it")]


def test_numbers_at_the_limits_load_exactly(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv", [
        INDUSTRY_HEADER, industry_row(A, output="99,999,999,999.12345", employees="9999999"),
        industry_row(B, output="-0.5", employees="0")])
    [outcome] = ingest_feed(con, landing, "stats")
    assert outcome.rows_rejected == 0
    assert con.execute("select output_month_k_yuan, employees_end from raw.stats_industry order by _line").fetchall() \
        == [("99999999999.12345", "9999999"), ("-0.5", "0")]


@pytest.mark.parametrize(("value", "reason"), [
    ("9999-12-31", "outside 1678-01-01 .. 2261-12-31 (the dates the checks can hold)"),
    ("2024-02-30", "not a date YYYY-MM-DD"),
])
def test_dates_are_real_and_within_what_the_checks_type(tmp_path, con, value, reason):
    landing = tmp_path / "landing"
    write(landing, "power", "power_daily_20241125.csv", [DAILY_HEADER, "P1,2024-11-20,1,正常", f"P2,{value},1,正常"],
          encoding="utf-8")
    [outcome] = ingest_feed(con, landing, "power")
    assert rejected(con) == [("power_daily_20241125.csv", 3, "reading_date", value, reason)]


def test_a_name_longer_than_a_workbook_cell_is_rejected_not_cut(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_enterprise_202410.csv", [
        ENTERPRISE_HEADER, f"{A},{'甲' * 32_767},450102,3411,规上,202001,201901,",
        f"{B},{'乙' * 40_000},450202,3411,临规,,201506,"])
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 1)
    [(name, line, field, value, reason)] = rejected(con)
    assert (line, field, len(value)) == (3, "enterprise_name", 40_000)
    assert reason == "text of 40,000 characters: longer than a workbook cell holds (32,767), it would be cut"
    assert con.execute("select length(enterprise_name) from raw.stats_enterprise").fetchone() == (32_767,)


def test_keys_shared_within_a_file_name_the_lines(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv", [
        INDUSTRY_HEADER,
        industry_row(A, output="1000"),  # line 2
        industry_row(B),                 # line 3
        industry_row(A, output="2000"),  # line 4: A again, other values
        industry_row(B),                 # line 5: B again, the same row
        industry_row(C),                 # line 6
    ])
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.rows_read, outcome.rows_accepted, outcome.rows_rejected) == (5, 2, 3)
    field = "report_month+uscc"
    assert rejected(con) == [
        ("stats_industry_202410.csv", 2, field, f"202410 / {A}",
         "same report_month+uscc as line(s) 4 with other values: which one holds is unknown, none is loaded"),
        ("stats_industry_202410.csv", 4, field, f"202410 / {A}",
         "same report_month+uscc as line(s) 2 with other values: which one holds is unknown, none is loaded"),
        ("stats_industry_202410.csv", 5, field, f"202410 / {B}",
         "repeats line 3 exactly (same report_month+uscc): loaded once, from line 3"),
    ]
    assert con.execute("select uscc, _line from raw.stats_industry order by _line").fetchall() == [(B, 3), (C, 6)]
    header = con.execute("select header from raw._rejected_rows limit 1").fetchone()[0]
    assert header == "报告期+统一社会信用代码"


def test_a_row_rejected_for_a_field_is_not_counted_as_a_repeat(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, industry_row(A, employees="1.5"),
                                                          industry_row(A)])
    ingest_feed(con, landing, "stats")
    assert [r[1:3] for r in rejected(con)] == [(2, "employees_end")]
    assert con.execute("select _line from raw.stats_industry").fetchall() == [(3,)]


# ---------------------------------------------------------------- cut-off files


def test_a_crlf_file_cut_three_bytes_short_is_refused(tmp_path, con):
    landing = tmp_path / "landing"
    path = write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, industry_row(A), industry_row(B)])
    path.write_bytes(path.read_bytes()[:-3])  # "…,13\r\n" -> "…,1": 13 employees would load as 1
    [outcome] = ingest_feed(con, landing, "stats")
    assert outcome.status == "refused"
    assert outcome.message == ("stats/stats_industry_202410.csv: truncated: the last line (line 3) has no line end, "
                               "while the others end with CRLF; the file looks cut off, ask the provider to send it "
                               "again")
    assert con.execute("select count(*) from raw.stats_industry").fetchone() == (0,)


def test_a_stray_quote_that_runs_into_the_next_line_rejects_the_lines_it_joins(tmp_path, con):
    """A project name typed `"十四五”…` (an ASCII quote opening it, a Chinese one closing) ran on to
    the quote in the next line's `"智能化"`: the two lines loaded as one project with the next one's
    figures, the next project gone, nothing rejected (−98.6万 of a tiny budget). The joined record is
    rejected, naming both lines; the lines after it load, and so does a quoted name over two lines
    that closes where it ends."""
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_enterprise_202410.csv", [
        ENTERPRISE_HEADER,
        f'{A},"十四五”甲公司,450102,3411,规上,201001,201001,',
        f'{B},乙公司"智能化"改造,450102,3411,规上,201001,201001,',
        f'{C},"丙公司\n（南宁）",450102,3411,规上,201001,201001,'], eol="\n")
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.status, outcome.rows_accepted, outcome.rows_rejected) == ("loaded", 1, 1)
    assert con.execute("select uscc, enterprise_name from raw.stats_enterprise").fetchall() == [(C, "丙公司\n（南宁）")]
    assert rejected(con) == [("stats_enterprise_202410.csv", 2, "_row", None,
                              "a quote opened on line 2 closes inside a value on line 3: lines 2–3 read as one "
                              "record, none of it is loaded")]


def test_a_crlf_header_over_lf_rows_without_a_last_line_end_loads(tmp_path, con):
    """A file put together by two writers (a CRLF header, LF rows) and no line end after its last,
    complete row: refused as "truncated … while the others end with CRLF", which only the header
    did (M22.new_market 0 on a tiny landing, 2026-12-07). Only a file whose every line ends with
    CRLF is cut off so."""
    landing = tmp_path / "landing"
    rows = [f"D{i},{i},2024-10-0{1 + i},1234567890,{A},8501100000,0110,USA,100.00,710.00" for i in range(3)]
    path = landing / "customs" / "customs_export_202410.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes((CUSTOMS_HEADER + "\r\n" + "\n".join(rows)).encode("utf-8"))
    [outcome] = ingest_feed(con, landing, "customs")
    assert (outcome.status, outcome.rows_accepted) == ("loaded", 3)


def test_a_complete_file_ending_in_a_dos_end_of_file_mark_loads(tmp_path, con):
    """A report written by an old DOS-era tool ends with Ctrl-Z (0x1A) after its last line end: it
    was refused as cut off ("ask the provider to send it again", who would send the same bytes).
    The mark is no data: the file loads, every row."""
    landing = tmp_path / "landing"
    path = write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, industry_row(A), industry_row(B)])
    path.write_bytes(path.read_bytes() + b"\x1a")
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.status, outcome.rows_accepted) == ("loaded", 2)
    assert rejected(con) == []


def test_a_file_padded_with_zero_bytes_is_refused_as_such(tmp_path, con):
    """4,096 NUL bytes after a complete report (a disk's or a transfer's padding) were refused as
    "truncated: the last line has no line end and only 1 of 10 fields": right to refuse, wrong
    to call it cut off."""
    landing = tmp_path / "landing"
    path = write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, industry_row(A)])
    path.write_bytes(path.read_bytes() + bytes(4096))
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.status, outcome.message) == ("refused", (
        "stats/stats_industry_202410.csv: ends in 4,096 zero bytes (NUL), padding left by a disk or a transfer, "
        "not text: ask the provider to send the file again"))


def test_a_file_cut_inside_a_row_is_refused(tmp_path, con):
    landing = tmp_path / "landing"
    rows = [f"D{i},{i},2024-10-0{1 + i % 9},1234567890,{A},8501100000,0110,USA,100.00,710.00" for i in range(10)]
    path = write(landing, "customs", "customs_export_202410.csv", [CUSTOMS_HEADER, *rows], encoding="utf-8", eol="\n")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    [outcome] = ingest_feed(con, landing, "customs")
    assert outcome.status == "refused" and "truncated: the last line (line 7) has no line end and only" in outcome.message


def test_a_complete_lf_file_without_a_final_line_end_loads(tmp_path, con):
    """RFC 4180 allows it, and hand-made files have it: only what a cut file alone looks like is refused."""
    landing = tmp_path / "landing"
    path = landing / "stats" / "stats_industry_202410.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes("\n".join([INDUSTRY_HEADER, industry_row(A), industry_row(B)]).encode("gb18030"))
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.status, outcome.rows_accepted) == ("loaded", 2)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_a_quote_never_closed_refuses_the_file_naming_its_line(tmp_path, con, eol):
    """A stray quote at the start of line 5 of a weekly power file: Python's CSV reader took lines
    5–8 as one value and rejected it as one row of 1 field, so three readings vanished unnamed and
    the budget moved without a failed check (found on a `tiny` landing, 2026-12-06)."""
    landing = tmp_path / "landing"
    rows = [f"P{i},2024-11-1{i},10.5,正常" for i in range(7)]
    rows[3] = '"' + rows[3]
    write(landing, "power", "power_daily_20241118.csv", [DAILY_HEADER, *rows], encoding="utf-8", eol=eol)
    [outcome] = ingest_feed(con, landing, "power")
    assert outcome.status == "refused"
    assert outcome.message == ("power/power_daily_20241118.csv: line 5: a quote opened there is never closed, so lines 5–8 "
                               "would be read as one value; ask the provider to send it again")
    assert con.execute("select count(*) from raw.power_daily").fetchone()[0] == 0


def test_a_quoted_value_over_several_lines_at_the_end_of_a_file_loads(tmp_path, con):
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_enterprise_202410.csv",
          [ENTERPRISE_HEADER, f'{A},"甲公司\n（南宁）",450102,3411,规上,201001,201001,'], eol="\n")
    [outcome] = ingest_feed(con, landing, "stats")
    assert (outcome.status, outcome.rows_accepted) == ("loaded", 1)
    assert con.execute("select enterprise_name from raw.stats_enterprise").fetchone() == ("甲公司\n（南宁）",)


INVISIBLE_REASON = "invisible character {code} in a key: it would match no other row, remove it"
LOOKALIKE_REASON = ("look-alike character {char} ({code}) in a key: it reads as an ASCII character and would match "
                    "no other row, type the ASCII one")


@pytest.mark.parametrize(("char", "code", "reason"), [
    ("\ufeff", "U+FEFF", INVISIBLE_REASON), ("\u200b", "U+200B", INVISIBLE_REASON), ("\x00", "U+0000", INVISIBLE_REASON),
    ("\u2013", "U+2013", LOOKALIKE_REASON), ("\uff0d", "U+FF0D", LOOKALIKE_REASON), ("\uff11", "U+FF11", LOOKALIKE_REASON),
    # a Japanese input method's dash and a box-drawing line passed as hyphens in a project code (+1,160万)
    ("\u30fc", "U+30FC", LOOKALIKE_REASON), ("\u2500", "U+2500", LOOKALIKE_REASON),
])
def test_an_invisible_or_look_alike_character_in_a_key_rejects_the_row(tmp_path, con, char, code, reason):
    """A byte-order mark, a zero-width space or a NUL in a power account looks like the account on
    every screen and matches no account: loaded, its readings went to no enterprise (M24 −3.6万 on a
    `tiny` landing, no check failed). So does an en dash, a full-width hyphen or a full-width digit:
    a project code typed with en dashes read as a new project, paid its whole quarter as increment
    (+528万 of a `tiny` budget). The row is rejected, naming the character. In a name it is kept as
    delivered."""
    landing = tmp_path / "landing"
    rows = ["P1,2024-11-11,10.5,正常", f"P{char}2,2024-11-11,20.5,正常"]
    write(landing, "power", "power_daily_20241118.csv", [DAILY_HEADER, *rows], encoding="utf-8", eol="\n")
    [outcome] = ingest_feed(con, landing, "power")
    assert (outcome.status, outcome.rows_accepted, outcome.rows_rejected) == ("loaded", 1, 1)
    assert rejected(con) == [("power_daily_20241118.csv", 3, "account_no", f"P{char}2",
                              reason.format(char=char, code=code))]
    write(landing, "stats", "stats_enterprise_202410.csv",
          [ENTERPRISE_HEADER, f"{A},甲公司{char},450102,3411,规上,201001,201001,"], eol="\n")
    [named] = ingest_feed(con, landing, "stats")
    assert (named.status, named.rows_accepted) == ("loaded", 1)


SPACE_REASON = "a space or line break inside a key: it would match no other row, remove it"
GUARD_REASON = "Excel's text guard (=\"…\") or a quote around a key: it would match no other row, send the code alone"
SPECIAL_SPACE_REASON = ("a special space {code} in a key (it looks like a plain space or none): it would match no "
                        "other row, type a plain space or none")


@pytest.mark.parametrize(("delivered", "value", "reason"), [
    ("P 2", "P 2", SPACE_REASON), ("P\t2", "P\t2", SPACE_REASON), ('"P\n2"', "P\n2", SPACE_REASON),
    ('"=""P2"""', '="P2"', GUARD_REASON), ('"""P2"""', '"P2"', GUARD_REASON),
    ("P\u00a02", "P\u00a02", SPECIAL_SPACE_REASON.format(code="U+00A0")),  # a no-break space: +1,160万 as a project
    ("P\u20092", "P\u20092", SPECIAL_SPACE_REASON.format(code="U+2009")),  # a thin space: an account's week lost
])
def test_a_space_a_line_break_or_excels_text_guard_in_a_code_rejects_the_row(tmp_path, con, delivered, value, reason):
    """A project code wrapped in its cell (a line break inside) or typed with a space, and a power
    account written with Excel's text guard `="0658902252"`, look like the code and match nothing:
    the project was paid its whole quarter as a new one (+518万 of a tiny budget), the account's
    readings went to no enterprise (−22万). The row is rejected, saying why."""
    landing = tmp_path / "landing"
    write(landing, "power", "power_daily_20241118.csv",
          [DAILY_HEADER, "P1,2024-11-11,10.5,正常", f"{delivered},2024-11-11,20.5,正常"], encoding="utf-8", eol="\n")
    [outcome] = ingest_feed(con, landing, "power")
    assert (outcome.status, outcome.rows_accepted, outcome.rows_rejected) == ("loaded", 1, 1)
    assert rejected(con) == [("power_daily_20241118.csv", 3, "account_no", value, reason)]


@pytest.mark.parametrize(("delivered", "reason"), [
    ("\ufeff2024-11-11", "invisible character U+FEFF in the value: remove it"),
    ("45607", "a number (45607), not a date: an Excel date serial? format the cell as a date or type YYYY-MM-DD"),
    ("2024/11/11", "not a date YYYY-MM-DD"),
])
def test_a_date_that_is_no_date_says_what_it_is(tmp_path, con, delivered, reason):
    """A byte-order mark before a date and a date's serial number (a cell formatted as a number)
    were rejected as "not a date", which sent the clerk looking at a date that looks right."""
    landing = tmp_path / "landing"
    write(landing, "power", "power_daily_20241118.csv",
          [DAILY_HEADER, "P1,2024-11-11,10.5,正常", f"P2,{delivered},20.5,正常"], encoding="utf-8", eol="\n")
    ingest_feed(con, landing, "power")
    assert rejected(con) == [("power_daily_20241118.csv", 3, "reading_date", delivered, reason)]


def test_a_name_in_a_key_keeps_its_full_width_brackets_and_dashes(tmp_path, con):
    """A buyer, a bank or a recognised park is named in Chinese text, where full-width brackets and
    dashes are the right characters: part of a key, a name is no code, and its row loads (the
    look-alike check first rejected the supply link of `+86智联电子（南宁）有限公司` and the park
    `崇左中国—东盟青年产业园` of the generator's clean registers)."""
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_supply_links.xlsx").write_bytes(
        _links_workbook(("+86智联电子（南宁）有限公司", "崇左中国—东盟青年产业园")))
    [outcome] = ingest_feed(con, landing, "registers")
    assert (outcome.status, outcome.rows_accepted, outcome.rows_rejected) == ("loaded", 2, 0)


def test_a_special_space_in_a_name_that_is_part_of_a_key_rejects_the_row(tmp_path, con):
    """A buyer the supplier had supplied in September, keyed again in Q4 with a no-break space in
    its name, read as a new buyer: a repeat counted as a first supply (M08 +20万, 2026-12-07), where
    the name typed exactly is caught as a key conflict. The row is rejected naming the space; a
    plain space inside a name is kept."""
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_supply_links.xlsx").write_bytes(
        _links_workbook(("北海华宇光电\u00a0科技有限公司", "北海华宇光电 科技有限公司")))
    [outcome] = ingest_feed(con, landing, "registers")
    assert (outcome.status, outcome.rows_accepted, outcome.rows_rejected) == ("loaded", 1, 1)
    assert rejected(con) == [("registers_supply_links.xlsx", 2, "buyer_name", "北海华宇光电\u00a0科技有限公司",
                              SPECIAL_SPACE_REASON.format(code="U+00A0"))]


def test_the_look_alike_pattern_and_its_ascii_map_name_one_set_of_characters():
    """`spec.LOOKALIKE` (RE2, in DuckDB: the key check) and `spec.LOOKALIKE_ASCII` (what the
    rejected-rows check reads a rejected key as) name the same characters; ASCII, CJK text and
    the invisible characters are not among them."""
    from dagster_project.lib.ingest.spec import LOOKALIKE, LOOKALIKE_ASCII

    chars = [chr(i) for i in range(0x10000) if not 0xD800 <= i < 0xE000]
    matched = duckdb.connect().execute(f"select list(c) from (select unnest(?) as c) where regexp_matches(c, '{LOOKALIKE}')",
                                       [chars]).fetchone()[0]
    assert set(matched) == set(LOOKALIKE_ASCII)
    assert all(ch.isascii() and len(ch) == 1 for ch in LOOKALIKE_ASCII.values())


# ---------------------------------------------------------------- the landing dir


def test_only_regular_files_in_feed_folders_are_read_the_rest_is_reported(tmp_path, con):
    landing = tmp_path / "landing"
    good = write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, industry_row(A)])
    outside = tmp_path / "outside.csv"
    outside.write_bytes(good.read_bytes().replace(b"202410", b"202409"))
    stats = landing / "stats"
    os.symlink(outside, stats / "stats_industry_202409.csv")          # a link to a file outside the landing dir
    os.symlink("/etc/passwd", stats / "stats_industry_202408.csv")     # a link to a system file
    os.symlink(tmp_path / "nowhere", stats / "stats_industry_202407.csv")  # a dangling link
    os.mkfifo(stats / "stats_industry_202406.csv")                     # a FIFO: opening it would block
    (stats / ".stats_industry_202405.csv").write_bytes(good.read_bytes())
    (stats / "archive").mkdir()
    (stats / "archive" / "stats_industry_202404.csv").write_bytes(good.read_bytes())
    (landing / "notes.txt").write_text("secret note\n")
    (landing / "stat").mkdir()
    (landing / "stat" / "stats_industry_202403.csv").write_bytes(good.read_bytes())

    outcomes = ingest_feed(con, landing, "stats") + record_landing_root(con, landing)
    got = {(o.status, o.file_name): o.message for o in outcomes}
    link = "(not read: a delivery is a regular file in the landing dir, a link may point anywhere)"
    assert got == {
        ("loaded", "stats_industry_202410.csv"): "",
        ("not read", "stats/.stats_industry_202405.csv"): "hidden file (not read: a name starting with '.' is no delivery)",
        ("not read", "stats/archive/"): "folder inside stats/ (not read: deliveries sit directly in stats/)",
        ("not read", "stats/stats_industry_202406.csv"): "FIFO (named pipe) (not read: only regular files are deliveries)",
        ("not read", "stats/stats_industry_202407.csv"): f"symbolic link pointing nowhere {link}",
        ("not read", "stats/stats_industry_202408.csv"): f"symbolic link {link}",
        ("not read", "stats/stats_industry_202409.csv"): f"symbolic link {link}",
        ("not read", "notes.txt"): "file at the landing root (not read: deliveries go in <landing>/<feed>/, feeds "
                                   "stats, power, tax, customs, registers)",
        ("not read", "stat/"): "unknown folder (not read: the feed folders are stats, power, tax, customs, registers)",
    }
    assert con.execute("select distinct _file from raw.stats_industry").fetchall() == [("stats_industry_202410.csv",)]
    stored = con.execute("select string_agg(reason, ' ') || string_agg(file_name, ' ') from raw._file_refusals").fetchone()[0]
    assert "root:" not in stored and "secret" not in stored  # nothing of what was not read is stored
    assert con.execute("select count(*) from raw._file_refusals where sha256 <> ''").fetchone() == (0,)


def test_registers_and_weekly_datasets_never_delivered_are_named_for_汇总(tmp_path, con):
    """A landing without its registers folder: the 两高 list excluded no one from M24 (a 两高
    enterprise paid 245.55万, its reason "两高名单 不在 ✓") and every register scheme read 0, with
    nothing on 汇总 (2026-12-07). The registers and weekly datasets with no delivery in use by the
    as-of date are named; monthly ones are named month by month elsewhere."""
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, industry_row(A)])
    ingest_feed(con, landing, "stats")
    everything = ("power_accounts（周报）、power_daily（周报）、registers_recognitions（登记表）、registers_loans（登记表）、"
                  "registers_applications（登记表）、registers_two_high（登记表）、registers_supply_links（登记表）")
    assert data.undelivered_datasets(con, date(2024, 11, 25)) == f"7 个数据集：{everything}"
    (landing / "registers").mkdir()
    (landing / "registers" / "registers_supply_links.xlsx").write_bytes(_links_workbook())
    ingest_feed(con, landing, "registers")
    assert "registers_supply_links" not in data.undelivered_datasets(con, date(2024, 11, 25))
    assert data.undelivered_datasets(con, date(2024, 11, 25)).startswith("6 个数据集：")


def test_days_without_any_power_reading_are_named_for_汇总(con):
    """A weekly power file not delivered between two that were: its days counted as no consumption
    (M02.growth 523万 → 98万, M24 111万 → 14万 of a `tiny` budget) with a warning on 数据质量 only
    (2026-12-07). The days since the base quarter on which most accounts have no reading are named,
    as ranges (the next file's re-reads leave one or two accounts on them); none when every day has
    most of them."""
    con.execute("create schema if not exists staging")
    con.execute("""create table staging.stg_power__daily as
                   select 'P' || a as account_no, cast(d as date) as reading_date
                   from range(10) t(a), generate_series(date '2023-09-25', date '2024-11-24', interval 1 day) g(d)
                   where not (d between date '2024-11-11' and date '2024-11-17' and a > 0 or d = date '2024-02-01')""")
    assert data.missing_power_days(con, date(2023, 10, 1)) == "8 天：2024-02-01、2024-11-11 至 2024-11-17"
    con.execute("""insert into staging.stg_power__daily select 'P' || a, cast(d as date)
                   from range(1, 5) t(a), generate_series(date '2024-11-11', date '2024-11-17', interval 1 day) g(d)
                   union all select 'P' || a, date '2024-02-01' from range(10) t(a)""")
    assert data.missing_power_days(con, date(2023, 10, 1)) is None  # 5 of 10 accounts: half, not most, missing


def test_an_accounts_days_without_a_row_are_named_for_汇总(con):
    """One account's rows left out of a weekly power file: its days counted as no consumption for
    its holder's Q4 and M24, with nothing said (issue 15 had left it: "an account may stop"). An
    account that stops has no later reading; one with days without any row between its first and
    last reading is named with its holder and the days, most days first. The days most accounts
    lack are `missing_power_days`' and are not named again; an account that stopped is not named."""
    con.execute("create schema if not exists staging")
    con.execute("create schema if not exists marts")
    con.execute("""create table staging.stg_power__daily as
                   select 'P' || a as account_no, cast(d as date) as reading_date
                   from range(10) t(a), generate_series(date '2023-09-25', date '2024-11-24', interval 1 day) g(d)
                   where not (d between date '2024-11-11' and date '2024-11-17' and a > 0)
                     and not (a = 3 and d between date '2024-10-14' and date '2024-10-20')
                     and not (a = 4 and d in (date '2024-03-05', date '2024-03-09'))
                     and not (a = 5 and d > date '2024-06-30')""")
    assert data.accounts_with_days_without_a_row(con, date(2023, 10, 1)) == (
        "2 户：户号 P3 缺 7 天（2024-10-14 至 2024-10-20）；户号 P4 缺 2 天（2024-03-05、2024-03-09）")
    con.execute("create table staging.stg_power__accounts as select * from (values ('P3', 'U3'), ('P4', null)) t(account_no, uscc)")
    con.execute("create table marts.dim_enterprise as select 'U3' as uscc, '丙厂' as enterprise_name")
    assert data.accounts_with_days_without_a_row(con, date(2023, 10, 1)) == (
        "2 户：户号 P3（U3，丙厂）缺 7 天（2024-10-14 至 2024-10-20）；户号 P4（持有企业未知）缺 2 天（2024-03-05、2024-03-09）")
    assert data.accounts_with_days_without_a_row(con, date(2024, 4, 1)) == (
        "1 户：户号 P3（U3，丙厂）缺 7 天（2024-10-14 至 2024-10-20）")  # P4's days before `since`
    con.execute("""insert into staging.stg_power__daily select 'P3', cast(d as date)
                   from generate_series(date '2024-10-14', date '2024-10-20', interval 1 day) g(d)""")  # re-read
    assert data.accounts_with_days_without_a_row(con, date(2024, 4, 1)) is None


def test_an_unfinished_project_gone_from_the_latest_library_is_named_for_汇总(con):
    """One unfinished project left out of October's library: its Q4 counted as nothing invested,
    −18.5% of a `tiny` budget with nothing said (2026-12-07). The projects of the month before, not
    completed and investing, that the latest library does not list are named; a completed one, one
    not investing, and those still listed are not."""
    con.execute("create schema if not exists staging")
    con.execute("""create table staging.stg_stats__projects as select * from (values
                       (date '2024-09-01', 'P1', '甲项目', null, 100.0), (date '2024-09-01', 'P2', '乙项目', null, 100.0),
                       (date '2024-09-01', 'P3', '丙项目', date '2024-09-01', 100.0),
                       (date '2024-09-01', 'P4', '丁项目', null, 0.0),
                       (date '2024-10-01', 'P2', '乙项目', null, 100.0))
                   t(report_month, project_code, project_name, completion_month, investment_yuan)""")
    assert data.projects_gone_from_the_library(con) == "1 行：项目 P1（甲项目）"
    con.execute("insert into staging.stg_stats__projects values (date '2024-10-01', 'P1', '甲项目', null, 50.0)")
    assert data.projects_gone_from_the_library(con) is None


def test_an_enterprise_missing_from_the_latest_report_is_named_for_汇总(con):
    """The largest enterprise left out of October's report: forecast as late, 283万 of M02.growth
    and M24 of a `tiny` budget moved with a warning on 数据质量 only (2026-12-07). The enterprises of
    the month-before report that the latest does not list and that have not left (退库) are named,
    largest first; one that left, and those still reporting, are not."""
    con.execute("create schema if not exists staging")
    con.execute("create schema if not exists marts")
    con.execute("""create table staging.stg_stats__industry as select * from (values
                       ('A', date '2024-09-01', 1234565.0), ('B', date '2024-09-01', 5000000.0),
                       ('C', date '2024-09-01', 9000000.0), ('D', date '2024-09-01', 100.0),
                       ('D', date '2024-10-01', 100.0))
                   t(uscc, report_month, output_month_yuan)""")
    con.execute("""create table marts.dim_enterprise as select * from (values
                       ('A', '甲厂', null), ('B', '乙厂', date '2024-12-01'), ('C', '丙厂', date '2024-10-01'),
                       ('D', '丁厂', null))
                   t(uscc, enterprise_name, above_size_exit)""")
    assert data.enterprises_missing_from_the_latest_report(con) == (
        "2 行：企业 B（乙厂，2024年9月产值 500.00万元）；企业 A（甲厂，2024年9月产值 123.46万元）")
    con.execute("insert into staging.stg_stats__industry values ('A', date '2024-10-01', 1.0), ('B', date '2024-10-01', 1.0)")
    assert data.enterprises_missing_from_the_latest_report(con) is None


def test_the_refusals_still_in_the_landing_dir_are_named_for_汇总(tmp_path, con):
    """A loans register named .XLSX was refused and M23 lost its loans with the refusal only on
    数据质量: 汇总 names the files the latest look at their folder refused or did not read, not the
    ones since removed, nor hidden files or Excel's lock files (~$…, there while a register is open)."""
    landing = tmp_path / "landing"
    write(landing, "stats", "stats_industry_202410.csv", [INDUSTRY_HEADER, industry_row(A)])
    upper = write(landing, "stats", "stats_industry_202409.CSV", [INDUSTRY_HEADER, industry_row(A)])
    spaced = write(landing, "stats", "stats_enterprise_202410.csv ", [ENTERPRISE_HEADER])  # the space named
    write(landing, "stats", ".stats_industry_202408.csv", [INDUSTRY_HEADER])
    write(landing, "stats", "~$stats_industry_202407.csv", [INDUSTRY_HEADER])
    (landing / "stats" / "archive").mkdir()
    ingest_feed(con, landing, "stats")
    record_landing_root(con, landing)
    assert data.refused_files(con) == (
        "3 个文件：stats/archive/：stats/ 下的子文件夹（未读取：交付文件直接放在 stats/ 中）；stats/stats_enterprise_202410.csv<U+0020>："
        "文件名不符合 <数据源>_<数据集>_<期别>[_v<N>].<扩展名> 的格式（小写英文字母、半角数字）；stats/stats_industry_202409.CSV："
        "文件名不符合 <数据源>_<数据集>_<期别>[_v<N>].<扩展名> 的格式（小写英文字母、半角数字）")
    upper.unlink()
    spaced.unlink()
    (landing / "stats" / "archive").rmdir()
    ingest_feed(con, landing, "stats")
    assert data.refused_files(con) is None  # kept in raw._file_refusals, no longer in the landing dir


def test_a_file_that_is_no_delivery_of_its_dataset_is_refused_without_echoing_it(tmp_path, con):
    landing = tmp_path / "landing"
    path = landing / "stats" / "stats_industry_202410.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1\n")
    [outcome] = ingest_feed(con, landing, "stats")
    assert outcome.message == ("stats/stats_industry_202410.csv: none of the stats_industry headers in its first "
                               "line: not a stats_industry file")


def test_a_register_cell_right_of_the_header_is_kept_as_an_extra_column(tmp_path, con):
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("两高名单")
    ws.write_row(0, 0, ["统一社会信用代码", "工序或产品"])
    ws.write_row(1, 0, [A, "水泥熟料", None, "备注：待核实"])
    wb.close()
    path = tmp_path / "landing" / "registers" / "registers_two_high.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(buffer.getvalue())
    [outcome] = ingest_feed(con, tmp_path / "landing", "registers")
    assert (outcome.rows_accepted, outcome.extra_columns) == (1, ["(column 4)"])
    assert con.execute("select _extra from raw.registers_two_high").fetchone() == ('{"(column 4)": "备注：待核实"}',)


def test_every_listed_header_is_required_also_where_its_values_may_be_blank(tmp_path, con):
    """用电量_千瓦时 may be blank (a reading flagged 缺失), but a file whose header misspells it (a
    full-width underscore) is refused, naming the column missing and the one not known: loaded,
    every reading of the file was blank, and the budget fell by 7% with a warning only."""
    landing = tmp_path / "landing"
    write(landing, "power", "power_daily_20241125.csv",
          ["用电户号,日期,用电量＿千瓦时,数据标志", "A1,2024-11-18,120.5,正常"], "utf-8")
    [outcome] = ingest_feed(con, landing, "power")
    assert outcome.status == "refused"
    assert outcome.message.endswith("missing required column(s) 用电量_千瓦时; unknown column(s) 用电量＿千瓦时")
    assert con.execute("select count(*) from raw.power_daily").fetchone() == (0,)


def test_a_workbook_renamed_csv_is_refused_as_what_it_is(tmp_path, con):
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    wb.add_worksheet().write_row(0, 0, CUSTOMS_HEADER.split(","))
    wb.close()
    path = tmp_path / "landing" / "customs" / "customs_export_202410.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(buffer.getvalue())
    [outcome] = ingest_feed(con, tmp_path / "landing", "customs")
    assert outcome.message == ("customs/customs_export_202410.csv: a zip archive (an .xlsx workbook renamed .csv?), "
                               "not comma-separated text: ask the provider for the CSV file")


def test_a_header_with_an_invisible_character_is_named_with_it_shown(tmp_path, con):
    """用电量_千瓦时 followed by a zero-width space: named missing and unknown, in two words that
    looked the same."""
    landing = tmp_path / "landing"
    header = DAILY_HEADER.replace("用电量_千瓦时", "用电量_千瓦时\u200b")
    write(landing, "power", "power_daily_20241118.csv", [header, "P1,2024-11-17,10.5,正常"], encoding="utf-8")
    [outcome] = ingest_feed(con, landing, "power")
    assert (outcome.status, outcome.message) == (
        "refused", "power/power_daily_20241118.csv: missing required column(s) 用电量_千瓦时; "
                   "unknown column(s) 用电量_千瓦时<U+200B>")


def test_a_gzip_compressed_csv_is_refused_as_compressed(tmp_path, con):
    """Refused before, as "line 1: bytes not valid UTF-8", and operations.md then said to transcode."""
    import gzip

    path = tmp_path / "landing" / "customs" / "customs_export_202410.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress((CUSTOMS_HEADER + "\n").encode("utf-8")))
    [outcome] = ingest_feed(con, tmp_path / "landing", "customs")
    assert (outcome.status, outcome.message) == (
        "refused", "customs/customs_export_202410.csv: gzip-compressed, not comma-separated text: ask the provider for "
                   "the uncompressed CSV file")



def test_workbook_cells_that_do_not_hold_what_they_show_reject_their_row(tmp_path, con):
    """A formula's cached Excel error (#N/A would load as a product name and the loan drop out of
    M23), a percentage cell (3.45% holds 0.0345: a subsidy a hundred times too small) and a formula
    without a saved result (an optional amount would load blank) each reject their row, naming the
    cell's row and field; so does a USCC typed into a number cell (Excel keeps 15 of its 18
    digits: named as the number cell, not as a wrong check character). A per cent sign that is a literal of the format (`0.00"%"` shows 3.26 as
    3.26%) is no percentage cell: the row loads as delivered."""
    from openpyxl import load_workbook

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("桂惠贷")
    ws.write_row(0, 0, ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"])
    ws.write_row(1, 0, [A, "广西农信", "工业流动资金贷", "2024-10-08", "2025-10-07", 500, 3.45])
    ws.write_row(2, 0, [B, "桂林银行", None, "2024-10-09", "2025-10-08", 800, 1.85])
    ws.write_formula(2, 2, "=VLOOKUP(A3,产品表!A:B,2,0)", None, "#N/A")
    ws.write_row(3, 0, [C, "柳州银行", "工业流动资金贷", "2024-10-10", "2025-10-09", 300])
    ws.write_number(3, 6, 0.0345, wb.add_format({"num_format": "0.00%"}))
    ws.write_row(4, 0, [A, "北部湾银行", "工业流动资金贷", "2024-10-11", "2025-10-10", 200])
    ws.write_number(4, 6, 3.26, wb.add_format({"num_format": '0.00"%"'}))
    ws.write_row(5, 0, [914505211234567893, "广西农信", "工业流动资金贷", "2024-10-12", "2025-10-11", 100, 3.1])
    wb.close()
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_loans.xlsx").write_bytes(buffer.getvalue())

    links = load_workbook(io.BytesIO(_links_workbook()))
    links["首次供需"]["D3"] = "=128.4*2"  # openpyxl writes the formula, not its result
    saved = io.BytesIO()
    links.save(saved)
    (landing / "registers" / "registers_supply_links.xlsx").write_bytes(saved.getvalue())

    ingest_feed(con, landing, "registers")
    assert con.execute("select uscc, annual_rate_pct from raw.registers_loans order by _line").fetchall() == [
        (A, "3.45"), (A, "3.26")]
    assert con.execute("select count(*) from raw.registers_supply_links").fetchone() == (1,)
    assert rejected(con) == [  # by line, then field
        ("registers_supply_links.xlsx", 3, "contract_10k_yuan", None,
         "a formula without a saved result (=128.4*2): open the workbook in Excel or LibreOffice and save it, so "
         "that the result is stored"),
        ("registers_loans.xlsx", 3, "product", "#N/A", "the cell holds the Excel error #N/A"),
        ("registers_loans.xlsx", 4, "annual_rate_pct", "0.0345",
         "a percentage cell: it shows 3.45% and holds 0.0345; enter the number of per cent (3.45) in a plain "
         "number cell"),
        ("registers_loans.xlsx", 6, "uscc", "914505211234568000",
         "a number cell (914505211234568000): Excel keeps only 15 digits of a number, so the code is not what was "
         "typed; type it into a text cell (文本 format, or a ' before it)"),
    ]


def test_a_register_whose_sheet_misstates_its_own_size_is_read_to_its_last_row(tmp_path, con):
    """A program left the loans sheet's `<dimension>` at A1:G3 over five rows (Excel and LibreOffice
    show all five): openpyxl's read-only mode stopped at row 3, and two loans were lost with nothing
    said (M23 264万 → 50万 on a tiny landing, 2026-12-07). Read to the last row."""
    import re
    import zipfile

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("桂惠贷")
    ws.write_row(0, 0, ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"])
    for i, uscc in enumerate((A, B, C, A)):
        ws.write_row(i + 1, 0, [uscc, "广西农信", "工业流动资金贷", f"2024-10-1{i}", f"2025-10-1{i}", 100 + i, 3.1])
    wb.close()
    stale = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(stale, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, found = re.subn(rb'<dimension ref="[^"]+"/>', b'<dimension ref="A1:G3"/>', data)
                assert found == 1
            dst.writestr(item, data)
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_loans.xlsx").write_bytes(stale.getvalue())
    ingest_feed(con, landing, "registers")
    assert con.execute("select principal_10k_yuan from raw.registers_loans order by _line").fetchall() == [
        ("100",), ("101",), ("102",), ("103",)]
    assert rejected(con) == []


HIDDEN_REASON = "a hidden row: the register shows it to no one who opens it; unhide it if it is a record, delete it if not"
FILTERED_REASON = ("a row hidden by the sheet's filter: the register was saved filtered; clear the filter so that every "
                   "record shows, and send it again")


@pytest.mark.parametrize(("filtered", "reason"), [(False, HIDDEN_REASON), (True, FILTERED_REASON)])
def test_a_hidden_register_row_is_rejected_saying_what_hid_it(tmp_path, con, filtered, reason):
    """A loan the clerk hid in the sheet loaded with nothing said, while a hidden sheet is refused:
    what the register shows is not what loaded. The hidden row is rejected, saying so; the rows
    shown load. A sheet saved with a filter on 贷款银行 hides the other banks' rows: rejected as "a
    hidden row", the clerk looked for rows no one had hidden (M23 233.8万 → 54.8万 on a `tiny`
    landing, 2026-12-07): the reason names the filter."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("桂惠贷")
    ws.write_row(0, 0, ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"])
    for i, (uscc, bank) in enumerate(((A, "桂林银行"), (B, "广西农信"), (C, "桂林银行"))):
        ws.write_row(i + 1, 0, [uscc, bank, "工业流动资金贷", f"2024-10-1{i}", f"2025-10-1{i}", 100 + i, 3.1])
    if filtered:
        ws.autofilter(0, 0, 3, 6)
        ws.filter_column(1, "x == 桂林银行")
    ws.set_row(2, None, None, {"hidden": True})  # a filter leaves hiding the rows to the writer, as Excel does
    wb.close()
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_loans.xlsx").write_bytes(buffer.getvalue())
    ingest_feed(con, landing, "registers")
    assert con.execute("select uscc from raw.registers_loans order by _line").fetchall() == [(A,), (C,)]
    assert rejected(con) == [("registers_loans.xlsx", 3, "_row", None, reason)]


def test_a_struck_through_register_row_is_rejected_as_voided(tmp_path, con):
    """A clerk voids a loan by striking its row through (作废): it loaded as a record, paid as any
    other (issue 15 had left it: FEEDS.md is silent). A row whose every value is struck through is
    rejected as voided; a struck-through value in a row of plain ones is rejected with its field
    (which value is in force the sheet does not say); plain rows and a struck-through blank load."""
    from dagster_project.lib.ingest.readers import STRUCK_CELL_REASON, STRUCK_ROW_REASON

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("桂惠贷")
    struck = wb.add_format({"font_strikeout": True})
    ws.write_row(0, 0, ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"])
    ws.write_row(1, 0, [A, "广西农信", "工业流动资金贷", "2024-10-08", "2025-10-07", 500, 3.45])
    ws.write_row(2, 0, [B, "桂林银行", "工业流动资金贷", "2024-10-09", "2025-10-08", 800, 1.85], struck)
    ws.write_row(3, 0, [C, "桂林银行", "工业流动资金贷", "2024-10-10", "2025-10-09"])
    ws.write_number(3, 5, 300, struck)
    ws.write_number(3, 6, 2.1)
    ws.write_row(4, 0, [A, "桂林银行", "工业流动资金贷", "2024-10-11", "2025-10-10", 200, 2.2])
    ws.write_blank(4, 7, None, struck)
    wb.close()
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_loans.xlsx").write_bytes(buffer.getvalue())
    ingest_feed(con, landing, "registers")
    assert con.execute("select uscc, principal_10k_yuan from raw.registers_loans order by _line").fetchall() == [
        (A, "500"), (A, "200")]
    assert rejected(con) == [("registers_loans.xlsx", 3, "_row", None, STRUCK_ROW_REASON),
                             ("registers_loans.xlsx", 4, "principal_10k_yuan", "300", STRUCK_CELL_REASON)]


def test_a_totals_row_at_the_foot_of_a_sheet_is_rejected_as_what_it_is(tmp_path, con):
    """A clerk's 合计 row under a register, or a provider's under a monthly report, is the sum of
    the rows above: rejected once, as a totals row (not as an invalid USCC with a missing date and
    bank, which named it on 汇总 as a record the rules lost), with its label as the value; the
    records above it load as delivered."""
    from dagster_project.lib.ingest.spec import TOTALS_REASON

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("桂惠贷")
    ws.write_row(0, 0, ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"])
    ws.write_row(1, 0, [A, "广西农信", "工业流动资金贷", "2024-10-08", "2025-10-07", 500, 3.45])
    ws.write_row(2, 0, [B, "桂林银行", "工业流动资金贷", "2024-10-09", "2025-10-08", 800, 1.85])
    ws.write_row(3, 0, ["合 计：", None, None, None, None, 1300])
    ws.write_row(4, 0, ["汇总", None, None, None, None, 1300])  # Chinese Excel's label of a table's total row
    wb.close()
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_loans.xlsx").write_bytes(buffer.getvalue())
    write(landing, "stats", "stats_industry_202410.csv",
          [INDUSTRY_HEADER, industry_row(A), industry_row(B), ",小计,2000,18000,1800,16200,20,26"])
    ingest_feed(con, landing, "registers")
    ingest_feed(con, landing, "stats")
    assert con.execute("select count(*) from raw.registers_loans").fetchone() == (2,)
    assert con.execute("select count(*) from raw.stats_industry").fetchone() == (2,)
    assert rejected(con) == [("registers_loans.xlsx", 4, "_row", "合 计：", TOTALS_REASON),
                             ("stats_industry_202410.csv", 4, "_row", "小计", TOTALS_REASON),
                             ("registers_loans.xlsx", 5, "_row", "汇总", TOTALS_REASON)]


def test_a_register_workbook_is_found_by_its_sheet_trimmed_and_what_is_no_workbook_is_named(tmp_path, con):
    """A sheet named '桂惠贷 ' (a space after it) is the register's sheet, as a header is its name
    trimmed: refused as "sheet '桂惠贷' not found (sheets: 桂惠贷 )", the two names looked the same,
    and a `_v2` correcting a 20,000万 loan to 2,000万 was not in force (+110万 of M23). An old
    Excel 97-2003 file or a CSV named .xlsx is named as what it is, not as a BadZipFile; a workbook
    without the sheet lists its sheets quoted."""
    def workbook(sheet: str) -> bytes:
        buffer = io.BytesIO()
        wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
        ws = wb.add_worksheet(sheet)
        ws.write_row(0, 0, ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"])
        ws.write_row(1, 0, [A, "广西农信", "工业流动资金贷", "2024-10-08", "2025-10-07", 500, 3.45])
        wb.close()
        return buffer.getvalue()

    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_loans.xlsx").write_bytes(workbook("桂惠贷 "))
    (landing / "registers" / "registers_applications.xlsx").write_bytes(OLE2_SIGNATURE + bytes(504))
    (landing / "registers" / "registers_supply_links.xlsx").write_text("统一社会信用代码,采购方名称\n", encoding="utf-8")
    (landing / "registers" / "registers_two_high.xlsx").write_bytes(workbook("说明"))
    outcomes = {o.file_name: o for o in ingest_feed(con, landing, "registers")}
    assert outcomes["registers_loans.xlsx"].status == "loaded"
    assert con.execute("select uscc from raw.registers_loans").fetchall() == [(A,)]
    assert outcomes["registers_applications.xlsx"].message == (
        "registers/registers_applications.xlsx: an Excel 97-2003 workbook (.xls) named .xlsx: save it as an Excel "
        "workbook (.xlsx) and send it again")
    assert outcomes["registers_supply_links.xlsx"].message.endswith(
        "; its bytes are no zip archive (a CSV or text file named .xlsx?)")
    assert outcomes["registers_two_high.xlsx"].message.endswith("not found (sheets: '说明')")


def _links_workbook(buyers: tuple[str, str] = ("南宁整机厂", "柳州整机厂")) -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("首次供需")
    ws.write_row(0, 0, ["统一社会信用代码", "采购方名称", "首次供货日期", "合同金额_万元"])
    ws.write_row(1, 0, [A, buyers[0], "2024-10-08", 100])
    ws.write_row(2, 0, [B, buyers[1], "2024-10-09", 200])
    wb.close()
    return buffer.getvalue()


def test_a_double_as_excel_shows_it_and_a_hidden_register_sheet_is_refused(tmp_path, con):
    """A rate that a formula left as 3.6500000000000004 is the 3.65 the sheet shows (Excel's 15
    significant digits; taken whole, its row was rejected for more than 4 decimals and the loan lost
    its M23 award). A register whose named sheet is hidden, the current list kept on a visible copy
    (申报 (2)), is refused naming both: read, the hidden old tab lost the newer rows without a word."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("桂惠贷")
    ws.write_row(0, 0, ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"])
    ws.write_row(1, 0, [A, "广西农信", "工业流动资金贷", "2024-10-08", "2025-10-07", 500, 3.65])
    wb.close()
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_loans.xlsx").write_bytes(
        _with_sheet_xml(buffer.getvalue(), "<v>3.65</v>", "<v>3.6500000000000004</v>"))  # as Excel saves a formula's result

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    old = wb.add_worksheet("申报")
    current = wb.add_worksheet("申报 (2)")
    for sheet in (old, current):
        sheet.write_row(0, 0, ["申报编号", "统一社会信用代码", "活动类型", "活动名称", "举办日期", "申报费用_元"])
    current.activate()
    old.hide()
    wb.close()
    (landing / "registers" / "registers_applications.xlsx").write_bytes(buffer.getvalue())

    outcomes = {o.file_name: o for o in ingest_feed(con, landing, "registers")}
    assert con.execute("select annual_rate_pct from raw.registers_loans").fetchall() == [("3.65",)]
    assert rejected(con) == []
    refused = outcomes["registers_applications.xlsx"]
    assert refused.status == "refused"
    assert refused.message.endswith("sheet '申报' is hidden (visible sheets: 申报 (2)); unhide the sheet that "
                                    "holds the register, named '申报', and hide or delete the others")


def _with_sheet_xml(xlsx: bytes, old: str, new: str) -> bytes:
    """The workbook with `old` replaced by `new` in its first sheet's XML (what no writer library writes)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert old.encode() in data
                data = data.replace(old.encode(), new.encode())
            dst.writestr(item, data)
    return out.getvalue()


def test_the_key_check_and_the_header_message_see_the_same_characters_as_invisible():
    """`spec.INVISIBLE` (RE2, in DuckDB) and `loader._visible` (Python) name one set of characters."""
    from dagster_project.lib.ingest.loader import _visible
    from dagster_project.lib.ingest.spec import INVISIBLE

    chars = [chr(i) for i in range(0x3100) if not 0xD800 <= i < 0xE000] + ["\ufeff", "\U000e0001"]
    matched = duckdb.connect().execute(f"select list(c) from (select unnest(?) as c) where regexp_matches(c, '{INVISIBLE}')",
                                       [chars]).fetchone()[0]
    assert set(matched) == {c for c in chars if _visible(c) != c}


def test_cells_covered_by_a_merged_cell_are_rejected_naming_the_range(tmp_path, con):
    """A clerk merges an enterprise's USCC over its three recognitions: the sheet shows it on every
    row, the file holds it in the first cell only. Read as blank, the rows below loaded as parks (a
    recognition's USCC is optional) without a word; in a required field they were rejected as
    "required value missing" while the clerk saw the value on screen. The covered cells are
    rejected naming the range; the first row and a merged title above the header load as before."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("认定名单")
    ws.merge_range(0, 0, 0, 5, "2024年第四季度认定名单")
    ws.write_row(1, 0, ["名单类别", "级别", "统一社会信用代码", "名称", "认定日期", "认定类型"])
    ws.write_row(2, 0, ["绿色工厂", "自治区级", None, "南宁甲企业", "2024-10-08", "新认定"])
    ws.merge_range(2, 2, 4, 2, A)
    ws.write_row(3, 0, ["专精特新中小企业", "自治区级", None, "南宁甲企业", "2024-10-09", "新认定"])
    ws.write_row(4, 0, ["数字化转型典型场景", "自治区级", None, "南宁甲企业", "2024-10-10", "新认定"])
    ws.write_row(5, 0, ["绿色园区", "自治区级", None, "南宁高新区", "2024-10-11", "新认定"])
    ws.merge_range(5, 3, 7, 3, "南宁高新区")  # merged on past the last record: the rows below stay blank
    wb.close()
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_recognitions.xlsx").write_bytes(buffer.getvalue())
    ingest_feed(con, landing, "registers")
    assert con.execute("select uscc, name from raw.registers_recognitions order by _line").fetchall() == [
        (A, "南宁甲企业"), (None, "南宁高新区")]
    why = ("part of the merged cell C3:C5: the sheet shows " + A + " here, the file holds it only in its first cell; "
           "unmerge the cells and fill in every row")
    assert rejected(con) == [("registers_recognitions.xlsx", 4, "uscc", None, why),
                             ("registers_recognitions.xlsx", 5, "uscc", None, why)]


@pytest.mark.parametrize("number_format", ['0!.0000"万"', '0"."0000"万元"', "#,##0,"])
def test_a_register_amount_formatted_to_show_another_number_is_rejected(tmp_path, con, number_format):
    """A Chinese sheet shows 元 as 万 with `0!.0000"万"`: a loan typed in 元 (500000) shows as
    50.0000万 and was read as 500,000万元 = 50亿, inside every plausibility bound (issue 15's
    damaged-delivery pass). A cell whose format shows another number than it holds is rejected with
    its field; a literal unit after the number (`0.00"万元"`) shows what it holds and loads."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("桂惠贷")
    ws.write_row(0, 0, ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"])
    ws.write_row(1, 0, [A, "广西农信", "工业流动资金贷", "2024-10-08", "2025-10-07"])
    ws.write_number(1, 5, 500000, wb.add_format({"num_format": number_format}))
    ws.write_number(1, 6, 3.45)
    ws.write_row(2, 0, [B, "桂林银行", "工业流动资金贷", "2024-10-09", "2025-10-08"])
    ws.write_number(2, 5, 800, wb.add_format({"num_format": '0.00"万元"'}))
    ws.write_number(2, 6, 1.85)
    wb.close()
    landing = tmp_path / "landing"
    (landing / "registers").mkdir(parents=True)
    (landing / "registers" / "registers_loans.xlsx").write_bytes(buffer.getvalue())
    ingest_feed(con, landing, "registers")
    assert con.execute("select uscc, principal_10k_yuan from raw.registers_loans").fetchall() == [(B, "800")]
    assert rejected(con) == [("registers_loans.xlsx", 2, "principal_10k_yuan", "500000",
                              f"a cell formatted to show another number than it holds ({number_format}; it holds "
                              "500000): type the number in the column's unit in a plain number cell")]
