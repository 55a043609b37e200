"""Warehouse reads shared by the workbooks (DuckDB; the tables of docs/contract/OUTPUTS.md and the raw manifest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
