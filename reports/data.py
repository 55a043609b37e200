"""Warehouse reads shared by the workbooks (DuckDB; the tables of docs/contract/OUTPUTS.md and the raw manifest).

Every budget figure a workbook shows is read here as the engine wrote it: a scheme's low/base/high
from `marts.policy_budget`, a total's (per measure, funding, city, industry group, overall) from
`marts.policy_budget_rollup` — each quantity's own distribution, so a total's median is not the sum
of its rows' medians — and the runs before this one from `marts.policy_budget_history`.
"""

from __future__ import annotations

import csv
import json
import math
import re
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project.lib.forecast.draws import Horizon
from dagster_project.lib.ingest import FEEDS, datasets_of
from dagster_project.lib.ingest.loader import LANDING_ROOT_SCOPE
from dagster_project.lib.ingest.spec import PeriodKind
from dagster_project.lib.ingest.withdrawals import deliveries_in_use
from dagster_project.lib.measures.catalogue import Catalogue
from dagster_project.lib.money import wan_text
from dagster_project.lib.quality.suites import load_suites
from dagster_project.lib.quality.warehouse import LATEST_VIEW, table_exists

from . import wording

FEED_LABELS = {
    "stats": "统计（规上工业、项目库）",
    "tax": "税务（增值税）",
    "customs": "海关（出口）",
    "power": "电力（户号、日电量）",
    "registers": "登记册（认定、桂惠贷、申报、两高、供需）",
}
DATASET_LABELS = {
    "industry": "规上工业月报", "enterprise": "企业名录", "projects": "项目库月报", "vat": "增值税申报",
    "export": "出口明细", "accounts": "用电户号", "daily": "日用电量", "applications": "活动申报",
    "loans": "桂惠贷放款", "recognitions": "认定名单", "two_high": "两高名单", "supply_links": "首次供需",
}
OTHER_GROUP = "其他"  # the engine's group of an enterprise without one (dim_enterprise, the roll-up)
TOTAL = "全部"  # the key of the overall total in marts.policy_budget_rollup


class StaleWarehouse(RuntimeError):
    """The warehouse tables do not belong to the run the workbook is asked for."""


def check_as_of(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    found = [r[0] for r in con.execute("select distinct as_of from marts.policy_awards").fetchall()]
    if found and found != [as_of]:
        raise StaleWarehouse(f"marts.policy_awards is as of {', '.join(map(str, found))}, not {as_of}: "
                             "run the measures for that date first")


def latest_fingerprint(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    row = con.execute(
        "select params_fingerprint from marts.policy_runs where as_of = ? order by finished_at desc limit 1", [as_of]
    ).fetchone()
    return row[0] if row else None


def cities(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(city_code, city_name) of the prefectures, in code order."""
    return con.execute(
        "select city_code, any_value(city_name) from marts.dim_region group by city_code order by city_code"
    ).fetchall()


def city_name(con: duckdb.DuckDBPyConnection, city_code: str) -> str:
    names = dict(cities(con))
    if city_code not in names:
        raise ValueError(f"unknown prefecture code {city_code!r} (known: {', '.join(sorted(names))})")
    return names[city_code]


def industry_groups(catalogue: Catalogue) -> list[str]:
    """The groups of docs/contract/MEASURES.md in the catalogue's order (those with a growth target), then 其他."""
    groups = [k.industry_group for _, k in catalogue.kpis if k.industry_group]
    return list(dict.fromkeys([*groups, OTHER_GROUP]))


def quarter_reported(catalogue: Catalogue, as_of: date, con: duckdb.DuckDBPyConnection | None = None) -> bool:
    """Whether every month of the policy quarter is delivered by `as_of` (the forecast has nothing
    left): until December's statistics arrive the figures are forecasts, also after 31 December.
    With the warehouse (`con`): and each stats dataset's December delivery has arrived (one due and
    missing is forecast, Horizon.as_delivered: the workbook must not call that 实际数)."""
    horizon = Horizon.of(catalogue, as_of)
    return not (horizon.as_delivered(con) if con is not None else horizon).open


def quarter_phase(catalogue: Catalogue, as_of: date) -> str:
    """Where the policy quarter stands while it is not reported, in the workbooks' words."""
    quarter = catalogue.document.policy_quarter
    if as_of < quarter.start:
        return "四季度尚未开始"
    return "四季度进行中" if as_of <= quarter.end else "四季度已结束、数据尚未报齐"


def period_end(period: str | None) -> date | None:
    """The last day a delivered period covers: `202410` -> 2024-10-31, `20241125` -> 2024-11-25."""
    if not period:
        return None
    if len(period) == 8:
        return date(int(period[:4]), int(period[4:6]), int(period[6:]))
    year, month = int(period[:4]), int(period[4:6])
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


@dataclass(frozen=True)
class FeedCutoff:
    feed: str
    label: str
    period: str | None  # latest period delivered by as_of (YYYYMM or YYYYMMDD), None for registers
    arrived: date | None  # when that delivery was available
    files: int
    data_end: date | None = None  # a feed delivered by date: the last day its data cover (power: the latest reading)
    # (label, latest period or None) of the feed's monthly datasets behind its latest period: the
    # statistics' newest industry report says nothing of a project library a month late
    behind: tuple[tuple[str, str | None], ...] = ()
    # registers: (label, the day of its latest row) of each register the forecast counts rows still
    # to come from (forecast.register_paces): a register has no period, and may be behind the run
    registered: tuple[tuple[str, date], ...] = ()

    @property
    def end(self) -> date | None:
        """The last day the feed's data cover: a month's last day, or the latest reading delivered."""
        return self.data_end or period_end(self.period)

    @property
    def text(self) -> str:
        if self.files == 0:
            return "尚无到达文件"
        if not self.period:
            return f"按文件整体更新（{self.files} 个文件）" + (
                "；最新登记日期：" + "、".join(f"{label} {day}" for label, day in self.registered) if self.registered else "")
        by_period: dict[str | None, list[str]] = {}  # datasets behind at the same month named together
        for label, got in self.behind:
            by_period.setdefault(got, []).append(label)
        lagging = "；其中" + "；".join(f"{'、'.join(labels)}{'仅至 ' + _month_words(got) if got else '尚无到达文件'}"
                                     for got, labels in by_period.items()) if by_period else ""
        shown = _month_words(self.period) if len(self.period) == 6 else str(self.end)
        return f"数据至 {shown}（{self.arrived} 到达）{lagging}"


def _month_words(period: str) -> str:
    return f"{period[:4]}年{int(period[4:6])}月"


def latest_reading(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest day of daily power read into the warehouse of the run (dbt's as-of cut applied):
    a weekly delivery named by its date need not hold that date's readings."""
    if not table_exists(con, "staging.stg_power__daily"):
        return None
    return con.execute("select max(reading_date) from staging.stg_power__daily").fetchone()[0]


def _failed_check(con: duckdb.DuckDBPyConnection, as_of: date, suite: str) -> tuple[int, list[dict]] | None:
    """(rows not meeting it, its examples) of the one-expectation mart suite `suite` in its latest
    validation as of `as_of`; None when it held (or did not run)."""
    if not table_exists(con, LATEST_VIEW):
        return None
    row = con.execute(f"select unexpected_count, unexpected_examples from {LATEST_VIEW} "
                      "where suite = ? and as_of = ? and not success", [suite, as_of]).fetchone()
    return None if row is None else (row[0], json.loads(row[1] or "[]"))


def missing_periods(con: duckdb.DuckDBPyConnection, as_of: date, suite: str) -> str | None:
    """The months the rules read with nothing delivered, as the check `suite` of the run as of
    `as_of` found them (`mart_base_periods`: the base quarter and M22's look-back;
    `mart_policy_periods`: the policy year's months due by then), in words per dataset; None when
    every one is there (or the check did not run)."""
    failed = _failed_check(con, as_of, suite)
    if failed is None:
        return None
    count, examples = failed
    months: dict[str, list[str]] = {}
    for example in examples:
        dataset = DATASET_LABELS.get(example["feed"].split("_", 1)[1], example["feed"])
        months.setdefault(dataset, []).append(example["month"][:7])
    listed = "；".join(f"{dataset} {'、'.join(m)}" for dataset, m in months.items())
    shown = sum(len(m) for m in months.values())
    return f"{count} 个月：{listed}" + (f" 等（另有 {count - shown} 个月）" if count > shown else "")


def rejected_rows(con: duckdb.DuckDBPyConnection, as_of: date, suite: str) -> str | None:
    """The rejected rows the rules do not see, as the check `suite` of the run as of `as_of` found
    them (`mart_rejected_policy_rows`: rows of identified enterprises and projects in the statistics,
    with nothing in force for their month; `mart_rejected_register_rows`: register rows no later
    version re-sent), in words (file, line, the enterprise or project, the field and why); None when
    there are none (or the check did not run)."""
    failed = _failed_check(con, as_of, suite)
    if failed is None:
        return None
    count, examples = failed
    return _rows_in_words(count, [
        f"{e['file_name']} 第 {e['line']} 行（{'项目' if e['dataset'] == 'projects' else '企业'} {e['entity'] or '（未填）'}，"
        f"{e['header']}：{wording.reason(e['reason'])}）" for e in examples])


def year_to_date_quarters(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    """The enterprises whose policy or base quarter is their year to date, because the month before
    it was not reported (MEASURES.md: a missing earlier month counts as 0; the check
    `mart_quarter_spans`), in words; None when there are none. Three enterprises of a fourth data
    process got M02.growth's 200万 cap each on 275–342% "growth" so, with the warning on 数据质量 only."""
    failed = _failed_check(con, as_of, "mart_quarter_spans")
    if failed is None:
        return None
    count, examples = failed
    return _rows_in_words(count, [f"企业 {e['uscc']}（{e['quarter_start']} 季度：{e['span_problem']}）" for e in examples])


def _rows_in_words(count: int, listed: list[str]) -> str:
    """`count` rows, those `listed` named (a check keeps a few examples)."""
    return f"{count} 行：{'；'.join(listed)}" + (f" 等（另有 {count - len(listed)} 行）" if count > len(listed) else "")


def suspect_rows(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    """The rows that a check marked `on_summary` names (suspected unit, digit or keying errors,
    loaded as delivered: one enterprise's month in 元, a project's month ×10,000, a reading ×100, a
    rate typed as a fraction, a plant's 投产年月 changed), in words (file, line, what), from the
    latest verdicts of the deliveries in use and the mart checks of the run as of `as_of`; None
    when there are none."""
    marked = [(s.name, e) for s in load_suites() for e in s.expectations if e.on_summary]
    if not marked or not table_exists(con, LATEST_VIEW):
        return None
    expectation_of = {(suite, e.name): e for suite, e in marked}

    def what(suite: str, name: str, example: dict) -> str:  # a check's own message, else its label and the value
        e = expectation_of[(suite, name)]
        if e.column not in example:  # a check over several columns (rows sharing them): its label says it
            return e.label
        value = example[e.column]
        return wording.problem(value) if isinstance(value, str) else f"{e.label}：{value}"

    rows = con.execute(  # a delivery's latest verdict (in use, arrived by then), a mart check's of the run
        f"""select r.suite, r.expectation, r.file_name, r.unexpected_count, r.unexpected_examples
            from {LATEST_VIEW} r left join {deliveries_in_use(con)} d using (file_name)
            where not r.success and (d.available_on <= ? or r.file_name is null and r.as_of = ?)
              and (r.suite, r.expectation) in (select unnest(?::varchar[]), unnest(?::varchar[]))
            order by r.suite, r.file_name, r.expectation""",
        [as_of, as_of, [suite for suite, _ in marked], [e.name for _, e in marked]]).fetchall()
    if not rows:
        return None
    count = sum(n for *_, n, _ in rows)
    return _rows_in_words(count, [
        f"{file or e.get('source_file')} 第 {e.get('_line', e.get('source_line'))} 行（{what(suite, name, e)}）"
        for suite, name, file, _, examples in rows for e in json.loads(examples or "[]")])


def undelivered_datasets(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    """The registers and weekly datasets of which no delivery is in use by `as_of` (never
    delivered, or every delivery withdrawn), in words; None when every one has one. Monthly
    datasets are named month by month (`missing_periods`). With no registers folder the 两高 list
    excluded no one from M24 (a 两高 enterprise paid 245.55万, its reason "两高名单 不在 ✓") and
    the register schemes read 0, with nothing on 汇总 (2026-12-07)."""
    relation = deliveries_in_use(con)
    if relation is None:
        return None
    delivered = {(feed, dataset) for feed, dataset in con.execute(
        f"select distinct feed, dataset from {relation} where available_on <= ?", [as_of]).fetchall()}
    missing = [f"{ds.feed}_{ds.dataset}" + ("（登记表）" if ds.period is PeriodKind.NONE else "（周报）")
               for feed in FEEDS for ds in datasets_of(feed)
               if ds.period is not PeriodKind.MONTH and (ds.feed, ds.dataset) not in delivered]
    return f"{len(missing)} 个数据集：" + "、".join(missing) if missing else None


# A day on which fewer accounts read than this share of the days around it (±14 days, median)
# has lost its weekly delivery: a later file re-reads a few accounts' days, so a week missing shows
# as 1–2 of 90 accounts, while the clean feeds of both data processes never fall below 99.8%.
SILENT_DAY_SHARE = 0.5


# The days from `?` (since) to the last day delivered on which most accounts have no reading:
# fewer than `?` (SILENT_DAY_SHARE) of the median of the days around it.
_SILENT_DAYS_SQL = """with counts as (select reading_date as day, count(*) as accounts from staging.stg_power__daily
                           where reading_date >= ? group by all),
                span as (select greatest(?, min(day)) as first_day, max(day) as last_day from counts),
                days as (select cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as day
                         from span where first_day <= last_day),
                daily as (select d.day, coalesce(c.accounts, 0) as accounts,
                                 median(coalesce(c.accounts, 0)) over (order by d.day rows between 14 preceding
                                                                        and 14 following) as usual
                          from days d left join counts c using (day))
            select day from daily where accounts < ? * usual"""


def missing_power_days(con: duckdb.DuckDBPyConnection, since: date) -> str | None:
    """The days from `since` (the base quarter's start) to the last day delivered on which most
    accounts have no reading (fewer than SILENT_DAY_SHARE of the median of the days around it: a
    weekly file not delivered between two that were), as date ranges; None when there are none.
    Such days count as no consumption: one week missing cut M02.growth 523万 → 98万 and M24
    111万 → 14万 of a `tiny` budget, with a warning on 数据质量 only and 汇总's 数据截止 reading
    "电力 数据至 2024-11-24" (2026-12-07)."""
    if not table_exists(con, "staging.stg_power__daily"):
        return None
    ranges = con.execute(
        f"""with silent as ({_SILENT_DAYS_SQL}),
                runs as (select day, day - cast(row_number() over (order by day) as integer) as run from silent)
            select min(day), max(day), count(*) from runs group by run order by 1""",
        [since, since, SILENT_DAY_SHARE]).fetchall()
    if not ranges:
        return None
    days = sum(n for *_, n in ranges)
    return f"{days} 天：{_day_ranges(ranges)}"


def _day_ranges(ranges: list[tuple[date, date, int]], shown: int = 10) -> str:
    """(first, last, days) runs of days in words, the first `shown` listed."""
    listed = "、".join(f"{a}" if a == b else f"{a} 至 {b}" for a, b, _ in ranges[:shown])
    return listed + (f" 等（另有 {len(ranges) - shown} 段）" if len(ranges) > shown else "")


NAMED_ACCOUNTS_WITH_GAPS = 10  # the accounts with the most days without a row named on 汇总


def accounts_with_days_without_a_row(con: duckdb.DuckDBPyConnection, since: date) -> str | None:
    """The accounts with days between their first and their last reading from `since` for which
    no delivery holds a row at all (neither a reading nor a 缺失 flag: FEEDS.md flags a day not
    read), leaving out the days most accounts lack (`missing_power_days` names those), in words:
    the account, its holder, the days; most days first; None when there are none. Such a day counts
    as no consumption; one account's rows left out of a weekly file moved its holder's Q4 and M24
    with nothing said (issue 15's "left as they are", mended 2026-12-07). An account closed and
    opened again also shows here: the message says so."""
    if not table_exists(con, "staging.stg_power__daily"):
        return None
    holder = ("left join staging.stg_power__accounts a using (account_no) left join marts.dim_enterprise e using (uscc)"
              if table_exists(con, "staging.stg_power__accounts") and table_exists(con, "marts.dim_enterprise")
              else "")
    rows = con.execute(
        f"""with silent as ({_SILENT_DAYS_SQL}),
                readings as (select distinct account_no, reading_date as day from staging.stg_power__daily
                             where reading_date >= ?),
                spans as (select account_no, min(day) as first_day, max(day) as last_day, count(*) as days
                          from readings group by account_no),
                short as (select * from spans where days < last_day - first_day + 1),
                expected as (select account_no,
                                    cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as day
                             from short),
                gaps as (select account_no, day from expected
                         where (account_no, day) not in (select (account_no, day) from readings)
                           and day not in (select day from silent)),
                runs as (select account_no, day,
                                day - cast(row_number() over (partition by account_no order by day) as integer) as run
                         from gaps),
                ranges as (select account_no, min(day) as first_day, max(day) as last_day, count(*) as days
                           from runs group by account_no, run)
            select account_no, {"any_value(a.uscc), any_value(e.enterprise_name)" if holder else "null, null"},
                   sum(days) as days, list(struct_pack(first_day, last_day, days) order by first_day)
            from ranges {holder}
            group by account_no order by days desc, account_no""",
        [since, since, SILENT_DAY_SHARE, since]).fetchall()
    if not rows:
        return None
    named = []
    for account, uscc, name, days, runs in rows[:NAMED_ACCOUNTS_WITH_GAPS]:
        who = f"（{uscc}，{name}）" if name else f"（{uscc or '持有企业未知'}）" if holder else ""
        ranges = [(r["first_day"], r["last_day"], r["days"]) for r in runs]
        named.append(f"户号 {account}{who or ' '}缺 {days} 天（{_day_ranges(ranges, 3)}）")
    return f"{len(rows)} 户：{'；'.join(named)}" + (
        f" 等（另有 {len(rows) - NAMED_ACCOUNTS_WITH_GAPS} 户）" if len(rows) > NAMED_ACCOUNTS_WITH_GAPS else "")


def projects_gone_from_the_library(con: duckdb.DuckDBPyConnection) -> str | None:
    """The projects of the month-before library, not completed (no 竣工年月) and with investment
    in it, that the latest library does not list, in words; None when there are none. Such a
    project's months from then on count as nothing invested: one left out of October's library cut
    a `tiny` budget by 18.5% (M15.increment 2,584万 → 1,346万) with nothing said (2026-12-07). A
    project also leaves the library when it completes; one with investment in its last month and
    no completion month is named for a check."""
    if not table_exists(con, "staging.stg_stats__projects"):
        return None
    rows = con.execute(
        """with months as (select distinct report_month from staging.stg_stats__projects order by 1 desc limit 2),
                latest as (select max(report_month) as m from months),
                before as (select min(report_month) as m from months)
            select p.project_code, p.project_name
            from staging.stg_stats__projects p, latest, before
            where p.report_month = before.m and before.m < latest.m
              and p.completion_month is null and p.investment_yuan > 0
              and p.project_code not in (select project_code from staging.stg_stats__projects, latest
                                         where report_month = latest.m)
            order by p.project_code""").fetchall()
    if not rows:
        return None
    return _rows_in_words(len(rows), [f"项目 {code}（{name}）" for code, name in rows])


NAMED_LATE_REPORTERS = 10  # the largest named on 汇总; the count says how many more


def enterprises_missing_from_the_latest_report(con: duckdb.DuckDBPyConnection) -> str | None:
    """The enterprises of the month-before industry report that the latest report does not list and
    that have not left the statistics (no 退库 by the latest month), largest output first, in words
    with their month-before output; None when there are none. The forecast takes them as late and
    forecasts their months from their latest report (`forecast.late_report_months`); whether they
    are late or stopped only the provider can say. Left out of October's report, the largest
    enterprise of a `tiny` sample lost 283万 of M02.growth and M24 to a forecast of its October, with
    a warning on 数据质量 only (2026-12-07)."""
    if not (table_exists(con, "staging.stg_stats__industry") and table_exists(con, "marts.dim_enterprise")):
        return None
    rows = con.execute(
        """with months as (select distinct report_month from staging.stg_stats__industry order by 1 desc limit 2),
                latest as (select max(report_month) as m from months),
                before as (select min(report_month) as m from months)
            select s.uscc, e.enterprise_name, s.output_month_yuan, s.report_month
            from staging.stg_stats__industry s
            cross join latest cross join before
            left join marts.dim_enterprise e using (uscc)
            where s.report_month = before.m and before.m < latest.m
              and (e.above_size_exit is null or e.above_size_exit > latest.m)
              and s.uscc not in (select uscc from staging.stg_stats__industry, latest where report_month = latest.m)
            order by s.output_month_yuan desc nulls last, s.uscc""").fetchall()
    if not rows:
        return None
    return _rows_in_words(len(rows), [
        f"企业 {code}（{name or '名录中无此企业'}，{month:%Y年%-m月}产值 "
        f"{'未报' if output is None else wan_text(output) + '万元'}）"
        for code, name, output, month in rows[:NAMED_LATE_REPORTERS]])


def broadly_rejected_files(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    """The deliveries in use, arrived by `as_of`, whose rows ingestion rejected broadly (the check
    `rows_quarantined` of their raw suite failed in its latest validation: more than a tenth), in
    words: the file, rows rejected of rows read, the commonest reason; None when there are none.
    A weekly power file whose dates were all typed another way loses its week, and the budget then
    forecasts it, with nothing on 汇总 but a data cut-off that looks complete. The registers are
    left to `mart_rejected_register_rows`, which names each rejected row of theirs (a sheet of nine
    rows with two rejected is no broken delivery)."""
    if not table_exists(con, LATEST_VIEW):
        return None
    files = con.execute(
        f"""select r.file_name, any_value(m.rows_read), any_value(m.rows_rejected)
            from {LATEST_VIEW} r join {deliveries_in_use(con)} d using (file_name)
            join raw._manifest m on m.file_name = r.file_name
            where not r.success and r.expectation = 'rows_quarantined' and d.available_on <= ? and d.feed <> 'registers'
            group by r.file_name order by r.file_name""", [as_of]).fetchall()
    if not files:
        return None
    listed = []
    for name, read, rejected in files:
        reason = con.execute("select reason from raw._rejected_rows where file_name = ? group by reason "
                             "order by count(*) desc, reason limit 1", [name]).fetchone()
        why = f"，主要原因：{wording.reason_kind(reason[0])}" if reason else ""
        listed.append(f"{name}（{read:,} 行中 {rejected:,} 行被拒收{why}）")
    return f"{len(files)} 个文件：" + "；".join(listed)


def refused_files(con: duckdb.DuckDBPyConnection) -> str | None:
    """The files the latest look at their folder refused or did not read (still in the landing
    dir), in words: the file and why; None when there are none. Hidden files and Excel's lock
    files (`~$…`, there while a register is open) are no deliveries and are left out. A loans
    register named `.XLSX` was refused and M23 lost its loans, with the refusal only on 数据质量."""
    if not table_exists(con, "raw._landing_scans"):
        return None
    rows = con.execute(
        rf"""select r.file_name, r.reason from raw._file_refusals r
            join raw._landing_scans s on s.scope = coalesce(r.feed, '{LANDING_ROOT_SCOPE}')
            where r.last_seen_at >= s.scanned_at
              and not regexp_matches(r.file_name, '(^|/)(\.|~\$)[^/]*$')
            order by r.file_name""").fetchall()
    if not rows:
        return None

    def named(name: str, reason: str) -> str:  # a read file's reason begins with its name, a stray's does not
        # (its spaces and invisible characters written <U+XXXX>: ingest.filenames._spaces_shown)
        first = re.sub(r"<U\+([0-9A-F]{4,6})>", lambda m: chr(int(m.group(1), 16)), reason.split(": ", 1)[0])
        if first.rsplit("/", 1)[-1] == name.rsplit("/", 1)[-1]:
            return wording.reason(reason)
        return f"{name}：{wording.reason(reason)}"
    return f"{len(rows)} 个文件：" + "；".join(named(name, reason) for name, reason in rows)


def files_with_extra_columns(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    """The deliveries in use, arrived by `as_of`, holding columns FEEDS.md does not define (kept in
    `_extra`, read by no rule), in words: the file and the columns; None when there are none. A
    customs file with a 币制 column, one line in EUR, loaded that line's amount as US dollars, with
    the extra column named in the Dagster log only (2026-12-07): a new column may change what the
    others mean."""
    relation = deliveries_in_use(con)
    if relation is None:
        return None
    groups = con.execute(f"""select extra_columns, count(*), min(file_name), max(file_name) from {relation}
                             where extra_columns is not null and available_on <= ?
                             group by feed, dataset, extra_columns order by min(file_name)""", [as_of]).fetchall()
    if not groups:
        return None
    # a provider's new column comes in every delivery after it: one line per dataset and columns
    return f"{sum(n for _, n, _, _ in groups)} 个文件：" + "；".join(
        (f"{first}（{columns}）" if n == 1 else f"{first} 至 {last} 等 {n} 个文件（{columns}）")
        for columns, n, first, last in groups)


def data_cutoff(con: duckdb.DuckDBPyConnection, as_of: date) -> list[FeedCutoff]:
    """Per feed, the latest period that had arrived by the as-of date and is in use (deliveries
    after it, and withdrawn ones, are not used)."""
    deliveries = deliveries_in_use(con)
    rows = con.execute(
        f"""
        select feed, dataset,
               max(period) filter (where available_on <= ? and period is not null and period <> ''),
               count(*) filter (where available_on <= ?)
        from {deliveries} group by all
        """,
        [as_of, as_of],
    ).fetchall()
    latest: dict[tuple[str, str], str | None] = {(feed, dataset): period for feed, dataset, period, _ in rows}
    out = []
    for feed, label in FEED_LABELS.items():
        periods = [p for (f, _), p in latest.items() if f == feed and p]
        period = max(periods, default=None)
        files = sum(n for f, _, _, n in rows if f == feed)
        arrived = None
        if period:
            arrived = con.execute(
                f"select max(available_on) from {deliveries} where feed = ? and period = ? and available_on <= ?",
                [feed, period, as_of],
            ).fetchone()[0]
        behind = tuple((DATASET_LABELS[ds.dataset], latest.get((feed, ds.dataset)))
                       for ds in datasets_of(feed) if period and ds.arrival_day is not None
                       and (latest.get((feed, ds.dataset)) or "") < period)
        out.append(FeedCutoff(feed, label, period, arrived, files, latest_reading(con) if feed == "power" else None,
                              behind, registered_through(con) if feed == "registers" else ()))
    return out


def registered_through(con: duckdb.DuckDBPyConnection) -> tuple[tuple[str, date], ...]:
    """(label, day) per register the forecast drew rows still to come for: the rows after that day
    are forecast (lib/forecast/new_events.registered_through)."""
    if not table_exists(con, "forecast.register_paces"):
        return ()
    rows = con.execute("select register, registered_through from forecast.register_paces "
                       "where registered_through is not null order by register").fetchall()
    return tuple((DATASET_LABELS.get(name, name), day) for name, day in rows)


# ----------------------------------------------------------------------------- budget figures


@dataclass(frozen=True)
class Figure:
    """One reported quantity's own distribution: low (P10), base (median), high (P90) in 元, and the
    counts at their own medians."""

    base: Decimal
    low: Decimal
    high: Decimal
    awards: int  # (scheme, beneficiary) pairs counted
    beneficiaries: int  # distinct beneficiaries (a project, or an enterprise for per-enterprise schemes)


ZERO = Figure(Decimal(0), Decimal(0), Decimal(0), 0, 0)


def budget_figures(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[tuple[str, str], Figure]:
    """(level, key) -> Figure: `("scheme", "M02.growth")` from marts.policy_budget, `("total", TOTAL)`,
    `("funding", "grant")`, `("measure", "M02")`, `("city", "450100")`, `("industry_group", "…")` from
    marts.policy_budget_rollup."""
    found: dict[tuple[str, str], dict[str, tuple]] = {}
    for scenario, sid, count, amount in con.execute(
            "select scenario, scheme_id, beneficiaries, amount_yuan from marts.policy_budget where as_of = ?",
            [as_of]).fetchall():
        found.setdefault(("scheme", sid), {})[scenario] = (amount, count, count)
    for level, key, scenario, amount, count, awards in con.execute(
            "select level, key, scenario, amount_yuan, beneficiaries, awards from marts.policy_budget_rollup "
            "where as_of = ?", [as_of]).fetchall():
        found.setdefault((level, key), {})[scenario] = (amount, awards, count)
    return {key: Figure(Decimal(s["base"][0]), Decimal(s["low"][0]), Decimal(s["high"][0]), int(s["base"][1]),
                        int(s["base"][2])) for key, s in found.items()}


def measure_budgets(con: duckdb.DuckDBPyConnection, as_of: date, city_code: str | None = None) -> dict[str, Figure]:
    """Measure -> its budget: its own distribution (marts.policy_budget_rollup); a prefecture's pack:
    the sums over its beneficiaries in their median scenario (no per-measure distribution per city)."""
    if city_code is None:
        return {key: f for (level, key), f in budget_figures(con, as_of).items() if level == "measure"}
    return {m: Figure(Decimal(amount), Decimal(low), Decimal(high), int(n), int(who)) for m, n, who, amount, low, high in
            con.execute(
                """select measure_id, count(*) filter (where scenario = 'base' and chosen),
                          count(distinct coalesce(project_code, uscc)) filter (where scenario = 'base' and chosen),
                          coalesce(sum(amount_yuan) filter (where scenario = 'base' and chosen), 0),
                          coalesce(sum(amount_yuan) filter (where scenario = 'low' and chosen), 0),
                          coalesce(sum(amount_yuan) filter (where scenario = 'high' and chosen), 0)
                   from marts.policy_awards where as_of = ? and city_code = ? group by measure_id""",
                [as_of, city_code]).fetchall()}


@dataclass(frozen=True)
class Component:
    """A scheme's part from beneficiaries already known (registered, reporting) or still to come by the
    quarter's end (simulated), each its own distribution."""

    base: Decimal
    low: Decimal
    high: Decimal
    beneficiaries: int  # at the median count


def budget_components(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, dict[str, Component]] | None:
    """scheme -> {'reported': …, 'forecast_new': …} from marts.policy_budget_components; None when the
    warehouse has no such table (the split is then not shown)."""
    if not table_exists(con, "marts.policy_budget_components"):
        return None
    found: dict[tuple[str, str], dict[str, tuple]] = {}
    for sid, component, scenario, amount, count in con.execute(
            "select scheme_id, component, scenario, amount_yuan, beneficiaries from marts.policy_budget_components "
            "where as_of = ?", [as_of]).fetchall():
        found.setdefault((sid, component), {})[scenario] = (Decimal(amount), int(count))
    out: dict[str, dict[str, Component]] = {}
    for (sid, component), s in found.items():
        out.setdefault(sid, {})[component] = Component(s["base"][0], s["low"][0], s["high"][0], s["base"][1])
    return out


@dataclass(frozen=True)
class PreviousRun:
    """The run of the latest as-of date before this one (a rerun for a date replaces that date's figures)."""

    as_of: date
    finished_at: datetime
    total_yuan: Decimal  # the median of the total then (marts.policy_runs)
    schemes: dict[str, Decimal]  # scheme -> its median then (marts.policy_budget_history)


def previous_run(con: duckdb.DuckDBPyConnection, as_of: date) -> PreviousRun | None:
    if not table_exists(con, "marts.policy_budget_history"):
        return None
    before = con.execute("select max(as_of) from marts.policy_budget_history where as_of < ?", [as_of]).fetchone()[0]
    if before is None:
        return None
    run = con.execute("select finished_at, base_yuan from marts.policy_runs where as_of = ? "
                      "order by finished_at desc limit 1", [before]).fetchone()
    if run is None:
        return None
    schemes = dict(con.execute("select scheme_id, amount_yuan from marts.policy_budget_history "
                               "where as_of = ? and scenario = 'base'", [before]).fetchall())
    return PreviousRun(before, run[0], Decimal(run[1]), {k: Decimal(v) for k, v in schemes.items()})


@dataclass(frozen=True)
class ReplacedEstimate:
    """An earlier run for the same as-of date whose total this run's replaces."""

    finished_at: datetime
    total_yuan: Decimal  # the median of the total then (marts.policy_runs)
    same_parameters: bool  # False: the earlier run had other parameter values (--params)


def replaced_estimate(con: duckdb.DuckDBPyConnection, as_of: date) -> ReplacedEstimate | None:
    """The latest earlier run for the same as-of date whose total differs from the latest run's.
    A rerun for a date (after a withdrawal, a late correction, other parameters) replaces that
    date's figures in marts.policy_budget_history and the date's workbooks, and finance may hold the
    earlier ones: the headline says what it replaces. The run compared is the latest that differs,
    not the one just before: a plain rerun after the change would otherwise write the workbooks
    again without the note."""
    if not table_exists(con, "marts.policy_runs"):
        return None
    runs = con.execute("select finished_at, base_yuan, params_fingerprint from marts.policy_runs where as_of = ? "
                       "order by finished_at desc", [as_of]).fetchall()
    if not runs:
        return None
    _, total, fingerprint = runs[0]
    earlier = next((run for run in runs[1:] if run[1] != total), None)
    if earlier is None:
        return None
    return ReplacedEstimate(earlier[0], Decimal(earlier[1]), earlier[2] == fingerprint)


@dataclass(frozen=True)
class Headline:
    """What 汇总 opens with: the total's median, its range, the awards and beneficiaries counted, the change."""

    base_yuan: Decimal
    low_yuan: Decimal  # P10 of the total while Q4 is open (docs/contract/OUTPUTS.md), the actual once closed
    high_yuan: Decimal  # P90
    awards: int  # (scheme, beneficiary) pairs counted, at the median count
    beneficiaries: int  # distinct projects and enterprises among them, at the median count
    previous: PreviousRun | None  # the run this one is compared with (province-wide only)
    replaces: ReplacedEstimate | None = None  # an earlier, different estimate for this date (province-wide only)

    @property
    def change_yuan(self) -> Decimal | None:
        return None if self.previous is None else self.base_yuan - self.previous.total_yuan


def headline(con: duckdb.DuckDBPyConnection, as_of: date, city_code: str | None = None) -> Headline:
    """The one place the headline figures are read from: the total's own distribution
    (marts.policy_budget_rollup, level `total`, or a prefecture's pack: level `city`) and the run of the
    latest as-of date before this one (province-wide only)."""
    figures = budget_figures(con, as_of)
    total = figures.get(("total", TOTAL) if city_code is None else ("city", city_code), ZERO)
    province = city_code is None
    return Headline(total.base, total.low, total.high, total.awards, total.beneficiaries,
                    previous_run(con, as_of) if province else None, replaced_estimate(con, as_of) if province else None)


# ----------------------------------------------------------------------------- the fan chart


def quantile_rank(q: float, draws: int) -> int:
    """The rank (1..draws) of the q-quantile among sorted draws, the lower value where q splits two:
    the rule marts.policy_budget is written with (lib/measures/engine.py)."""
    return max(1, min(draws, math.ceil(q * draws)))


@dataclass(frozen=True)
class FanWeek:
    """One run's range of one scheme (or the total): P10, median, P90; the quartiles for this week's
    run only (its draws are kept, earlier runs keep their three figures)."""

    as_of: date
    low: Decimal
    base: Decimal
    high: Decimal
    quartiles: tuple[Decimal, Decimal] | None = None


def fans(con: duckdb.DuckDBPyConnection, as_of: date, quantiles: tuple[float, float],
         inner: tuple[float, float]) -> dict[str, list[FanWeek]]:
    """Scheme (and TOTAL) -> the runs up to `as_of`, oldest first: earlier as-of dates from
    marts.policy_budget_history (the total: marts.policy_runs), this one from marts.policy_budget_draws
    at the `quantiles` (P10, P90), the median and the `inner` quantiles (P25, P75)."""
    out: dict[str, list[FanWeek]] = {}
    earlier: dict[tuple[str, date], dict[str, Decimal]] = {}
    if table_exists(con, "marts.policy_budget_history"):
        for day, scenario, sid, amount in con.execute(
                "select as_of, scenario, scheme_id, amount_yuan from marts.policy_budget_history "
                "where as_of < ? order by as_of", [as_of]).fetchall():
            earlier.setdefault((sid, day), {})[scenario] = Decimal(amount)
        days = sorted({day for _, day in earlier})
        for day, low, base, high in con.execute(
                """select as_of, arg_max(low_yuan, finished_at), arg_max(base_yuan, finished_at),
                          arg_max(high_yuan, finished_at)
                   from marts.policy_runs where as_of in (select unnest(?::date[])) group by as_of""",
                [days]).fetchall():
            earlier[(TOTAL, day)] = {"low": Decimal(low), "base": Decimal(base), "high": Decimal(high)}
    for (key, day), s in sorted(earlier.items(), key=lambda item: item[0][1]):
        out.setdefault(key, []).append(FanWeek(day, s["low"], s["base"], s["high"]))
    per_scheme: dict[str, list[Decimal]] = {}
    per_draw_total: dict[int, Decimal] = {}
    for draw, sid, amount in con.execute(
            "select draw, scheme_id, amount_yuan from marts.policy_budget_draws where as_of = ?", [as_of]).fetchall():
        per_scheme.setdefault(sid, []).append(Decimal(amount))
        per_draw_total[draw] = per_draw_total.get(draw, Decimal(0)) + Decimal(amount)
    for key, amounts in [*per_scheme.items(), (TOTAL, list(per_draw_total.values()))]:
        if not amounts:
            continue
        ordered = sorted(amounts)

        def at(q: float) -> Decimal:
            return ordered[quantile_rank(q, len(ordered)) - 1]
        out.setdefault(key, []).append(
            FanWeek(as_of, at(quantiles[0]), at(0.5), at(quantiles[1]), (at(inner[0]), at(inner[1]))))
    return out


# ----------------------------------------------------------------------------- the forecast's settings and accuracy


SERIES_LABELS = {"output": "产值", "investment": "项目投资", "equipment": "设备购置", "kwh": "用电量"}


@dataclass(frozen=True)
class ForecastRun:
    method: str
    draws: int
    seed: int
    origins: tuple[int, ...] = ()  # past origins the measured series' errors came from
    unmeasured: tuple[str, ...] = ()  # series (labels) whose errors the history could not measure
    late_enterprises: int = 0  # not reported the latest month delivered yet: forecast from their latest report
    # (register label, expected rows) dated by the register's latest row and still to be keyed in
    unregistered: tuple[tuple[str, float], ...] = ()
    # (series label, dormant entities, dormant paths at past origins, of them restarted, drawn)
    dormant: tuple[tuple[str, int, int, int, bool], ...] = ()


def forecast_run(con: duckdb.DuckDBPyConnection, as_of: date) -> ForecastRun | None:
    if not table_exists(con, "forecast.runs"):
        return None
    row = con.execute("select method, draws, seed from forecast.runs where as_of = ?", [as_of]).fetchone()
    if row is None:
        return None
    series = con.execute("select series, origins, errors_measured, late_entities, dormant_entities, restart_paths, "
                         "restarted_paths, restarts_drawn from forecast.series "
                         "where months_ahead > 0").fetchall() if table_exists(con, "forecast.series") else []
    order = list(SERIES_LABELS)
    series.sort(key=lambda row: order.index(row[0]) if row[0] in order else len(order))
    unregistered = con.execute("select register, unregistered_rows from forecast.register_paces "
                               "where unregistered_rows > 0 order by register").fetchall() \
        if table_exists(con, "forecast.register_paces") else []
    return ForecastRun(row[0], int(row[1]), int(row[2]), tuple(int(o) for _, o, measured, *_ in series if measured),
                       tuple(SERIES_LABELS.get(name, name) for name, _, measured, *_ in series if measured is False),
                       sum(int(late) for name, _, _, late, *_ in series if name == "output"),
                       tuple((DATASET_LABELS.get(name, name), float(rows)) for name, rows in unregistered),
                       tuple((SERIES_LABELS.get(name, name), int(dormant), int(paths), int(restarted), bool(drawn))
                             for name, *_, dormant, paths, restarted, drawn in series if dormant))


BACKTEST_COLUMNS = ("case", "year", "as_of", "week", "method", "scheme_id", "outcome_wan", "base_wan", "low_wan",
                    "high_wan", "base_error", "covered", "width", "interval_score")
BACKTEST_TOTAL = "total"  # scheme_id of the overall total in the backtest's scores


class BacktestFileError(ValueError):
    """The backtest's CSV does not have the columns or values it should."""


@dataclass(frozen=True)
class BacktestWeek:
    """The total's accuracy in one week of the quarter, over the backtest's cases (seed × year)."""

    week: int
    cases: int
    model_error: float | None  # median |base − outcome| / outcome
    model_covered: float  # share of cases whose outcome fell within P10–P90
    naive_error: float | None
    naive_covered: float | None
    better: float | None  # share of cases where the model's interval score beat the naive forecast's
    model_max_error: float | None = None  # the largest |base − outcome| / outcome: the worst case that week


@dataclass(frozen=True)
class Backtest:
    path: Path
    weeks: list[BacktestWeek]
    cases: int  # distinct (case, year)
    scheme_forecasts: int  # (case, year, week, scheme) model forecasts with a non-zero outcome
    scheme_covered: float | None  # share of them whose outcome fell within P10–P90


def _backtest_rows(path: Path) -> list[dict]:
    def number(row: dict, field: str, line: int) -> float | None:
        text = row[field].strip()
        if text in ("", "None"):
            return None
        try:
            return float(text)
        except ValueError:
            raise BacktestFileError(f"{path}, line {line}, field {field}: {text!r} is not a number") from None

    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in BACKTEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise BacktestFileError(f"{path}: missing column(s) {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            covered = row["covered"].strip()
            if covered not in ("True", "False"):
                raise BacktestFileError(f"{path}, line {line}, field covered: {covered!r} is not True or False")
            week = number(row, "week", line)
            if week is None:
                raise BacktestFileError(f"{path}, line {line}, field week: empty")
            rows.append({"case": row["case"], "year": row["year"], "week": int(week), "method": row["method"],
                         "scheme_id": row["scheme_id"], "covered": covered == "True",
                         "outcome": number(row, "outcome_wan", line), "error": number(row, "base_error", line),
                         "score": number(row, "interval_score", line)})
    return rows


def backtest(path: Path) -> Backtest | None:
    """The backtest's scores (docs/backtest/backtest.csv, written by `gxindustry backtest`) summarised
    per week of the quarter for the total; None when the file is not there."""
    if not path.is_file():
        return None
    rows = _backtest_rows(path)
    total = [r for r in rows if r["scheme_id"] == BACKTEST_TOTAL]
    naive = {(r["case"], r["year"], r["week"]): r for r in total if r["method"] == "naive"}
    weeks = []
    for week in sorted({r["week"] for r in total if r["method"] == "model"}):
        model = [r for r in total if r["method"] == "model" and r["week"] == week]
        paired = [(r, naive[(r["case"], r["year"], week)]) for r in model if (r["case"], r["year"], week) in naive]
        plain = [n for _, n in paired]
        scored = [(m, n) for m, n in paired if m["score"] is not None and n["score"] is not None]

        def median_error(rs: list[dict]) -> float | None:
            errors = [abs(r["error"]) for r in rs if r["error"] is not None]
            return statistics.median(errors) if errors else None
        weeks.append(BacktestWeek(
            week, len(model), median_error(model), sum(r["covered"] for r in model) / len(model),
            median_error(plain), sum(r["covered"] for r in plain) / len(plain) if plain else None,
            sum(m["score"] < n["score"] for m, n in scored) / len(scored) if scored else None,
            max((abs(r["error"]) for r in model if r["error"] is not None), default=None)))
    schemes = [r for r in rows if r["method"] == "model" and r["scheme_id"] != BACKTEST_TOTAL and r["outcome"]]
    return Backtest(path, weeks, len({(r["case"], r["year"]) for r in rows}), len(schemes),
                    sum(r["covered"] for r in schemes) / len(schemes) if schemes else None)


def week_of_quarter(quarter_start: date, as_of: date) -> int:
    """1 = the quarter's first Monday (the backtest's numbering); 0 before it."""
    first_monday = quarter_start + timedelta(days=(7 - quarter_start.weekday()) % 7)
    return 0 if as_of < first_monday else (as_of - first_monday).days // 7 + 1
