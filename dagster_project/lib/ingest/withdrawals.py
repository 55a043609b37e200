"""Withdrawn deliveries: the raw layer keeps every row, the warehouse stops using a file's rows.

A loaded delivery is withdrawn
- by the operator: `gxindustry withdraw <file> --reason ...` (the file may stay in the landing dir;
  `--reinstate` takes the withdrawal back);
- by the landing dir: a loaded file that is no longer there as a delivery (deleted, moved away,
  replaced by a link, or under a name the rule now refuses) is withdrawn when its feed is next
  ingested, and reinstated if it comes back with the same bytes. So the warehouse always says
  what a rebuild from the landing dir would say.

`raw._withdrawals` is an append-only log (withdrawn / reinstated, by whom, why, when); a file is
withdrawn while the latest entry of either source says so (view `raw._withdrawn`; written with a
join, not a window: DuckDB 2.0.0 computed fct_power_month wrong when the `raw_active` views
filtered on a view with QUALIFY, see tests/test_withdrawals.py). Nothing is
deleted from `raw`: dbt reads it through the views of schema `raw_active`, which leave out the rows
of withdrawn files, and so do the data-quality checks. Withdrawing or reinstating asks the next
dbt build to rebuild everything, its incremental models from scratch (`incremental.py`): they
would otherwise keep rows they took from the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb

from dagster_project.lib.incremental import request_full_refresh

from .spec import Dataset

LOG = "raw._withdrawals"
WITHDRAWN = "raw._withdrawn"
ACTIVE = "raw_active"  # schema of the views dbt reads: raw rows of deliveries not withdrawn
DELIVERIES = f"{ACTIVE}._manifest"  # the manifest's rows of the deliveries in use (not withdrawn)

OPERATOR, LANDING = "operator", "landing"
GONE_FROM_LANDING = "no longer in the landing dir as a delivery"
BACK_IN_LANDING = "back in the landing dir with the same bytes"

_DDL = f"""
create table if not exists {LOG} (
    seq bigint, file_name varchar, feed varchar, sha256 varchar, action varchar, source varchar,
    reason varchar, recorded_at timestamp
);
create or replace view {WITHDRAWN} as
    select entry.file_name, entry.feed, entry.source, entry.reason, entry.recorded_at as withdrawn_at
    from {LOG} as entry
    join (select file_name, source, max(seq) as seq from {LOG} group by file_name, source) as latest
        using (file_name, source, seq)
    where entry.action = 'withdrawn';
create schema if not exists {ACTIVE};
"""


class WithdrawalError(ValueError):
    """A withdrawal that cannot be recorded (unknown file, already withdrawn, ...)."""


@dataclass(frozen=True)
class Change:
    file_name: str
    feed: str
    action: str  # withdrawn | reinstated
    reason: str


def ensure_withdrawals(con: duckdb.DuckDBPyConnection, datasets: Iterable[Dataset]) -> None:
    """The log, the view of withdrawn files and one `raw_active` view per raw table (which must exist)."""
    con.execute(_DDL)
    con.execute(f"""create or replace view {DELIVERIES} as
                    select * from raw._manifest where file_name not in (select file_name from {WITHDRAWN})""")
    for ds in datasets:
        con.execute(f"""create or replace view {ACTIVE}.{ds.table} as
                        select * from raw.{ds.table}
                        where _file not in (select file_name from {WITHDRAWN})""")


def deliveries_in_use(con: duckdb.DuckDBPyConnection) -> str | None:
    """The relation to read the deliveries in use from: `DELIVERIES`; the manifest itself in a
    warehouse from before withdrawals; None without a manifest. What reads the latest period
    delivered reads it here: a withdrawn October report is not October delivered (it kept the
    workbooks' 数据截至 and `gxindustry status` at October while the marts had no October)."""
    for relation in (DELIVERIES, "raw._manifest"):
        schema, table = relation.split(".")
        if con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchone()[0]:
            return relation
    return None


def withdrawn_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the withdrawn files (none in a warehouse from before withdrawals)."""
    return {name for _, name, _, _ in withdrawn_deliveries(con)}


def withdrawn_deliveries(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str]]:
    """(feed, file name, source, reason) of every withdrawal in force, for operators' listings
    (none in a warehouse from before withdrawals)."""
    try:
        return con.execute(f"select feed, file_name, source, reason from {WITHDRAWN} order by all").fetchall()
    except duckdb.CatalogException:
        return []


def withdrawn_files(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """file name -> why it is withdrawn (both reasons when both sources withdrew it)."""
    rows = con.execute(f"""select file_name, string_agg(source || ': ' || reason, '; ' order by source)
                           from {WITHDRAWN} group by file_name""").fetchall()
    return dict(rows)


def _record(con, file_name: str, feed: str, sha: str | None, action: str, source: str, reason: str,
            now: datetime) -> Change:
    con.execute(
        f"""insert into {LOG} select coalesce(max(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ? from {LOG}""",
        [file_name, feed, sha, action, source, reason, now],
    )
    request_full_refresh(con, f"{file_name} {action} ({source}: {reason})", now)
    return Change(file_name, feed, action, reason)


def _state(con, file_name: str) -> tuple[tuple | None, set[str]]:
    """The manifest row (feed, sha256) of a file and the sources that withdraw it now."""
    loaded = con.execute("select feed, sha256 from raw._manifest where file_name = ?", [file_name]).fetchone()
    sources = {r[0] for r in con.execute(f"select source from {WITHDRAWN} where file_name = ?", [file_name]).fetchall()}
    return loaded, sources


def withdraw(con: duckdb.DuckDBPyConnection, file_name: str, reason: str, now: datetime | None = None) -> Change:
    """The operator withdraws a loaded delivery."""
    if not reason.strip():
        raise WithdrawalError("a withdrawal needs a reason (--reason)")
    loaded, sources = _state(con, file_name)
    if loaded is None:
        names = [name for (name,) in con.execute("select distinct file_name from raw._manifest").fetchall()]
        near = difflib.get_close_matches(file_name, names, n=3, cutoff=0.8)  # a month or an extension mistyped
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise WithdrawalError(f"{file_name} is not a loaded delivery (see raw._manifest): nothing to withdraw{hint}")
    if OPERATOR in sources:
        raise WithdrawalError(f"{file_name} is already withdrawn (see {WITHDRAWN})")
    return _record(con, file_name, loaded[0], loaded[1], "withdrawn", OPERATOR, reason.strip(), now or datetime.now())


def reinstate(con: duckdb.DuckDBPyConnection, file_name: str, reason: str, now: datetime | None = None) -> Change:
    """The operator takes back their withdrawal (one by the landing dir ends when the file is back)."""
    if not reason.strip():
        raise WithdrawalError("reinstating needs a reason (--reason)")
    loaded, sources = _state(con, file_name)
    if loaded is None or OPERATOR not in sources:
        raise WithdrawalError(f"{file_name} is not withdrawn by an operator: nothing to reinstate")
    return _record(con, file_name, loaded[0], loaded[1], "reinstated", OPERATOR, reason.strip(), now or datetime.now())


def follow_landing(con: duckdb.DuckDBPyConnection, feed: str, present: dict[str, str], now: datetime) -> list[Change]:
    """Withdraw the feed's loaded files missing from its folder; reinstate those back with the same
    bytes. `present`: name -> SHA-256 of each regular file in the folder."""
    loaded = con.execute("select file_name, sha256 from raw._manifest where feed = ? order by file_name",
                         [feed]).fetchall()
    by_landing = {r[0] for r in con.execute(f"select file_name from {WITHDRAWN} where source = ? and feed = ?",
                                            [LANDING, feed]).fetchall()}
    changes = []
    for name, sha in loaded:
        if name not in present and name not in by_landing:
            changes.append(_record(con, name, feed, sha, "withdrawn", LANDING, GONE_FROM_LANDING, now))
        elif present.get(name) == sha and name in by_landing:
            changes.append(_record(con, name, feed, sha, "reinstated", LANDING, BACK_IN_LANDING, now))
    return changes
