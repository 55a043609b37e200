"""Warehouse reads shared by the workbooks (DuckDB; the tables of docs/contract/OUTPUTS.md and the raw manifest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb

from dagster_project.lib.measures.catalogue import Catalogue

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
OTHER_GROUP = "其他"
UNGROUPED = "未分组"


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

    @property
    def text(self) -> str:
        if self.files == 0:
            return "尚无到达文件"
        if not self.period:
            return f"按文件整体更新（{self.files} 个文件）"
        shown = f"{self.period[:4]}年{int(self.period[4:6])}月" if len(self.period) == 6 else \
            f"{self.period[:4]}-{self.period[4:6]}-{self.period[6:]}"
        return f"数据至 {shown}（{self.arrived} 到达）"


def data_cutoff(con: duckdb.DuckDBPyConnection, as_of: date) -> list[FeedCutoff]:
    """Per feed, the latest period that had arrived by the as-of date (deliveries after it are not used)."""
    rows = con.execute(
        """
        select feed,
               max(period) filter (where available_on <= ? and period is not null and period <> ''),
               count(*) filter (where available_on <= ?)
        from raw._manifest group by feed
        """,
        [as_of, as_of],
    ).fetchall()
    found = {feed: (period, files) for feed, period, files in rows}
    out = []
    for feed, label in FEED_LABELS.items():
        period, files = found.get(feed, (None, 0))
        arrived = None
        if period:
            arrived = con.execute(
                "select max(available_on) from raw._manifest where feed = ? and period = ? and available_on <= ?",
                [feed, period, as_of],
            ).fetchone()[0]
        out.append(FeedCutoff(feed, label, period, arrived, files))
    return out


@dataclass(frozen=True)
class PreviousRun:
    as_of: date
    finished_at: datetime
    base_yuan: Decimal


@dataclass(frozen=True)
class Headline:
    """What 汇总 opens with: the base total, its range, the beneficiaries counted two ways, the change."""

    base_yuan: Decimal
    low_yuan: Decimal  # P10 of the total while Q4 is open (docs/contract/OUTPUTS.md), the actual once closed
    high_yuan: Decimal  # P90
    awards: int  # (scheme, beneficiary) pairs counted in the base budget
    enterprises: int  # distinct enterprises among them
    previous: PreviousRun | None  # the run this one is compared with (province-wide only)

    @property
    def change_yuan(self) -> Decimal | None:
        return None if self.previous is None else self.base_yuan - self.previous.base_yuan


def headline(con: duckdb.DuckDBPyConnection, as_of: date, city_code: str | None = None) -> Headline:
    """The one place the headline figures are read from.

    Total and range: the totals of `marts.policy_budget` per scenario (a prefecture's pack: its
    awards). Previous run: the latest run in `marts.policy_runs` before this one, a plain rerun
    (same as-of, same parameters) skipped, so that a weekly run compares with last week's."""
    if city_code is None:
        totals = dict(con.execute(
            "select scenario, sum(amount_yuan) from marts.policy_budget where as_of = ? group by scenario", [as_of]
        ).fetchall())
    else:
        totals = dict(con.execute(
            """select scenario, sum(amount_yuan) filter (where chosen) from marts.policy_awards
               where as_of = ? and city_code = ? group by scenario""", [as_of, city_code]).fetchall())
    awards, enterprises = con.execute(
        """select count(*), count(distinct uscc) from marts.policy_awards
           where as_of = $as_of and scenario = 'base' and chosen
             and ($city::varchar is null or city_code = $city::varchar)""",
        {"as_of": as_of, "city": city_code}).fetchone()
    previous = None
    if city_code is None:
        runs = con.execute(
            "select as_of, finished_at, params_fingerprint, base_yuan from marts.policy_runs "
            "where finished_at <= (select max(finished_at) from marts.policy_runs where as_of = ?) "
            "order by finished_at desc", [as_of]).fetchall()
        if runs:
            current = runs[0]
            for run_as_of, finished, fingerprint, base in runs[1:]:
                if (run_as_of, fingerprint) != (current[0], current[2]):
                    previous = PreviousRun(run_as_of, finished, Decimal(base))
                    break

    def total(scenario: str) -> Decimal:
        return Decimal(totals.get(scenario) or 0)
    return Headline(total("base"), total("low"), total("high"), int(awards), int(enterprises), previous)
