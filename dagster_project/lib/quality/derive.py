"""Derived columns for the checks GX has no built-in for, computed in pandas on one batch.

Each derivation adds `*_problem` columns: NULL where the row is fine, otherwise a short text
saying what is wrong *with the values* (so that GX's unexpected examples are readable), e.g.
`工业总产值累计 202410 12,345.0 < 202409 13,000.0`. The suites then assert them with
`expect_column_values_to_be_null` (with `mostly` where the check is a rate). Nothing here reads
the warehouse: the previous reports, the directory and the account list come in as arguments,
so every check can be tested on a hand-made DataFrame.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from dagster_project.lib.ingest.spec import Dataset, Kind, number_pattern
from dagster_project.lib.uscc import uscc_problem

# Defaults of the tolerances (a suite's `params` override them).
DEFAULTS = {
    "gap_tolerance_share": 0.05,  # |本月 − Δ累计| allowed, as a share of the larger of the two
    "gap_tolerance_abs": 1.0,  # ... plus this absolute slack (in the file's unit, 千元 for stats)
    "jump_factor": 100.0,  # a month value this many times the previous report's (or 1/x) is a unit slip
    "ytd_collapse_share": 0.5,  # a 累计 below this share of the previous report's (same year) is a slip
    "gap_factor": 5.0,  # 本月 and Δ累计 this many times apart: a digit off in one of them
    "reread_window_days": 62.0,  # power: a weekly delivery repeats earlier days (re-reads) at most this far back
    "level_window_days": 35.0,  # power: a reading is compared with its account's median over these days before
    "file_level_factor": 4.0,  # power: a file whose readings' median is this many times their accounts' levels
    "file_level_min_readings": 20,  # ... judged with at least this many readings compared
    "cny_per_usd_min": 5.0,  # customs: plausible CNY per USD
    "cny_per_usd_max": 9.0,
    "late_declaration_months": 1,  # customs: a line dated further from its file's month is a date typed wrong
    "recode_gone_share": 0.5,  # projects: more of the previous library's unfinished ones gone: codes re-formatted
    "ytd_min_months": 3,  # projects: months with investment earlier in the year before a month is compared with their sum
    "ytd_broad_share": 0.8,  # ... more of those projects at or above that sum: the file holds year-to-date sums
    "ytd_min_projects": 8,  # ... judged only where at least this many projects are compared
}


@dataclass
class Lookups:
    """What a derivation may need besides the batch itself."""

    as_of: date
    period: str | None = None  # the delivered file's period (YYYYMM or YYYYMMDD), None for registers/marts
    directory: frozenset[str] = frozenset()  # USCCs of the enterprise directory as of the run
    accounts: frozenset[str] = frozenset()  # metering accounts in any account snapshot as of the run
    # stats_industry: per USCC, the latest report *before* the batch's month (any year), effective
    # (superseded versions resolved): columns uscc, report_month (int YYYYMM), output_month_k_yuan,
    # output_ytd_k_yuan, revenue_month_k_yuan, revenue_ytd_k_yuan.
    previous_reports: pd.DataFrame | None = None
    # power_daily: per account, the median daily kWh of its readings dated in the level_window_days
    # before the delivery, from earlier deliveries: columns account_no, level_kwh.
    power_levels: pd.DataFrame | None = None
    # stats_projects: the latest library month delivered before the batch's, and the project codes
    # the library listed before it
    previous_library: str | None = None
    earlier_project_codes: frozenset[str] = frozenset()
    # unfinished in the previous library: code -> (owner USCC, 开工年月) as delivered
    previous_open_projects: Mapping[str, tuple] = field(default_factory=dict)
    # ... and per project, from the earlier libraries: columns project_code, peak_10k_yuan (its
    # largest month), year_before_10k_yuan and months_invested_in_year (the batch's year so far)
    project_history: pd.DataFrame | None = None
    # periodic files: the delivery of an earlier period whose bytes this file repeats, if any
    identical_to: str | None = None
    params: dict = field(default_factory=dict)

    def param(self, name: str) -> float:
        return float(self.params.get(name, DEFAULTS[name]))


# ---------------------------------------------------------------- typing of raw text batches


def typed(df: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Columns typed by their spec: numbers as float, months as Int64 YYYYMM, dates as datetime64[ns].

    Takes raw text (values that do not parse, only possible in quarantined rows, become NULL; the
    quarantine expectation reports those rows) or columns the warehouse has already cast, whose
    dtypes it only normalises.
    """
    out = df.copy(deep=False)  # columns are replaced, never changed in place: the caller's frame stays as it was
    for c in dataset.columns:
        if c.name not in out:
            out[c.name] = None
        s = out[c.name]
        if c.kind in (Kind.DECIMAL, Kind.INTEGER):
            if not pd.api.types.is_float_dtype(s):
                # ingestion's grammar, not pandas': a refused `"1800000,0"` read as 18,000,000 stopped
                # a run with a figure nobody delivered (until 2026-12-07), and `1.8E+07` or `inf` would
                text = s.astype("string")
                ok = text.str.fullmatch(number_pattern(c.kind is Kind.INTEGER))
                s = pd.to_numeric(text.where(ok.fillna(False).astype(bool)).str.replace(",", "", regex=False),
                                  errors="coerce")
            out[c.name] = s.astype(float, copy=False)
        elif c.kind is Kind.MONTH:
            if not pd.api.types.is_numeric_dtype(s):
                text = s.astype("string")
                ok = text.str.fullmatch(r"\d{4}(0[1-9]|1[0-2])").fillna(False).astype(bool)
                s = pd.to_numeric(text.where(ok), errors="coerce")
            out[c.name] = s.astype("Int64", copy=False)
        elif c.kind is Kind.DATE:
            if not pd.api.types.is_datetime64_any_dtype(s):
                s = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
            out[c.name] = s.astype("datetime64[ns]", copy=False)
        elif s.dtype != object:
            out[c.name] = s.astype(object).where(s.notna(), None)
        elif s.isna().any():  # text from the warehouse has None already; NaN only from hand-made frames
            out[c.name] = s.where(s.notna(), None)
    return out


# ---------------------------------------------------------------- generic derivations


def add_uscc_problem(df: pd.DataFrame, lookups: Lookups) -> pd.DataFrame:
    """uscc_problem: GB 32100-2015 shape and check character, GB 11714 organisation-code check digit."""
    if "uscc" in df:
        df["uscc_problem"] = _per_value(df["uscc"], lambda v: _with_code(v, uscc_problem(v)))
    return df


def add_directory_problem(df: pd.DataFrame, lookups: Lookups) -> pd.DataFrame:
    """directory_problem: a valid USCC that is not in the enterprise directory (referential integrity).

    Blank codes (unmatched power accounts, parks) and invalid codes (reported by uscc_problem) are
    not counted again here."""
    if "uscc" in df:
        df["directory_problem"] = _per_value(
            df["uscc"],
            lambda v: None if v in lookups.directory or uscc_problem(v) else f"{v} not in the enterprise directory",
        )
    return df


# ---------------------------------------------------------------- stats


def add_stats_industry(df: pd.DataFrame, lookups: Lookups) -> pd.DataFrame:
    """Checks of a monthly industrial report against each enterprise's previous report.

    ytd_decrease: 累计 output or revenue lower than in the previous report of the same year.
    ytd_collapse: ... lower than `ytd_collapse_share` of it: one of the two reports is in the wrong
        unit or a digit off (a valid revision does not halve a year to date).
    gap_problem: 本月 differs from Δ累计 (this 累计 − last month's 累计; January: 累计) by more than the
        tolerance; only where the previous report is the month just before (or the month is January),
        since a skipped month makes Δ累计 cover two months.
    ytd_standing_problem: 累计 output the same as the month before's while 本月 > 0 (judged over a
        file: the previous month's report sent again under this month's 报告期);
    gap_factor_problem: 本月 output and Δ累计 both > 0 and one gap_factor times the other or more (a
        digit typed twice in one of them: the derived month drives the forecast and the awards);
    magnitude_jump: 本月 output ≥ jump_factor × (or ≤ 1/jump_factor of) the previous report's, both > 0:
        the signature of a file in 元 instead of 千元 (or the other way round).
    The conditions are evaluated on whole columns; messages are written for the failing rows only.
    """
    prev = lookups.previous_reports
    if prev is None or prev.empty:
        prev = pd.DataFrame(columns=["uscc", *_REPORT_COLUMNS])
    prev = prev.drop_duplicates("uscc", keep="last")
    before = df[["uscc"]].merge(prev[["uscc", *_REPORT_COLUMNS]], on="uscc", how="left")
    now = {c: _floats(df[c]) for c in _REPORT_COLUMNS}
    was = {c: _floats(before[c]) for c in _REPORT_COLUMNS}
    month, p_month = now["report_month"], was["report_month"]
    share, slack, factor = lookups.param("gap_tolerance_share"), lookups.param("gap_tolerance_abs"), lookups.param("jump_factor")
    n = len(df)

    same_year = np.floor(p_month / 100) == np.floor(month / 100)  # False where either is missing
    decrease = []
    for label, column in (("工业总产值累计", "output_ytd_k_yuan"), ("营业收入累计", "revenue_ytd_k_yuan")):
        decrease.append((same_year & (now[column] < was[column]),
                         lambda i, label=label, c=column:
                         f"{label} {int(month[i])} {_fmt(now[c][i])} < {int(p_month[i])} {_fmt(was[c][i])}"))
    df["ytd_decrease"] = _messages(n, decrease)
    keep = lookups.param("ytd_collapse_share")
    collapse = []
    for label, column in (("工业总产值累计", "output_ytd_k_yuan"), ("营业收入累计", "revenue_ytd_k_yuan")):
        collapse.append((same_year & (was[column] > 0) & (now[column] < keep * was[column]),
                         lambda i, label=label, c=column:
                         f"{label} {int(month[i])} {_fmt(now[c][i])} 不到 {int(p_month[i])} {_fmt(was[c][i])} 的 "
                         f"{keep:.0%}：两期之一单位或数位有误"))
    df["ytd_collapse"] = _messages(n, collapse)

    january = month % 100 == 1
    consecutive = same_year & (p_month == month - 1)
    gaps, derived_of = [], {}
    for label, reported_col, ytd_col in (("工业总产值", "output_month_k_yuan", "output_ytd_k_yuan"),
                                         ("营业收入", "revenue_month_k_yuan", "revenue_ytd_k_yuan")):
        reported, ytd = now[reported_col], now[ytd_col]
        previous_ytd = np.where(january, 0.0, was[ytd_col])
        derived = derived_of[reported_col] = ytd - previous_ytd
        diff = reported - derived
        with np.errstate(invalid="ignore"):
            outside = np.abs(diff) > slack + share * np.maximum(np.abs(reported), np.abs(derived))
        gaps.append((
            (january | consecutive) & outside,  # NaN anywhere makes `outside` False
            lambda i, label=label, reported=reported, ytd=ytd, previous_ytd=previous_ytd, derived=derived, diff=diff: (
                f"{label} 本月 {_fmt(reported[i])} vs Δ累计 {_fmt(derived[i])} "
                f"({f'累计 {_fmt(ytd[i])}' if january[i] else f'累计 {int(month[i])} {_fmt(ytd[i])} − {int(p_month[i])} {_fmt(previous_ytd[i])}'})"
                f": gap {_fmt(diff[i])}{f' ({diff[i] / derived[i]:+.1%})' if derived[i] else ''}"
            ),
        ))
    df["gap_problem"] = _messages(n, gaps)
    # The same, where 本月 and Δ累计 differ by a factor: a digit typed twice or dropped in one of them
    gap_factor = lookups.param("gap_factor")
    reported, ytd, derived = now["output_month_k_yuan"], now["output_ytd_k_yuan"], derived_of["output_month_k_yuan"]
    with np.errstate(invalid="ignore", divide="ignore"):
        apart = (january | consecutive) & (reported > 0) & (derived > 0) & (
            (derived >= gap_factor * reported) | (reported >= gap_factor * derived))
    with np.errstate(invalid="ignore"):
        standing = consecutive & (reported > 0) & (ytd == was["output_ytd_k_yuan"])
    df["ytd_standing_problem"] = _messages(n, [(standing, lambda i: (
        f"工业总产值累计 {int(month[i])} 与 {int(p_month[i])} 相同（{_fmt(ytd[i])} 千元），本月却为 {_fmt(reported[i])} 千元"))])
    df["gap_factor_problem"] = _messages(n, [(apart, lambda i: (
        f"工业总产值 本月 {_fmt(reported[i])} 千元，Δ累计 {_fmt(derived[i])} 千元：相差 "
        f"{_ratio(max(derived[i], reported[i]) / min(derived[i], reported[i]))} 倍，两者之一数位有误"))])

    out_now, out_before = now["output_month_k_yuan"], was["output_month_k_yuan"]
    with np.errstate(invalid="ignore"):
        jumped = (out_now > 0) & (out_before > 0) & ((out_now >= factor * out_before) | (out_now * factor <= out_before))
    df["magnitude_jump"] = _messages(n, [(jumped, lambda i: (
        f"工业总产值_本月 {_fmt(out_now[i])} 千元 = 上次报送（{int(p_month[i])}：{_fmt(out_before[i])} 千元）的 "
        f"{_ratio(out_now[i] / out_before[i])} 倍"))])
    return df


_REPORT_COLUMNS = ("report_month", "output_month_k_yuan", "output_ytd_k_yuan", "revenue_month_k_yuan", "revenue_ytd_k_yuan")


def add_stats_enterprise(df: pd.DataFrame, lookups: Lookups) -> pd.DataFrame:
    """month_problem: a month field after the snapshot month (the future of the file);
    field_problem: 规上 without 入统年月, 退库年月 before 入统年月."""
    labels = {"above_size_since": "入统年月", "production_start": "投产年月", "above_size_exit": "退库年月"}
    df["month_problem"] = _late_months(df, labels, _int(lookups.period), "after snapshot")
    since, exit_ = _floats(df["above_size_since"]), _floats(df["above_size_exit"])
    with np.errstate(invalid="ignore"):
        exit_before_since = (since > 0) & (exit_ > 0) & (exit_ < since)
    df["field_problem"] = _messages(len(df), [
        ((df["scale_flag"] == "规上").to_numpy(dtype=bool, na_value=False) & np.isnan(since),
         lambda i: "规上 without 入统年月"),
        (exit_before_since, lambda i: f"退库年月 {int(exit_[i])} before 入统年月 {int(since[i])}"),
    ])
    return df


def add_stats_projects(df: pd.DataFrame, lookups: Lookups) -> pd.DataFrame:
    """month_problem: 开工/入库/竣工年月 after the library month of the file;
    equipment_problem: equipment purchased above the month's investment (it is part of it: 元 in
    the 万元 column, or a digit slip); field_problem: completion before start;
    plan_problem: a month's investment above the whole planned total (元 in a 万元 column, or a
    plan a digit short);
    code_problem: a project code the library never listed before although the project entered it
    (入库年月) by the previous library month delivered: a code typed or formatted anew (a new code
    makes a new project, its base quarter empty: all its investment counts as an increment);
    recode_problem: the same, where most of the previous library's unfinished projects are missing
    from the file as well: the codes were re-formatted, not a few projects late to the list;
    relisted_problem: a code new to the library with the owner and 开工年月 of an unfinished project
    of the previous library that this one no longer lists: one project listed again under a new
    code (both named);
    investment_jump: a month's investment ≥ jump_factor × the project's largest earlier month (元 in
    the 万元 column where no plan tells: the plan check catches it where there is one);
    ytd_problem: a month's investment at or above the sum of the project's months earlier in the year
    (at least ytd_min_months of them with investment), where more than ytd_broad_share of the file's
    projects with such months are, and there are at least ytd_min_projects of those: the file holds
    year-to-date sums in the month's column."""
    labels = {"start_month": "开工年月", "library_entry_month": "入库年月", "completion_month": "竣工年月"}
    df["month_problem"] = _late_months(df, labels, _int(lookups.period), "after library month")
    equipment, investment = _floats(df["equipment_month_10k_yuan"]), _floats(df["investment_month_10k_yuan"])
    start, done = _floats(df["start_month"]), _floats(df["completion_month"])
    with np.errstate(invalid="ignore"):
        df["equipment_problem"] = _messages(len(df), [
            (equipment > investment,  # False where either is blank
             lambda i: f"本月设备购置 {_fmt(equipment[i])} 万元 > 本月完成投资 {_fmt(investment[i])} 万元"),
        ])
        df["field_problem"] = _messages(len(df), [
            ((start > 0) & (done > 0) & (done < start), lambda i: f"竣工年月 {int(done[i])} 早于开工年月 {int(start[i])}"),
        ])
        planned = _floats(df["planned_investment_10k_yuan"])
        df["plan_problem"] = _messages(len(df), [
            ((planned > 0) & (investment > planned),  # False where either is blank
             lambda i: f"本月完成投资 {_fmt(investment[i])} 万元 > 计划总投资 {_fmt(planned[i])} 万元"),
        ])
        df["code_problem"] = _codes_new_since_entry(df, _int(lookups.previous_library), lookups.earlier_project_codes)
        history = lookups.project_history

        def earlier(column: str) -> np.ndarray:  # NaN for a project no earlier library holds
            if history is None or not len(history):
                return np.full(len(df), np.nan)
            return df["project_code"].map(history.set_index("project_code")[column]).to_numpy(dtype=float)

        peak, year_before, months_before = earlier("peak_10k_yuan"), earlier("year_before_10k_yuan"), \
            earlier("months_invested_in_year")
        factor = lookups.param("jump_factor")
        df["investment_jump"] = _messages(len(df), [(
            (investment > 0) & (peak > 0) & (investment >= factor * peak),  # False where either is blank
            lambda i: f"本月完成投资 {_fmt(investment[i])} 万元 = 该项目此前单月最高 {_fmt(peak[i])} 万元的 "
                      f"{_ratio(investment[i] / peak[i])} 倍")])
        compared = months_before >= lookups.param("ytd_min_months")  # False where unknown
        at_sum = compared & (investment >= year_before)
        broadly = (compared.sum() >= lookups.param("ytd_min_projects")
                   and at_sum.sum() > lookups.param("ytd_broad_share") * compared.sum())
        df["ytd_problem"] = _messages(len(df), [(
            at_sum & broadly,
            lambda i: f"本月完成投资 {_fmt(investment[i])} 万元 ≥ 该项目本年此前 {int(months_before[i])} 个月合计 "
                      f"{_fmt(year_before[i])} 万元（本文件 {int(at_sum.sum())}/{int(compared.sum())} 个项目如此：是否填成了自年初累计？）")])
    gone = set(lookups.previous_open_projects) - set(df["project_code"].dropna()) if lookups.previous_open_projects \
        else set()
    df["relisted_problem"] = (_codes_replacing_gone_projects(df, lookups, gone) if gone
                              else np.full(len(df), None, dtype=object))
    df["recode_problem"] = (df["code_problem"].to_numpy(dtype=object)
                            if len(gone) > lookups.param("recode_gone_share") * len(lookups.previous_open_projects)
                            else np.full(len(df), None, dtype=object))
    return df


def _codes_new_since_entry(df: pd.DataFrame, previous: int | None, earlier: frozenset[str]) -> np.ndarray:
    """Per row, a message where the project code is in no earlier library although the project
    entered the library (入库年月) by the `previous` library month; None where there is none."""
    if previous is None:  # the landing's first library: nothing to compare
        return np.full(len(df), None, dtype=object)
    entered = _floats(df["library_entry_month"])
    codes = df["project_code"].to_numpy(dtype=object)
    unknown = np.array([c is not None and c not in earlier for c in codes], dtype=bool)
    with np.errstate(invalid="ignore"):
        suspicious = unknown & (entered <= previous)
    return _messages(len(df), [(suspicious, lambda i: f"project code {codes[i]} not in any earlier library, though "
                                                      f"入库年月 {int(entered[i])} is not after the previous library "
                                                      f"month {previous}")])


def _codes_replacing_gone_projects(df: pd.DataFrame, lookups: Lookups, gone: set[str]) -> np.ndarray:
    """Per row, a message where a code new to the library has the owner and 开工年月 of a project the
    previous library listed unfinished and this one no longer lists: one project listed again under
    a new code (M15 keys on the code: the new one has no base quarter, its whole quarter counts as
    increment); None elsewhere."""
    gone_by_owner: dict[tuple[str, int], list[str]] = {}
    for code in sorted(gone):
        uscc, start = lookups.previous_open_projects[code]
        [month] = _floats(pd.Series([start], dtype=object))
        if uscc and not math.isnan(month):
            gone_by_owner.setdefault((uscc, int(month)), []).append(code)
    codes, owners = df["project_code"].to_numpy(dtype=object), df["uscc"].to_numpy(dtype=object)
    starts = _floats(df["start_month"])
    replaced = [gone_by_owner.get((owners[i], int(starts[i]))) if codes[i] is not None and not math.isnan(starts[i])
                and codes[i] not in lookups.earlier_project_codes else None for i in range(len(df))]
    return _messages(len(df), [(np.array([r is not None for r in replaced], dtype=bool),
                                lambda i: f"新项目代码 {codes[i]} 与上一期在建、本期未列的项目 {'、'.join(replaced[i])} "
                                          f"业主（{owners[i]}）和开工年月（{int(starts[i])}）相同：是否同一项目换了代码？")])


# ---------------------------------------------------------------- power, tax, customs, registers


# Letters typed for the digits they look like. An account number with one of them matches no
# account, and its week reaches no enterprise: `O658902252` for 0658902252 took 22万 of a tiny
# budget with nothing said (7 readings of 634, under account_known's 5%; 2026-12-07).
DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1"})


@functools.lru_cache(maxsize=2)
def _accounts_without_leading_zeros(accounts: frozenset[str]) -> dict[str, str]:
    """Known accounts by their digits after any leading zeros (built once per set of accounts)."""
    return {account.lstrip("0"): account for account in accounts}


def _mistyped_account(account: str | None, accounts: frozenset[str]) -> str | None:
    """Why an account in no snapshot is a known account typed with a letter for a digit, or with
    its leading zeros dropped or added (a spreadsheet that read the account as a number: one
    account's `0628624840` written `628624840` took its week from M02 and M24 with nothing said,
    2026-12-07), or None."""
    if account is None or account in accounts:
        return None
    meant = account.translate(DIGIT_LOOKALIKES)
    if meant != account and meant in accounts:
        return f"account {account} is account {meant} with a letter for a digit"
    padded = _accounts_without_leading_zeros(accounts).get(account.lstrip("0"))
    return f"account {account} is account {padded} with its leading zeros changed" if padded else None


def add_power_daily(df: pd.DataFrame, lookups: Lookups) -> pd.DataFrame:
    """account_problem: account in no account snapshot (account_problem_broadly: the same where
    some snapshot has arrived; account_mistyped_problem: one that is a known account with a letter
    O or I for a digit); flag_problem: kWh blank iff flagged 缺失;
    reread_problem: a reading dated further before its delivery than re-reads go (a year typed wrong
    replaces that day's reading of another year: the latest delivery wins);
    level_problem: a reading ≥ jump_factor × (or ≤ 1/jump_factor of) its account's level before the
    delivery (power_levels), both > 0: Wh or MWh sent as kWh; level_rise_problem: the same upwards
    only (a plant stopping falls a hundredfold as a matter of course); zero_problem: a reading of 0
    where its account's level is above 0 (a plant stopped, or a file of zeros); file_level_problem:
    every compared reading, where their median is file_level_factor times their accounts' levels or
    more (a week ×10: a decimal point shifted for the whole file)."""
    df["account_problem"] = _per_value(
        df["account_no"], lambda a: None if a in lookups.accounts else f"account {a} in no account snapshot")
    df["account_mistyped_problem"] = _per_value(df["account_no"], lambda a: _mistyped_account(a, lookups.accounts))
    # judged broadly only against snapshots that exist: a landing without any has no account known
    df["account_problem_broadly"] = (df["account_problem"] if lookups.accounts
                                     else pd.Series(None, index=df.index, dtype=object))
    kwh, flag = _floats(df["kwh"]), df["data_flag"].to_numpy(dtype=object)
    has_kwh = ~np.isnan(kwh)
    df["flag_problem"] = _messages(len(df), [
        ((flag == "缺失") & has_kwh, lambda i: f"flagged 缺失 but kWh {_fmt(kwh[i])}"),
        (((flag == "正常") | (flag == "估算")) & ~has_kwh, lambda i: f"flagged {flag[i]} but kWh blank"),
    ])
    delivered = pd.to_datetime(lookups.period, format="%Y%m%d", errors="coerce") if lookups.period else pd.NaT
    read_on = pd.to_datetime(df["reading_date"])
    window = lookups.param("reread_window_days")
    far_back = ((delivered - read_on).dt.days > window).to_numpy()  # False where either is blank
    df["reread_problem"] = _messages(len(df), [
        (far_back, lambda i: f"日期 {read_on.iloc[i].date()} 早于交付日 {delivered.date()} {int(window)} 天以上"),
    ])
    levels = lookups.power_levels
    level = (df["account_no"].map(levels.set_index("account_no")["level_kwh"]) if levels is not None and len(levels)
             else pd.Series(np.nan, index=df.index)).to_numpy(dtype=float)
    factor = lookups.param("jump_factor")
    with np.errstate(invalid="ignore"):
        rose = (kwh > 0) & (level > 0) & (kwh >= factor * level)
        fell = (kwh > 0) & (level > 0) & (kwh * factor <= level)
    days = int(lookups.param("level_window_days"))

    def message(i: int) -> str:
        return f"用电量 {_fmt(kwh[i])} 千瓦时 = 该户号交付日前{days}天读数中位数 {_fmt(level[i])} 千瓦时的 {_ratio(kwh[i] / level[i])} 倍"

    df["level_problem"] = _messages(len(df), [(rose | fell, message)])
    df["level_rise_problem"] = _messages(len(df), [(rose, message)])
    with np.errstate(invalid="ignore"):
        stopped = (kwh == 0) & (level > 0)
    df["zero_problem"] = _messages(len(df), [(stopped, lambda i: (
        f"用电量 0 千瓦时，该户号交付日前{days}天读数中位数 {_fmt(level[i])} 千瓦时"))])
    with np.errstate(invalid="ignore", divide="ignore"):
        compared = (kwh > 0) & (level > 0)
        shift = float(np.median(kwh[compared] / level[compared])) if compared.sum() else np.nan
    shifted = compared.sum() >= lookups.param("file_level_min_readings") and shift >= lookups.param("file_level_factor")
    df["file_level_problem"] = _messages(len(df), [(compared & shifted, lambda i: (
        f"本文件读数为各户号交付日前{days}天读数中位数的 {_ratio(shift)} 倍（{int(compared.sum())} 个读数的中位数）"))])
    return df


def add_tax_vat(df: pd.DataFrame, lookups: Lookups) -> pd.DataFrame:
    """filed_problem: filing date before the start of the tax period, or after the as-of date."""
    period = _floats(df["tax_period"])
    filed = pd.to_datetime(df["filed_on"]).dt.normalize()
    first_day = pd.Series(period * 100 + 1, index=df.index).astype("Int64").astype("string")
    start = pd.to_datetime(first_day, format="%Y%m%d", errors="coerce")
    before = (filed < start).to_numpy()  # False where either is blank
    after = ~before & (filed > pd.Timestamp(lookups.as_of)).to_numpy()
    df["filed_problem"] = _messages(len(df), [
        (before, lambda i: f"申报日期 {filed.iloc[i].date()} before 所属期 {int(period[i])}"),
        (after, lambda i: f"申报日期 {filed.iloc[i].date()} after as-of {lookups.as_of}"),
    ])
    return df


def add_customs_export(df: pd.DataFrame, lookups: Lookups) -> pd.DataFrame:
    """rate_problem: CNY per USD outside a plausible band (a value in the wrong unit);
    date_problem: export date outside the file's month; far_date_problem: more than
    `late_declaration_months` months from it (a year typed wrong: 2023-10-02 in October 2024's file
    counts for Q4 2023, last year's base, and moved a destination out of this quarter's new ones)."""
    low, high = lookups.param("cny_per_usd_min"), lookups.param("cny_per_usd_max")
    usd, cny = _floats(df["value_usd"]), _floats(df["value_cny_yuan"])
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = cny / usd
        implausible = (usd > 0) & ~np.isnan(cny) & ~((low <= rate) & (rate <= high))
    df["rate_problem"] = _messages(len(df), [(implausible, lambda i: (
        f"人民币 {_fmt(cny[i])} / 美元 {_fmt(usd[i])} = {rate[i]:,.4g} CNY per USD"))])
    month = _int(lookups.period)
    dates = pd.to_datetime(df["export_date"])
    outside = np.zeros(len(df), dtype=bool) if month is None else \
        (dates.notna() & (dates.dt.year * 100 + dates.dt.month != month)).to_numpy()
    df["date_problem"] = _messages(len(df), [(outside, lambda i: f"出口日期 {dates.iloc[i].date()} outside {month}")])
    if month is None:
        far = np.zeros(len(df), dtype=bool)
    else:
        apart = (dates.dt.year * 12 + dates.dt.month - (month // 100 * 12 + month % 100)).abs()
        far = (dates.notna() & (apart > lookups.param("late_declaration_months"))).to_numpy()
    df["far_date_problem"] = _messages(len(df), [(far, lambda i: (
        f"出口日期 {dates.iloc[i].date()} more than {lookups.param('late_declaration_months'):g} month(s) from {month}"))])
    return df


def add_loans(df: pd.DataFrame, lookups: Lookups) -> pd.DataFrame:
    """date_problem: maturity not after disbursement."""
    df["date_problem"] = [
        f"到期日期 {m.date()} not after 放款日期 {d.date()}" if not (pd.isna(d) or pd.isna(m)) and m <= d else None
        for d, m in zip(df["disbursed_on"], df["matures_on"])
    ]
    return df


def add_policy_awards(df: pd.DataFrame, lookups: Lookups) -> pd.DataFrame:
    """award_problem: chosen without being eligible, or an amount without eligibility."""
    eligible = _flags(df["eligible"])
    amounts = _floats(df["amount_yuan"])
    with np.errstate(invalid="ignore"):
        paid = ~np.isnan(amounts) & (amounts != 0)
    df["award_problem"] = _messages(len(df), [
        (_flags(df["chosen"]) & ~eligible, lambda i: "chosen but not eligible"),
        (paid & ~eligible, lambda i: f"amount {_fmt(amounts[i])} 元 without eligibility"),
    ])
    return df


def add_resend_problem(df: pd.DataFrame, lk: Lookups) -> pd.DataFrame:
    """`resend_problem` on every row of a file that repeats an earlier period's delivery byte for
    byte (or, where the rows carry no period, row for row): its rows are that period's, whatever
    the name says. Where the rows carry no period of
    their own (the project library), only a file in which something moved (the suite's param
    `resend_moving_column` > 0 somewhere) counts: a small library of projects not started yet
    repeats itself month after month, and the generator's tiny sample does."""
    moving = lk.params.get("resend_moving_column")
    with np.errstate(invalid="ignore"):
        repeated = lk.identical_to is not None and (moving is None or bool((_floats(df[moving]) > 0).any()))
    problem = (f"the same rows as {lk.identical_to}: that period's file sent again under this name?"
               if repeated else None)
    return df.assign(resend_problem=np.full(len(df), problem, dtype=object))


DERIVE: dict[str, Callable[[pd.DataFrame, Lookups], pd.DataFrame]] = {
    "resend": add_resend_problem,
    "uscc": add_uscc_problem,
    "directory": add_directory_problem,
    "stats_industry": add_stats_industry,
    "stats_enterprise": add_stats_enterprise,
    "stats_projects": add_stats_projects,
    "power_daily": add_power_daily,
    "tax_vat": add_tax_vat,
    "customs_export": add_customs_export,
    "loans": add_loans,
    "policy_awards": add_policy_awards,
}


def derive(df: pd.DataFrame, names: tuple[str, ...], lookups: Lookups) -> pd.DataFrame:
    for name in names:
        df = DERIVE[name](df, lookups)
    return df


# ---------------------------------------------------------------- helpers


def _messages(n: int, checks: list[tuple[np.ndarray, Callable[[int], str]]]) -> np.ndarray:
    """Per row, the messages of the checks whose mask is True there, joined by '; '; None if none.

    An object array, not a list: pandas takes it as a column without converting each element."""
    out = np.full(n, None, dtype=object)
    for mask, message in checks:
        for i in np.flatnonzero(mask):
            out[i] = message(i) if out[i] is None else f"{out[i]}; {message(i)}"
    return out


def _late_months(df: pd.DataFrame, labels: dict[str, str], limit: int | None, after: str) -> np.ndarray:
    """Per row, the month fields (column -> label) later than the file's month `limit`, as one message."""
    checks = []
    for column, label in labels.items():
        months = _floats(df[column])
        with np.errstate(invalid="ignore"):
            late = months > limit if limit else np.zeros(len(df), dtype=bool)
        checks.append((late, lambda i, label=label, months=months: f"{label} {int(months[i])} {after} {limit}"))
    return _messages(len(df), checks)


def _per_value(column: pd.Series, problem: Callable[[str], str | None]) -> np.ndarray:
    """`problem` of each non-blank value, worked out once per distinct value (an object array)."""
    codes, values = pd.factorize(column)  # blank (None/NaN) -> -1, which picks the trailing None
    verdicts = np.full(len(values) + 1, None, dtype=object)
    verdicts[:-1] = [None if _blank(v) else problem(v) for v in values]
    return verdicts[codes]


def _flags(column: pd.Series) -> np.ndarray:
    """True where the value is true; null and false are both False."""
    return column.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _floats(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v == ""


def _int(v) -> int | None:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return int(v)


def _ratio(v: float) -> str:
    """A ratio to 4 significant digits, never in exponent notation (12,345, not 1.234e+04)."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"


def _fmt(v: float) -> str:
    """A delivered number as written (thousands separated, no rounding to hide 100.01 behind 100.0)."""
    return f"{float(v):,.6f}".rstrip("0").rstrip(".")


def _with_code(code: str, problem: str | None) -> str | None:
    return None if problem is None else f"{code}: {problem}"
