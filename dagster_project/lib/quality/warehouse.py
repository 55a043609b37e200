"""Everything the checks read from and write to the DuckDB warehouse.

Batches are built one at a time and only ever hold one delivered file (raw) or one mart: the
history is never loaded into pandas as a whole. Results go to `marts.dq_check_results`
(append-only), with the view `marts.dq_check_results_latest` (the latest validation of every
suite and file) for the workbook's 数据质量 sheet.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from dagster_project.lib.ingest.spec import Column, Dataset, Kind, supersession_key

from dagster_project.lib.ingest.withdrawals import ACTIVE, DELIVERIES, LOG, withdrawn_files

from .derive import typed

RESULTS_TABLE = "marts.dq_check_results"
LATEST_VIEW = "marts.dq_check_results_latest"

# (name, type, meaning) -- the contract with the workbook writer (docs/data-quality.md).
RESULT_COLUMNS = (
    ("run_id", "VARCHAR", "Dagster run id"),
    ("checked_at", "TIMESTAMP", "when this batch was validated (same for all rows of one batch)"),
    ("as_of", "DATE", "the run's as-of date"),
    ("asset", "VARCHAR", "Dagster asset key, e.g. raw/stats_industry, marts/fct_enterprise_month"),
    ("check_name", "VARCHAR", "Dagster asset check, <suite>_<severity>"),
    ("suite", "VARCHAR", "expectation suite = expectations/<suite>.yml"),
    ("file_name", "VARCHAR", "delivered file (raw suites); NULL for marts"),
    ("batch_rows", "BIGINT", "rows in the batch"),
    ("expectation", "VARCHAR", "expectation name within the suite"),
    ("expectation_type", "VARCHAR", "GX expectation type"),
    ("label", "VARCHAR", "Chinese label for the 数据质量 sheet"),
    ("column_name", "VARCHAR", "column(s) checked"),
    ("severity", "VARCHAR", "blocking | warning"),
    ("success", "BOOLEAN", "the expectation held (within mostly)"),
    ("outcome", "VARCHAR", "pass | fail (blocking, not met) | warn (warning, not met)"),
    ("observed_value", "VARCHAR", "what GX observed, in words: 'n of N rows (p%)' or the observed statistic"),
    ("element_count", "BIGINT", "rows evaluated (map expectations)"),
    ("unexpected_count", "BIGINT", "rows not meeting the expectation"),
    ("unexpected_percent", "DOUBLE", "unexpected_count / element_count × 100"),
    ("mostly", "DOUBLE", "required share of rows, NULL = all"),
    ("unexpected_examples", "VARCHAR", "JSON list of up to 10 examples (value and identifying columns)"),
)

def ensure_results_table(con: duckdb.DuckDBPyConnection) -> None:
    cols = ", ".join(f"{name} {kind}" for name, kind, _ in RESULT_COLUMNS)
    con.execute("create schema if not exists marts")
    con.execute(f"create table if not exists {RESULTS_TABLE} ({cols})")
    con.execute(
        f"""create or replace view {LATEST_VIEW} as
            select * from {RESULTS_TABLE}
            qualify checked_at = max(checked_at) over (partition by asset, suite, coalesce(file_name, ''))"""
    )


def write_results(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    if not rows:
        return
    ensure_results_table(con)
    names = [n for n, _, _ in RESULT_COLUMNS]
    frame = pd.DataFrame([{n: r.get(n) for n in names} for r in rows], columns=names)
    con.register("dq_rows", frame)
    try:
        casts = ", ".join(f"cast({n} as {kind}) as {n}" for n, kind, _ in RESULT_COLUMNS)
        con.execute(f"insert into {RESULTS_TABLE} select {casts} from dq_rows")
    finally:
        con.unregister("dq_rows")


def standing_failures(con, as_of: date) -> dict[str, tuple[int, list[str], int | None]]:
    """Per check (`<suite>_<severity>`): the expectations not met, the files they were not met in
    and the rows they name (None where only whole-batch expectations failed), by the latest
    validation of every file delivered by `as_of` (and of each mart): the state of the
    data, whichever run validated it. A file is validated in the run that first sees it (and again
    only while a blocking expectation fails on it), so a rerun that finds nothing new judges the
    same as the run that validated the files."""
    if not table_exists(con, LATEST_VIEW):
        return {}
    found = {}
    for check, expectations, files, rows in con.execute(
            f"""select q.suite || '_' || q.severity, count(distinct q.expectation),
                       list(distinct q.file_name order by q.file_name) filter (where q.file_name is not null),
                       sum(q.unexpected_count)
                from {LATEST_VIEW} q left join raw._manifest m using (file_name)
                where q.outcome <> 'pass' and (q.file_name is null or m.available_on <= ?)
                group by all""", [as_of]).fetchall():
        found[check] = (expectations, files or [], None if rows is None else int(rows))
    return found


def blocking_failures_of_run(con, run_id: str) -> list[tuple]:
    """(asset, file name or '', expectation, label, observed value, examples JSON) of each blocking
    expectation not met in a run's verdicts: a file validated twice in the run (as delivered, then
    what of it is in force, `run.validate_suites`) by its later validation only. Listing both named
    one future-dated power reading twice, as "1 of 631 rows" and "1 of 628 rows"."""
    if not table_exists(con, RESULTS_TABLE):
        return []
    return con.execute(
        f"""select asset, coalesce(file_name, ''), expectation, label, observed_value, unexpected_examples
            from (select *, checked_at = max(checked_at) over (partition by asset, suite, coalesce(file_name, ''))
                            as verdict
                  from {RESULTS_TABLE} where run_id = ?)
            where verdict and severity = 'blocking' and not success
            order by asset, file_name, expectation""", [run_id]).fetchall()


def table_exists(con, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()[0] > 0


# ---------------------------------------------------------------- which files to validate


@dataclass(frozen=True)
class Delivery:
    file_name: str
    period: str | None
    version: int
    available_on: date
    revalidation: bool = False  # its latest validation failed a blocking expectation


def deliveries_to_validate(con, ds: Dataset, asset: str, as_of: date) -> list[Delivery]:
    """Files of one raw dataset that need validating in this run.

    - every loaded file, not withdrawn, that has arrived by the as-of date (`available_on <=
      as_of`, the same cut as the dbt models) and has never been validated: in a weekly run, the
      week's deliveries;
    - every such file whose latest validation failed a blocking expectation: it keeps blocking
      until a later delivery replaces what of it fails, or it is withdrawn (`withdrawn_failures`).
    Files that arrive after the as-of date wait for the run in which they count as arrived.
    """
    if not table_exists(con, "raw._manifest"):
        return []
    manifest = con.execute(
        f"""select file_name, period, version, available_on from {DELIVERIES}
           where feed = ? and dataset = ? and available_on <= ?
           order by coalesce(period, ''), version, file_name""",
        [ds.feed, ds.dataset, as_of],
    ).fetchall()
    last = last_validation(con, asset)
    stale = reinstated_since_validated(con, asset)
    out, again = [], []
    for name, period, version, available_on in manifest:
        if name not in last or name in stale:
            out.append(Delivery(name, period, version, available_on))
        elif last[name]:
            again.append(Delivery(name, period, version, available_on, revalidation=True))
    return out + again


def reinstated_since_validated(con, asset: str) -> set[str]:
    """Files reinstated after their latest validation (which may be the `withdrawn` clearance):
    validated again as new, so that their verdict is the one their bytes give."""
    if not table_exists(con, RESULTS_TABLE) or not table_exists(con, LOG):
        return set()
    rows = con.execute(
        f"""select w.file_name from {LOG} w
            join (select file_name, max(checked_at) as checked_at from {RESULTS_TABLE}
                  where asset = ? and file_name is not null group by file_name) v using (file_name)
            where w.action = 'reinstated' group by w.file_name having max(w.recorded_at) > any_value(v.checked_at)""",
        [asset],
    ).fetchall()
    return {r[0] for r in rows}


def withdrawn_failures(con, ds: Dataset, asset: str) -> dict[str, str]:
    """Withdrawn files of one raw dataset whose latest validation failed a blocking expectation:
    file name -> why withdrawn. Their failures are cleared: nothing of them is used any more."""
    if not table_exists(con, "raw._manifest"):
        return {}
    failing = {name for name, failed in last_validation(con, asset).items() if failed}
    mine = {r[0] for r in con.execute("select file_name from raw._manifest where feed = ? and dataset = ?",
                                      [ds.feed, ds.dataset]).fetchall()}
    return {name: why for name, why in withdrawn_files(con).items() if name in failing & mine}


def last_validation(con, asset: str) -> dict[str, bool]:
    """file name -> whether its latest validation failed a blocking expectation."""
    if not table_exists(con, RESULTS_TABLE):
        return {}
    rows = con.execute(
        f"""select file_name, bool_or(severity = 'blocking' and not success)
            from (select *, max(checked_at) over (partition by file_name) as latest
                  from {RESULTS_TABLE} where asset = ? and file_name is not null)
            where checked_at = latest group by file_name""",
        [asset],
    ).fetchall()
    return dict(rows)


# ---------------------------------------------------------------- batches


def replaced_by(con, ds: Dataset, delivery: Delivery, as_of: date) -> list[str]:
    """The later deliveries (arrived by the as-of date, not withdrawn) that replace part of this
    file: a `_vN` of the same delivery, or any file whose rows win over some of its rows by the
    supersession rule of the dbt staging models. Empty: all of the file is in force."""
    keys = supersession_key(ds)
    names = con.execute(
        f"""select distinct later._file from {ACTIVE}.{ds.table} as later
            join raw.{ds.table} as mine on {_qualified_keys(keys)}
            where mine._file = $file and later._file <> $file and later._available_on <= $as_of
              and (coalesce(later._dataset_period, ''), later._version)
                  > (coalesce(mine._dataset_period, ''), mine._version)
            union
            select file_name from {DELIVERIES}
            where feed = $feed and dataset = $dataset and coalesce(period, '') = coalesce($period, '')
              and version > $version and available_on <= $as_of
            order by 1""",
        {"file": delivery.file_name, "as_of": as_of, "feed": ds.feed, "dataset": ds.dataset,
         "period": delivery.period, "version": delivery.version},
    ).fetchall()
    return [n[0] for n in names]


def _qualified_keys(keys: tuple[str, ...]) -> str:
    """`later.k = mine.k` for each key expression (a column, or coalesce(a, b)), NULLs equal."""
    def on(alias: str, key: str) -> str:
        if key.startswith("coalesce("):
            inner = key[len("coalesce("):-1].split(",")
            return "coalesce(" + ", ".join(f"{alias}.{c.strip()}" for c in inner) + ")"
        return f"{alias}.{key}"
    return " and ".join(f"{on('later', k)} is not distinct from {on('mine', k)}" for k in keys)


def file_batch(con, ds: Dataset, delivery: Delivery, as_of: date, in_force: bool = False) -> pd.DataFrame | None:
    """One delivered file, typed by its spec, + `_file`, `_line`, `_quarantined` (reasons, NULL for loaded rows).

    `in_force=False`: the file as delivered: its loaded rows and the rows ingestion quarantined
    (rebuilt from `raw._rejected_rows`). `in_force=True`: only what of it is still in force: its
    loaded rows that no later delivery (arrived by the as-of date, not withdrawn) replaces, and
    its quarantined rows unless a later version (`_vN`) of the same delivery has come. None when
    nothing of the file is left in force *and* a later delivery replaced it: the failure is
    cleared. A file with no rows at all (header only) is not cleared by a delivery of another
    period or by a rerun: only by its `_vN` or a withdrawal.
    Loaded rows are typed by DuckDB (they passed ingestion's checks, so every cast succeeds);
    the few quarantined rows by `derive.typed`, which turns what does not parse into NULL.
    """
    cols = ", ".join(_typed_sql(c) for c in ds.columns)
    if in_force:
        keys = supersession_key(ds)
        loaded = _typed_frame(
            con,
            f"""select {cols}, _file, _line from raw.{ds.table} as mine
                where _file = $file and not exists (
                    select 1 from {ACTIVE}.{ds.table} as later
                    where {_qualified_keys(keys)} and later._file <> $file and later._available_on <= $as_of
                      and (coalesce(later._dataset_period, ''), later._version)
                          > (coalesce(mine._dataset_period, ''), mine._version))
                order by _line""",
            {"file": delivery.file_name, "as_of": as_of},
        )
        corrected = con.execute(
            f"""select count(*) from {DELIVERIES} where feed = ? and dataset = ?
               and coalesce(period, '') = coalesce(?, '') and version > ? and available_on <= ?""",
            [ds.feed, ds.dataset, delivery.period, delivery.version, as_of],
        ).fetchone()[0] > 0
        rejected = _rejected(con, ds, delivery.file_name) if not corrected else _EMPTY
        if loaded.empty and rejected.empty and replaced_by(con, ds, delivery, as_of):
            return None
    else:
        loaded = _typed_frame(
            con, f"select {cols}, _file, _line from raw.{ds.table} where _file = ? order by _line", [delivery.file_name])
        rejected = _rejected(con, ds, delivery.file_name)
    loaded = typed(loaded, ds)
    loaded["_quarantined"] = None
    if rejected.empty:
        loaded["_line"] = loaded["_line"].astype("Int64")
        return loaded
    rejected = typed(rejected, ds)
    frame = pd.concat([loaded, rejected] if not loaded.empty else [rejected], ignore_index=True)
    frame["_line"] = frame["_line"].astype("Int64")
    return frame.sort_values("_line", kind="stable").reset_index(drop=True)


def _typed_frame(con, sql: str, params: list) -> pd.DataFrame:
    """A query over `_typed_sql` columns (text, double, integer, timestamp: no DECIMAL or DATE,
    which Arrow would hand to pandas as Python objects) as a dataframe, through Arrow: half the
    time of `.df()` with the same dtypes, and a power file is ~100,000 rows.

    DuckDB warns that Arrow from `execute()` copies the rows once more than from `con.sql()`; it
    is still the faster path, and `con.sql()` refuses to run while an earlier `execute()` on the
    connection has rows left unfetched, which the caller's connection may have."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
        return con.execute(sql, params).to_arrow_table().to_pandas()


def _typed_sql(c: Column) -> str:
    """A raw text column in the type `derive.typed` gives it (which then only normalises dtypes)."""
    if c.kind in (Kind.DECIMAL, Kind.INTEGER):
        return f"cast(replace({c.name}, ',', '') as double) as {c.name}"
    if c.kind is Kind.MONTH:
        return f"cast({c.name} as integer) as {c.name}"
    if c.kind is Kind.DATE:
        return f"cast({c.name} as timestamp) as {c.name}"
    return c.name


def _rejected(con, ds: Dataset, file_name: str) -> pd.DataFrame:
    rows = con.execute(
        """select line, any_value(row_json), string_agg(field || ': ' || reason, '; ' order by field)
           from raw._rejected_rows where file_name = ? group by line order by line""",
        [file_name],
    ).fetchall()
    names = [c.name for c in ds.columns]
    if not rows:
        return _EMPTY
    by_header = {c.header: c.name for c in ds.columns}
    records = []
    for line, row_json, reasons in rows:
        values = json.loads(row_json) if row_json else {}
        record = {name: None for name in names}
        for header, value in values.items():
            name = by_header.get((header or "").strip())
            if name:
                text = None if value is None else str(value).strip()
                record[name] = text or None
        record.update(_file=file_name, _line=line, _quarantined=reasons)
        records.append(record)
    return pd.DataFrame.from_records(records, columns=[*names, "_file", "_line", "_quarantined"])


_EMPTY = pd.DataFrame()  # no quarantined rows (only ever tested with .empty)


def table_batch(con, table: str) -> pd.DataFrame:
    return _frame(con.execute(f"select * from {table}"))


def sql_batch(con, sql: str, values: dict) -> pd.DataFrame:
    """A suite's query; `$name` parameters (as_of, ...) are bound by DuckDB."""
    used = set(re.findall(r"\$([a-z_]+)", sql))
    return _frame(con.execute(sql, {k: v for k, v in values.items() if k in used}))


def _frame(result) -> pd.DataFrame:
    """A query's result as pandas, with dates as datetime64[ns] (DuckDB gives microseconds): GX
    compares a datetime64[ns] column with a bound on the whole column at once, and any other
    column value by value (~1 s per 250,000 rows). Dates beyond 2262 stay as they are."""
    df = result.df()
    for name in df.columns:
        column = df[name]
        if pd.api.types.is_datetime64_dtype(column) and column.dtype != "datetime64[ns]":
            with contextlib.suppress(pd.errors.OutOfBoundsDatetime, OverflowError):
                df[name] = column.astype("datetime64[ns]")
    return df


# ---------------------------------------------------------------- lookups


def directory(con, as_of: date) -> frozenset[str]:
    """USCCs listed in any enterprise-directory snapshot that has arrived by the as-of date (and is
    not withdrawn)."""
    if not table_exists(con, f"{ACTIVE}.stats_enterprise"):
        return frozenset()
    rows = con.execute(f"select distinct uscc from {ACTIVE}.stats_enterprise where _available_on <= ?",
                       [as_of]).fetchall()
    return frozenset(r[0] for r in rows)


def accounts(con, as_of: date) -> frozenset[str]:
    if not table_exists(con, f"{ACTIVE}.power_accounts"):
        return frozenset()
    rows = con.execute(f"select distinct account_no from {ACTIVE}.power_accounts where _available_on <= ?",
                       [as_of]).fetchall()
    return frozenset(r[0] for r in rows)


def previous_delivery_rows(con, ds: Dataset, period: str, as_of: date) -> int | None:
    """Rows read from the dataset's latest first delivery (not a _vN) of a period before `period`
    that had arrived by the as-of date and is not withdrawn; None if there is none."""
    row = con.execute(
        f"""select rows_read from {DELIVERIES}
            where feed = ? and dataset = ? and version = 1 and period < ? and available_on <= ?
            order by period desc limit 1""",
        [ds.feed, ds.dataset, period, as_of],
    ).fetchone()
    return row[0] if row else None


def earlier_projects(con, period: str, as_of: date) -> tuple[str | None, frozenset[str], dict[str, tuple]]:
    """The latest library month delivered before `period` (arrived by the as-of date, not
    withdrawn), every project code the library listed before `period`, and the projects that latest
    library listed unfinished (no 竣工年月), code -> (owner USCC, 开工年月) as delivered;
    (None, ∅, {}) if there is none."""
    rows = con.execute(
        f"""select _dataset_period, project_code, completion_month is null, uscc, start_month
            from {ACTIVE}.stats_projects where _dataset_period < ? and _available_on <= ?""",
        [period, as_of]).fetchall()
    if not rows:
        return None, frozenset(), {}
    latest = max(row[0] for row in rows)
    return (latest, frozenset(row[1] for row in rows),
            {code: (uscc, start) for p, code, open_, uscc, start in rows if p == latest and open_})


def project_history(con, period: str, as_of: date) -> pd.DataFrame:
    """Per project, from the libraries delivered before `period` (arrived by the as-of date, not
    withdrawn; a library month's latest version): its largest month of investment
    (`peak_10k_yuan`), the sum of its months of `period`'s year (`year_before_10k_yuan`) and how
    many of those months had investment (`months_invested_in_year`)."""
    return con.execute(
        f"""with months as (
                select _dataset_period as period, project_code,
                       try_cast(replace(investment_month_10k_yuan, ',', '') as double) as investment
                from {ACTIVE}.stats_projects where _dataset_period < ? and _available_on <= ?
                qualify row_number() over (partition by _dataset_period, project_code order by _version desc) = 1)
            select project_code, max(investment) as peak_10k_yuan,
                   coalesce(sum(investment) filter (where left(period, 4) = left(?, 4)), 0) as year_before_10k_yuan,
                   count(*) filter (where left(period, 4) = left(?, 4) and investment > 0) as months_invested_in_year
            from months group by project_code""",
        [period, as_of, period, period]).df()


def identical_earlier_delivery(con, ds: Dataset, delivery: Delivery, as_of: date,
                               by_content: bool = False) -> str | None:
    """The delivery of an earlier period of the dataset with the same bytes (SHA-256) as this one,
    arrived by the as-of date and not withdrawn: an old file sent again under a new period's name
    (projects and the directory carry no period column that would tell). `by_content`: or with
    the same rows loaded, whatever the bytes: September's library exported again with other line
    ends as October's cut a tiny budget by 35% with no check failing (2026-12-07); for datasets
    whose rows carry no period (others say their period in every row, and a weekly power file
    is too large to compare with every earlier one). None if there is none."""
    if delivery.period is None:
        return None
    row = con.execute(
        f"""select other.file_name from raw._manifest this
            join {DELIVERIES} other
              on other.sha256 = this.sha256 and other.feed = this.feed and other.dataset = this.dataset
            where this.file_name = ? and other.period < this.period and other.available_on <= ?
            order by other.period desc, other.file_name limit 1""",
        [delivery.file_name, as_of],
    ).fetchone()
    if row or not by_content:
        return row[0] if row else None
    cols = ", ".join(c.name for c in ds.columns)
    row = con.execute(
        f"""with this as (select file_name, period, rows_accepted from raw._manifest where file_name = $file),
            candidates as (
                select other.file_name, other.period from {DELIVERIES} other, this
                join raw._manifest m on m.file_name = other.file_name
                where other.feed = $feed and other.dataset = $dataset and other.period < this.period
                  and other.available_on <= $as_of and m.rows_accepted = this.rows_accepted
                  and this.rows_accepted > 0)
            select c.file_name from candidates c
            where not exists (select {cols} from raw.{ds.table} where _file = $file
                              except all
                              select {cols} from raw.{ds.table} where _file = c.file_name)
            order by c.period desc, c.file_name limit 1""",
        {"file": delivery.file_name, "feed": ds.feed, "dataset": ds.dataset, "as_of": as_of},
    ).fetchone()
    return row[0] if row else None


def power_levels(con, delivered: str, as_of: date, window_days: int) -> pd.DataFrame:
    """Per metering account, the median daily kWh of its readings dated in the `window_days` before
    the delivery of `delivered` (YYYYMMDD), as earlier deliveries gave them: the level a weekly
    file's readings are compared with (columns account_no, level_kwh)."""
    day = datetime.strptime(delivered, "%Y%m%d").date()
    return con.execute(
        f"""select account_no, median(try_cast(kwh as double)) as level_kwh
            from {ACTIVE}.power_daily
            where _available_on <= ? and _dataset_period < ? and reading_date >= ?
            group by account_no""",
        [as_of, delivered, (day - timedelta(days=window_days)).isoformat()],
    ).df()


def previous_reports(con, report_month: int, as_of: date) -> pd.DataFrame:
    """Per USCC, its latest monthly report before `report_month` (any year), the version in force."""
    return con.execute(
        f"""select uscc, cast(report_month as integer) as report_month,
                  try_cast(output_month_k_yuan as double) as output_month_k_yuan,
                  try_cast(output_ytd_k_yuan as double) as output_ytd_k_yuan,
                  try_cast(revenue_month_k_yuan as double) as revenue_month_k_yuan,
                  try_cast(revenue_ytd_k_yuan as double) as revenue_ytd_k_yuan
           from (
               select * from {ACTIVE}.stats_industry
               where _available_on <= ? and report_month < ?
               qualify row_number() over (partition by report_month, uscc
                                          order by _dataset_period desc, _version desc, _line desc) = 1
           )
           qualify row_number() over (partition by uscc order by report_month desc) = 1""",
        [as_of, str(report_month)],
    ).df()
