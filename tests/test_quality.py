"""Data-quality suites: loading, the custom checks on hand-made frames, GX results, file selection."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.lib.ingest import DATASETS
from dagster_project.lib.ingest.loader import ingest_feed
from dagster_project.lib.quality import derive as d
from dagster_project.lib.quality import warehouse
from dagster_project.lib.quality.run import DATASET_BY_TABLE, catalogue_values, run_values, validate_suites
from dagster_project.lib.quality.suites import DERIVATIONS, SuiteError, load_suite, load_suites
from dagster_project.lib.uscc import CHARSET, make_uscc
from reports import wording

A = make_uscc("450102", "MA5K1234")
B = make_uscc("450202", "MA5K9999")
C = make_uscc("450305", "MA5K0001")
BAD_CHECK = A[:17] + CHARSET[(CHARSET.index(A[17]) + 1) % len(CHARSET)]
BAD_ORG = A[:16] + ("0" if A[16] != "0" else "1") + A[17]
INDUSTRY_HEADER = "统一社会信用代码,报告期,工业总产值_本月_千元,工业总产值_累计_千元,营业收入_本月_千元,营业收入_累计_千元,利润总额_累计_千元,从业人员期末人数"
SUITES = {s.name: s for s in load_suites()}


# ---------------------------------------------------------------- suites as data


def test_every_raw_dataset_and_key_mart_has_a_suite_with_both_severities():
    raw = {s.dataset for s in SUITES.values() if s.batch == "file"}
    assert raw == {ds.table for ds in DATASETS}
    for s in SUITES.values():
        if s.batch == "file":
            assert s.asset == f"raw/{s.dataset}"
    marts = {s.asset for s in SUITES.values() if s.asset.startswith("marts/")}
    assert {"marts/fct_enterprise_month", "marts/fct_enterprise_quarter", "marts/dim_enterprise",
            "marts/fct_power_month", "marts/policy_awards"} <= marts
    severities = {e.severity for s in SUITES.values() for e in s.expectations}
    assert severities == {"blocking", "warning"}
    assert set(DERIVATIONS) == set(d.DERIVE)


def test_every_suite_has_a_chinese_name_for_finance():
    """The 数据质量 sheet names a failed suite by its label ("数据期望警告项：规上企业月报完整性"), not
    by its code alone ("mart_stats_completeness"), which stays beside it."""
    labels = [s.label for s in SUITES.values()]
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in labels)
    assert len(set(labels)) == len(labels)
    assert wording.check_name("mart_stats_completeness_warning", "marts/fct_enterprise_month",
                              {s.name: s.label for s in SUITES.values()}) == "数据期望警告项：规上企业月报完整性"


def test_check_names_are_suite_and_severity():
    s = SUITES["raw_stats_industry"]
    assert s.severities == ("blocking", "warning")
    assert s.check_name("blocking") == "raw_stats_industry_blocking"
    assert {e.name for e in s.of_severity("blocking")} >= {"unit_median_output", "report_month_closed"}


@pytest.mark.parametrize(("change", "message"), [
    ("severity: blocking", "severity 'fatal' must be blocking or warning"),
    ("mostly: 0.9", "mostly must be a share in (0, 1]"),
    ("kwargs: {value_set: ['$file_period']}", "unknown placeholder $tomorrow"),
    ("type: expect_column_values_to_be_null", "type 'expect_magic' is not supported"),
    ("label: 增值税申报\n", "raw_tax_vat.yml: label is required"),
])
def test_a_bad_suite_file_is_refused_with_a_clear_message(tmp_path, change, message):
    good = (Path(__file__).parent.parent / "expectations" / "raw_tax_vat.yml").read_text(encoding="utf-8")
    bad = {
        "severity: blocking": "severity: fatal",
        "mostly: 0.9": "mostly: 1.5",
        "kwargs: {value_set: ['$file_period']}": "kwargs: {value_set: ['$tomorrow']}",
        "type: expect_column_values_to_be_null": "type: expect_magic",
        "label: 增值税申报\n": "",
    }[change]
    path = tmp_path / "raw_tax_vat.yml"
    path.write_text(good.replace(change, bad, 1), encoding="utf-8")
    with pytest.raises(SuiteError, match=message.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")):
        load_suite(path)


def test_run_values_close_the_month_before_the_as_of_month():
    v = run_values(date(2025, 1, 20))
    assert v["$last_closed_month"] == 202412 and v["$as_of_month"] == 202501
    assert v["$last_closed_month_start"] == datetime(2024, 12, 1)


# ---------------------------------------------------------------- custom checks on hand-made frames


def lookups(**kw) -> d.Lookups:
    return d.Lookups(as_of=date(2025, 2, 1), **kw)


def test_uscc_problem_names_the_check_character_and_the_organisation_code_digit():
    df = d.add_uscc_problem(pd.DataFrame({"uscc": [A, BAD_CHECK, BAD_ORG, None, "123"]}), lookups())
    problems = list(df["uscc_problem"])
    assert problems[0] is None and problems[3] is None
    assert problems[1].startswith(BAD_CHECK) and "check character" in problems[1]
    assert "organisation-code check digit" in problems[2]
    assert "length 3" in problems[4]


def test_directory_problem_counts_valid_codes_outside_the_directory_only():
    df = d.add_directory_problem(pd.DataFrame({"uscc": [A, B, BAD_CHECK, None]}), lookups(directory=frozenset({A})))
    assert list(df["directory_problem"].isna()) == [True, False, True, True]


def industry(rows: list[tuple]) -> pd.DataFrame:
    cols = ["uscc", "report_month", "output_month_k_yuan", "output_ytd_k_yuan", "revenue_month_k_yuan", "revenue_ytd_k_yuan"]
    df = pd.DataFrame(rows, columns=cols)
    df["report_month"] = df["report_month"].astype("Int64")
    return df


PREVIOUS = industry([(A, 202409, 1000.0, 9000.0, 900.0, 8100.0), (B, 202409, 2000.0, 18000.0, 1900.0, 17000.0),
                     (C, 202312, 500.0, 6000.0, 480.0, 5800.0)])


def test_a_file_in_yuan_instead_of_thousands_jumps_a_thousandfold():
    df = industry([(A, 202410, 1_050_000.0, 10_050_000.0, 950_000.0, 9_050_000.0),
                   (B, 202410, 2_100_000.0, 20_100_000.0, 2_000_000.0, 19_000_000.0)])
    out = d.add_stats_industry(df, lookups(previous_reports=PREVIOUS))
    assert out["magnitude_jump"].notna().all()
    assert "= 上次报送（202409：1,000 千元）的 1,050 倍" in out["magnitude_jump"][0]


def test_a_decreasing_cumulative_value_is_flagged_within_the_year_only():
    df = industry([(A, 202410, 100.0, 8500.0, 90.0, 8190.0),  # 累计 output 9000 -> 8500
                   (C, 202401, 450.0, 450.0, 440.0, 440.0)])  # January: a new year starts from 0
    out = d.add_stats_industry(df, lookups(previous_reports=PREVIOUS))
    assert out["ytd_decrease"][0] == "工业总产值累计 202410 8,500 < 202409 9,000"
    assert out["ytd_decrease"][1] is None
    assert list(out["ytd_collapse"]) == [None, None]  # a revision, not a slip


def test_a_cumulative_value_below_half_the_previous_report_is_a_slip():
    """September's 累计 ×10 (or October's ÷10): October falls below half of September. At half it is
    still a revision; January starts a new year."""
    df = industry([(A, 202410, 100.0, 4500.0, 90.0, 8190.0),  # 累计 output 9000 -> 4500: exactly half
                   (B, 202410, 100.0, 9000.0, 90.0, 1700.0),  # output 18000 -> 9000 (half); revenue 17000 -> 1700
                   (C, 202401, 450.0, 450.0, 440.0, 440.0)])
    out = d.add_stats_industry(df, lookups(previous_reports=PREVIOUS))
    assert list(out["ytd_collapse"]) == [
        None, "营业收入累计 202410 1,700 不到 202409 17,000 的 50%：两期之一单位或数位有误", None]


def test_monthly_against_cumulative_gap_outside_the_tolerance():
    df = industry([(A, 202410, 1000.0, 10_200.0, 900.0, 9000.0),  # Δ累计 1200 vs 本月 1000: 20% off
                   (B, 202410, 2000.0, 20_050.0, 1900.0, 18_900.0),  # within 5%
                   (C, 202402, 400.0, 900.0, 380.0, 860.0)])  # previous report not the month before: not evaluated
    out = d.add_stats_industry(df, lookups(previous_reports=PREVIOUS))
    assert out["gap_problem"][0].startswith("工业总产值 本月 1,000 vs Δ累计 1,200")
    assert out["gap_problem"][1] is None and out["gap_problem"][2] is None


def test_power_flags_and_customs_rates():
    power = pd.DataFrame({"account_no": ["1", "2", "3"], "kwh": [10.0, None, 5.0], "data_flag": ["正常", "正常", "缺失"],
                          "reading_date": pd.to_datetime(["2024-09-24", "2024-09-23", "2023-11-20"])})
    out = d.add_power_daily(power, lookups(accounts=frozenset({"1", "2"}), period="20241125"))
    assert list(out["flag_problem"].isna()) == [True, False, False]
    assert list(out["account_problem"].isna()) == [True, True, False]
    # re-reads go back 62 days at most: 24 September for a delivery of 25 November; a year back is a typo
    assert list(out["reread_problem"]) == [None, "日期 2024-09-23 早于交付日 2024-11-25 62 天以上",
                                           "日期 2023-11-20 早于交付日 2024-11-25 62 天以上"]
    customs = pd.DataFrame({"value_usd": [1000.0] * 5, "value_cny_yuan": [7100.0, 71.0, 7100.0, 7100.0, 7100.0],
                            "export_date": pd.to_datetime(["2024-10-03", "2024-11-01", "2024-09-30", "2023-10-02",
                                                           "2024-12-01"])})
    out = d.add_customs_export(customs, lookups(period="202410"))
    assert list(out["rate_problem"].isna()) == [True, False, True, True, True]
    assert list(out["date_problem"].isna()) == [True, False, False, False, False]
    # a month either side is a late (or early) declaration; a year typed wrong is a year away
    assert list(out["far_date_problem"]) == [None, None, None, "出口日期 2023-10-02 more than 1 month(s) from 202410",
                                             "出口日期 2024-12-01 more than 1 month(s) from 202410"]
    assert next(e for e in SUITES["raw_customs_export"].expectations if e.name == "export_date_near_file_month").on_summary


LEVELS = pd.DataFrame({"account_no": ["1", "2"], "level_kwh": [10.0, 0.0]})


def test_a_power_reading_a_hundredfold_its_accounts_level_is_flagged_at_the_factor():
    """Against the account's median of the five weeks before: 100× and 1/100 are flagged, just
    inside is not; a zero reading, an account at level 0 and an account without one are not judged."""
    power = pd.DataFrame({"account_no": ["1", "1", "1", "1", "1", "2", "3"],
                          "kwh": [1000.0, 999.9, 0.1, 0.11, 0.0, 500.0, 9e6], "data_flag": ["正常"] * 7,
                          "reading_date": pd.to_datetime(["2024-11-20"] * 7)})
    out = d.add_power_daily(power, lookups(accounts=frozenset({"1", "2", "3"}), period="20241125", power_levels=LEVELS))
    assert list(out["level_problem"]) == [
        "用电量 1,000 千瓦时 = 该户号交付日前35天读数中位数 10 千瓦时的 100 倍", None,
        "用电量 0.1 千瓦时 = 该户号交付日前35天读数中位数 10 千瓦时的 0.01 倍", None, None, None, None]
    assert list(out["level_rise_problem"].notna()) == [True] + [False] * 6  # a stopping plant is not named alone
    assert list(out["zero_problem"]) == [None] * 4 + ["用电量 0 千瓦时，该户号交付日前35天读数中位数 10 千瓦时", None, None]


@pytest.mark.parametrize("factors, blocks", [([1000, 1000, 1000], True), ([1000, 1000, 1], True), ([1000, 1, 1], False),
                                             ([0.001, 0.001, 1], True)])
def test_a_weekly_power_file_in_watt_hours_blocks(session, factors, blocks):
    """More than half of a file's readings 100× (or 1/100 of) their accounts' level is the file's
    unit (one weekly file in Wh made the budget ×43 with no word); fewer rises are named only."""
    suite = SUITES["raw_power_daily"]
    power = pd.DataFrame({"account_no": ["1"] * 3, "reading_date": pd.to_datetime(["2024-11-18", "2024-11-19", "2024-11-20"]),
                          "kwh": [10.0 * f for f in factors], "data_flag": ["正常"] * 3, "_line": [2, 3, 4],
                          "_quarantined": [None] * 3})
    frame = d.derive(power, suite.derive, d.Lookups(as_of=date(2024, 11, 25), period="20241125", accounts=frozenset({"1"}),
                                                    power_levels=LEVELS, params=suite.params))
    values = dict(run_values(date(2024, 11, 25)), **{"$file_period": datetime(2024, 11, 25)})
    out = {o.expectation: o for o in session.validate(suite, frame, values, "power_daily_20241125.csv")}
    broadly, each = out["kwh_near_previous_level_broadly"], out["kwh_near_previous_level"]
    assert broadly.severity == "blocking" and broadly.success is not blocks
    assert each.severity == "warning"
    assert [e["_line"] for e in each.unexpected_examples] == [2 + i for i, f in enumerate(factors) if f > 1]


@pytest.mark.parametrize("readings, blocks", [([0.0, 0.0, 0.0], True), ([0.0, 0.0, 10.0], True),
                                              ([0.0, 10.0, 10.0], False), ([0.0, None, None], False)])
def test_a_weekly_power_file_of_zeros_blocks(session, readings, blocks):
    """More than half of a file's readings 0 where their accounts read above 0 before is a file of
    zeros (a week of zeros took 8.5% off a tiny budget with no word); a plant stopping is not
    named, nor is a reading flagged 缺失 (blank)."""
    suite = SUITES["raw_power_daily"]
    power = pd.DataFrame({"account_no": ["1"] * 3, "reading_date": pd.to_datetime(["2024-11-18", "2024-11-19", "2024-11-20"]),
                          "kwh": readings, "data_flag": ["正常" if r is not None else "缺失" for r in readings],
                          "_line": [2, 3, 4], "_quarantined": [None] * 3})
    frame = d.derive(power, suite.derive, d.Lookups(as_of=date(2024, 11, 25), period="20241125", accounts=frozenset({"1"}),
                                                    power_levels=LEVELS, params=suite.params))
    values = dict(run_values(date(2024, 11, 25)), **{"$file_period": datetime(2024, 11, 25)})
    out = {o.expectation: o for o in session.validate(suite, frame, values, "power_daily_20241125.csv")}
    zeros = out["kwh_not_zero_broadly"]
    assert zeros.severity == "blocking" and zeros.success is not blocks
    if blocks:
        assert zeros.unexpected_examples[0]["zero_problem"] == "用电量 0 千瓦时，该户号交付日前35天读数中位数 10 千瓦时"


@pytest.mark.parametrize("accounts, known, blocks", [
    (["677906403", "677906404", "677906405"], frozenset({"0677906403", "0677906404", "0677906405"}), True),
    (["0677906403", "677906404", "677906405"], frozenset({"0677906403", "0677906404", "0677906405"}), True),
    (["0677906403", "0677906404", "677906405"], frozenset({"0677906403", "0677906404", "0677906405"}), False),
    (["677906403", "677906404", "677906405"], frozenset(), False),  # no snapshot arrived: nothing to judge by
])
def test_a_weekly_power_file_of_unknown_accounts_blocks(session, accounts, known, blocks):
    """More than half of a file's readings for accounts no snapshot lists is the account numbers
    re-formatted (a file saved by Excel lost every leading zero, and the week's readings reached no
    enterprise, with a warning on 数据质量 only); fewer are new accounts, named by the warning."""
    suite = SUITES["raw_power_daily"]
    power = pd.DataFrame({"account_no": accounts, "reading_date": pd.to_datetime(["2024-11-18"] * 3),
                          "kwh": [10.0] * 3, "data_flag": ["正常"] * 3, "_line": [2, 3, 4], "_quarantined": [None] * 3})
    frame = d.derive(power, suite.derive, d.Lookups(as_of=date(2024, 11, 25), period="20241125", accounts=known,
                                                    params=suite.params))
    values = dict(run_values(date(2024, 11, 25)), **{"$file_period": datetime(2024, 11, 25)})
    out = {o.expectation: o for o in session.validate(suite, frame, values, "power_daily_20241125.csv")}
    broadly = out["account_known_broadly"]
    assert broadly.severity == "blocking" and broadly.success is not blocks
    assert out["account_known"].success is (accounts == sorted(known))


def test_a_known_account_typed_with_a_letter_for_a_digit_is_named_on_the_summary(session):
    """`O658902252` for 0658902252: the week's readings reached no enterprise (−22万 of a tiny
    budget), seven readings of 634, under account_known's 5%, with nothing said; the same with a
    leading zero dropped (`628624840`) or added. Named in red on 汇总; a new account (in no
    snapshot, no known account when read with digits) is not."""
    suite = SUITES["raw_power_daily"]
    power = pd.DataFrame({"account_no": ["O658902252", "0658902253", "l677906404", "658902254", "00658902254"],
                          "reading_date": pd.to_datetime(["2024-11-18"] * 5), "kwh": [10.0] * 5,
                          "data_flag": ["正常"] * 5, "_line": [2, 3, 4, 5, 6], "_quarantined": [None] * 5})
    known = frozenset({"0658902252", "0677906404", "0658902254"})
    frame = d.derive(power, suite.derive, d.Lookups(as_of=date(2024, 11, 25), period="20241125", accounts=known,
                                                    params=suite.params))
    values = dict(run_values(date(2024, 11, 25)), **{"$file_period": datetime(2024, 11, 25)})
    out = {o.expectation: o for o in session.validate(suite, frame, values, "power_daily_20241125.csv")}
    mistyped = out["account_not_mistyped"]
    assert [(e["_line"], e["account_mistyped_problem"]) for e in mistyped.unexpected_examples] == [
        (2, "account O658902252 is account 0658902252 with a letter for a digit"),
        (5, "account 658902254 is account 0658902254 with its leading zeros changed"),
        (6, "account 00658902254 is account 0658902254 with its leading zeros changed")]
    assert next(e for e in suite.expectations if e.name == "account_not_mistyped").on_summary


@pytest.mark.parametrize("factor, readings, blocks", [(10.0, 30, True), (4.0, 30, True), (3.9, 30, False),
                                                      (10.0, 19, False), (0.1, 30, False)])
def test_a_weekly_power_file_shifted_tenfold_blocks(session, factor, readings, blocks):
    """A week ×10 (a decimal point moved for the whole file) took a tiny budget from 7,262万 to
    8,512万 unseen: the 100-fold checks miss it. The median of the file's readings against their
    accounts' levels at 4 or more blocks, with 20 readings compared or more; downwards it is a
    holiday week, not judged."""
    suite = SUITES["raw_power_daily"]
    accounts = [str(i) for i in range(readings)]
    power = pd.DataFrame({"account_no": accounts, "reading_date": pd.to_datetime(["2024-11-18"] * readings),
                          "kwh": [10.0 * factor] * readings, "data_flag": ["正常"] * readings,
                          "_line": list(range(2, readings + 2)), "_quarantined": [None] * readings})
    levels = pd.DataFrame({"account_no": accounts, "level_kwh": [10.0] * readings})
    frame = d.derive(power, suite.derive, d.Lookups(as_of=date(2024, 11, 25), period="20241125",
                                                    accounts=frozenset(accounts), power_levels=levels, params=suite.params))
    values = dict(run_values(date(2024, 11, 25)), **{"$file_period": datetime(2024, 11, 25)})
    out = {o.expectation: o for o in session.validate(suite, frame, values, "power_daily_20241125.csv")}
    shifted = out["kwh_file_near_previous_level"]
    assert shifted.severity == "blocking" and shifted.success is not blocks
    if blocks:
        assert shifted.unexpected_examples[0]["file_level_problem"] == (
            f"本文件读数为各户号交付日前35天读数中位数的 {factor:g} 倍（{readings} 个读数的中位数）")


@pytest.mark.parametrize("days, blocks", [(["2023-11-18", "2023-11-19", "2023-11-20"], True),
                                          (["2023-11-18", "2024-11-19", "2024-11-20"], False)])
def test_a_weekly_power_file_dated_a_year_back_blocks(session, days, blocks):
    """A week's dates typed 2023 for 2024 replaced last year's days (M24's base) with a warning only:
    most of a file dated further back than re-reads go stops the run; one such reading warns."""
    suite = SUITES["raw_power_daily"]
    power = pd.DataFrame({"account_no": ["1"] * 3, "reading_date": pd.to_datetime(days), "kwh": [10.0] * 3,
                          "data_flag": ["正常"] * 3, "_line": [2, 3, 4], "_quarantined": [None] * 3})
    frame = d.derive(power, suite.derive, d.Lookups(as_of=date(2024, 11, 25), period="20241125", accounts=frozenset({"1"}),
                                                    power_levels=LEVELS, params=suite.params))
    values = dict(run_values(date(2024, 11, 25)), **{"$file_period": datetime(2024, 11, 25)})
    out = {o.expectation: o for o in session.validate(suite, frame, values, "power_daily_20241125.csv")}
    assert out["reading_within_reread_window_broadly"].success is not blocks
    assert not out["reading_within_reread_window"].success


def test_an_accounts_level_comes_from_earlier_deliveries_of_the_five_weeks_before(tmp_path):
    """The level a weekly file is judged against: readings of earlier deliveries that arrived by the
    as-of date, dated within level_window_days of the delivery; never the file itself, a later or a
    not yet arrived delivery, nor older readings."""
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema raw_active")
        con.execute("""create table raw_active.power_daily as select * from (values
            ('1', '2024-10-20', '10.00', '20241021', date '2024-10-21'),    -- 36 days before: outside
            ('1', '2024-10-21', '20.00', '20241021', date '2024-10-21'),    -- 35 days before: inside
            ('1', '2024-11-17', '30.00', '20241118', date '2024-11-18'),
            ('1', '2024-11-24', '5000.00', '20241125', date '2024-11-25'),  -- the file judged
            ('1', '2024-11-24', '7000.00', '20241125', date '2024-11-25'),
            ('2', '2024-11-30', '900.00', '20241202', date '2024-12-02'),   -- a later delivery
            ('3', '2024-11-17', '40.00', '20241118', date '2024-11-18'),
            ('3', '2024-11-17', '', '20241118', date '2024-11-18'))         -- 缺失: no kWh
            t(account_no, reading_date, kwh, _dataset_period, _available_on)""")
        levels = warehouse.power_levels(con, "20241125", date(2024, 12, 9), 35)
        assert dict(zip(levels.account_no, levels.level_kwh)) == {"1": 25.0, "3": 40.0}
        before = warehouse.power_levels(con, "20241125", date(2024, 11, 10), 35)  # 18 November's not arrived yet
        assert dict(zip(before.account_no, before.level_kwh)) == {"1": 20.0}


def test_tax_filing_dates_around_the_period_start_and_the_as_of_date():
    df = pd.DataFrame({"tax_period": pd.array([202501, 202501, 202501, 202501, None], dtype="Int64"),
                       "filed_on": pd.to_datetime(["2024-12-31", "2025-01-01", "2025-02-01", "2025-02-02", "2025-01-05"])})
    assert list(d.add_tax_vat(df, lookups())["filed_problem"]) == [
        "申报日期 2024-12-31 before 所属期 202501", None, None, "申报日期 2025-02-02 after as-of 2025-02-01", None]


def test_directory_and_project_fields_at_their_limits():
    months = {"dtype": "Int64"}
    enterprises = pd.DataFrame({
        "scale_flag": ["规上", "规上", "规下", "规上"],
        "above_size_since": pd.array([None, 202410, None, 202301], **months),
        "production_start": pd.array([202410, 202411, None, 202001], **months),
        "above_size_exit": pd.array([None, 202409, None, 202301], **months),
    })
    out = d.add_stats_enterprise(enterprises, lookups(period="202410"))
    assert list(out["month_problem"]) == [None, "投产年月 202411 after snapshot 202410", None, None]
    assert list(out["field_problem"]) == ["规上 without 入统年月", "退库年月 202409 before 入统年月 202410", None, None]
    projects = pd.DataFrame({
        "start_month": pd.array([202410, 202411, 202405], **months),
        "library_entry_month": pd.array([202410, 202411, 202405], **months),
        "completion_month": pd.array([None, 202409, 202405], **months),
        "equipment_month_10k_yuan": [100.0, 100.01, None],
        "investment_month_10k_yuan": [100.0, 100.0, 5.0],
        "planned_investment_10k_yuan": [100.0, 99.99, None],  # a month of the whole plan; above it; no plan
    })
    out = d.add_stats_projects(projects, lookups(period="202410"))
    assert list(out["month_problem"]) == [None, "开工年月 202411 after library month 202410; 入库年月 202411 after library month 202410", None]
    assert list(out["equipment_problem"]) == [None, "本月设备购置 100.01 万元 > 本月完成投资 100 万元", None]
    assert list(out["field_problem"]) == [None, "竣工年月 202409 早于开工年月 202411", None]
    assert list(out["plan_problem"]) == [None, "本月完成投资 100 万元 > 计划总投资 99.99 万元", None]


def test_award_problems_need_eligibility_and_treat_null_as_not_eligible():
    awards = pd.DataFrame({
        "eligible": pd.array([True, False, None, False, True, False], dtype="boolean"),
        "chosen": pd.array([True, True, True, False, False, None], dtype="boolean"),
        "amount_yuan": [100.0, 0.0, 2500.5, float("nan"), 0.0, 0.01],
    })
    assert list(d.add_policy_awards(awards, lookups())["award_problem"]) == [
        None, "chosen but not eligible", "chosen but not eligible; amount 2,500.5 元 without eligibility",
        None, None, "amount 0.01 元 without eligibility"]


def test_mart_batches_hold_dates_in_nanoseconds_so_gx_compares_them_on_the_whole_column(session):
    con = duckdb.connect()
    frame = warehouse.sql_batch(con, "select d::date as month, 1 as n from (values ('2024-10-01'), ('2024-12-01')) t(d) "
                                     "where d::date <= $as_of", {"as_of": date(2025, 1, 1), "other": 1})
    assert str(frame["month"].dtype) == "datetime64[ns]" and list(frame["n"]) == [1, 1]
    far = warehouse.sql_batch(con, "select date '9999-12-31' as until", {})
    assert far["until"].dt.year.tolist() == [9999]  # beyond nanoseconds' range: kept as DuckDB gives it
    suite = SUITES["mart_fct_power_month"]
    closed = next(e for e in suite.expectations if e.name == "month_not_future")
    values = dict(run_values(date(2024, 11, 20)))
    batch = pd.DataFrame({"uscc": [A, B], "month": frame["month"], "kwh": [1.0, 2.0]})
    outcome = {o.expectation: o for o in session.validate(suite, batch, values, "fct_power_month")}[closed.name]
    assert not outcome.success and outcome.unexpected_count == 1


# ---------------------------------------------------------------- GX on one batch


@pytest.fixture(scope="module")
def session():
    from dagster_project.lib.quality.gx_runner import GxSession

    return GxSession("test-run")


def stats_batch(rows: list[tuple]) -> pd.DataFrame:
    df = industry(rows)
    df["profit_ytd_k_yuan"], df["employees_end"] = 10.0, 50.0
    df["_file"], df["_line"], df["_quarantined"] = "stats_industry_202410.csv", range(2, 2 + len(df)), None
    return df


def validate(session, rows, as_of=date(2025, 2, 1), period=202410):
    suite = SUITES["raw_stats_industry"]
    frame = d.derive(stats_batch(rows), suite.derive,
                     d.Lookups(as_of=as_of, directory=frozenset({A, B, C}), previous_reports=PREVIOUS, params=suite.params))
    values = dict(run_values(as_of), **{"$file_period": period})
    return {o.expectation: o for o in session.validate(suite, frame, values, "stats_industry_202410.csv")}


def test_gx_reports_a_yuan_magnitude_file_as_blocking_with_observed_value_and_examples(session):
    out = validate(session, [(A, 202410, 1_050_000.0, 10_050_000.0, 950_000.0, 9_050_000.0),
                             (B, 202410, 2_100_000.0, 20_100_000.0, 2_000_000.0, 19_000_000.0)])
    median = out["unit_median_output"]
    assert not median.success and median.severity == "blocking" and median.observed_value == "median 1,575,000; at most 1,000,000"
    jump = out["unit_jump_vs_previous_report"]
    assert not jump.success and jump.unexpected_count == 2 and jump.observed_value.startswith("2 of 2 rows (100.00%)")
    assert {e["uscc"] for e in jump.unexpected_examples} == {A, B}
    assert all("magnitude_jump" in e and "_line" in e for e in jump.unexpected_examples)
    assert out["rows_quarantined"].success and out["key_unique"].success


def test_one_enterprise_in_yuan_is_named_though_the_file_is_not(session):
    """One row a thousandfold its previous report passed the file-level check (at most half the
    rows) without a word: named by its own warning, with line and message. Its 累计 in 元 against
    September's in 千元 makes the month's Δ累计 ten times its 本月: that stops the run
    (month_vs_cumulative_digit), as a row provably wrong does; the file-level checks pass."""
    out = validate(session, [(A, 202410, 1_050_000.0, 10_050_000.0, 950_000.0, 9_050_000.0),
                             (B, 202410, 2100.0, 20_100.0, 2000.0, 19_000.0)])
    assert out["unit_jump_vs_previous_report"].success
    each = out["unit_jump_vs_previous_report_each"]
    assert not each.success and each.severity == "warning"
    assert [(e["_line"], e["uscc"]) for e in each.unexpected_examples] == [(2, A)]
    assert each.unexpected_examples[0]["magnitude_jump"] == "工业总产值_本月 1,050,000 千元 = 上次报送（202409：1,000 千元）的 1,050 倍"
    assert [name for name, o in out.items() if o.severity == "blocking" and not o.success] == ["month_vs_cumulative_digit"]


@pytest.mark.parametrize("times, named", [(40, True), (30, True), (25, False)])
def test_one_enterprise_tens_of_times_its_previous_report_is_named(session, times, named):
    """A's October at 98× its September (a probe's ×100 of its month a year before) passed the
    100× check unnamed and lifted its industry peers' forecasts: the suite names a month 30× its
    previous report or more (never 20× in the clean data of the two processes)."""
    out = validate(session, [(A, 202410, 1000.0 * times, 9000.0 + 1000.0 * times, 900.0 * times, 8100.0 + 900.0 * times),
                             (B, 202410, 2100.0, 20_100.0, 2000.0, 19_000.0)])
    each = out["unit_jump_vs_previous_report_each"]
    assert each.success is not named
    if named:
        assert [(e["_line"], e["uscc"]) for e in each.unexpected_examples] == [(2, A)]


def test_gx_reports_a_future_month_and_a_clean_file_passes(session):
    clean = [(A, 202410, 1000.0, 10_000.0, 900.0, 9000.0), (B, 202410, 2000.0, 20_000.0, 1900.0, 18_900.0)]
    assert all(o.success for o in validate(session, clean).values())
    future = validate(session, clean, as_of=date(2024, 10, 20))  # October is not closed yet
    closed = future["report_month_closed"]
    assert not closed.success and closed.unexpected_count == 2
    assert closed.unexpected_examples[0]["report_month"] == 202410


def test_a_reading_dated_after_its_delivery_blocks(tmp_path, session):
    landing = tmp_path / "landing"
    path = landing / "power" / "power_daily_20241118.csv"
    path.parent.mkdir(parents=True)
    path.write_text("用电户号,日期,用电量_千瓦时,数据标志\nA1,2024-11-17,10.5,正常\nA1,2024-11-25,11,正常\n",
                    encoding="utf-8")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ingest_feed(con, landing, "power")
        [result] = validate_suites(con, [SUITES["raw_power_daily"]], date(2024, 11, 18), session, "run-1")
    [(_, outcome)] = result.failures("blocking")
    assert outcome.expectation == "reading_date_not_after_delivery" and outcome.unexpected_count == 1


# ---------------------------------------------------------------- which files, and what a batch holds


def write_industry(landing: Path, name: str, rows: list[str]) -> None:
    path = landing / "stats" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\n".join([INDUSTRY_HEADER, *rows]).encode("gb18030"))


def test_a_delivery_with_far_fewer_rows_than_the_one_before_is_named(tmp_path, session):
    """A file cut at a line end loads, short: below min_rows_share (70%) of the rows of the latest
    earlier delivery it warns; at the share it passes; a correction (_v2) and the first delivery
    are not compared."""
    landing, suite = tmp_path / "landing", SUITES["raw_stats_industry"]
    codes = [make_uscc("450102", f"MA5K{i:04d}") for i in range(10)]

    def month(yyyymm: int, n: int) -> list[str]:
        m = yyyymm % 100
        return [f"{code},{yyyymm},1000,{1000 * m},900,{900 * m},10,50" for code in codes[:n]]

    write_industry(landing, "stats_industry_202408.csv", month(202408, 10))
    write_industry(landing, "stats_industry_202409.csv", month(202409, 6))   # 6 < ceil(70% × 10)
    write_industry(landing, "stats_industry_202410.csv", month(202410, 5))   # 5 = ceil(70% × 6)
    write_industry(landing, "stats_industry_202410_v2.csv", month(202410, 1))
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ingest_feed(con, landing, "stats")
        [result] = validate_suites(con, [suite], date(2024, 12, 1), session, "run-1")
    verdicts = {b.name: o.success for b in result.batches for o in b.outcomes
                if o.expectation == "rows_near_previous_delivery"}
    assert verdicts == {"stats_industry_202408.csv": True, "stats_industry_202409.csv": False,
                        "stats_industry_202410.csv": True, "stats_industry_202410_v2.csv": True}
    [(batch, outcome)] = [(b, o) for b, o in result.failures("warning") if o.expectation == "rows_near_previous_delivery"]
    assert (batch.name, outcome.severity, outcome.observed_value) == ("stats_industry_202409.csv", "warning", "rows 6; at least 7")


def test_an_earlier_periods_file_sent_again_under_a_new_name_is_named(tmp_path, session):
    """A file with the same bytes as a delivery of an earlier period fails `not_an_earlier_file_resent`,
    naming that delivery (blocking where the rows carry their period: no valid file repeats another
    month's; snapshots, which may well be unchanged, are not compared); the original and a file that
    differs pass."""
    landing, suite = tmp_path / "landing", SUITES["raw_stats_industry"]
    september = [f"{A},202409,1000,9000,900,8100,10,50", f"{B},202409,2000,18000,1900,17000,10,50"]
    write_industry(landing, "stats_industry_202409.csv", september)
    write_industry(landing, "stats_industry_202410.csv", september)
    write_industry(landing, "stats_industry_202411.csv", [r.replace("202409", "202411") for r in september])
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ingest_feed(con, landing, "stats")
        [result] = validate_suites(con, [suite], date(2024, 12, 20), session, "run-1")
    verdicts = {b.name: o.success for b in result.batches for o in b.outcomes if o.expectation == "not_an_earlier_file_resent"}
    assert verdicts == {"stats_industry_202409.csv": True, "stats_industry_202410.csv": False,
                        "stats_industry_202411.csv": True}
    [outcome] = [o for b, o in result.failures("blocking") if o.expectation == "not_an_earlier_file_resent"]
    assert outcome.unexpected_count == 2
    assert outcome.unexpected_examples[0]["resend_problem"] == (
        "the same rows as stats_industry_202409.csv: that period's file sent again under this name?")
    severities = {s.name: e.severity for s in SUITES.values() for e in s.expectations
                  if e.name == "not_an_earlier_file_resent"}
    assert severities == {"raw_stats_industry": "blocking", "raw_tax_vat": "blocking", "raw_customs_export": "blocking",
                          "raw_power_daily": "blocking", "raw_stats_projects": "warning"}


def test_a_project_library_that_repeats_the_month_before_warns_only_where_something_was_invested():
    """The library's rows carry no month: a library with investment in it, byte for byte the month
    before, is named (a warning: a small library investing flat amounts repeats itself truly, as
    the generator's tiny sample does); one where nothing was invested (projects not started) is not."""
    lookups = d.Lookups(as_of=date(2024, 11, 25), identical_to="stats_projects_202409.csv",
                        params=SUITES["raw_stats_projects"].params)
    invested = pd.DataFrame({"investment_month_10k_yuan": ["0", "800"]})
    idle = pd.DataFrame({"investment_month_10k_yuan": ["0", None]})
    assert d.add_resend_problem(invested, lookups)["resend_problem"].notna().all()
    assert d.add_resend_problem(idle, lookups)["resend_problem"].isna().all()


def test_a_project_code_first_seen_after_its_project_entered_the_library_is_named(tmp_path, session):
    """A code the library never listed, for a project in the library since before the previous
    library month, is a code typed anew (a new code is a new project with an empty base quarter):
    one warns, naming it; more than half of the file, the month before's projects gone from it,
    blocks (hyphens dropped from every code made the budget ×2); more than half with the month
    before's projects all still there warns only. A project new to the library this month passes."""
    header = ("项目代码,项目名称,统一社会信用代码,行政区划代码,行业代码,建设性质,计划总投资_万元,开工年月,入库年月,"
              "本月完成投资_万元,本月设备购置_万元,项目标签,竣工年月")

    def library(month: int, codes: list[tuple[str, int]]) -> None:
        path = tmp_path / "landing" / "stats" / f"stats_projects_{month}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes("\n".join([header, *(f"{code},项目,{A},450102,3311,新建,50000,{entered},{entered},800,100,,"
                                             for code, entered in codes)]).encode("gb18030"))

    old = [("2024-450102-33-01-000001", 202403), ("2024-450102-33-01-000002", 202404),
           ("2024-450102-33-01-000003", 202405)]
    library(202409, old)
    library(202410, [("2024－450102－33－01－000001", 202403), *old[1:], ("2024-450102-33-01-000004", 202410)])
    library(202411, [(code.replace("-", ""), entered) for code, entered in old])
    # most rows new with old entry months, but the projects of the month before all still listed:
    # projects late to the list (a hand-made library, say), named only
    late = [(f"2024-450102-33-01-00010{i}", 202401) for i in range(4)]
    library(202412, [(code.replace("-", ""), entered) for code, entered in old] + late)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ingest_feed(con, tmp_path / "landing", "stats")
        [result] = validate_suites(con, [SUITES["raw_stats_projects"]], date(2025, 1, 20), session, "run-1")
    failed = {(b.name, o.expectation): o for b, o in [*result.failures("warning"), *result.failures("blocking")]
              if o.expectation.startswith("project_codes_listed_since_entry")}
    assert set(failed) == {("stats_projects_202410.csv", "project_codes_listed_since_entry"),
                           ("stats_projects_202411.csv", "project_codes_listed_since_entry"),
                           ("stats_projects_202411.csv", "project_codes_listed_since_entry_broadly"),
                           ("stats_projects_202412.csv", "project_codes_listed_since_entry")}
    [example] = failed[("stats_projects_202410.csv", "project_codes_listed_since_entry")].unexpected_examples
    assert example["code_problem"] == ("project code 2024－450102－33－01－000001 not in any earlier library, though "
                                       "入库年月 202403 is not after the previous library month 202409")
    assert failed[("stats_projects_202411.csv", "project_codes_listed_since_entry_broadly")].severity == "blocking"


def test_a_project_listed_again_under_a_new_code_is_named_with_both_codes(tmp_path, session):
    """An unfinished project gone from the library while a code new to it, of the same owner and
    开工年月, enters it that month is one project listed again (its new code has no base quarter: all
    its Q4 investment an increment): a warning naming both. A project that completed before it left,
    a newcomer of another owner or of another 开工年月, and a code the library knew, pass."""
    header = ("项目代码,项目名称,统一社会信用代码,行政区划代码,行业代码,建设性质,计划总投资_万元,开工年月,入库年月,"
              "本月完成投资_万元,本月设备购置_万元,项目标签,竣工年月")
    other = make_uscc("450102", "MA5K5678")

    def library(month: int, rows: list[tuple[str, str, int, str]]) -> None:
        path = tmp_path / "landing" / "stats" / f"stats_projects_{month}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes("\n".join([header, *(f"{code},项目,{owner},450102,3311,新建,50000,{start},{month},800,100,,{done}"
                                             for code, owner, start, done in rows)]).encode("gb18030"))

    library(202409, [("2022-450102-33-01-000001", A, 202203, ""), ("2022-450102-33-01-000002", A, 202205, "202409"),
                     ("2022-450102-33-01-000003", A, 202206, "")])
    library(202410, [("2022-450102-33-01-000003", A, 202206, ""),
                     ("2024-450102-33-01-000011", A, 202203, ""),       # 000001 listed again
                     ("2024-450102-33-01-000012", A, 202205, ""),       # 000002 completed: not a relisting
                     ("2024-450102-33-01-000013", other, 202203, ""),   # another owner
                     ("2024-450102-33-01-000014", A, 202204, "")])      # another start
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ingest_feed(con, tmp_path / "landing", "stats")
        [result] = validate_suites(con, [SUITES["raw_stats_projects"]], date(2025, 1, 20), session, "run-1")
    failed = [(b.name, o) for b, o in result.failures("warning")
              if o.expectation == "project_codes_not_replacing_a_gone_project"]
    assert [name for name, _ in failed] == ["stats_projects_202410.csv"]
    [example] = failed[0][1].unexpected_examples
    assert example["_line"] == 3 and example["relisted_problem"] == (
        f"新项目代码 2024-450102-33-01-000011 与上一期在建、本期未列的项目 2022-450102-33-01-000001 "
        f"业主（{A}）和开工年月（202203）相同：是否同一项目换了代码？")


def test_a_library_of_year_to_date_sums_stops_the_run_from_the_years_latest_versions(tmp_path, session):
    """The sum a month is compared with is the project's months of the same year as delivered last
    (March's _v2, not both versions; not December before): May's column holding 550 against
    January–April's 500 stops the run, the months before it pass."""
    header = ("项目代码,项目名称,统一社会信用代码,行政区划代码,行业代码,建设性质,计划总投资_万元,开工年月,入库年月,"
              "本月完成投资_万元,本月设备购置_万元,项目标签,竣工年月")
    codes = [f"2024-450102-33-01-00000{i}" for i in range(1, 9)]

    def library(name: str, investment: int) -> None:
        path = tmp_path / "landing" / "stats" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes("\n".join([header, *(f"{code},项目,{A},450102,3311,新建,50000,202301,202301,{investment},0,,"
                                             for code in codes)]).encode("gb18030"))

    library("stats_projects_202312.csv", 1000)
    for month in (202401, 202402, 202403, 202404):
        library(f"stats_projects_{month}.csv", 100)
    library("stats_projects_202403_v2.csv", 200)
    library("stats_projects_202405.csv", 550)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ingest_feed(con, tmp_path / "landing", "stats")
        [result] = validate_suites(con, [SUITES["raw_stats_projects"]], date(2024, 6, 20), session, "run-1")
    failed = [(b.name, o) for b, o in result.failures("blocking") if o.expectation == "month_investment_not_year_to_date"]
    assert [name for name, _ in failed] == ["stats_projects_202405.csv"]
    assert [e["ytd_problem"] for e in failed[0][1].unexpected_examples] == [
        "本月完成投资 550 万元 ≥ 该项目本年此前 4 个月合计 500 万元（本文件 8/8 个项目如此：是否填成了自年初累计？）"] * 8


def test_a_customs_file_cut_to_sixty_percent_of_its_lines_is_named(tmp_path, session):
    """Cut at a line end, a customs file loads with no torn row: 6 lines after a month of 10 is
    below 70% of it."""
    header = "报关单号,项号,出口日期,经营单位编码,统一社会信用代码,商品编码,贸易方式,运抵国,美元金额,人民币金额_元"
    for month, lines in ((202409, 10), (202410, 6)):
        path = tmp_path / "landing" / "customs" / f"customs_export_{month}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([header, *(f"D{month}{i:04d},1,{month // 100}-{month % 100:02d}-03,4501234567,{A},"
                                               "8471300000,0110,VNM,1000.00,7100.00" for i in range(lines))]) + "\n",
                        encoding="utf-8")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ingest_feed(con, tmp_path / "landing", "customs")
        [result] = validate_suites(con, [SUITES["raw_customs_export"]], date(2024, 11, 25), session, "run-1")
    [(batch, outcome)] = [(b, o) for b, o in result.failures("warning") if o.expectation == "rows_near_previous_delivery"]
    assert (batch.name, outcome.observed_value) == ("customs_export_202410.csv", "rows 6; at least 7")


def test_new_files_once_failing_files_again_until_superseded(tmp_path, session):
    landing, suite = tmp_path / "landing", SUITES["raw_stats_industry"]
    ds = DATASET_BY_TABLE["stats_industry"]
    write_industry(landing, "stats_industry_202409.csv", [f"{A},202409,1000,9000,900,8100,10,50",
                                                          f"{B},202409,2000,18000,1900,17000,10,50"])
    write_industry(landing, "stats_industry_202410.csv", [f"{A},202410,1500000,10500000,950000,9000000,10,50",
                                                          f"{B},202410,2000000,20000000,1900000,18900000,10,50",
                                                          f"{BAD_CHECK},202410,5,5,5,5,1,1"])
    as_of = date(2024, 12, 1)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ingest_feed(con, landing, "stats")
        # The quarantined row is part of the batch, with its reason.
        first = warehouse.deliveries_to_validate(con, ds, suite.asset, as_of)
        assert [x.file_name for x in first] == ["stats_industry_202409.csv", "stats_industry_202410.csv"]
        batch = warehouse.file_batch(con, ds, first[1], as_of)
        assert len(batch) == 3 and batch["_quarantined"].notna().sum() == 1
        assert "invalid USCC" in batch.loc[batch["uscc"] == BAD_CHECK, "_quarantined"].iloc[0]

        [result] = validate_suites(con, [suite], as_of, session, "run-1")
        assert result.passed("blocking") is False
        failed = {o.expectation for _, o in result.failures("blocking")}
        assert "unit_median_output" in failed
        stored = con.execute("select count(distinct file_name), count(*) from marts.dq_check_results").fetchone()
        assert stored == (2, 2 * len(suite.expectations))

        # Next run: only the failing file comes back.
        again = warehouse.deliveries_to_validate(con, ds, suite.asset, as_of)
        assert [(x.file_name, x.revalidation) for x in again] == [("stats_industry_202410.csv", True)]

        # A corrected re-delivery of every row clears it.
        write_industry(landing, "stats_industry_202410_v2.csv", [f"{A},202410,1000,10000,950,9050,10,50",
                                                                 f"{B},202410,2000,20000,1900,18900,10,50"])
        ingest_feed(con, landing, "stats")
        [result] = validate_suites(con, [suite], as_of, session, "run-2")
        assert result.passed("blocking")
        assert result.cleared == ["stats_industry_202410.csv"]
        assert [b.name for b in result.batches] == ["stats_industry_202410_v2.csv"]
        latest = con.execute(f"select file_name, expectation, success from {warehouse.LATEST_VIEW} "
                             "where file_name = 'stats_industry_202410.csv'").fetchall()
        assert latest == [("stats_industry_202410.csv", "superseded", True)]
        assert warehouse.deliveries_to_validate(con, ds, suite.asset, as_of) == []
        examples = con.execute("select unexpected_examples from marts.dq_check_results "
                               "where run_id = 'run-1' and expectation = 'unit_jump_vs_previous_report' "
                               "and file_name = 'stats_industry_202410.csv'").fetchone()[0]
        assert {e["uscc"] for e in json.loads(examples)} == {A, B}


def test_files_not_arrived_by_the_as_of_date_wait(tmp_path):
    landing = tmp_path / "landing"
    write_industry(landing, "stats_industry_202410.csv", [f"{A},202410,1000,10000,950,9050,10,50"])
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ingest_feed(con, landing, "stats")
        ds = DATASET_BY_TABLE["stats_industry"]
        assert warehouse.deliveries_to_validate(con, ds, "raw/stats_industry", date(2024, 11, 14)) == []
        assert len(warehouse.deliveries_to_validate(con, ds, "raw/stats_industry", date(2024, 11, 15))) == 1


def test_workers_and_configurations_built_once_give_gx_own_results(tmp_path, monkeypatch):
    """A first load validates hundreds of files in GX worker processes, each validation building an
    expectation's configuration once (`_configurations_built_once`). The outcomes, their order, the
    stored validation results and the Data Docs are those of one process with GX's own per-read
    rebuild of the configurations."""
    import contextlib

    from dagster_project.lib.generate import generate_feeds
    from dagster_project.lib.quality import gx_runner

    landing, as_of = tmp_path / "landing", date(2024, 11, 18)
    generate_feeds(landing, scale="tiny", seed=3, as_of=as_of)
    with duckdb.connect(str(tmp_path / "loaded.duckdb")) as con:
        for feed in ("stats", "customs"):
            ingest_feed(con, landing, feed)
    raw_suites = [s for s in SUITES.values() if s.batch == "file" and s.dataset in ("stats_industry", "customs_export")]
    seen = {}
    for variant, workers in (("workers", "2"), ("one process", "0"), ("GX's own", "0")):
        monkeypatch.setenv(gx_runner.ENV_WORKERS, workers)
        monkeypatch.setattr(gx_runner, "MIN_BATCHES_PER_WORKER", 1)
        if variant == "GX's own":
            monkeypatch.setattr(gx_runner, "_configurations_built_once", contextlib.nullcontext)
        wh, docs = tmp_path / f"{variant}.duckdb", tmp_path / f"docs {variant}"
        shutil.copy(tmp_path / "loaded.duckdb", wh)
        with duckdb.connect(str(wh)) as con:
            session = gx_runner.GxSession("same-run", docs)
            results = validate_suites(con, raw_suites, as_of, session, "same-run")
        assert session.validations == sum(len(r.batches) for r in results) > 2 * len(raw_suites)
        assert session.build_docs().exists()
        store = session.ctx.validation_results_store
        seen[variant] = (
            [(b.name, o.expectation, o.success, o.observed_value, o.unexpected_examples)
             for r in results for b in r.batches for o in b.outcomes],
            {key.to_tuple()[-1]: [r.to_json_dict() for r in store.get(key).results] for key in store.list_keys()},
            sorted((p.parent.parent.name, p.name) for p in docs.rglob("validations/*/*/*/*.html")),  # not the run time
        )
    assert len(seen["workers"][2]) == len(seen["workers"][1]) == session.validations
    assert seen["workers"] == seen["one process"] == seen["GX's own"]
    assert any(not success for _, _, success, _, _ in seen["workers"][0]), "the sample feeds carry defects"


def test_gx_does_not_fingerprint_the_batches(session):
    """The batch's identity is its file (and lines) or its mart; GX's hash of every value is skipped.
    If a GX upgrade renames the size limit that turns it off, this fails."""
    clean = [(A, 202410, 1000.0, 10_000.0, 900.0, 9000.0)]
    assert all(o.success for o in validate(session, clean).values())
    store = session.ctx.validation_results_store
    markers = [store.get(key).meta["batch_markers"] for key in store.list_keys()]
    assert markers and all("ge_load_time" in m and "pandas_data_fingerprint" not in m for m in markers)


def test_gx_gets_the_batch_with_its_derived_columns_consolidated_and_the_same_outcomes(session, monkeypatch):
    """The derived columns are added one by one (a block each); GX copies the frame for its metrics
    and merged those blocks again in every copy, so the frame is consolidated once before GX sees it."""
    from dagster_project.lib.quality import gx_runner

    rows = [(A, 202410, 1_050_000.0, 10_050_000.0, 950_000.0, 9_050_000.0), (B, 202410, 1000.0, 10_000.0, 900.0, 9000.0)]
    suite = SUITES["raw_stats_industry"]
    frame = d.derive(stats_batch(rows), suite.derive,
                     d.Lookups(as_of=date(2025, 2, 1), directory=frozenset({A, B, C}), previous_reports=PREVIOUS,
                               params=suite.params))
    assert not frame._mgr.is_consolidated()
    seen = []
    real = gx_runner._consolidated
    monkeypatch.setattr(gx_runner, "_consolidated", lambda f: seen.append(real(f)) or seen[-1])
    values = dict(run_values(date(2025, 2, 1)), **{"$file_period": 202410})
    outcomes = session.validate(suite, frame, values, "stats_industry_202410.csv")
    assert seen and seen[0]._mgr.is_consolidated() and seen[0].equals(frame)
    monkeypatch.setattr(gx_runner, "_consolidated", lambda f: f)  # GX on the frame as built: the same outcomes
    assert session.validate(suite, frame, values, "stats_industry_202410.csv") == outcomes


def test_configurations_built_once_restores_gx_property_also_after_an_error():
    from great_expectations.expectations.expectation import Expectation

    from dagster_project.lib.quality.gx_runner import _configurations_built_once

    gx_property = Expectation.__dict__["configuration"]
    with pytest.raises(RuntimeError), _configurations_built_once():
        assert Expectation.__dict__["configuration"] is not gx_property
        raise RuntimeError("a validation fails")
    assert Expectation.__dict__["configuration"] is gx_property


def test_gx_imported_in_background_once_and_a_session_waits_for_it():
    script = (
        "import sys, threading\n"
        "from dagster_project.lib.quality import gx_runner\n"
        "assert 'great_expectations' not in sys.modules\n"
        "gx_runner.import_gx_in_background(); gx_runner.import_gx_in_background()\n"
        "assert [t.name for t in threading.enumerate()].count('gx-import') <= 1\n"
        "gx_runner.GxSession('run')\n"
        "assert not gx_runner._BACKGROUND_IMPORT.is_alive() and 'great_expectations' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr



def test_data_docs_keep_earlier_runs_and_load_nothing_from_the_internet(tmp_path):
    """A second run validating other batches leaves the first run's pages and lists both runs; no page
    or stylesheet of the site loads a script, style, font or image from outside it, and no tag loading
    the site's own files carries integrity/crossorigin attributes (from disk, file://, the browser
    refuses such a script: the index's suite tab stayed dead)."""
    import re as regex

    from dagster_project.lib.quality.gx_runner import GxSession
    from dagster_project.lib.quality.offline_docs import external_loads

    docs = tmp_path / "data_docs"
    clean = [(A, 202410, 1000.0, 10_000.0, 900.0, 9000.0), (B, 202410, 2000.0, 20_000.0, 1900.0, 18_900.0)]
    for run in ("run-1", "run-2"):
        session = GxSession(run, docs)
        validate(session, clean)
        session.build_docs()
    pages = {p.relative_to(docs / "validations").parts[1] for p in docs.rglob("validations/*/*/*/*.html")}
    assert pages == {"run-1", "run-2"}
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "run-1" in index and "run-2" in index
    assert external_loads(docs) == []
    vendor = set(regex.findall(r'(?:src|href)="([^"]*static/vendor/[^"]+)"', index))
    assert vendor and all((docs / v).resolve().is_file() for v in vendor)
    local_tags = [t for page in docs.rglob("*.html")
                  for t in regex.findall(r"<(?:script|link)\b[^>]*static/vendor/[^>]*>", page.read_text(encoding="utf-8"))]
    assert len(local_tags) > 10 and not [t for t in local_tags if "integrity=" in t or "crossorigin=" in t]
    assert not [page for page in docs.rglob("*.html") if "newsletter" in page.read_text(encoding="utf-8")]


def test_data_docs_index_lists_a_validation_failing_only_warnings_as_warning(tmp_path):
    """GX's index has two statuses: a file whose only unmet expectations are warnings (they stop
    nothing) was listed "Failed" like one that stops the run. Three runs: a clean file (Success), one
    enterprise outside the directory (a warning: Warning, a yellow triangle), a file in 元 instead of
    千元 (blocking, with warnings beside it: Failed)."""
    import re as regex

    from dagster_project.lib.quality.gx_runner import GxSession

    docs = tmp_path / "data_docs"
    outside = make_uscc("450302", "MA5K7777")
    clean = [(A, 202410, 1000.0, 10_000.0, 900.0, 9000.0), (B, 202410, 2000.0, 20_000.0, 1900.0, 18_900.0)]
    runs = {"run-clean": clean, "run-warning": [clean[0], (outside, 202410, 2000.0, 20_000.0, 1900.0, 18_900.0)],
            "run-blocking": [(A, 202410, 1_050_000.0, 10_050_000.0, 950_000.0, 9_050_000.0),
                             (B, 202410, 2_100_000.0, 20_100_000.0, 2_000_000.0, 19_000_000.0)]}
    unmet = {}
    for run, rows in runs.items():
        session = GxSession(run, docs)
        unmet[run] = {o.severity for o in validate(session, rows).values() if not o.success}
        session.build_docs()
    assert unmet == {"run-clean": set(), "run-warning": {"warning"}, "run-blocking": {"blocking", "warning"}}
    index = (docs / "index.html").read_text(encoding="utf-8")
    listed = dict(regex.findall(r"'run_name': '(run-[a-z]+)'.*?'_validation_success_text': '(\w+)'", index))
    assert listed == {"run-clean": "Success", "run-warning": "Warning", "run-blocking": "Failed"}
    assert index.count("fa-exclamation-triangle text-warning") == 1
    # each validation's own page says the same in its overview
    pages = {run: list((docs / "validations").rglob(f"*/{run}/*/*.html")) for run in runs}
    assert all(len(found) == 1 for found in pages.values()), pages
    status = {run: regex.search(r"Status:.*?</i>\s*(\w+)", found[0].read_text(encoding="utf-8"), regex.S).group(1)
              for run, found in pages.items()}
    assert status == {"run-clean": "Succeeded", "run-warning": "Warning", "run-blocking": "Failed"}
    text = regex.sub(r"\s+", " ", regex.sub(r"<[^>]+>", "", pages["run-warning"][0].read_text(encoding="utf-8")))
    assert "Data asset: raw_stats_industry Status: Warning" in text


def _staging_with_months(con, stats: list[date], projects: list[date], power: list[date], customs: list[date]) -> None:
    con.execute("create schema if not exists staging")
    con.execute("create or replace table staging.stg_stats__industry as select * from (values (date '2000-01-01')) t(report_month) where false")
    con.execute("create or replace table staging.stg_stats__projects as select * from (values (date '2000-01-01')) t(report_month) where false")
    con.execute("create or replace table staging.stg_power__daily as select * from (values (date '2000-01-01')) t(reading_date) where false")
    con.execute("create or replace table staging.stg_customs__export as select * from (values (date '2000-01-01')) t(export_month) where false")
    for table, column, months in (("stg_stats__industry", "report_month", stats), ("stg_stats__projects", "report_month", projects),
                                  ("stg_power__daily", "reading_date", power), ("stg_customs__export", "export_month", customs)):
        for m in months:
            con.execute(f"insert into staging.{table} ({column}) values (?)", [m])


def _months(first: date, last: date) -> list[date]:
    out = []
    while first <= last:
        out.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return out


def test_data_docs_index_reads_each_stored_result_once_and_lists_what_gx_lists(tmp_path, monkeypatch):
    """The index of three runs is the same as GX's own builder makes from the same store, while each
    build reads only the results stored since the previous one (a stored result never changes)."""
    from great_expectations.data_context.data_context.abstract_data_context import AbstractDataContext

    from dagster_project.lib.quality.gx_runner import GxSession
    from dagster_project.lib.quality.offline_docs import HistoryIndexBuilder, make_offline

    reads = []
    real_get = AbstractDataContext.get_validation_result

    def counted(self, *args, **kwargs):
        reads.append(kwargs.get("run_id").run_name)
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(AbstractDataContext, "get_validation_result", counted)
    docs = tmp_path / "data_docs"
    clean = [(A, 202410, 1000.0, 10_000.0, 900.0, 9000.0), (B, 202410, 2000.0, 20_000.0, 1900.0, 18_900.0)]
    for run in ("run-1", "run-2", "run-3"):
        session = GxSession(run, docs)
        validate(session, clean)
        reads.clear()
        session.build_docs()
        assert reads == [run]  # the new result only
    cached = (docs / "index.html").read_text(encoding="utf-8")

    # GX's own way, every stored result read again, on the same store
    monkeypatch.setattr(HistoryIndexBuilder, "_add_validations_to_index_links",
                        HistoryIndexBuilder.__mro__[1]._add_validations_to_index_links)
    session = GxSession("run-4", docs)
    reads.clear()
    session.ctx.build_data_docs(site_names=["gxindustry_data_quality"],
                                resource_identifiers=session.ctx.validation_results_store.list_keys()[:1])
    make_offline(docs)
    assert sorted(reads) == ["run-1", "run-2", "run-3"]
    assert (docs / "index.html").read_text(encoding="utf-8") == cached


def test_a_base_quarter_or_look_back_month_with_nothing_delivered_is_named(tmp_path, session):
    """The rules compare Q4 2024 with Q4 2023 (the catalogue's base quarter) and look back 12 months
    for new export destinations. Everything there: the suite passes. A history that starts in
    January 2024: each feed and month missing is named, as a warning (the budget still runs)."""
    suite = SUITES["mart_base_periods"]
    assert catalogue_values() == {"policy_quarter_start": date(2024, 10, 1), "base_quarter_start": date(2023, 10, 1),
                                  "base_quarter_end": date(2023, 12, 31), "new_market_lookback_start": date(2023, 10, 1),
                                  "loan_product": "工业流动资金贷"}
    as_of = date(2024, 11, 25)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        everything = _months(date(2023, 1, 1), date(2024, 10, 1))
        _staging_with_months(con, everything, everything, [m.replace(day=17) for m in everything], everything)
        [result] = validate_suites(con, [suite], as_of, session, "run-1")
        assert result.passed("warning") and result.passed("blocking")
        [batch] = result.batches
        assert batch.rows == 4 + 3 + 3 + 12  # stats from September 2023, projects and power Q4 2023, customs 2023-10..2024-09

        this_year = _months(date(2024, 1, 1), date(2024, 10, 1))
        _staging_with_months(con, this_year, this_year, this_year, [m for m in everything if m != date(2024, 3, 1)])
        [result] = validate_suites(con, [suite], as_of, session, "run-2")
        [(_, outcome)] = result.failures("warning")
        assert outcome.expectation == "base_periods_delivered" and outcome.unexpected_count == 4 + 3 + 3 + 1
        missing = {e["missing_period"] for e in outcome.unexpected_examples}
        assert "stats_industry: nothing delivered for 2023-09" in missing
        assert "customs_export: nothing delivered for 2024-03" in missing
        assert result.passed("blocking")

        # September's customs arrive on 10 October: not missing on the 6th, missing from the 10th.
        _staging_with_months(con, everything, everything, [m.replace(day=17) for m in everything],
                             [m for m in everything if m < date(2024, 9, 1)])
        [result] = validate_suites(con, [suite], date(2024, 10, 6), session, "run-3")
        assert result.passed("warning")
        [result] = validate_suites(con, [suite], date(2024, 10, 10), session, "run-4")
        [(_, outcome)] = result.failures("warning")
        assert {e["missing_period"] for e in outcome.unexpected_examples} == {"customs_export: nothing delivered for 2024-09"}


def test_a_month_of_the_policy_year_due_and_not_delivered_is_named(tmp_path, session):
    """October's project library is due on 15 November: on the 14th nothing is missing, from the
    15th its absence is named (the rules would take October as reported and empty), as is a month
    of the year before it (equipment bought in the year) and a customs month due on the 10th. The
    monthly report is needed from September on: Q4's output starts from September's cumulative."""
    suite = SUITES["mart_policy_periods"]
    everything = _months(date(2023, 1, 1), date(2024, 12, 1))
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        _staging_with_months(con, everything, everything, [], everything)
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
        assert result.passed("warning") and result.passed("blocking")
        [batch] = result.batches
        assert batch.rows == 2 + 10 + 1  # stats 2024-09..10, projects 2024-01..10, customs 2024-10

        before_october = [m for m in everything if m < date(2024, 10, 1)]
        _staging_with_months(con, everything, [m for m in before_october if m != date(2024, 3, 1)], [], everything)
        [result] = validate_suites(con, [suite], date(2024, 11, 14), session, "run-2")
        [(_, outcome)] = result.failures("warning")
        assert {e["missing_period"] for e in outcome.unexpected_examples} == {
            "stats_projects: nothing delivered for 2024-03"}
        [result] = validate_suites(con, [suite], date(2024, 11, 15), session, "run-3")
        [(_, outcome)] = result.failures("warning")
        assert {e["missing_period"] for e in outcome.unexpected_examples} == {
            "stats_projects: nothing delivered for 2024-03", "stats_projects: nothing delivered for 2024-10"}
        assert result.passed("blocking")

        _staging_with_months(con, [m for m in everything if m != date(2024, 9, 1)], everything, [],
                             [m for m in everything if m != date(2024, 10, 1)])
        [result] = validate_suites(con, [suite], date(2024, 11, 10), session, "run-4")
        [(_, outcome)] = result.failures("warning")
        assert {e["missing_period"] for e in outcome.unexpected_examples} == {
            "stats_industry: nothing delivered for 2024-09", "customs_export: nothing delivered for 2024-10"}


def test_a_planned_total_revised_twofold_warns_and_tenfold_blocks_naming_the_report(tmp_path, session):
    """M11 pays a share of the latest plan: a plan ×10 from one report to the next (a digit, or 元
    for 万元) stops the run, naming project, file and line; ×2 up to just under ×10 (either way) is
    a revision to look at; under ×2 passes."""
    suite = SUITES["mart_project_plans"]
    plans = {"P1": [100, 199.99], "P2": [100, 200], "P3": [1000, 100.01], "P4": [100, 1000], "P5": [None, 100, 100],
             "P6": [100, 100]}
    tags = {"P6": ["双百双新;重大产业标志性工程", "重大产业标志性工程"]}  # a tag dropped: M11's 双百双新 award gone
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        _project_reports(con, {code: [{"plan": plan, "tags": tags.get(code, ["双百双新"] * 3)[k]}
                                      for k, plan in enumerate(series)] for code, series in plans.items()})
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
    failures = [o for _, o in result.failures("warning")]
    warned = {(e["project_code"], e["plan_change"]) for o in failures if o.expectation == "plan_not_revised_twofold"
              for e in o.unexpected_examples}
    assert warned == {("P2", "计划总投资 202408 100.00 万元 → 202409 200.00 万元"),
                      ("P3", "计划总投资 202408 1,000.00 万元 → 202409 100.01 万元"),
                      ("P4", "计划总投资 202408 100.00 万元 → 202409 1,000.00 万元")}
    [tagged] = [o for o in failures if o.expectation == "tags_unchanged"]
    assert [(e["project_code"], e["tag_change"]) for e in tagged.unexpected_examples] == [
        ("P6", "项目标签 202408「双百双新;重大产业标志性工程」→ 202409「重大产业标志性工程」")]
    [(_, blocked)] = result.failures("blocking")
    assert blocked.expectation == "plan_not_changed_tenfold"
    assert blocked.unexpected_examples == [{
        "plan_change_factor": 10.0, "project_code": "P4", "report_month": "202409",
        "source_file": "stats_projects_202409.csv", "source_line": 5,
        "plan_change": "计划总投资 202408 100.00 万元 → 202409 1,000.00 万元", "tag_change": None,
        "owner_change": None, "start_change": None, "plan_removed": None, "type_change": None}]


def _project_reports(con, reports):
    """staging.stg_stats__projects from {project: [report of 2024-08, of 2024-09, …]}, each report a
    dict of what differs from plan 100万, tags 双百双新, owner A and start 2024-03."""
    con.execute("create schema staging")
    con.execute("""create table staging.stg_stats__projects (project_code varchar, report_month date, uscc varchar,
                   start_month date, planned_investment_yuan decimal(18, 2), tags varchar, construction_type varchar,
                   source_file varchar, source_line integer)""")
    for line, (code, series) in enumerate(reports.items(), start=2):
        for k, report in enumerate(series):
            month, plan = date(2024, 8 + k, 1), report.get("plan", 100)
            con.execute("insert into staging.stg_stats__projects values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [code, month, report.get("uscc", A), report.get("start", date(2024, 3, 1)),
                         None if plan is None else plan * 10_000, report.get("tags", "双百双新"),
                         report.get("type", "技术改造"), f"stats_projects_{month:%Y%m}.csv", line])


def test_a_project_whose_owner_or_start_month_changes_between_reports_is_named(tmp_path, session):
    """dim_project puts a project's whole history under its latest owner and start month: a code
    reused for another enterprise's project, a start moved into Q4 (a new start for M15) or blanked
    (a started 双百双新 project unstarted for M11), a plan blanked (M11's share gone) or a 建设性质
    changed (M20) is named with both reports' values; an owner matched later (blank before), a start
    filled in where it was blank, and unchanged ones pass."""
    suite = SUITES["mart_project_plans"]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        _project_reports(con, {"REUSED": [{}, {"uscc": B}], "MATCHED": [{"uscc": ""}, {}],
                               "MOVED": [{}, {"start": date(2024, 10, 1)}], "SAME": [{}, {}],
                               "BLANKED": [{}, {"start": None}], "STARTED": [{"start": None}, {}],
                               "UNPLANNED": [{}, {"plan": None}], "RETYPED": [{}, {"type": "改建"}]})
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
    assert result.passed("blocking")
    failures = {o.expectation: o for _, o in result.failures("warning")}
    assert set(failures) == {"owner_unchanged", "start_month_unchanged", "plan_not_removed", "construction_type_unchanged"}
    assert [(e["project_code"], e["source_line"], e["owner_change"]) for e in failures["owner_unchanged"].unexpected_examples] == [
        ("REUSED", 2, f"项目业主 202408 {A} → 202409 {B}：该项目代码的全部历史记入新业主")]
    assert [(e["project_code"], e["start_change"]) for e in failures["start_month_unchanged"].unexpected_examples] == [
        ("BLANKED", "开工年月 202408 202403 → 202409 （空）"), ("MOVED", "开工年月 202408 202403 → 202409 202410")]
    assert [(e["project_code"], e["plan_removed"]) for e in failures["plan_not_removed"].unexpected_examples] == [
        ("UNPLANNED", "计划总投资 202408 100.00 万元 → 202409（空）")]
    assert [(e["project_code"], e["type_change"]) for e in failures["construction_type_unchanged"].unexpected_examples] == [
        ("RETYPED", "建设性质 202408 技术改造 → 202409 改建")]


def test_a_loan_above_ten_billion_yuan_blocks_and_one_at_it_passes(session):
    """贷款金额_万元 is in 万元: 1,000,000 (100亿元) is the largest loan taken as written; above it a
    principal keyed in 元 (×10,000), which M23's cap per enterprise would hide, stops the run."""
    suite = SUITES["raw_registers_loans"]
    loans = pd.DataFrame({
        "uscc": [A, B], "lender": ["桂林银行", "柳州银行"], "product": ["工业流动资金贷"] * 2,
        "disbursed_on": pd.to_datetime(["2024-10-08", "2024-10-09"]),
        "matures_on": pd.to_datetime(["2025-10-08", "2025-10-09"]),
        "principal_10k_yuan": [1_000_000.0, 7_100_000.0], "annual_rate_pct": [3.45, 3.45],
        "_line": [3, 4], "_quarantined": [None, None]})
    frame = d.derive(loans, suite.derive, d.Lookups(as_of=date(2024, 11, 25), directory=frozenset({A, B}),
                                                     params=suite.params))
    out = {o.expectation: o for o in session.validate(suite, frame, run_values(date(2024, 11, 25)), "registers_loans.xlsx")}
    plausible = out["principal_plausible"]
    assert not plausible.success and plausible.severity == "blocking" and plausible.unexpected_count == 1
    assert [(e["_line"], e["uscc"]) for e in plausible.unexpected_examples] == [(4, B)]


def test_a_loan_rate_typed_as_a_fraction_is_named(session):
    """年利率_百分比 0.0365 is 3.65% typed as a fraction (M23 paid a hundredth of its subsidy): a
    warning naming the line; 0.5 and 3.45 pass."""
    suite = SUITES["raw_registers_loans"]
    loans = pd.DataFrame({
        "uscc": [A, B, A], "lender": ["桂林银行", "柳州银行", "柳州银行"], "product": ["工业流动资金贷"] * 3,
        "disbursed_on": pd.to_datetime(["2024-10-08", "2024-10-09", "2024-10-10"]),
        "matures_on": pd.to_datetime(["2025-10-08", "2025-10-09", "2025-10-10"]),
        "principal_10k_yuan": [600.0, 600.0, 600.0], "annual_rate_pct": [0.0365, 0.5, 3.45],
        "_line": [3, 4, 5], "_quarantined": [None, None, None]})
    frame = d.derive(loans, suite.derive, d.Lookups(as_of=date(2024, 11, 25), directory=frozenset({A, B}),
                                                     params=suite.params))
    out = {o.expectation: o for o in session.validate(suite, frame, run_values(date(2024, 11, 25)), "registers_loans.xlsx")}
    fraction = out["rate_in_per_cent"]
    assert not fraction.success and fraction.severity == "warning" and fraction.unexpected_count == 1
    assert [e["_line"] for e in fraction.unexpected_examples] == [3]
    assert out["rate_plausible"].success


def test_a_loan_dated_years_ahead_or_maturing_before_it_is_disbursed_is_named_on_the_summary(session):
    """A 放款日期 typed 2042 for 2024 drops the loan from the quarter (cut by its own date) and makes
    it mature before it is disbursed: both named in red on 汇总 (`on_summary`), not on 数据质量
    only; a loan dated within a year of the as-of date is a warning there only (a run for an
    earlier day than the register's copy sees its later rows)."""
    suite = SUITES["raw_registers_loans"]
    loans = pd.DataFrame({
        "uscc": [A, B, A], "lender": ["桂林银行", "柳州银行", "柳州银行"], "product": ["工业流动资金贷"] * 3,
        "disbursed_on": pd.to_datetime(["2042-10-01", "2025-11-25", "2025-11-26"]),
        "matures_on": pd.to_datetime(["2025-10-01", "2026-11-25", "2026-11-26"]),
        "principal_10k_yuan": [600.0] * 3, "annual_rate_pct": [3.65] * 3,
        "_line": [3, 4, 5], "_quarantined": [None] * 3})
    frame = d.derive(loans, suite.derive, d.Lookups(as_of=date(2024, 11, 25), directory=frozenset({A, B}),
                                                     params=suite.params))
    out = {o.expectation: o for o in session.validate(suite, frame, run_values(date(2024, 11, 25)), "registers_loans.xlsx")}
    assert [e["_line"] for e in out["disbursed_not_future"].unexpected_examples] == [3, 4, 5]
    assert [e["_line"] for e in out["disbursed_within_a_year_of_as_of"].unexpected_examples] == [3, 5]
    assert [e["_line"] for e in out["maturity_after_disbursement"].unexpected_examples] == [3]
    on_summary = {e.name for e in suite.expectations if e.on_summary}
    assert {"disbursed_within_a_year_of_as_of", "maturity_after_disbursement"} <= on_summary
    assert "disbursed_not_future" not in on_summary


def test_an_application_cost_below_a_thousand_yuan_is_named(session):
    """申报费用_元 of 8 is 80,000元 typed in 万元 (M21 and M22.fair paid a few 元): a warning naming the
    line; 1,000元 passes."""
    suite = SUITES["raw_registers_applications"]
    apps = pd.DataFrame({
        "application_id": ["S1", "S2"], "uscc": [A, B], "activity_type": ["展会", "新品发布会"],
        "activity_name": ["东盟博览会", "新品发布"], "held_on": pd.to_datetime(["2024-10-08", "2024-10-09"]),
        "claimed_cost_yuan": [8.0, 1000.0], "_line": [3, 4], "_quarantined": [None, None]})
    frame = d.derive(apps, suite.derive, d.Lookups(as_of=date(2024, 11, 25), directory=frozenset({A, B})))
    out = {o.expectation: o for o in session.validate(suite, frame, run_values(date(2024, 11, 25)),
                                                      "registers_applications.xlsx")}
    plausible = out["cost_plausible"]
    assert not plausible.success and plausible.severity == "warning" and plausible.unexpected_count == 1
    assert [e["_line"] for e in plausible.unexpected_examples] == [3]
    assert out["cost_non_negative"].success


def test_a_quarter_whose_month_before_went_unreported_is_named_with_its_year_to_date(tmp_path, session):
    """A reported August but no September: Q4's output is the year to date (the contract's missing
    month counts 0), named with the months and the amount; a September reported, or an enterprise
    whose first report of the year is in Q4, passes."""
    suite = SUITES["mart_quarter_spans"]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_enterprise_quarter as select * from (values
            ('GAP', date '2024-10-01', 4223825000.00, null::date, date '2024-10-01'),
            ('OK', date '2024-10-01', 47521800.00, date '2024-09-01', date '2024-10-01'),
            ('NEW', date '2024-10-01', 9000000.00, null::date, date '2024-10-01'),
            ('BASEGAP', date '2023-10-01', 672085300.00, null::date, date '2023-10-01'))
            t(uscc, quarter_start, output_yuan, start_ytd_month, first_reported_month)""")
        con.execute("""create table marts.fct_enterprise_month as select * from (values
            ('GAP', date '2024-08-01'), ('GAP', date '2024-10-01'), ('OK', date '2024-09-01'),
            ('NEW', date '2024-10-01'), ('BASEGAP', date '2023-08-01'), ('BASEGAP', date '2022-09-01')) t(uscc, month)""")
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
    [(_, outcome)] = result.failures("warning")
    assert {e["uscc"]: e["span_problem"] for e in outcome.unexpected_examples} == {
        "GAP": "202409 未报（最近一次报送 202408）：按“缺失月份计0”，该季度产值为本年累计 422,382.50 万元",
        "BASEGAP": "202309 未报（最近一次报送 202308）：按“缺失月份计0”，该季度产值为本年累计 67,208.53 万元"}
    assert result.passed("blocking")


def test_an_account_whose_holder_changes_between_snapshots_is_named(tmp_path, session):
    """The account's history follows its latest holder: a change (a transfer, or a USCC keyed on the
    wrong account) is named with both holders and snapshots; a holder matched later (blank before)
    and an unchanged one pass."""
    suite = SUITES["mart_power_account_holders"]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema raw_active")
        con.execute("""create table raw_active.power_accounts as select * from (values
            ('0675079363', '91450108998156796E', '20241007', 1, 'power_accounts_20241007.csv', 2, date '2024-10-07'),
            ('0675079363', '91450502008293709F', '20241104', 1, 'power_accounts_20241104.csv', 2, date '2024-11-04'),
            ('0100', '', '20241007', 1, 'power_accounts_20241007.csv', 3, date '2024-10-07'),
            ('0100', '91450108998156796E', '20241104', 1, 'power_accounts_20241104.csv', 3, date '2024-11-04'),
            ('0200', '91450502008293709F', '20241007', 1, 'power_accounts_20241007.csv', 4, date '2024-10-07'),
            ('0200', '91450502008293709F', '20241104', 1, 'power_accounts_20241104.csv', 4, date '2024-11-04'))
            t(account_no, uscc, _dataset_period, _version, _file, _line, _available_on)""")
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
        [(_, outcome)] = result.failures("warning")
        assert [(e["account_no"], e["source_file"], e["holder_change"]) for e in outcome.unexpected_examples] == [(
            "0675079363", "power_accounts_20241104.csv",
            "用电户 91450108998156796E（20241007）→ 91450502008293709F（20241104）：该户号的全部历史用电（含基期）记入新用电户")]
        [result] = validate_suites(con, [suite], date(2024, 11, 1), session, "run-2")  # the change not arrived yet
        assert result.passed("warning")


def _validate_customs_october(session, destinations, cny, dates=("2024-10-03", "2024-10-04", "2024-10-05")):
    """Three declaration lines of 1,000 USD each in customs_export_202410.csv, validated as delivered."""
    suite = SUITES["raw_customs_export"]
    lines = pd.DataFrame({
        "declaration_no": ["D1", "D2", "D3"], "line_no": ["1", "1", "1"],
        "export_date": pd.to_datetime(list(dates)),
        "customs_code": ["4501234567"] * 3, "uscc": [A, B, A], "hs_code": ["8471300000"] * 3,
        "trade_mode": ["0110"] * 3, "destination": destinations,
        "value_usd": [1000.0] * 3, "value_cny_yuan": cny, "_line": [2, 3, 4], "_quarantined": [None] * 3})
    frame = d.derive(lines, suite.derive, d.Lookups(as_of=date(2024, 11, 25), directory=frozenset({A, B}),
                                                    period="202410", params=suite.params))
    values = dict(run_values(date(2024, 11, 25)), **{"$file_period": 202410})
    return {o.expectation: o for o in session.validate(suite, frame, values, "customs_export_202410.csv")}


def test_an_export_to_china_itself_is_named(session):
    """运抵国 CHN is a valid country code but no export destination (M22 would count it a new market)."""
    abroad = _validate_customs_october(session, ["VNM", "CHN", "CHE"], [7100.0] * 3)["destination_abroad"]
    assert not abroad.success and abroad.severity == "warning"
    assert [(e["_line"], e["destination"]) for e in abroad.unexpected_examples] == [(3, "CHN")]


@pytest.mark.parametrize("cny_per_line, blocks", [
    ([7_100_000.0, 7_100_000.0, 7_100_000.0], True),   # every line's 人民币金额 ×1000: the file's unit
    ([7_100_000.0, 7_100_000.0, 7100.0], True),        # two of three: more than half
    ([7_100_000.0, 7100.0, 7100.0], False),            # one of three: a mistyped line, named only
])
def test_a_customs_file_whose_amounts_disagree_on_most_lines_blocks(session, cny_per_line, blocks):
    """人民币金额 against 美元金额 outside 5–9 on more than half of a file's lines is a column in
    another unit (M22.new_market pays on 人民币金额): the run stops, naming the lines; fewer warn."""
    out = _validate_customs_october(session, ["VNM", "THA", "CHE"], cny_per_line)
    broadly, each = out["unit_cny_per_usd_broadly"], out["unit_cny_per_usd"]
    assert broadly.severity == "blocking" and broadly.success is not blocks
    assert not each.success and each.severity == "warning"
    off = [i for i, cny in enumerate(cny_per_line) if cny != 7100.0]
    assert [e["_line"] for e in each.unexpected_examples] == [2 + i for i in off]
    assert each.unexpected_examples[0]["rate_problem"] == "人民币 7,100,000 / 美元 1,000 = 7,100 CNY per USD"


@pytest.mark.parametrize("dates, blocks", [
    (("2024-09-03", "2024-09-04", "2024-09-05"), True),  # September's file named 202410
    (("2024-09-03", "2024-09-04", "2024-10-05"), True),  # two of three: more than half
    (("2024-09-30", "2024-10-04", "2024-10-05"), False),  # one late declaration: named only
])
def test_a_customs_file_dated_outside_its_month_on_most_lines_blocks(session, dates, blocks):
    """More than half of a file's lines dated outside the month its name gives is a file named for
    another month (October's sent as 202411 dated a run 2024-12-10 and took October's exports out):
    the run stops, naming the lines; fewer warn."""
    out = _validate_customs_october(session, ["VNM", "THA", "CHE"], [7100.0] * 3, dates)
    broadly, each = out["export_date_in_file_month_broadly"], out["export_date_in_file_month"]
    assert broadly.severity == "blocking" and broadly.success is not blocks
    assert not each.success and each.severity == "warning"


@pytest.mark.parametrize("october_yuan, blocks", [(10_000.0, True), (9_999.99, False)])
def test_a_customs_file_a_hundred_times_the_months_before_blocks(tmp_path, session, october_yuan, blocks):
    """Both amounts in another unit keep their ratio: the file's 人民币金额 against the average of
    the three months before (100 a month) tells. A small correction file and a file without three
    earlier months are not judged against it."""
    suite = SUITES["mart_customs_levels"]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema staging")
        con.execute("""create table staging.stg_customs__export as select * from (values
            ('customs_export_202406.csv', date '2024-06-01', 1.00),
            ('customs_export_202407.csv', date '2024-07-01', 60.00), ('customs_export_202407.csv', date '2024-07-01', 40.00),
            ('customs_export_202408.csv', date '2024-08-01', 100.00),
            ('customs_export_202409.csv', date '2024-09-01', 95.00), ('customs_export_202409_v2.csv', date '2024-09-01', 5.00),
            ('customs_export_202410.csv', date '2024-10-01', ?::decimal(18, 2)))
            t(source_file, export_month, value_cny_yuan)""", [october_yuan])
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
    assert result.passed("warning")
    if not blocks:
        assert result.passed("blocking")
        return
    [(_, outcome)] = result.failures("blocking")
    assert outcome.expectation == "file_value_near_previous_months"
    assert [e["level_problem"] for e in outcome.unexpected_examples] == [
        "customs_export_202410.csv：人民币金额合计 1.00 万元，为前三个月月均 0.01 万元的 100 倍（单位核对）"]


def test_an_enterprise_that_changes_industry_or_city_between_snapshots_is_named(tmp_path, session):
    """The directory's latest snapshot places the enterprise: a new industry class or another
    prefecture moves it and its history; a county within the same prefecture does not. A changed
    投产年月 or 入统年月 decides M02.new and M02.small_to_large (an old plant typed 202410 became a
    new plant: 30万): named, and a 投产年月 blanked (a new plant's M02.new gone); a blank filled in
    is not."""
    suite = SUITES["mart_enterprise_changes"]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema staging")
        con.execute("""create table staging.stg_stats__enterprise as select * from (values
            ('E1', date '2024-09-01', '3981', '450512', 'stats_enterprise_202409.csv', 2, null::date, null::date),
            ('E1', date '2024-10-01', '3252', '450512', 'stats_enterprise_202410.csv', 2, null, null),
            ('E2', date '2024-09-01', '3981', '450512', 'stats_enterprise_202409.csv', 3, null, null),
            ('E2', date '2024-10-01', '3981', '450102', 'stats_enterprise_202410.csv', 3, null, null),
            ('E3', date '2024-09-01', '3981', '450512', 'stats_enterprise_202409.csv', 4, date '2023-09-01', null),
            ('E3', date '2024-10-01', '3981', '450521', 'stats_enterprise_202410.csv', 4, date '2024-10-01', null),
            ('E4', date '2024-09-01', '3981', '450512', 'stats_enterprise_202409.csv', 5, null, null),
            ('E4', date '2024-10-01', '3981', '450512', 'stats_enterprise_202410.csv', 5, date '2024-10-01',
             date '2024-10-01'),
            ('E5', date '2024-09-01', '3981', '450512', 'stats_enterprise_202409.csv', 6, date '2024-01-01', null),
            ('E5', date '2024-10-01', '3981', '450512', 'stats_enterprise_202410.csv', 6, null, null))
            t(uscc, snapshot_month, industry_code, county_code, source_file, source_line, production_start,
              above_size_since)""")
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
    column = {"industry_unchanged": "industry_change", "city_unchanged": "city_change",
              "production_start_unchanged": "production_start_change"}
    named = {o.expectation: [(e["uscc"], e[column[o.expectation]]) for e in o.unexpected_examples]
             for _, o in result.failures("warning")}
    assert named == {"industry_unchanged": [("E1", "行业代码 202409 3981 → 202410 3252")],
                     "city_unchanged": [("E2", "行政区划代码 202409 450512 → 202410 450102（另一设区市）")],
                     "production_start_unchanged": [("E3", "投产年月 202409 202309 → 202410 202410"),
                                                    ("E5", "投产年月 202409 202401 → 202410 （空）")]}


def test_an_above_size_enterprise_without_a_report_is_named(tmp_path, session):
    """mart_stats_completeness: a 规上 enterprise listed in a closed month's snapshot with no report
    for it is named with its USCC (the Data Docs showed only the month: nobody could tell who)."""
    suite = SUITES["mart_stats_completeness"]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema staging; create schema marts")
        con.execute("""create table staging.stg_stats__enterprise as select * from (values
                           (date '2024-09-01', 'A', '规上', null::date, null::date),
                           (date '2024-09-01', 'B', '规上', null::date, null::date))
                       t(snapshot_month, uscc, scale_flag, above_size_since, above_size_exit)""")
        con.execute("create table marts.fct_enterprise_month as select date '2024-09-01' as month, 'A' as uscc")
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
    found = {o.expectation: o for _, o in result.failures("warning")}
    examples = found["every_above_size_enterprise_reported"].unexpected_examples
    assert [e["missing_report"] for e in examples] == ["规上 enterprise B without a report for 202409"]
    assert found["month_reporting_share"].unexpected_count == 2  # 1 of 2 reported: both rows of the month


def test_a_loan_product_typed_near_the_subsidised_one_is_named(tmp_path, session):
    """A 600万 loan typed 工业流动资金贷款 for 工业流动资金贷 lost its 12万 of M23 unseen: a product a
    character or a word away from the catalogue's is named (on 汇总), so is one with a space or an
    invisible character inside or a character put in; the product itself and one plainly another
    are not."""
    suite = SUITES["mart_loan_products"]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_loans as select * from (values
                           ('registers_loans.xlsx', 3, 'A', '工业流动资金贷'), ('registers_loans.xlsx', 4, 'B', '工业流动资金贷款'),
                           ('registers_loans.xlsx', 5, 'C', '工业流动资金代'), ('registers_loans.xlsx', 6, 'D', '流动资金贷'),
                           ('registers_loans.xlsx', 7, 'E', '科技贷'), ('registers_loans.xlsx', 8, 'F', '工业流动 资金贷'),
                           ('registers_loans.xlsx', 9, 'G', '工业流动\u200b资金贷'), ('registers_loans.xlsx', 10, 'H', '工业流动啊资金贷'))
                       t(source_file, source_line, uscc, product)""")
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
    [(_, outcome)] = result.failures("warning")
    assert [(e["source_line"], e["product_problem"]) for e in outcome.unexpected_examples] == [
        (4, "产品“工业流动资金贷款”与贴息产品“工业流动资金贷”相近但不同：该笔贷款不计入 M23"),
        (5, "产品“工业流动资金代”与贴息产品“工业流动资金贷”相近但不同：该笔贷款不计入 M23"),
        (6, "产品“流动资金贷”与贴息产品“工业流动资金贷”相近但不同：该笔贷款不计入 M23"),
        # a space or a zero-width space inside, a character put in: −26.8万 of M23 unseen (2026-12-07)
        (8, "产品“工业流动 资金贷”与贴息产品“工业流动资金贷”相近但不同：该笔贷款不计入 M23"),
        (9, "产品“工业流动\u200b资金贷”与贴息产品“工业流动资金贷”相近但不同：该笔贷款不计入 M23"),
        (10, "产品“工业流动啊资金贷”与贴息产品“工业流动资金贷”相近但不同：该笔贷款不计入 M23")]


def test_a_run_names_a_file_validated_twice_by_its_later_verdict_only(tmp_path):
    """A file validated as delivered and again as in force in one run (part of it already replaced)
    gives the run's failure message its later verdict only; a later verdict that passes names
    nothing; other runs' results are not this run's."""
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    first, again = datetime(2026, 12, 6, 3, 0), datetime(2026, 12, 6, 3, 0, 0, 1)

    def result(run: str, at: datetime, file: str, success: bool, observed: str) -> dict:
        return {"run_id": run, "checked_at": at, "asset": "raw/power_daily", "suite": "raw_power_daily",
                "file_name": file, "expectation": "reading_date_not_after_delivery", "label": "用电日期不晚于交付日期",
                "severity": "blocking", "success": success, "observed_value": observed, "unexpected_examples": "[]"}

    warehouse.write_results(con, [
        result("r1", first, "power_daily_20241118.csv", False, "1 of 631 rows"),
        result("r1", again, "power_daily_20241118.csv", False, "1 of 628 rows"),
        result("r1", first, "power_daily_20241111.csv", False, "2 of 700 rows"),
        result("r1", again, "power_daily_20241111.csv", True, "0 of 690 rows"),
        result("r0", first, "power_daily_20241104.csv", False, "3 of 650 rows"),
    ])
    assert [(f, observed) for _, f, _, _, observed, _ in warehouse.blocking_failures_of_run(con, "r1")] == [
        ("power_daily_20241118.csv", "1 of 628 rows")]
    assert warehouse.blocking_failures_of_run(duckdb.connect(), "r1") == []  # no results table yet


def test_a_rejected_row_of_a_known_project_or_enterprise_is_named_until_a_correction_is_in_force(tmp_path, session):
    """The largest project's October row rejected for a 开工年月 typed 2023-03 took its October out
    of the budget (−9% on a tiny landing) with only the rejected row to say so: named, with file,
    line, project and field; so is an exporter's customs line (a destination typed BR), until a
    line of the same 报关单号 and 项号 is in force. A row whose key is itself rejected (an invalid USCC) names no one and
    is left out, unless the key read cleanly (no invisible character, look-alikes as ASCII, no spaces, capitals) is a known one; so are rows of files withdrawn, arrived after the as-of date or older than the base
    quarter; a `_v2` that puts the row in force clears it. A 合计 row is no record: not named."""
    from dagster_project.lib.ingest.loader import ensure_raw_tables
    from dagster_project.lib.ingest.spec import TOTALS_REASON
    from dagster_project.lib.ingest.withdrawals import withdraw

    suite = SUITES["mart_rejected_policy_rows"]
    project = "2023-450702-22-02-374756"
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ensure_raw_tables(con, DATASETS)
        con.execute("create schema staging")
        con.execute("create table staging.stg_stats__industry (uscc varchar, report_month date)")
        con.execute("create table staging.stg_stats__projects (project_code varchar, report_month date)")
        con.execute("create table staging.stg_customs__export (uscc varchar, declaration_no varchar, line_no varchar)")
        con.execute("insert into raw._manifest (file_name, feed, dataset, period, available_on, sha256) "
                    "values ('customs_export_202410.csv', 'customs', 'export', '202410', '2024-11-10', 'c')")
        con.execute("insert into raw._rejected_rows (file_name, line, field, header, value, reason, row_json) values "
                    "('customs_export_202410.csv', 7, 'destination', '运抵国', 'BR', 'unknown ISO 3166-1 alpha-3 country', ?)",
                    [json.dumps({"报关单号": "D1", "项号": "2", "统一社会信用代码": A}, ensure_ascii=False)])
        for name, dataset, period, arrived in (("stats_projects_202410.csv", "projects", "202410", "2024-11-15"),
                                               ("stats_industry_202410.csv", "industry", "202410", "2024-11-15"),
                                               ("stats_industry_202309.csv", "industry", "202309", "2023-10-15"),
                                               ("stats_industry_202411.csv", "industry", "202411", "2024-12-15"),
                                               ("stats_industry_202408.csv", "industry", "202408", "2024-09-15")):
            con.execute("insert into raw._manifest (file_name, feed, dataset, period, available_on, sha256) "
                        "values (?, 'stats', ?, ?, ?, ?)", [name, dataset, period, arrived, name])

        def rejected(file: str, line: int, field: str, header: str, key_header: str, key: str) -> None:
            con.execute("insert into raw._rejected_rows (file_name, line, field, header, value, reason, row_json) "
                        "values (?, ?, ?, ?, 'x', 'not a month YYYYMM', ?)",
                        [file, line, field, header, json.dumps({key_header: key}, ensure_ascii=False)])

        rejected("stats_projects_202410.csv", 5, "start_month", "开工年月", "项目代码", project)
        rejected("stats_industry_202410.csv", 7, "uscc", "统一社会信用代码", "统一社会信用代码", "BAD")  # no one named
        con.execute("insert into raw._rejected_rows (file_name, line, field, header, value, reason, row_json) "
                    "values ('stats_industry_202410.csv', 99, '_row', null, '合计', ?, ?)",  # no record either
                    [TOTALS_REASON, json.dumps({"统一社会信用代码": "合计", "报告期": "202410"}, ensure_ascii=False)])
        # a zero-width space after a project code, a USCC in lower case: named as the project and the
        # enterprise they are, reported in September
        con.execute("insert into raw._rejected_rows (file_name, line, field, header, value, reason, row_json) "
                    "values ('stats_projects_202410.csv', 9, 'project_code', '项目代码', ?, 'invisible character U+200B "
                    "in a key: it would match no other row, remove it', ?)",
                    [project + "\u200b", json.dumps({"项目代码": project + "\u200b"}, ensure_ascii=False)])
        rejected("stats_industry_202410.csv", 8, "uscc", "统一社会信用代码", "统一社会信用代码", f" {A.lower()} ")
        en_dashed = project.replace("-", "\u2013")  # typed in Word: en dashes
        con.execute("insert into raw._rejected_rows (file_name, line, field, header, value, reason, row_json) "
                    "values ('stats_projects_202410.csv', 10, 'project_code', '项目代码', ?, 'look-alike character', ?)",
                    [en_dashed, json.dumps({"项目代码": en_dashed}, ensure_ascii=False)])
        con.execute("insert into staging.stg_stats__projects values (?, date '2024-09-01')", [project])
        con.execute("insert into staging.stg_stats__industry values (?, date '2024-09-01')", [A])
        for file in ("stats_industry_202309.csv", "stats_industry_202411.csv", "stats_industry_202408.csv"):
            rejected(file, 3, "employees", "从业人员期末人数", "统一社会信用代码", A)
        withdraw(con, "stats_industry_202408.csv", "sent by mistake")

        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
        [(_, outcome)] = result.failures("warning")
        assert [(e["file_name"], e["line"], e["entity"], e["header"]) for e in outcome.unexpected_examples] == [
            ("customs_export_202410.csv", 7, A, "运抵国"), ("stats_industry_202410.csv", 8, A, "统一社会信用代码"),
            ("stats_projects_202410.csv", 5, project, "开工年月"), ("stats_projects_202410.csv", 9, project, "项目代码"),
            ("stats_projects_202410.csv", 10, project, "项目代码")]
        assert result.passed("blocking")
        con.execute("insert into staging.stg_stats__projects values (?, date '2024-10-01')", [project])  # its _v2
        con.execute("insert into staging.stg_stats__industry values (?, date '2024-10-01')", [A])
        con.execute("insert into staging.stg_customs__export values (?, 'D1', '2')", [A])  # the line re-sent in a _v2
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-2")
        assert result.passed("warning")


def test_a_rejected_register_row_is_named_until_a_later_version_resends_its_enterprise(tmp_path, session):
    """An application whose 活动类型 read 新品发布 was rejected, rightly, and M21 lost 30万 with only
    the rejected row on 数据质量 to say so: named, with file, line, enterprise and field, an invalid
    USCC too (a hand-kept register has no routine bad codes). Rows dated before the policy year or
    after the as-of date are left out, an unreadable date is not; a row of a withdrawn file is left
    out; a `_v2` of the register holding the enterprise clears it. A 合计 row at the foot of a sheet
    is no record: not named."""
    from dagster_project.lib.ingest.loader import ensure_raw_tables
    from dagster_project.lib.ingest.spec import TOTALS_REASON
    from dagster_project.lib.ingest.withdrawals import withdraw

    suite = SUITES["mart_rejected_register_rows"]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ensure_raw_tables(con, DATASETS)
        for name, dataset, version, arrived in (("registers_applications.xlsx", "applications", 1, "1970-01-01"),
                                                ("registers_loans.xlsx", "loans", 1, "1970-01-01"),
                                                ("registers_two_high.xlsx", "two_high", 1, "1970-01-01"),
                                                ("registers_two_high_v2.xlsx", "two_high", 2, "1970-01-01"),
                                                ("registers_loans_v2.xlsx", "loans", 2, "2024-12-02")):
            con.execute("insert into raw._manifest (file_name, feed, dataset, version, available_on, sha256) "
                        "values (?, 'registers', ?, ?, ?, ?)", [name, dataset, version, arrived, name])

        def rejected(file: str, line: int, header: str, row: dict) -> None:
            con.execute("insert into raw._rejected_rows (file_name, line, field, header, value, reason, row_json) "
                        "values (?, ?, 'x', ?, 'x', 'unknown value', ?)",
                        [file, line, header, json.dumps(row, ensure_ascii=False)])

        rejected("registers_applications.xlsx", 11, "活动类型", {"统一社会信用代码": A, "举办日期": "2024-10-18"})
        rejected("registers_applications.xlsx", 12, "活动类型", {"统一社会信用代码": A, "举办日期": "2023-12-31"})  # last year
        rejected("registers_applications.xlsx", 13, "活动类型", {"统一社会信用代码": A, "举办日期": "2024-12-01"})  # later
        rejected("registers_loans.xlsx", 4, "放款日期", {"统一社会信用代码": "BAD", "放款日期": "2024/10/01"})
        rejected("registers_two_high.xlsx", 3, "统一社会信用代码", {"统一社会信用代码": A})
        con.execute("insert into raw._rejected_rows (file_name, line, field, header, value, reason, row_json) "
                    "values ('registers_loans.xlsx', 9, '_row', null, '合计', ?, ?)",
                    [TOTALS_REASON, json.dumps({"统一社会信用代码": "合计", "贷款金额_万元": "1300"}, ensure_ascii=False)])
        con.execute("insert into raw.registers_two_high (uscc, _file, _version, _line, _available_on) "
                    "values (?, 'registers_two_high_v2.xlsx', 2, 2, '1970-01-01')", [A])  # re-sent

        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
        [(_, outcome)] = result.failures("warning")
        assert [(e["file_name"], e["line"], e["entity"], e["header"]) for e in outcome.unexpected_examples] == [
            ("registers_applications.xlsx", 11, A, "活动类型"), ("registers_loans.xlsx", 4, "BAD", "放款日期")]
        assert result.passed("blocking")

        withdraw(con, "registers_applications.xlsx", "sent by mistake")
        con.execute("insert into raw.registers_loans (uscc, _file, _version, _line, _available_on) "
                    "values ('BAD', 'registers_loans_v2.xlsx', 2, 2, '2024-12-02')")  # re-sent after the as-of date
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-2")
        [(_, outcome)] = result.failures("warning")
        assert [(e["file_name"], e["line"]) for e in outcome.unexpected_examples] == [("registers_loans.xlsx", 4)]
        [result] = validate_suites(con, [suite], date(2024, 12, 2), session, "run-3")
        assert result.passed("warning")


def _register_with_a_correction(con, dataset: str) -> None:
    """Raw tables, and the manifest rows of `registers_<dataset>.xlsx` and its `_v2` (arrived 1 November)."""
    from dagster_project.lib.ingest.loader import ensure_raw_tables

    ensure_raw_tables(con, DATASETS)
    for name, version in ((f"registers_{dataset}.xlsx", 1), (f"registers_{dataset}_v2.xlsx", 2)):
        con.execute("insert into raw._manifest (file_name, feed, dataset, version, available_on, sha256) "
                    "values (?, 'registers', ?, ?, '2024-11-01', ?)", [name, dataset, version, name])


def test_a_loan_correction_that_retypes_the_bank_is_named_beside_the_loan_it_leaves_in_force(tmp_path, session):
    """A `_v2` meant to correct a 20,000万 loan to 2,000万 typed the bank another way: keyed by
    (USCC, 贷款银行, 放款日期), it corrected nothing, both loans counted (M23 264万 → 378万) and
    nothing was said; the same for a `_v3` moving a loan from 1 to 11 October (its 12万 paid
    twice). Named, with the earlier row it leaves in force. A loan the correction adds (another
    bank, a new day), a row it re-sends as it was, and a second bank's loan the earlier version
    already held are not named."""
    suite = SUITES["mart_register_corrections"]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        _register_with_a_correction(con, "loans")
        rows = [("registers_loans.xlsx", 1, 2, A, "中国建设银行广西区分行", "2024-10-08"),
                ("registers_loans.xlsx", 1, 3, B, "桂林银行", "2024-10-09"),
                ("registers_loans.xlsx", 1, 4, B, "柳州银行", "2024-10-09"),
                ("registers_loans.xlsx", 1, 5, B, "北部湾银行", "2024-10-01"),
                ("registers_loans_v2.xlsx", 2, 2, A, "中国建设银行广西分行", "2024-10-08"),  # the bank retyped
                ("registers_loans_v2.xlsx", 2, 3, B, "桂林银行", "2024-10-09"),
                ("registers_loans_v2.xlsx", 2, 4, B, "柳州银行", "2024-10-09"),
                ("registers_loans_v2.xlsx", 2, 5, A, "桂林银行", "2024-11-02"),  # a new loan
                ("registers_loans_v2.xlsx", 2, 6, B, "北部湾银行", "2024-10-11")]  # the date retyped
        for file, version, line, uscc, lender, day in rows:
            con.execute("insert into raw.registers_loans (_file, _version, _line, _available_on, uscc, lender, "
                        "disbursed_on) values (?, ?, ?, '2024-11-01', ?, ?, ?)", [file, version, line, uscc, lender, day])
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
        [(_, outcome)] = result.failures("warning")
        assert [(e["source_file"], e["source_line"], e["correction_problem"]) for e in outcome.unexpected_examples] == [
            ("registers_loans_v2.xlsx", 2,
             f"更正版中 {A} 于 2024-10-08 的贷款（中国建设银行广西分行）在此前版本中没有同一贷款银行、同一放款日期的行，"
             "此前版本 registers_loans.xlsx 第 2 行（中国建设银行广西区分行，2024-10-08）的贷款未列入更正版，仍然有效："
             "两笔都计入 M23。若为更正，贷款银行和放款日期应与原行一致"),
            ("registers_loans_v2.xlsx", 6,
             f"更正版中 {B} 于 2024-10-11 的贷款（北部湾银行）在此前版本中没有同一贷款银行、同一放款日期的行，"
             "此前版本 registers_loans.xlsx 第 5 行（北部湾银行，2024-10-01）的贷款未列入更正版，仍然有效："
             "两笔都计入 M23。若为更正，贷款银行和放款日期应与原行一致")]
        con.execute("update raw.registers_loans set lender = '中国建设银行广西区分行' "
                    "where _file = 'registers_loans_v2.xlsx' and _line = 2")
        con.execute("update raw.registers_loans set disbursed_on = '2024-10-01' "
                    "where _file = 'registers_loans_v2.xlsx' and _line = 6")
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-2")
        assert result.passed("warning")


def test_a_supply_link_correction_that_retypes_the_buyer_is_named_beside_the_link_it_leaves_in_force(tmp_path,
                                                                                                     session):
    """A `_v2` fixing a buyer's name (北海远航实业光电股份有限公司 → …有限公司), keyed by (USCC,
    采购方名称), corrected nothing: both links counted, M08 paid the supplier twice (20万 → 40万),
    nothing said. Named, with the earlier row it leaves in force. A new buyer of another day, a row
    re-sent as it was, and a second buyer of the same day the earlier version already held are not."""
    suite = SUITES["mart_supply_link_corrections"]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        _register_with_a_correction(con, "supply_links")
        rows = [("registers_supply_links.xlsx", 1, 2, A, "北海远航实业光电股份有限公司", "2024-10-08"),
                ("registers_supply_links.xlsx", 1, 3, B, "柳州五菱汽车有限公司", "2024-10-09"),
                ("registers_supply_links.xlsx", 1, 4, B, "桂林电子有限公司", "2024-10-09"),
                ("registers_supply_links_v2.xlsx", 2, 2, A, "北海远航实业光电有限公司", "2024-10-08"),  # retyped
                ("registers_supply_links_v2.xlsx", 2, 3, B, "柳州五菱汽车有限公司", "2024-10-09"),
                ("registers_supply_links_v2.xlsx", 2, 4, B, "桂林电子有限公司", "2024-10-09"),
                ("registers_supply_links_v2.xlsx", 2, 5, A, "南宁富桂精密工业有限公司", "2024-11-02")]  # a new link
        for file, version, line, uscc, buyer, day in rows:
            con.execute("insert into raw.registers_supply_links (_file, _version, _line, _available_on, uscc, "
                        "buyer_name, first_supply_on) values (?, ?, ?, '2024-11-01', ?, ?, ?)",
                        [file, version, line, uscc, buyer, day])
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-1")
        [(_, outcome)] = result.failures("warning")
        assert [(e["source_file"], e["source_line"], e["correction_problem"]) for e in outcome.unexpected_examples] == [
            ("registers_supply_links_v2.xlsx", 2,
             f"更正版中 {A} 向“北海远航实业光电有限公司”的首次供货（2024-10-08）在此前版本中没有同一采购方的行，此前版本 "
             "registers_supply_links.xlsx 第 2 行（北海远航实业光电股份有限公司）的同日首次供货未列入更正版，仍然有效："
             "两笔都计入 M08。若为更正，采购方名称应与原行一致")]
        con.execute("update raw.registers_supply_links set buyer_name = '北海远航实业光电股份有限公司' "
                    "where _file = 'registers_supply_links_v2.xlsx' and _line = 2")
        [result] = validate_suites(con, [suite], date(2024, 11, 25), session, "run-2")
        assert result.passed("warning")


@pytest.mark.parametrize("ytd, named", [(3_395_290.3, True), (303_529.3 + 36_000 * 5, True),
                                         (303_529.3 + 36_000 * 4.99, False), (339_529.3, False)])
def test_a_digit_typed_twice_in_a_cumulative_figure_is_named(ytd, named):
    """October's 累计 339,529.3 typed 3,395,290.3 (本月 36,000 unchanged) made the month 30亿 and cut
    M02.growth from 11 beneficiaries to 3 on a tiny landing: 本月 and Δ累计 5 times apart block."""
    df = pd.DataFrame({"uscc": [A], "report_month": [202410], "output_month_k_yuan": [36_000.0],
                       "output_ytd_k_yuan": [ytd], "revenue_month_k_yuan": [1.0], "revenue_ytd_k_yuan": [10.0]})
    previous = pd.DataFrame({"uscc": [A], "report_month": [202409], "output_month_k_yuan": [35_000.0],
                             "output_ytd_k_yuan": [303_529.3], "revenue_month_k_yuan": [1.0], "revenue_ytd_k_yuan": [9.0]})
    out = d.add_stats_industry(df, lookups(period="202410", previous_reports=previous))
    assert (out["gap_factor_problem"].iloc[0] is not None) is named
    if ytd == 3_395_290.3:
        assert out["gap_factor_problem"].iloc[0] == ("工业总产值 本月 36,000 千元，Δ累计 3,091,761 千元：相差 85.88 倍，"
                                                     "两者之一数位有误")


def test_a_months_report_sent_again_as_the_next_months_blocks(session):
    """September's industry report re-sent with 报告期 202410 took M02 and M21 to 0 with two
    warnings: most enterprises' 累计 unchanged from September while they report output stops the run."""
    rows = [(A, 202410, 1000.0, 9000.0, 950.0, 8900.0), (B, 202410, 1100.0, 9900.0, 1000.0, 9100.0)]
    previous = pd.DataFrame({"uscc": [A, B], "report_month": [202409, 202409], "output_month_k_yuan": [1000.0, 1100.0],
                             "output_ytd_k_yuan": [9000.0, 9900.0], "revenue_month_k_yuan": [950.0, 1000.0],
                             "revenue_ytd_k_yuan": [8900.0, 9100.0]})
    suite = SUITES["raw_stats_industry"]
    frame = d.derive(stats_batch(rows), suite.derive, d.Lookups(as_of=date(2024, 11, 25), directory=frozenset({A, B}),
                                                                previous_reports=previous, params=suite.params))
    out = {o.expectation: o for o in session.validate(suite, frame, dict(run_values(date(2024, 11, 25)),
                                                                         **{"$file_period": 202410}),
                                                      "stats_industry_202410.csv")}
    assert not out["cumulative_moves_broadly"].success and out["cumulative_moves_broadly"].severity == "blocking"
    assert out["cumulative_moves_broadly"].unexpected_examples[0]["ytd_standing_problem"] == (
        "工业总产值累计 202410 与 202409 相同（9,000 千元），本月却为 1,000 千元")


def test_a_project_month_a_hundredfold_its_earlier_peak_is_named():
    """60万 typed 600,000万 in a project without a plan took M15.increment to 43,680万 (the budget ×7)
    with no word: ≥ 100 × the project's largest earlier month is named; just under, a project
    without earlier months, and a blank month are not."""
    df = pd.DataFrame({"project_code": ["P1", "P1", "P2", "P3"], "investment_month_10k_yuan": [600_000.0, 5999.0, 5.0, None],
                       "equipment_month_10k_yuan": [0.0] * 4, "start_month": [202401] * 4, "completion_month": [None] * 4,
                       "library_entry_month": [202401] * 4, "planned_investment_10k_yuan": [None] * 4})
    history = pd.DataFrame({"project_code": ["P1", "P3"], "peak_10k_yuan": [60.0, 1.0],
                            "year_before_10k_yuan": [500.0, 9.0], "months_invested_in_year": [9, 9]})
    out = d.add_stats_projects(df, lookups(period="202410", project_history=history))
    assert list(out["investment_jump"]) == ["本月完成投资 600,000 万元 = 该项目此前单月最高 60 万元的 10,000 倍", None, None, None]


def _library(investment: list[float]) -> pd.DataFrame:
    n = len(investment)
    return pd.DataFrame({"project_code": [f"P{i}" for i in range(n)], "investment_month_10k_yuan": investment,
                         "equipment_month_10k_yuan": [0.0] * n, "start_month": [202301] * n,
                         "completion_month": [None] * n, "library_entry_month": [202301] * n,
                         "planned_investment_10k_yuan": [None] * n})


@pytest.mark.parametrize(("october", "named"), [
    ([900.0] * 10, 10),  # every project's Jan–Oct sum in October's column: stopped
    ([900.0] * 8 + [10.0] * 2, 0),  # 8 of 10 = 80% at or above: not more than the share
    ([900.0] * 9 + [799.9], 9),  # 9 of 10, the tenth just under its earlier sum
    ([900.0] * 9 + [800.0], 10),  # ... and at it
    ([900.0] * 7, 0),  # 7 projects compared: too few to judge a file by (the 4th data process: 1 of 1 in April)
    ([900.0] * 8, 8),
])
def test_a_library_of_year_to_date_sums_is_named_by_the_share_of_projects_at_their_years_sum(october, named):
    """October's 本月完成投资 typed as each project's Jan–Oct total took a tiny budget from 7,262万
    to 18,028万 unnoticed. The file fails when more than 80% of the projects with at least 3
    earlier months of investment this year, and at least 8 of them, are at or above the sum of
    those months."""
    n = len(october)
    history = pd.DataFrame({"project_code": [f"P{i}" for i in range(n + 1)], "peak_10k_yuan": [100.0] * (n + 1),
                            "year_before_10k_yuan": [800.0] * n + [50.0], "months_invested_in_year": [9] * n + [2]})
    out = d.add_stats_projects(_library(october + [60.0]), lookups(period="202410", project_history=history))
    assert out["ytd_problem"].notna().sum() == named
    assert out["ytd_problem"].iloc[n] is None  # two earlier months: not compared
    if named:
        assert out["ytd_problem"].iloc[0] == ("本月完成投资 900 万元 ≥ 该项目本年此前 9 个月合计 800 万元"
                                              f"（本文件 {named}/{n} 个项目如此：是否填成了自年初累计？）")


def test_a_project_library_with_no_earlier_month_this_year_is_not_compared():
    history = pd.DataFrame({"project_code": ["P0"], "peak_10k_yuan": [100.0], "year_before_10k_yuan": [0.0],
                            "months_invested_in_year": [0]})
    out = d.add_stats_projects(_library([100.0]), lookups(period="202401", project_history=history))
    assert out["ytd_problem"].isna().all()


@pytest.mark.parametrize("replacement", ["    severity: blocking\n    on_summary: true",
                                         "    severity: warning\n    mostly: 0.5\n    on_summary: true",
                                         "    severity: warning\n    on_summary: often"])
def test_on_summary_marks_a_warning_that_names_each_row(tmp_path, replacement):
    """汇总 lists the rows a marked check names: a blocking check stops the run instead, and a
    check with `mostly` judges a share, not rows."""
    good = (Path(__file__).parent.parent / "expectations" / "raw_stats_industry.yml").read_text(encoding="utf-8")
    marked = "    severity: warning\n    on_summary: true"
    assert good.count(marked) == 1
    path = tmp_path / "raw_stats_industry.yml"
    path.write_text(good.replace(marked, replacement), encoding="utf-8")
    with pytest.raises(SuiteError, match="on_summary"):
        load_suite(path)


def test_a_quarantined_rows_numbers_are_read_by_ingestions_grammar_or_not_at_all():
    """A quarantined row is in its file's batch (the quarantine expectation counts it), its values
    as delivered. Ingestion refused `"1800000,0"`; read by pandas with its commas dropped it was
    18,000,000 千元, and the digit check stopped the run quoting a figure nobody delivered. What
    ingestion refuses is no number here either; what it takes reads the same."""
    dataset = next(ds for ds in DATASETS if (ds.feed, ds.dataset) == ("stats", "industry"))
    raw = pd.DataFrame({"output_month_k_yuan": ["1800000,0", "1.8E+07", "inf", "NaN", "+18.0", "18.0-", "1,800,000.5", "-7", "12"]})
    got = d.typed(raw, dataset)["output_month_k_yuan"].tolist()
    assert all(pd.isna(v) for v in got[:6])
    assert got[6:] == [1_800_000.5, -7.0, 12.0]


def test_a_control_character_inside_a_name_is_named_on_the_summary(session):
    """A NUL inside a name is damaged bytes, not what anyone typed: it loaded as delivered and the
    workbooks showed `_x0000_` (issue 15's damaged-delivery pass). The row stays loaded; the line is
    named in red on 汇总 (`on_summary`). Names with spaces, brackets and full-width signs pass."""
    suite = SUITES["raw_registers_supply_links"]
    links = pd.DataFrame({
        "uscc": [A, B, A, B], "buyer_name": ["南宁整机\x00厂", "柳州整机厂（二期）", "桂林 整机厂", "北海\n整机厂"],
        "first_supply_on": pd.to_datetime(["2024-10-08", "2024-10-09", "2024-10-10", "2024-10-11"]),
        "contract_10k_yuan": [100.0] * 4, "_line": [3, 4, 5, 6], "_quarantined": [None] * 4})
    frame = d.derive(links, suite.derive, d.Lookups(as_of=date(2024, 11, 25), directory=frozenset({A, B}),
                                                     params=suite.params))
    out = {o.expectation: o for o in session.validate(suite, frame, run_values(date(2024, 11, 25)),
                                                      "registers_supply_links.xlsx")}
    named = out["buyer_name_without_control_characters"]
    assert not named.success and named.severity == "warning"
    assert [e["_line"] for e in named.unexpected_examples] == [3, 6]
    assert all(e.on_summary for e in suite.expectations if e.name.endswith("_without_control_characters"))
    for name, column in (("raw_stats_enterprise", "enterprise_name"), ("raw_stats_projects", "project_name"),
                         ("raw_registers_recognitions", "name")):
        assert f"{column}_without_control_characters" in {e.name for e in SUITES[name].expectations}
