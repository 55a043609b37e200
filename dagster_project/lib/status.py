"""What an operator asks first: what has arrived, how fresh each feed is, how the last runs went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from dagster_project.lib.ingest import customs, stats, tax
from dagster_project.lib.measures.quantities import latest_delivered_month

# Expected cadence per feed (docs/contract/FEEDS.md / docs/contract/OUTPUTS.md): the latest delivery that should have arrived by a date.
WEEKLY_GRACE_DAYS = 7


@dataclass(frozen=True)
class FeedFreshness:
    feed: str
    files: int
    rows_accepted: int
    rows_rejected: int
    latest: str | None  # latest period delivered (YYYYMM / YYYYMMDD)
    expected: str | None  # latest period that should have arrived by the as-of date
    fresh: bool
    note: str


def expected_period(feed: str, as_of: date) -> str | None:
    if feed == "power":
        return (as_of - timedelta(days=WEEKLY_GRACE_DAYS)).strftime("%Y%m%d")  # last week's Monday at the latest
    day = {"stats": stats.ARRIVAL_DAY, "tax": tax.VAT.arrival_day, "customs": customs.EXPORT.arrival_day}.get(feed)
    return latest_delivered_month(as_of, day).strftime("%Y%m") if day else None


def freshness(con: duckdb.DuckDBPyConnection, as_of: date) -> list[FeedFreshness]:
    rows = con.execute(
        """select feed, count(*), sum(rows_accepted), sum(rows_rejected), max(period)
           from raw._manifest group by feed order by feed"""
    ).fetchall()
    out = []
    for feed, files, accepted, rejected, latest in rows:
        expected = expected_period(feed, as_of)
        if expected is None:
            fresh, note = True, "ad hoc (registers)"
        else:
            fresh = latest is not None and latest >= expected
            what = "a delivery since" if feed == "power" else "the month"
            note = f"up to {_readable(latest)}" + ("" if fresh else f"; expected {what} {_readable(expected)} by {as_of}")
        out.append(FeedFreshness(feed, files, int(accepted or 0), int(rejected or 0), latest, expected, fresh, note))
    return out


def _readable(period: str | None) -> str:
    if not period:
        return "nothing"
    return f"{period[:4]}-{period[4:6]}" + (f"-{period[6:]}" if len(period) == 8 else "")


def last_runs(con: duckdb.DuckDBPyConnection, limit: int = 5) -> list[tuple]:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = 'policy_runs'"
    ).fetchone()[0]
    if not exists:
        return []
    return con.execute(
        "select as_of, finished_at, params_fingerprint, beneficiaries, base_yuan, low_yuan, high_yuan "
        "from marts.policy_runs order by finished_at desc limit ?", [limit]
    ).fetchall()
