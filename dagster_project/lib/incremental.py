"""When the incremental dbt models must be rebuilt from scratch.

An incremental model (stg_power__daily, fct_power_month) only re-decides what deliveries it has not seen change,
which is right as long as time moves forward. A build for an earlier as-of date than the last
one (replaying a past week on the same warehouse), or a table built before the model became
incremental, needs `dbt build --full-refresh`.
"""

from __future__ import annotations

from datetime import date

import duckdb

# Incremental models and the column holding the as-of date of the build that wrote each row.
WATERMARKS = {"staging.stg_power__daily": "built_as_of", "marts.fct_power_month": "built_as_of"}


def full_refresh_reason(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    """Why this build must be a full refresh, or None when an incremental build is exact."""
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
