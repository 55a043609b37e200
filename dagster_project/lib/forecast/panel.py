"""Monthly panels: one row per entity (enterprise, project, ...), one column per month.

A cell holds what was reported for that month, NaN where nothing was. Columns after `last` (the
latest delivered month) are the future the forecast fills in; a NaN before it means the entity
did not report that month (not yet in the statistics, left them, or a gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd


def month_index(month: date, start: date) -> int:
    return (month.year - start.year) * 12 + month.month - start.month


def month_index_sql(column: str, start: date) -> str:
    """`month_index` of a DATE column, computed by DuckDB: panels read millions of (key, month) rows,
    and a Python call per row took seconds at national size."""
    return f"((year({column}) - {start.year}) * 12 + month({column}) - {start.month})::bigint"


def key_positions(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The row of each of `wanted` among a panel's `keys`, -1 where it has none (hashed, not a dict
    lookup per row)."""
    return pd.Index(keys).get_indexer(wanted.astype(object))


def add_months(month: date, n: int) -> date:
    y, m = divmod(month.month - 1 + n, 12)
    return date(month.year + y, m + 1, 1)


@dataclass
class Panel:
    name: str
    keys: np.ndarray  # (n,) entity ids
    groups: np.ndarray  # (n,) the group whose entities share forecast errors (industry group)
    start: date  # the month of column 0
    values: np.ndarray  # (n, T) float64
    last: int  # column of the latest delivered month
    first_reported: np.ndarray  # (n,) column of the entity's first reported month
    stops: np.ndarray  # (n,) column after which the entity reports no more (completion), else a large int
    # (n, T) the share of its planned total an entity had reported by each column (a project's
    # investment over its 计划总投资), NaN where it has no plan; None for series without plans
    progress: np.ndarray | None = None
    planned: np.ndarray | None = None  # (n,) the planned total of each entity, NaN where it has none
    # (n, T) the months whose recent mean is the pace the plan is built at (a project's investment,
    # for its equipment too); None: the panel's own values
    pace: np.ndarray | None = None
    # (n,) the column each entity started in (a project's 开工年月, its first reported month where
    # the start is not known; an enterprise's 投产年月, NEVER where not known); None for series
    # without a start
    started: np.ndarray | None = None

    @property
    def months(self) -> int:
        return self.values.shape[1]

    def col(self, month: date) -> int:
        return month_index(month, self.start)

    def month(self, col: int) -> date:
        return add_months(self.start, col)


NEVER = np.iinfo(np.int32).max


def load_panel(con: duckdb.DuckDBPyConnection, name: str, sql: str, start: date, end: date, last: date,
               stops_sql: str | None = None) -> Panel:
    """A panel from `sql` returning (key, grp, month DATE, value) over months start..end.

    Rows after `last` are ignored (not delivered). `stops_sql` returns (key, month DATE): the month
    after which an entity reports no more (e.g. a project's completion month), where known."""
    rows = con.execute(
        f"select key::varchar as key, grp::varchar as grp, {month_index_sql('month::date', start)} as col, "
        f"value::double as value from ({sql}) where month between ? and ? order by key, month",
        [start, min(end, last)],
    ).fetchnumpy()
    codes, keys = pd.factorize(rows["key"].astype(object), sort=True)  # keys sorted, as np.unique's
    if (codes < 0).any():  # a row without its entity (the marts' not_null tests exclude it) is no one's month
        raise ValueError(f"panel {name}: {int((codes < 0).sum())} rows without a key")
    keys = np.asarray(keys, dtype=object)
    cols = np.asarray(rows["col"], dtype=np.int64)
    width = month_index(end, start) + 1
    values = np.full((len(keys), width), np.nan)
    values[codes, cols] = rows["value"]
    groups = np.empty(len(keys), dtype=object)
    groups[codes] = rows["grp"].astype(object)
    first = np.full(len(keys), NEVER, dtype=np.int64)
    np.minimum.at(first, codes, cols)
    stops = months_by_key(con, stops_sql, keys, start)
    return Panel(name, keys, groups, start, values, month_index(last, start), first, stops)


def progress(panel: Panel, con: duckdb.DuckDBPyConnection, plans_sql: str) -> tuple[np.ndarray, np.ndarray]:
    """The planned total of each entity (n,) and (n, T) what it had reported by each column, over
    that plan. `plans_sql` returns (key, planned, built_before): the plan and what was reported
    before the panel's first month (a project started before the history the forecast reads is
    further along than its months in the panel say). NaN where the plan is missing or not positive."""
    plan = np.full(len(panel.keys), np.nan)
    before = np.zeros(len(panel.keys))
    plans = con.execute(f"select key::varchar as key, planned::double as planned, "
                        f"coalesce(built_before, 0)::double as built_before from ({plans_sql})").df()
    row = key_positions(panel.keys, plans["key"].to_numpy())
    use = (row >= 0) & (plans["planned"].to_numpy() > 0)  # NaN (no plan) is not > 0
    plan[row[use]] = plans["planned"].to_numpy()[use]
    before[row[use]] = plans["built_before"].to_numpy()[use]
    return plan, (before[:, None] + np.cumsum(np.nan_to_num(panel.values), axis=1)) / plan[:, None]


def months_by_key(con: duckdb.DuckDBPyConnection, sql: str | None, keys: np.ndarray, start: date) -> np.ndarray:
    """(n,) the column of the month `sql` returns for each key (key, month DATE), `NEVER` where none."""
    out = np.full(len(keys), NEVER, dtype=np.int64)
    if sql and len(keys):
        found = con.execute(f"select key::varchar as key, {month_index_sql('month::date', start)} as col "
                            f"from ({sql}) where month is not null").fetchnumpy()
        row = key_positions(keys, found["key"])
        out[row[row >= 0]] = np.asarray(found["col"], dtype=np.int64)[row >= 0]
    return out
