"""When the incremental dbt models must be rebuilt from scratch.

An incremental model (stg_power__daily, fct_power_month) only re-decides what deliveries it has not seen change,
which is right as long as time moves forward and raw rows only come. A build for an earlier as-of
date than the last one (replaying a past week on the same warehouse), a table built before the
model became incremental, or rows taken away (a delivery withdrawn or reinstated:
`ingest/withdrawals.py`, which records a request here) needs `dbt build --full-refresh`. A request
stays until a complete build has run, so a failed build leaves it for the next one.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb

# Incremental models and the column holding the as-of date of the build that wrote each row.
WATERMARKS = {"staging.stg_power__daily": "built_as_of", "marts.fct_power_month": "built_as_of"}
REQUESTS = "raw._full_refresh_requests"


def request_full_refresh(con: duckdb.DuckDBPyConnection, reason: str, now: datetime) -> None:
    con.execute(f"create schema if not exists raw; "
                f"create table if not exists {REQUESTS} (reason varchar, requested_at timestamp)")
    con.execute(f"insert into {REQUESTS} values (?, ?)", [reason, now])


def _pending(con: duckdb.DuckDBPyConnection) -> list[str]:
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'raw' "
                         "and table_name = '_full_refresh_requests'").fetchone()[0]
    return [r[0] for r in con.execute(f"select reason from {REQUESTS} order by requested_at").fetchall()] if exists else []


def clear_full_refresh_requests(con: duckdb.DuckDBPyConnection) -> None:
    """After a complete build: what was asked for is done."""
    if _pending(con):
        con.execute(f"delete from {REQUESTS}")


def full_refresh_reason(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    """Why this build must be a full refresh, or None when an incremental build is exact."""
    requests = _pending(con)
    if requests:
        more = f" (and {len(requests) - 1} more)" if len(requests) > 1 else ""
        return f"a delivery was withdrawn or reinstated since the last complete build: {requests[-1]}{more}"
    for table, column in WATERMARKS.items():
        schema, name = table.split(".")
        columns = {r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, name]).fetchall()}
        if not columns:
            continue  # not built yet: dbt builds it in full anyway
        if column not in columns:
            return f"{table} was built before it became incremental"
        last = con.execute(f"select max({column}) from {table}").fetchone()[0]
        if last is not None and last > as_of:
            return f"{table} was last built as of {last}, later than {as_of}"
    return None
