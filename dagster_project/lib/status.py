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
    """Per feed, what had arrived by `as_of` (files delivered after it are not counted) against its cadence."""
    rows = con.execute(
        """select feed, count(*), sum(rows_accepted), sum(rows_rejected), max(period)
           from raw._manifest where coalesce(available_on, $as_of) <= $as_of group by feed order by feed""",
        {"as_of": as_of},
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


def warehouse_as_of(con: duckdb.DuckDBPyConnection) -> tuple[date | None, str]:
    """The date the warehouse was last refreshed for, and where that came from: the as-of of its
    latest measures run, else the latest delivery date it holds (None for an empty warehouse)."""
    if _table_exists(con, "marts", "policy_runs"):
        row = con.execute("select as_of from marts.policy_runs order by finished_at desc limit 1").fetchone()
        if row:
            return row[0], "the as-of of its last run"
    if _table_exists(con, "raw", "_manifest"):
        found = con.execute("select max(available_on) from raw._manifest where available_on > date '1970-01-01'"
                            ).fetchone()[0]
        if found:
            return found, "its latest delivery date (no measures run yet)"
    return None, ""


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                            [schema, table]).fetchone()[0])


def _readable(period: str | None) -> str:
    if not period:
        return "nothing"
    return f"{period[:4]}-{period[4:6]}" + (f"-{period[6:]}" if len(period) == 8 else "")


def last_runs(con: duckdb.DuckDBPyConnection, limit: int = 5) -> list[tuple]:
    if not _table_exists(con, "marts", "policy_runs"):
        return []
    return con.execute(
        "select as_of, finished_at, params_fingerprint, beneficiaries, base_yuan, low_yuan, high_yuan "
        "from marts.policy_runs order by finished_at desc limit ?", [limit]
    ).fetchall()


def current_beneficiaries(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    """(awards, distinct beneficiaries) in the latest run's median outcome, as 汇总 counts them; None before any run."""
    if not _table_exists(con, "marts", "policy_budget_rollup"):
        return None
    return con.execute("select awards, beneficiaries from marts.policy_budget_rollup "
                       "where level = 'total' and scenario = 'base'").fetchone()
