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


def month_index(month: date, start: date) -> int:
    return (month.year - start.year) * 12 + month.month - start.month


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
    born: np.ndarray | None = None  # (n,) column of the entity's start (a project's 开工年月), where known

    @property
    def months(self) -> int:
        return self.values.shape[1]

    def col(self, month: date) -> int:
        return month_index(month, self.start)

    def month(self, col: int) -> date:
        return add_months(self.start, col)


NEVER = np.iinfo(np.int32).max


def load_panel(con: duckdb.DuckDBPyConnection, name: str, sql: str, start: date, end: date, last: date,
               stops_sql: str | None = None, born_sql: str | None = None) -> Panel:
    """A panel from `sql` returning (key, grp, month DATE, value) over months start..end.

    Rows after `last` are ignored (not delivered). `stops_sql` returns (key, month DATE): the month
    after which an entity reports no more (e.g. a project's completion month), where known.
    `born_sql` returns (key, month DATE): when the entity started (its age counts from then)."""
    rows = con.execute(
        f"select key::varchar as key, grp::varchar as grp, month::date as month, value::double as value from ({sql}) "
        f"where month between ? and ? order by key, month",
        [start, min(end, last)],
    ).fetchnumpy()
    keys, codes = np.unique(rows["key"].astype(object), return_inverse=True)
    cols = np.array([month_index(m, start) for m in rows["month"].astype("datetime64[D]").astype(object)],
                    dtype=np.int64) if len(keys) else np.zeros(0, dtype=np.int64)
    width = month_index(end, start) + 1
    values = np.full((len(keys), width), np.nan)
    values[codes, cols] = rows["value"]
    groups = np.empty(len(keys), dtype=object)
    groups[codes] = rows["grp"].astype(object)
    first = np.full(len(keys), NEVER, dtype=np.int64)
    np.minimum.at(first, codes, cols)
    stops = _months_by_key(con, stops_sql, keys, start, NEVER)
    born = _months_by_key(con, born_sql, keys, start, NEVER) if born_sql else None
    if born is not None:
        born = np.where(born == NEVER, first, born)  # not started by the record: age from the first report
    return Panel(name, keys, groups, start, values, month_index(last, start), first, stops, born)


def _months_by_key(con, sql: str | None, keys: np.ndarray, start: date, missing: int) -> np.ndarray:
    out = np.full(len(keys), missing, dtype=np.int64)
    if sql and len(keys):
        position = {k: i for i, k in enumerate(keys.tolist())}
        for key, month in con.execute(f"select key::varchar, month::date from ({sql}) where month is not null").fetchall():
            if key in position:
                out[position[key]] = month_index(month, start)
    return out
