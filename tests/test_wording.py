"""What finance reads: plain Chinese from developer text, money rounded once, the headline's inputs,
and a failed-check list that depends on the data, not on what a run happened to validate."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from conftest import english_left
from dagster_project.lib.money import to_wan, wan_text
from dagster_project.lib.uscc import make_uscc, uscc_problem
from reports import data, wording
from reports.kpi_workbook import CheckOutcome, _checks_as_of


@pytest.mark.parametrize(("yuan", "shown"), [
    (563050, "56.31"), (Decimal("563049.99"), "56.30"), (Decimal("-563050"), "-56.31"), (0, "0.00"),
    (Decimal("283497896.11"), "28,349.79"), (Decimal("50"), "0.01"), (Decimal("49.99"), "0.00"),
])
def test_wan_is_rounded_half_up_once(yuan, shown):
    assert wan_text(yuan) == shown


def test_wan_half_up_where_python_rounds_down():
    assert f"{Decimal('56.305'):.2f}" == "56.30" and f"{56.305:.2f}" == "56.30"  # what the CLI used to print
    assert to_wan(563050) == Decimal("56.31") and wan_text(563050, sign=True) == "+56.31"


def test_rejection_reasons_in_chinese():
    assert wording.reason("invalid USCC: check character 'L', expected 'K'") == "统一社会信用代码校验码错误：末位为 L，应为 K"
    assert wording.reason("required value missing") == "必填项为空"
    assert wording.reason(
        "a number cell (914505211234568000): Excel keeps only 15 digits of a number, so the code is not what was "
        "typed; type it into a text cell (文本 format, or a ' before it)") == (
        "代码填在数值单元格中（914505211234568000）：Excel 只保留数值的 15 位有效数字，代码已不是所填的代码；"
        "请改填在文本格式单元格中（或在前面加 '）")
    lower = "invalid USCC: " + uscc_problem(make_uscc("450102", "MA5K1234").lower())
    assert not english_left(wording.reason(lower))  # a USCC typed in lower case
    assert wording.reason("unknown value (allowed: 01 02)") == "取值不在允许范围内（允许：01 02）"
    assert wording.reason("something new") == "something new"  # unknown text is shown, not hidden
    assert wording.reason_kind("invalid USCC: length 17, expected 18") == "统一社会信用代码位数错误"


def test_check_names_and_descriptions_in_chinese():
    check = "relationships_fct_power_month_uscc__uscc__ref_dim_enterprise_"
    assert wording.check_name(check, "marts/fct_power_month") == "关联：fct_power_month.uscc 应在 dim_enterprise 中"
    assert wording.check_name("raw_tax_vat_warning", "raw/tax_vat") == "数据期望警告项：raw_tax_vat"
    assert wording.check_name("raw_tax_vat_warning", "raw/tax_vat", {"raw_tax_vat": "增值税申报"}) == "数据期望警告项：增值税申报"
    assert wording.check_description("4 warning expectation(s) not met in 23 file(s)") == "23 个文件中有 4 项警告期望未满足"
    assert wording.check_description("carried over from run b862aa11-0000 (model and sources unchanged)") \
        == "沿用运行 b862aa11 的检查结果（模型及其来源数据未变）"
    assert wording.observed("4 of 23627 rows (0.02%); at most 5% allowed") == "23,627 行中 4 行（0.02%），允许至多 5%"
    # a statistic with the bounds it was held to (a file's rows against the floor from the delivery before)
    assert wording.observed("rows 78; at least 111") == "行数 78，下限 111"
    assert wording.observed("median 1,575,000; at most 1,000,000") == "中位数 1,575,000，上限 1,000,000"
    text = wording.examples('[{"uscc_problem": "91450521844262107L: check character \'L\', expected \'K\'", "_line": 186}]')
    assert text == "第186行：91450521844262107L 校验码为 L，应为 K"
    text = wording.examples('[{"feed": "stats_industry", "month": "2023-09-01", '
                            '"missing_period": "stats_industry: nothing delivered for 2023-09"}]')
    assert text == "统计月报 2023年9月无任何交付数据"  # the feed and the month are said once
    text = wording.examples('[{"directory_problem": "91451102MA1NBLEL86 not in the enterprise directory", '
                            '"uscc": "91451102MA1NBLEL86", "declaration_no": "720620241000079339", "_line": 74}]')
    assert text == "第74行：91451102MA1NBLEL86 不在企业名录中；报关单号 720620241000079339"
    text = wording.examples('[{"missing_report": "规上 enterprise 91451102MA1NBLEL86 without a report for 202305", '
                            '"uscc": "91451102MA1NBLEL86", "month": "2023-05-01"}]')
    assert text.startswith("规上企业 91451102MA1NBLEL86 未报送 202305 月报")  # who, not only when
    text = wording.examples('[{"resend_problem": "the same rows as stats_projects_202409.csv: that period\'s '
                            'file sent again under this name?", "_line": 2}]')
    assert text == "第2行：与早期交付 stats_projects_202409.csv 的数据行完全相同：是否为该期文件以本期名称重发？"
    assert wording.examples('[{"flag_problem": "flagged 正常 but kWh blank", "account_no": "0301"}, '
                            '{"account_problem": "account 0302 in no account snapshot", "account_no": "0302"}]') \
        == "标为正常但电量为空；户号 0301\n户号 0302 不在任何户号清单中"
    assert wording.problem("account O658902252 is account 0658902252 with a letter for a digit") \
        == "户号 O658902252 疑为已知户号 0658902252 误录（字母代替了数字）"
    assert wording.problem("account 658902254 is account 0658902254 with its leading zeros changed") \
        == "户号 658902254 疑为已知户号 0658902254 误录（前导0丢失或多出）"
    assert wording.problem("到期日期 2025-10-01 not after 放款日期 2042-10-01") == "到期日期 2025-10-01 不晚于放款日期 2042-10-01"


def test_contract_references_and_parameter_ids_become_plain_chinese():
    assert wording.plain("80%为部门工作假设（MEASURES.md 默认值）") == "80%为部门工作假设（测算规则默认值）"
    assert "MEASURES" not in wording.plain("按MEASURES.md以投产年月≥202301计")
    names = {"M01.near_threshold_share": "拟上规比例", "M01.above_size_revenue": "规上营业收入标准"}
    assert wording.plain("≥ M01.near_threshold_share × M01.above_size_revenue（默认80% × 2000万元）", names) \
        == "≥ 拟上规比例 × 规上营业收入标准（默认80% × 2,000万元）"
    # a list's definition shows the values the run used, not what the parameters are
    values = {"M01.near_threshold_share": "80%", "M01.above_size_revenue": "2500万元"}
    assert wording.with_values("≥ M01.near_threshold_share × M01.above_size_revenue（默认80% × 2000万元）", values) \
        == "≥ 80% × 2,500万元"
    # separators only on amounts with a unit: periods and years stay as they are
    assert wording.thousands("产值 597765.22万元，202410 月，2024年") == "产值 597,765.22万元，202410 月，2024年"


def test_period_end():
    assert data.period_end("202410") == date(2024, 10, 31)
    assert data.period_end("202412") == date(2024, 12, 31)
    assert data.period_end("20241125") == date(2024, 11, 25)
    assert data.period_end(None) is None


def _warehouse(runs: list[tuple], history: list[tuple]) -> duckdb.DuckDBPyConnection:
    """policy_budget_rollup of 2024-11-25, the runs (as of, finished, total base) and the history rows
    (as of, scheme, base) of marts.policy_budget_history."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.policy_budget (as_of date, scenario varchar, measure_id varchar, "
                "scheme_id varchar, beneficiaries integer, amount_yuan decimal(18, 2))")
    con.execute("insert into marts.policy_budget values ('2024-11-25', 'base', 'M02', 'M02', 2, 1000000), "
                "('2024-11-25', 'low', 'M02', 'M02', 1, 500000), ('2024-11-25', 'high', 'M02', 'M02', 3, 2000000)")
    con.execute("create table marts.policy_budget_rollup (as_of date, level varchar, key varchar, scenario varchar, "
                "amount_yuan decimal(18, 2), beneficiaries integer, awards integer)")
    # the total's own quantiles: its median is not the sum of the schemes' medians
    con.execute("insert into marts.policy_budget_rollup values ('2024-11-25', 'total', '全部', 'base', 1563050, 2, 3), "
                "('2024-11-25', 'total', '全部', 'low', 480000, 1, 2), "
                "('2024-11-25', 'total', '全部', 'high', 2100000, 3, 4), "
                "('2024-11-25', 'city', '450100', 'base', 700000, 1, 1), "
                "('2024-11-25', 'city', '450100', 'low', 100000, 1, 1), "
                "('2024-11-25', 'city', '450100', 'high', 900000, 1, 1)")
    con.execute("create table marts.policy_runs (as_of date, finished_at timestamp, params_fingerprint varchar, "
                "beneficiaries integer, base_yuan decimal(18, 2), low_yuan decimal(18, 2), high_yuan decimal(18, 2))")
    for run in runs:
        con.execute("insert into marts.policy_runs values (?, ?, 'p1', 1, ?, 0, 0)", list(run))
    con.execute("create table marts.policy_budget_history as select * from marts.policy_budget")
    for as_of, scheme, amount in history:
        con.execute("insert into marts.policy_budget_history values (?, 'base', 'M02', ?, 1, ?)", [as_of, scheme, amount])
    return con


def test_headline_reads_the_totals_own_distribution_and_the_previous_as_of():
    runs = [(date(2024, 11, 11), datetime(2024, 11, 11, 7), 900000),
            (date(2024, 11, 18), datetime(2024, 11, 18, 7), 1100000),
            (date(2024, 11, 18), datetime(2024, 11, 19, 9), 1200000),  # a rerun for the 18th replaced its figures
            (date(2024, 11, 25), datetime(2024, 11, 25, 7), 1563050),
            (date(2024, 12, 2), datetime(2024, 12, 2, 7), 1700000)]  # a later date: not "before this one"
    history = [(date(2024, 11, 11), "M02", 800000), (date(2024, 11, 18), "M02", 1000000),
               (date(2024, 12, 2), "M02", 1500000)]
    head = data.headline(_warehouse(runs, history), date(2024, 11, 25))
    assert (head.base_yuan, head.low_yuan, head.high_yuan) == (Decimal("1563050"), Decimal("480000"), Decimal("2100000"))
    assert (head.awards, head.beneficiaries) == (3, 2)
    assert head.previous.as_of == date(2024, 11, 18) and head.previous.total_yuan == Decimal("1200000")
    assert head.previous.schemes == {"M02": Decimal("1000000")} and head.change_yuan == Decimal("363050")
    first = data.headline(_warehouse(runs[3:4], []), date(2024, 11, 25))
    assert first.previous is None and first.change_yuan is None
    city = data.headline(_warehouse(runs, history), date(2024, 11, 25), "450100")
    assert (city.base_yuan, city.low_yuan, city.high_yuan, city.previous) == (700000, 100000, 900000, None)


def test_failed_checks_are_the_same_on_a_rerun_that_validates_nothing_new():
    con = duckdb.connect()
    con.execute("create schema raw; create schema marts")
    con.execute("create table raw._manifest (file_name varchar, available_on date)")
    con.execute("insert into raw._manifest values ('tax_vat_202305.csv', '2023-06-15')")
    con.execute("create table marts.dq_check_results (asset varchar, suite varchar, file_name varchar, "
                "expectation varchar, severity varchar, outcome varchar, checked_at timestamp, unexpected_count bigint)")
    con.execute("insert into marts.dq_check_results values ('raw/tax_vat', 'raw_tax_vat', 'tax_vat_202305.csv', "
                "'uscc_check_characters', 'warning', 'warn', '2024-11-25 07:00', 3)")
    con.execute("create view marts.dq_check_results_latest as select * from marts.dq_check_results")
    first_run = [CheckOutcome("raw/tax_vat", "raw_tax_vat_warning", False, "WARN", None,
                              "1 warning expectation(s) not met in 1 file(s)")]
    rerun = [CheckOutcome("raw/tax_vat", "raw_tax_vat_warning", True, "WARN", None,
                          "all warning expectations met in 0 file(s)")]
    judged = [_checks_as_of(con, date(2024, 11, 25), checks) for checks in (first_run, rerun)]
    assert judged[0] == judged[1]
    assert not judged[0][0].passed and "1 个文件中有 1 项警告期望未满足" in judged[0][0].description
    assert judged[0][0].failed_rows == 3  # 问题行数: the rows the expectations name (the column was empty)
    assert _checks_as_of(con, date(2023, 6, 1), rerun)[0].passed  # the file had not arrived by then


def test_expectations_of_a_suite_the_code_no_longer_has_are_not_listed(tmp_path):
    """A suite renamed or removed judges nothing any more: its last failure stays in the warehouse's
    history, not on the 数据质量 sheet."""
    import openpyxl

    from reports.kpi_workbook import _expectations_not_met
    from reports.styles import Styles, new_workbook

    con = duckdb.connect()
    con.execute("create schema raw; create schema marts")
    con.execute("create table raw._manifest (file_name varchar, available_on date)")
    con.execute("create table marts.dq_check_results (asset varchar, suite varchar, file_name varchar, label varchar, "
                "expectation varchar, severity varchar, outcome varchar, unexpected_count integer, "
                "observed_value varchar, unexpected_examples varchar, checked_at timestamp)")
    for suite in ("mart_base_periods", "mart_base_period_coverage"):  # the second: the first's old name
        con.execute("insert into marts.dq_check_results values ('marts/fct_enterprise_quarter', ?, null, ?, "
                    "'base_periods_delivered', 'warning', 'warn', 1, '22 行中 1 行', null, '2024-11-25 07:00')",
                    [suite, f"label of {suite}"])
    con.execute("create view marts.dq_check_results_latest as select * from marts.dq_check_results")
    path = tmp_path / "q.xlsx"
    wb = new_workbook(path)
    ws = wb.add_worksheet("数据质量")
    _expectations_not_met(ws, Styles(wb), con, date(2024, 11, 25), 0)
    wb.close()
    texts = [str(v) for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True) for v in row if v]
    assert any("（mart_base_periods）" in t for t in texts)
    assert not any("mart_base_period_coverage" in t for t in texts)
    assert any("警告 1 项" in t for t in texts)


def test_every_parameter_source_reads_in_chinese_on_the_parameters_sheet():
    """The 依据 column of 参数 quotes the policy, or the contract (English): finance reads Chinese.
    Left in Latin letters: parameter and check codes, standards (GB/T), units (kWh) and P10/P90."""
    from dagster_project.lib.measures.catalogue import load_catalogue
    from reports.kpi_workbook import parameter_names

    catalogue = load_catalogue()
    names = parameter_names(catalogue)
    allowed = re.compile(r"(?<![A-Za-z])(?:GB/T|GB|kWh|kV|USCC|Jeffreys|P\d\d|M\d\d(?:\.[a-z_]+)?|forecast\.[a-z_]+)"
                         r"(?![A-Za-z])")
    english = {pid: text for pid, p in catalogue.parameters.items()
               if re.search(r"[A-Za-z]{3,}", allowed.sub("", text := wording.plain(p.source or p.assumption_note,
                                                                                  names) or ""))}
    assert english == {}
