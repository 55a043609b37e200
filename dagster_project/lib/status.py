"""What an operator asks first: what has arrived, how fresh each feed is, how the last runs went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from dagster_project.lib.ingest import DATASETS, customs, datasets_of, stats, tax
from dagster_project.lib.ingest.withdrawals import ACTIVE, deliveries_in_use
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
    """Per feed, what had arrived by `as_of` and is in use (files delivered after it, and withdrawn
    ones, are not counted) against its cadence. A feed of monthly datasets is as fresh as the stalest of them: the statistics bureau's
    newest industry report says nothing of its project library (a landing without October's library
    read "ok up to 2024-10" while the rules took October's project investment as 0)."""
    deliveries = deliveries_in_use(con)
    rows = con.execute(
        f"""select feed, dataset, count(*), sum(rows_accepted), sum(rows_rejected), max(period)
            from {deliveries} where coalesce(available_on, $as_of) <= $as_of group by all order by all""",
        {"as_of": as_of},
    ).fetchall() if deliveries else []
    by_feed: dict[str, dict[str | None, tuple]] = {}
    for feed, dataset, files, accepted, rejected, latest in rows:
        by_feed.setdefault(feed, {})[dataset] = (files, accepted or 0, rejected or 0, latest)
    out = []
    for feed in dict.fromkeys(ds.feed for ds in DATASETS):  # every feed, also one that sent nothing yet
        datasets = by_feed.get(feed, {})
        files, accepted, rejected = (sum(v[i] for v in datasets.values()) for i in range(3))
        latest = max((v[3] for v in datasets.values() if v[3]), default=None)
        expected = expected_period(feed, as_of)
        if expected is None:  # registers: no cadence, but a register never delivered counts nothing
            missing = [ds.table for ds in datasets_of(feed) if ds.dataset not in datasets]
            note = "ad hoc (registers)" + (f"; nothing delivered for {', '.join(missing)}" if missing else "")
            out.append(FeedFreshness(feed, files, int(accepted), int(rejected), latest, expected, not missing, note))
            continue
        monthly = [ds.dataset for ds in datasets_of(feed) if ds.arrival_day is not None]
        behind = {name: datasets.get(name, (0, 0, 0, None))[3] for name in monthly}
        behind = {name: got for name, got in behind.items() if got is None or got < expected}
        fresh = latest is not None and latest >= expected and not behind
        what = "a delivery since" if feed == "power" else "the month"
        note = f"up to {_readable(latest)}" + ("" if fresh else f"; expected {what} {_readable(expected)} by {as_of}")
        if feed == "power" and latest is not None:
            note += f"; readings to {_latest_reading(con, as_of) or 'none'}"
        if behind and latest is not None and latest >= expected:
            note += " for " + ", ".join(f"{feed}_{name} ({f'up to {_readable(got)}' if got else 'nothing delivered'})"
                                        for name, got in behind.items())
        out.append(FeedFreshness(feed, files, int(accepted), int(rejected), latest, expected, fresh, note))
    return out


def _latest_reading(con: duckdb.DuckDBPyConnection, as_of: date) -> date | None:
    """The latest day read in the power deliveries in use by `as_of`: a weekly file is named by its
    delivery day and holds the days before it, and the workbooks' 数据至 names the reading, so an
    operator comparing the two sees the same day."""
    if not _table_exists(con, ACTIVE, "power_daily"):
        return None
    return con.execute(f"select max(try_cast(reading_date as date)) from {ACTIVE}.power_daily where _available_on <= ?",
                       [as_of]).fetchone()[0]


def warehouse_as_of(con: duckdb.DuckDBPyConnection) -> tuple[date | None, str]:
    """The date the warehouse was last refreshed for, and where that came from: the as-of of its
    latest measures run, else the latest delivery date it holds (None for an empty warehouse)."""
    if _table_exists(con, "marts", "policy_runs"):
        row = con.execute("select as_of from marts.policy_runs order by finished_at desc limit 1").fetchone()
        if row:
            return row[0], "the as-of of its last run"
    deliveries = deliveries_in_use(con)  # a withdrawn delivery does not date the warehouse (nor the refresh's default)
    if deliveries:
        found = con.execute(f"select max(available_on) from {deliveries} where available_on > date '1970-01-01'"
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
    """(awards, distinct beneficiaries) in the latest recorded run's median outcome, as 汇总 counts
    them; None before any run, or while the measure tables hold a run that was not recorded
    (`unrecorded_run`)."""
    if not _table_exists(con, "marts", "policy_budget_rollup") or unrecorded_run(con):
        return None
    return con.execute("select awards, beneficiaries from marts.policy_budget_rollup "
                       "where level = 'total' and scenario = 'base'").fetchone()


def unrecorded_run(con: duckdb.DuckDBPyConnection) -> tuple[date, object] | None:
    """(as-of, total's median) of the measure tables when they are not the latest recorded run's:
    a run whose measure checks stopped it computed them, and `policy_run_record` kept it out of
    the runs compared with (docs/data-quality.md)."""
    if not _table_exists(con, "marts", "policy_budget_rollup"):
        return None
    computed = con.execute("select as_of, amount_yuan from marts.policy_budget_rollup "
                           "where level = 'total' and scenario = 'base'").fetchone()
    recorded = con.execute("select as_of, base_yuan from marts.policy_runs order by finished_at desc limit 1"
                           ).fetchone() if _table_exists(con, "marts", "policy_runs") else None
    return None if computed is None or computed == recorded else computed


def checks_not_met(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, int]]:
    """Per severity (warning, blocking): (checks, expectations, results) not met in the latest
    validation of each delivery and mart (`marts.dq_check_results_latest`); empty before any
    validation. A check is a suite's expectations of one severity, as the run prints it ("! check
    raw_tax_vat_warning failed (WARN)") and 数据质量 counts it (未通过的数据检查); a result is one
    expectation on one file or mart, a row of that sheet's 未满足的数据期望. The demo's run prints four
    such lines a newcomer could take for a broken run; status says how many and where to read them."""
    if not _table_exists(con, "marts", "dq_check_results_latest"):
        return {}
    rows = con.execute("""select severity, count(distinct suite), count(distinct suite || '/' || expectation), count(*)
                          from marts.dq_check_results_latest where not success group by severity""").fetchall()
    return {severity: (checks, expectations, results) for severity, checks, expectations, results in rows}
