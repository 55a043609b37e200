"""Load landed files into the raw schema, once each, with a manifest.

Every file is identified by name and SHA-256. A file already in the manifest
with the same bytes is skipped; the same name with other bytes is refused
(corrections come as `_vN`). A file whose status (device, inode, size, modification
and change times) is the one recorded when its bytes were last hashed is known to
be unchanged without reading it again: the change time (ctime) moves with every
write and cannot be set back, and a status is recorded only once the file had been
left alone for `SETTLED_SECONDS` (a file still being written within the clock's
granularity could otherwise change without its status showing it).

Each file loads with its accepted rows, its rejected rows (with file, line,
field, value, reason) and its manifest row together or not at all: files are
written in groups of consecutive files of one dataset, one transaction and one
insert per group (`WRITE_GROUP_ROWS`), so a kill loses whole files only.
Landed files are only read, and only regular files directly in a feed folder
(`landing.py`); what else lies there is reported, never opened. A loaded file
gone from its folder is withdrawn (`withdrawals.py`).

Every value of a loaded row is either stored exactly as delivered (thousands
separators aside) or the row is rejected with the reason: numbers are plain ASCII
decimals (no hex, no exponent, no full-width digits) that fit the warehouse's
types, whole numbers are whole, dates and months are real and within what the
checks can type, text fits a workbook cell, the row has as many fields as the
header, and no two rows of one file share a key (the lines are named; which of
two different rows holds is unknown, so neither loads; of identical ones the
first loads).

A feed's files are read, parsed and row-checked up to `READ_AHEAD` files ahead, by `READERS`
threads with a DuckDB cursor each, while earlier files are written: reading and writing mostly run
outside Python (Arrow's CSV reader, DuckDB), so a feed loads on both cores. Files are written in
name order, whichever is read first.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.lib import refdata
from dagster_project.lib.progress_bar import progress_bar
from dagster_project.lib.uscc import uscc_problem

from . import FEEDS, datasets_of
from .filenames import FileNameError, PeriodBounds, parse_name
from .landing import NotARegularFile, Stray, read_regular_file, scan_feed_folder, scan_landing, stat_regular_file
from .readers import FileRefused, TextTable, read_file
from .spec import (
    EARLIEST_DATE,
    INVISIBLE,
    LATEST_DATE,
    LOOKALIKE,
    MAX_TEXT_LENGTH,
    TOTALS_LABELS,
    TOTALS_REASON,
    UNUSUAL_SPACE,
    Column,
    Dataset,
    DeliveredFile,
    FileOutcome,
    Kind,
    number_pattern,
    supersession_key,
)
from .withdrawals import ensure_withdrawals, follow_landing

RAW = "raw"
# A file's status is trusted to stand for its bytes only if it was recorded this long after the
# file last changed (its ctime): the kernel's file clock ticks every few milliseconds.
SETTLED_SECONDS = 2
# Files of one dataset are written together until their rows reach this: DuckDB writes one large
# insert on both cores and straight into the file's row groups, while a ~100,000-row insert per file
# runs on one core and goes through the write-ahead log first (province power: 18 s of writing for
# 122 files one by one, docs/benchmarks.md).
WRITE_GROUP_ROWS = 500_000
READERS = 2  # threads reading and checking files; more gained nothing on 2 cores, the writes being the rest
READ_AHEAD = 3  # files read and checked ahead of the writes (bounded: each is held in memory)
METADATA_COLUMNS = (
    ("_file", "VARCHAR"),
    ("_dataset_period", "VARCHAR"),
    ("_version", "INTEGER"),
    ("_line", "INTEGER"),
    ("_available_on", "DATE"),
    ("_loaded_at", "TIMESTAMP"),
    ("_extra", "VARCHAR"),
)

LANDING_ROOT_SCOPE = ""  # raw._landing_scans: the landing root's scan; a feed folder's is named by the feed
_BOOKKEEPING_DDL = f"""
create schema if not exists {RAW};
create table if not exists {RAW}._manifest (
    file_name varchar primary key, feed varchar, dataset varchar, period varchar, version integer,
    sha256 varchar, size_bytes bigint, encoding varchar,
    rows_read integer, rows_accepted integer, rows_rejected integer, rows_blank integer,
    extra_columns varchar, available_on date, loaded_at timestamp
);
create table if not exists {RAW}._file_status (
    file_name varchar primary key, sha256 varchar, status varchar, recorded_at timestamp
);
create table if not exists {RAW}._file_refusals (
    file_name varchar, feed varchar, sha256 varchar, reason varchar,
    first_seen_at timestamp, last_seen_at timestamp, primary key (file_name, sha256)
);
create table if not exists {RAW}._landing_scans (scope varchar primary key, scanned_at timestamp);
create table if not exists {RAW}._rejected_rows (
    file_name varchar, line integer, field varchar, header varchar, value varchar, reason varchar,
    row_json varchar, loaded_at timestamp
);
"""


@dataclass(frozen=True)
class Reference:
    """Code lists the row checks need."""

    counties: frozenset[str]
    industries: frozenset[str]
    countries: frozenset[str]

    @classmethod
    def from_seeds(cls) -> Reference:
        return cls(refdata.county_codes(), refdata.industry_classes(), refdata.country_codes())


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, datasets: Iterable[Dataset]) -> None:
    """Create the bookkeeping tables and one raw table per dataset (empty until a file arrives),
    with the views of its rows in use (`withdrawals.ACTIVE`)."""
    datasets = list(datasets)
    con.execute(_BOOKKEEPING_DDL)
    for ds in datasets:
        cols = [f"{c.name} VARCHAR" for c in ds.columns] + [f"{n} {t}" for n, t in METADATA_COLUMNS]
        con.execute(f"create table if not exists {RAW}.{ds.table} ({', '.join(cols)})")
    ensure_withdrawals(con, datasets)


def ingest_feed(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    feed: str,
    reference: Reference | None = None,
    now: datetime | None = None,
    as_of: date | None = None,
) -> list[FileOutcome]:
    """Load every new file of one feed's landing folder; return what happened to each file, to
    each stray beside them (`not read`) and to each loaded file gone from the folder (`withdrawn`,
    or `reinstated` when it is back).

    `as_of` is the run's as-of date: a `_vN` correction first seen by this run counts as arrived
    from that date (spec.DeliveredFile.available_from). A feed without a folder is left alone
    (nothing withdrawn: a missing folder is more likely a mount than a decision)."""
    datasets = datasets_of(feed)
    ensure_raw_tables(con, datasets)
    reference = reference or Reference.from_seeds()
    now = now or datetime.now()
    folder = landing / feed
    if not folder.is_dir() or folder.is_symlink():
        return []
    paths, strays = scan_feed_folder(folder, feed)
    _record_scan(con, feed, now)
    bounds = PeriodBounds.of_policy()
    # Names are unique, so what the manifest says about this folder's files cannot change while
    # they load; the reading thread consults this copy and never touches the connection.
    loaded = dict(con.execute(f"select file_name, sha256 from {RAW}._manifest").fetchall())
    statuses = {name: (sha, status) for name, sha, status in con.execute(
        f"select file_name, sha256, status from {RAW}._file_status").fetchall()}
    with _cursor_per_thread(con) as checker:
        reads = _read_ahead(lambda path: _read(path, feed, datasets, loaded, statuses, checker(), reference, bounds),
                            paths, READ_AHEAD)
        present: dict[str, str] = {}
        settled: list[list] = []  # statuses to record, of files loaded or skipped
        outcomes: list[FileOutcome | None] = []
        waiting: dict[str, list[tuple[int, _ReadFile]]] = {}  # per raw table: (position, file) not written yet

        def write_group(table: str) -> None:
            group = waiting.pop(table)
            for (position, _), outcome in zip(group, _load_group(con, [read for _, read in group], now, as_of)):
                outcomes[position] = outcome

        # Closed on the way out, even when a write fails or the run is interrupted: the reading
        # threads finish the files they are on before their cursors close (closing a cursor that a
        # thread still uses fails with "connection is busy", hiding the real error).
        with closing(reads), progress_bar(len(paths), f"ingest {feed}") as bar:
            for read in reads:
                bar.advance(read.table.num_rows if read.table is not None else 0)
                if read.refusal or read.skipped:
                    outcomes.append(_refuse(con, read.path.name, feed, read.sha, read.refusal, now) if read.refusal
                                    else FileOutcome(read.path.name, feed, "skipped", "already loaded",
                                                     dataset=read.delivered.dataset.table))
                else:
                    outcomes.append(None)
                    table = read.delivered.dataset.table
                    waiting.setdefault(table, []).append((len(outcomes) - 1, read))
                    if sum(r.table.num_rows for _, r in waiting[table]) >= WRITE_GROUP_ROWS:
                        write_group(table)
                if read.delivered is not None:  # a file whose name is refused is no delivery
                    present[read.path.name] = read.sha
                if read.status is not None and not read.refusal and statuses.get(read.path.name) != (read.sha, read.status):
                    settled.append([read.path.name, read.sha, read.status, now])
            for table in list(waiting):
                write_group(table)
    outcomes += [record_stray(con, stray, now) for stray in strays]
    con.begin()
    try:
        changes = follow_landing(con, feed, present, now)
        if settled:
            con.executemany(f"insert or replace into {RAW}._file_status values (?, ?, ?, ?)", settled)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    outcomes += [FileOutcome(c.file_name, feed, c.action, c.reason) for c in changes]
    return outcomes


def record_landing_root(con: duckdb.DuckDBPyConnection, landing: Path, now: datetime | None = None,
                        ) -> list[FileOutcome]:
    """Report what lies at the landing root besides the feed folders (files, unknown folders,
    links, ...): never read."""
    ensure_raw_tables(con, [])
    now = now or datetime.now()
    root = [stray for stray in scan_landing(landing, FEEDS).strays if stray.feed is None]
    _record_scan(con, LANDING_ROOT_SCOPE, now)
    return [record_stray(con, stray, now) for stray in root]


def _record_scan(con: duckdb.DuckDBPyConnection, scope: str, now: datetime) -> None:
    """When a feed folder (or the root) was last looked at: the refusals it found then, and only
    those, still lie in the landing dir (raw._file_refusals keeps every refusal ever made)."""
    con.execute(f"insert or replace into {RAW}._landing_scans values (?, ?)", [scope, now])


def record_stray(con: duckdb.DuckDBPyConnection, stray: Stray, now: datetime) -> FileOutcome:
    """Report something in the landing dir that is not read (its name relative to the landing dir
    as file name, no checksum: it is never opened)."""
    name = f"{stray.feed}/{stray.name}" if stray.feed else stray.name
    return _refuse(con, name, stray.feed, "", stray.reason, now, status="not read")


@dataclass
class _ReadFile:
    """A landed file as read, before anything is written: parsed, or the reason it is not loaded."""

    path: Path
    sha: str
    size: int
    delivered: DeliveredFile | None = None
    table: TextTable | None = None
    columns: dict[str, pa.Array] | None = None
    extras: list[str] | None = None
    rejected: list[tuple[int, str, str | None, str]] | None = None
    skipped: bool = False
    refusal: str | None = None
    status: str | None = None  # device, inode, size, mtime, ctime: recorded when settled (SETTLED_SECONDS)


def _status_key(status: os.stat_result) -> str:
    return f"{status.st_dev}:{status.st_ino}:{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}"


def _read(path: Path, feed: str, datasets, loaded: dict[str, str], statuses: dict[str, tuple[str, str]], checker,
          reference: Reference, bounds: PeriodBounds) -> _ReadFile:
    """Read, parse and row-check one file; `checker` is a cursor only this thread uses, for the checks.
    A loaded file whose status is the one recorded with its bytes is not read again."""
    try:
        first = stat_regular_file(path)
        before = _status_key(first)
        if statuses.get(path.name) == (loaded.get(path.name), before):
            unchanged = _ReadFile(path, loaded[path.name], first.st_size, skipped=True, status=before)
            try:
                unchanged.delivered = parse_name(path.name, feed, datasets, bounds)
                return unchanged
            except FileNameError:
                pass  # read as any file, which says why its name is refused now
        settled = time.time_ns() - first.st_ctime_ns >= SETTLED_SECONDS * 1_000_000_000
        data = read_regular_file(path)
        # The status taken before the bytes stands for them if nothing touched the file in between.
        status = before if settled and _status_key(stat_regular_file(path)) == before else None
    except OSError as exc:  # swapped for a link or FIFO since the scan, or unreadable
        reason = str(exc) if isinstance(exc, NotARegularFile) else f"{path.name}: cannot be read ({exc.strerror})"
        return _ReadFile(path, "", 0, refusal=f"{feed}/{reason}")
    read = _ReadFile(path, hashlib.sha256(data).hexdigest(), len(data), status=status)
    try:
        read.delivered = parse_name(path.name, feed, datasets, bounds)
    except FileNameError as exc:
        read.refusal = str(exc)
        return read
    known = loaded.get(path.name)
    if known == read.sha:
        read.skipped = True
    elif known:
        read.refusal = (
            f"{feed}/{path.name}: a file of this name was already loaded with different bytes "
            f"(sha256 {known[:12]}… then, {read.sha[:12]}… now); delivered files are never edited in place — "
            f"send the correction as {_next_version_name(read.delivered)}"
        )
    else:
        try:
            read.table = read_file(path, read.delivered.dataset, data)
            read.columns, read.extras = _map_headers(path, read.delivered.dataset, read.table)
        except FileRefused as exc:
            read.refusal = f"{feed}/{exc}"
            return read
        read.rejected = _rejections(checker, read.delivered.dataset, read.columns, read.table, reference)
    return read


def nothing_loads(path: Path, delivered: DeliveredFile) -> str | None:
    """Why ingestion would load no row of this (well-named) file, or None: the file refused as a
    whole (bytes, encoding, header), or every one of its rows rejected — what can be known from the
    file alone, without the warehouse. A header-only file loads no row and refuses none: None."""
    try:
        data = read_regular_file(path)
        table = read_file(path, delivered.dataset, data)
        columns, _ = _map_headers(path, delivered.dataset, table)
    except (OSError, FileRefused) as exc:
        return str(exc)
    if table.num_rows == 0:
        return None
    with closing(duckdb.connect()) as checker:
        rejected = {row for row, *_ in _rejections(checker, delivered.dataset, columns, table, Reference.from_seeds())}
    return f"{path.name}: every row rejected" if len(rejected) == table.num_rows else None


@contextmanager
def _cursor_per_thread(con):
    """A function giving each calling thread its own cursor of `con`; all are closed on exit."""
    local, cursors, lock = threading.local(), [], threading.Lock()

    def cursor():
        if not hasattr(local, "cursor"):
            with lock:
                local.cursor = con.cursor()
                cursors.append(local.cursor)
        return local.cursor

    try:
        yield cursor
    finally:
        for c in cursors:
            c.close()


def _read_ahead(read: Callable[[Path], _ReadFile], paths: list[Path], depth: int) -> Iterator[_ReadFile]:
    """read(path) of each path, in path order, by `READERS` threads, at most `depth` files ahead of
    the caller. When the caller stops early (a write failed, the run is interrupted), the reads not
    started are cancelled and those under way finish before this returns."""
    reader = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="ingest-read")
    try:
        pending: deque[Future] = deque()
        for path in paths:
            pending.append(reader.submit(read, path))
            if len(pending) > depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        reader.shutdown(wait=True, cancel_futures=True)


def _next_version_name(delivered: DeliveredFile) -> str:
    return f"{delivered.base_name}_v{delivered.version + 1}.{delivered.dataset.extension}"


def _refuse(con, name: str, feed: str | None, sha: str, reason: str, now: datetime,
            status: str = "refused") -> FileOutcome:
    con.execute(
        f"""insert into {RAW}._file_refusals values (?, ?, ?, ?, ?, ?)
            on conflict (file_name, sha256) do update set last_seen_at = excluded.last_seen_at, reason = excluded.reason""",
        [name, feed, sha, reason, now, now],
    )
    return FileOutcome(name, feed, status, reason)


def _map_headers(path: Path, ds: Dataset, table: TextTable) -> tuple[dict[str, pa.Array], list[str]]:
    """Columns by English name (from the Chinese headers, any order) plus unknown extra headers."""
    positions: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        if header in positions:
            raise FileRefused(f"{path.name}: header {header!r} appears twice")
        if header:
            positions[header] = i
    # Every header FEEDS.md lists must be there, also where its values may be blank: a misspelt
    # 用电量_千瓦时 would otherwise load every reading of the file as blank.
    missing = [c.header for c in ds.columns if c.header not in positions]
    if missing and not set(positions) & set(ds.headers):
        # Not a delivery of this dataset at all: what its first line holds is not repeated.
        raise FileRefused(f"{path.name}: none of the {ds.table} headers in its first line: not a {ds.table} file")
    if missing:
        unknown = [h for h in positions if h not in set(ds.headers)]
        shown = ", ".join(_visible(h[:40]) for h in unknown[:10]) + (f" (+{len(unknown) - 10})" if len(unknown) > 10 else "")
        raise FileRefused(
            f"{path.name}: missing required column(s) {', '.join(missing)}"
            + (f"; unknown column(s) {shown}" if unknown else "")
        )
    extras = [h for h in positions if h not in set(ds.headers)]
    columns = {c.name: table.columns[positions[c.header]] for c in ds.columns}
    if extras:
        values = zip(*(table.columns[positions[h]].to_pylist() for h in extras))
        columns["_extra"] = pa.array([json.dumps(dict(zip(extras, row)), ensure_ascii=False) for row in values],
                                     type=pa.string())
    return columns, extras


def _load_group(con, reads: list[_ReadFile], now: datetime, as_of: date | None) -> list[FileOutcome]:
    """Load consecutive files of one dataset in one transaction and one insert: their accepted rows
    in file and line order, their rejected rows and their manifest rows."""
    ds = reads[0].delivered.dataset
    incoming = pa.concat_tables([
        pa.table({**read.columns,
                  "_extra": read.columns.get("_extra", pa.nulls(read.table.num_rows, type=pa.string())),
                  "__file": pa.array([i] * read.table.num_rows, type=pa.int32()),
                  "__line": read.table.lines,
                  "__rejected": pa.array(_rejected_mask(read), type=pa.bool_())})
        for i, read in enumerate(reads)], promote_options="permissive")
    files = pa.table({  # "__" names: a dataset may have columns called name, period, version
        "__file": pa.array(range(len(reads)), type=pa.int32()),
        "__file_name": [read.delivered.name for read in reads],
        "__period": pa.array([read.delivered.period for read in reads], type=pa.string()),
        "__version": pa.array([read.delivered.version for read in reads], type=pa.int32()),
        "__available_on": pa.array([read.delivered.available_from(as_of) for read in reads], type=pa.date32()),
    })
    names = [c.name for c in ds.columns]
    normalised = ", ".join(_normalise_sql(c) for c in ds.columns)
    con.register("incoming", incoming)
    con.register("incoming_files", files)
    con.begin()
    try:
        con.execute(
            f"""insert into {RAW}.{ds.table} ({', '.join(names)}, {', '.join(n for n, _ in METADATA_COLUMNS)})
                select {normalised}, __file_name, __period, __version, __line, __available_on, ?, _extra
                from incoming join incoming_files using (__file)
                where not __rejected order by __file, __line""",
            [now],
        )
        outcomes = [_record_loaded(con, read, now, as_of) for read in reads]
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.unregister("incoming")
        con.unregister("incoming_files")
    return outcomes


def _rejected_mask(read: _ReadFile) -> list[bool]:
    mask = [False] * read.table.num_rows
    for row, *_ in read.rejected:
        mask[row] = True
    return mask


def _record_loaded(con, read: _ReadFile, now: datetime, as_of: date | None) -> FileOutcome:
    """A loaded file's rejected rows and manifest row; its outcome."""
    delivered, table, extras, rejected = read.delivered, read.table, read.extras, read.rejected
    ds = delivered.dataset
    n = table.num_rows
    rows_rejected = len({r[0] for r in rejected})
    if rejected:
        headers = {c.name: c.header for c in ds.columns}
        headers[_key_field(ds)] = "+".join(ds.column(n).header for n in ds.key)
        lines = table.lines.to_pylist()
        con.executemany(
            f"insert into {RAW}._rejected_rows values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (delivered.name, lines[i], column, headers.get(column), value, reason,
                 json.dumps(dict(zip(table.headers, table.row(i))), ensure_ascii=False), now)
                for i, column, value, reason in rejected
            ],
        )
    outcome = FileOutcome(
        delivered.name, ds.feed, "loaded",
        dataset=ds.table,
        rows_read=n,
        rows_accepted=n - rows_rejected,
        rows_rejected=rows_rejected,
        rows_blank=table.blank_rows,
        extra_columns=extras,
    )
    if extras:
        outcome.message = f"extra column(s) kept in _extra: {', '.join(extras)}"
    con.execute(
        f"insert into {RAW}._manifest values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [delivered.name, ds.feed, ds.dataset, delivered.period, delivered.version, read.sha, read.size,
         ds.encoding or "xlsx", n, outcome.rows_accepted, outcome.rows_rejected, table.blank_rows,
         ", ".join(extras) or None, delivered.available_from(as_of), now],
    )
    return outcome


def _register_reference(con, ds: Dataset, columns: dict[str, pa.Array], reference: Reference) -> None:
    """Tables the row checks join against: code lists and the invalid USCCs of this file."""
    lists = {"ref_county": reference.counties, "ref_industry": reference.industries, "ref_country": reference.countries}
    kinds = {c.kind for c in ds.columns}
    for name, values in lists.items():
        if {"ref_county": Kind.COUNTY, "ref_industry": Kind.INDUSTRY, "ref_country": Kind.COUNTRY}[name] in kinds:
            con.register(name, pa.table({"code": pa.array(sorted(values), type=pa.string())}))
    bad = {}
    for c in ds.columns:
        if c.kind is Kind.USCC:
            for value in pc.unique(columns[c.name]).drop_null().to_pylist():
                problem = uscc_problem(value)
                if problem:
                    bad[value] = problem
    con.register("bad_uscc", pa.table({"code": pa.array(list(bad), type=pa.string()),
                                       "problem": pa.array(list(bad.values()), type=pa.string())}))


NOT_POSITIVE = "not above 0 (leave it blank when there is none)"


def _visible(text: str) -> str:
    """`text` with each invisible character written as <U+XXXX>: a header 用电量_千瓦时 followed by a
    zero-width space was named missing and unknown in two identical-looking words."""
    return "".join(f"<U+{ord(ch):04X}>" if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n\r" else ch
                   for ch in text)


def _check_sql(c: Column, key: bool = False) -> str | None:
    """SQL giving the reason a non-blank value of column c is invalid, or NULL. `key`: the column
    is part of the key rows are matched and superseded by."""
    v = c.name
    if c.kind is Kind.USCC:
        return f"(select 'invalid USCC: ' || problem from bad_uscc where code = {v})"
    # An invisible character (a BOM before a date) reads as no date or number: say which it is
    invisible = (f"when regexp_matches({v}, '{INVISIBLE}') then format('invisible character U+{{:04X}} in the value: "
                 f"remove it', unicode(regexp_extract({v}, '{INVISIBLE}'))) ")
    if c.kind is Kind.MONTH:
        return (f"case {invisible}"
                f"when not regexp_full_match({v}, '[0-9]{{6}}') or substr({v}, 5, 2)::int not between 1 and 12 "
                f"then 'not a month YYYYMM' "
                f"when substr({v}, 1, 4)::int not between {EARLIEST_DATE.year} and {LATEST_DATE.year} "
                f"then {_date_range_reason()!r} end")
    if c.kind is Kind.DATE:
        # a date cell a workbook holds as its serial number (45580 for 2024-10-16: a cell formatted
        # as a number) is said to be one
        return (f"case {invisible}when regexp_full_match({v}, '[0-9]{{5}}') then 'a number (' || {v} || '), not a "
                f"date: an Excel date serial? format the cell as a date or type YYYY-MM-DD' "
                f"when not regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
                f"or try_strptime({v}, '%Y-%m-%d') is null then 'not a date YYYY-MM-DD' "
                f"when {v} not between '{EARLIEST_DATE}' and '{LATEST_DATE}' then {_date_range_reason()!r} end")
    if c.kind in (Kind.DECIMAL, Kind.INTEGER):
        whole = c.kind is Kind.INTEGER
        pattern = number_pattern(whole)
        decimals = "" if whole else (
            f"when length(regexp_extract({v}, '\\.([0-9]+)$', 1)) > {c.max_decimals} "
            f"then {_decimals_reason(c)!r} ")
        positive = (f"when try_cast(replace({v}, ',', '') as decimal(38, 10)) <= 0 then {NOT_POSITIVE!r} "
                    if c.positive else "")
        return (f"case {invisible}when not regexp_full_match({v}, '{pattern}') "
                f"then '{'not a whole number' if whole else 'not a number'}' {decimals}"
                f"when coalesce(abs(try_cast(replace({v}, ',', '') as decimal(38, 10))) >= {c.max_abs}, true) "
                f"then {_range_reason(c)!r} {positive}end")
    if c.kind is Kind.ENUM:
        allowed = ", ".join(f"'{x}'" for x in c.values)
        if c.list_separator:
            return (f"case when len(list_filter(string_split({v}, '{c.list_separator}'), "
                    f"lambda x: trim(x) <> '' and trim(x) not in ({allowed}))) > 0 "
                    f"then 'unknown value (allowed: {' '.join(c.values)})' end")
        return f"case when {v} not in ({allowed}) then 'unknown value (allowed: {' '.join(c.values)})' end"
    table = {Kind.COUNTY: ("ref_county", "unknown county code (not a Guangxi GB/T 2260 code)"),
             Kind.INDUSTRY: ("ref_industry", "unknown GB/T 4754-2017 class"),
             Kind.COUNTRY: ("ref_country", "unknown ISO 3166-1 alpha-3 country")}.get(c.kind)
    if table:
        return f"case when {v} not in (select code from {table[0]}) then '{table[1]}' end"
    # An invisible character (a BOM, a zero-width space, NUL) in a code looks like the code on every
    # screen and matches nothing: a power account's readings went to an account no one holds, a
    # project code made a project new (its base quarter empty: +19% of a tiny budget), a customs
    # correction corrected nothing (docs/data-quality.md). So does a look-alike of an ASCII
    # character in an identifier (an en dash in a project code: +528万 of a tiny budget).
    checks = ""
    if key:
        checks += (f"when regexp_matches({v}, '{INVISIBLE}') then format('invisible character U+{{:04X}} in a key: "
                   f"it would match no other row, remove it', unicode(regexp_extract({v}, '{INVISIBLE}'))) ")
        checks += (f"when regexp_matches({v}, '{UNUSUAL_SPACE}') then format('a special space U+{{:04X}} in a key "
                   f"(it looks like a plain space or none): it would match no other row, type a plain space or none', "
                   f"unicode(regexp_extract({v}, '{UNUSUAL_SPACE}'))) ")
    if key and c.code:
        checks += (f"when regexp_matches({v}, '{LOOKALIKE}') then format('look-alike character {{}} (U+{{:04X}}) in a "
                   f"key: it reads as an ASCII character and would match no other row, type the ASCII one', "
                   f"regexp_extract({v}, '{LOOKALIKE}'), unicode(regexp_extract({v}, '{LOOKALIKE}'))) ")
        # A wrapped cell or a stray space inside a hand-typed code, and Excel's text guard ="…" around
        # one, look like the code and match nothing: a project code with a line break in it was paid
        # its whole quarter as a new project (+518万 of a tiny budget, 2026-12-07).
        checks += (f"when regexp_matches({v}, '[\\s\\p{{Z}}]') then 'a space or line break inside a key: it would "
                   f"match no other row, remove it' ")
        checks += (f"when regexp_matches({v}, '^=|\"') then 'Excel''s text guard (=\"…\") or a quote around a key: "
                   f"it would match no other row, send the code alone' ")
    return (f"case {checks}when length({v}) > {MAX_TEXT_LENGTH} then 'text of ' || format('{{:,}}', length({v})) "
            f"|| ' characters: longer than a workbook cell holds ({MAX_TEXT_LENGTH:,}), it would be cut' end")


def _date_range_reason() -> str:
    return f"outside {EARLIEST_DATE} .. {LATEST_DATE} (the dates the checks can hold)"


def _stored_as(c: Column) -> str:
    unit = f" after × {c.factor:,}" if c.factor > 1 else ""
    return "a 32-bit integer" if c.kind is Kind.INTEGER else f"DECIMAL({c.stored[0]}, {c.stored[1]}){unit}"


def _range_reason(c: Column) -> str:
    return (f"out of range: must be below {c.max_abs:,} in absolute value "
            f"(stored as {_stored_as(c)}, with room for sums)")


def _decimals_reason(c: Column) -> str:
    return f"more than {c.max_decimals} decimal places: the warehouse keeps {c.max_decimals} (stored as {_stored_as(c)})"


def _key_field(ds: Dataset) -> str:
    """The `field` of a rejection for a key shared by rows of one file: its columns."""
    return "+".join(ds.key)


def _rejections(con, ds: Dataset, columns: dict[str, pa.Array], table: TextTable, reference: Reference,
                ) -> list[tuple[int, str, str | None, str]]:
    """(row index, field, value, reason) for every failing field of every row, for each row with
    another field count than the header, and for rows sharing a key with another row of the file."""
    con.register("incoming", pa.table({**columns, "__row": pa.array(range(table.num_rows), type=pa.int64())}))
    try:
        _register_reference(con, ds, columns, reference)
        totals = _totals_rows(table)
        whole_row = {**table.ragged, **table.broken, **totals}  # rows rejected as a whole, not field by field
        cells = {at: cell for at, cell in _cell_rejections(ds, table).items() if at[0] not in whole_row}
        failing = [r for r in _failing_fields(con, ds) if r[0] not in whole_row and r[:2] not in cells]
        failing += [(i, name, table.columns[j][i].as_py(), why) for (i, name), (j, why) in cells.items()]
        width = len(table.headers)
        failing += [(i, "_row", f"{n} fields",
                     f"{n} fields where the header has {width}: an unquoted comma or a missing separator shifts "
                     "the values, none of them is loaded") for i, n in table.ragged.items() if i not in totals]
        failing += [(i, "_row", None, why) for i, why in table.broken.items() if i not in totals]
        failing += [(i, "_row", label, TOTALS_REASON) for i, label in totals.items()]
        rejected = {r[0] for r in failing}
        failing += _shared_keys(con, ds, rejected, table.lines.to_pylist())
        return sorted(failing, key=lambda r: (r[0], r[1]))
    finally:
        con.unregister("incoming")


def _totals_rows(table: TextTable) -> dict[int, str]:
    """Row index -> label, for the rows whose first or second cell is a totals label (spec.TOTALS_LABELS)."""
    found: dict[int, str] = {}
    for column in table.columns[:2]:
        label = pc.replace_substring_regex(column, r"[\s:：]", "")
        hits = pc.fill_null(pc.is_in(label, value_set=pa.array(TOTALS_LABELS)), False)
        for i in pc.indices_nonzero(hits).to_pylist():
            found.setdefault(i, column[i].as_py())
    return found


def _cell_rejections(ds: Dataset, table: TextTable) -> dict[tuple[int, str], tuple[int, str]]:
    """(row index, field) -> (header position, why) for the workbook cells of the dataset's columns
    whose text is not what the cell holds (readers.TextTable.cell_problems); a column the
    dataset does not know is kept as delivered."""
    names = {c.header: c.name for c in ds.columns}
    return {(i, names[table.headers[j]]): (j, why) for (i, j), why in table.cell_problems.items()
            if j < len(table.headers) and table.headers[j] in names}


def _failing_fields(con, ds: Dataset) -> list[tuple[int, str, str | None, str]]:
    parts = []
    keys = set(supersession_key(ds)) | set(ds.key)
    for c in ds.columns:
        check = _check_sql(c, key=c.name in keys)
        reason = "required value missing" if c.required else "null"
        if check:
            expr = f"case when {c.name} is null then {reason if reason == 'null' else repr(reason)} else {check} end"
        elif c.required:
            expr = f"case when {c.name} is null then 'required value missing' end"
        else:
            continue
        parts.append(f"select __row, '{c.name}' as field, {c.name} as value, {expr} as reason from incoming")
    if not parts:
        return []
    sql = " union all ".join(parts)
    return con.execute(f"select * from ({sql}) where reason is not null").fetchall()


MAX_LINES_NAMED = 10


def _shared_keys(con, ds: Dataset, rejected: set[int], lines: list[int]) -> list[tuple[int, str, str | None, str]]:
    """Rows (not rejected otherwise) whose key another such row of the file has too. Identical
    rows: the first loads, the repeats are rejected naming it. Different rows: which one holds is
    unknown (the file's order says nothing), so none loads and each names the others — except in
    a dataset with several rows per key, where they are different rows."""
    keys = [k for k in supersession_key(ds) if k != "_dataset_period"]  # one file holds one period
    if ds.several_rows_per_key:  # only a row repeated exactly is a repeat; different rows are rows
        keys = [c.name for c in ds.columns]
    con.register("rejected_idx", pa.table({"i": pa.array(sorted(rejected), type=pa.int64())}))
    try:
        named = ", ".join(f"{k} as k{i}" for i, k in enumerate(keys))
        joined = " and ".join(f"s.k{i} is not distinct from g.k{i}" for i in range(len(keys)))
        # Keys first, contents only of the rows whose key repeats: most files have none, and
        # hashing every row's values cost more than the rest of the file's checks.
        rows = con.execute(f"""
            with kept as (
                select __row, {named} from incoming where __row not in (select i from rejected_idx)),
            repeated as (
                select {', '.join(f'k{i}' for i in range(len(keys)))} from kept group by all having count(*) > 1),
            rows as (
                select i.__row, {', '.join(f's.k{i}' for i in range(len(keys)))},
                       concat_ws(' / ', {', '.join(f'i.{k}' for k in ds.key)}) as key_value,
                       hash(row({', '.join(f'i.{c.name}' for c in ds.columns)})) as content
                from kept s join repeated g on {joined} join incoming i on i.__row = s.__row),
            shared as (
                select {', '.join(f'k{i}' for i in range(len(keys)))}, count(distinct content) as versions,
                       list(__row order by __row) as members
                from rows group by all)
            select s.__row, s.key_value, g.versions, g.members
            from rows s join shared g on {joined}
            order by s.__row""").fetchall()
    finally:
        con.unregister("rejected_idx")
    key = "+".join(ds.key)
    out = []
    for row, key_value, versions, members in rows:
        first = lines[members[0]]
        if versions == 1 and row != members[0]:
            out.append((row, _key_field(ds), key_value,
                        f"repeats line {first} exactly (same {key}): loaded once, from line {first}"))
        elif versions > 1:
            others = [lines[m] for m in members if m != row]
            named_lines = ", ".join(map(str, others[:MAX_LINES_NAMED])) + (
                f" (+{len(others) - MAX_LINES_NAMED} more)" if len(others) > MAX_LINES_NAMED else "")
            out.append((row, _key_field(ds), key_value, f"same {key} as line(s) {named_lines} with other values: "
                        "which one holds is unknown, none is loaded"))
    return out


def _normalise_sql(c: Column) -> str:
    if c.kind in (Kind.DECIMAL, Kind.INTEGER):
        return f"replace({c.name}, ',', '')"
    if c.kind is Kind.ENUM and c.list_separator:
        sep = c.list_separator
        return (f"nullif(array_to_string(list_filter(list_transform(string_split({c.name}, '{sep}'), lambda x: trim(x)), "
                f"lambda x: x <> ''), '{sep}'), '')")
    return c.name
