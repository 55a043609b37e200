"""Great Expectations 1.x on pandas batches: one ephemeral context per run, results as plain rows.

GX is imported here only (importing it takes seconds): when a session starts, or earlier in a
background thread (`import_gx_in_background`, which a run starts with its ingestion). The context is
ephemeral (nothing is written except the Data Docs site), progress bars are off, and there is one
pandas dataframe asset per suite. Every validation result is also put in the context's (in-memory)
validation store so that the Data Docs site, built into `<reports>/data_docs/`, shows the run.

GX spends most of a validation in its own bookkeeping (about 5 ms per expectation whatever the
batch size, with `_configurations_built_once`; 7 ms without), in one Python thread. A first load
validates hundreds of files, so `validate_all()` hands batches to worker processes
(`GXINDUSTRY_GX_WORKERS`, default: one per core) while the caller builds the next batch; results
come back in submission order and are recorded here, so the Data Docs and the results table are
the same as in one process. Workers are spawned, not forked: the caller holds a DuckDB
connection, whose threads a fork would copy mid-flight.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .suites import Suite, to_gx

SITE_NAME = "gxindustry_data_quality"
RESULTS_STORE = "gxindustry_validation_results"
RESULTS_SUFFIX = "_results"  # beside the site: <reports>/data_docs_results/
INDEX_SUFFIX = "_index.json"  # what the site's index lists of each stored result (offline_docs)
AGGREGATE_NAMES = {"expect_column_median_to_be_between": "median", "expect_table_row_count_to_be_between": "rows"}
EXAMPLES = 10
ENV_WORKERS = "GXINDUSTRY_GX_WORKERS"
MIN_BATCHES_PER_WORKER = 16  # below this, starting workers costs more than it saves


@dataclass(frozen=True)
class Job:
    """One batch to validate; `tag` is the caller's, handed back with the outcomes."""

    suite: Suite
    frame: pd.DataFrame | None
    values: dict[str, Any]
    batch: str
    tag: Any = None

    def without_frame(self) -> Job:
        return replace(self, frame=None)


def _workers() -> int:
    value = os.environ.get(ENV_WORKERS, "").strip()
    return int(value) if value else (os.cpu_count() or 1)


_WORKER_SESSION: GxSession | None = None
_BACKGROUND_IMPORT: threading.Thread | None = None


def import_gx_in_background() -> None:
    """Start importing GX (~3 s of one core) in a daemon thread, once per process.

    A run calls this when it starts ingesting: ingestion waits on DuckDB and Arrow, outside
    Python, so the import costs it little, and the first check step finds GX imported."""
    global _BACKGROUND_IMPORT
    if _BACKGROUND_IMPORT is None:
        _BACKGROUND_IMPORT = threading.Thread(target=_import_gx, name="gx-import", daemon=True)
        _BACKGROUND_IMPORT.start()


def _import_gx() -> None:
    try:
        import great_expectations  # noqa: F401 -- the import is the point: it fills sys.modules
    except Exception:  # GxSession imports it again, and that error is the one a check step reports
        pass


def _evaluate_in_worker(run_name: str, suite: Suite, frame: pd.DataFrame, values: dict[str, Any], batch: str):
    """In a worker process: validate with the process's own (docs-less) GX context."""
    global _WORKER_SESSION
    if _WORKER_SESSION is None:
        _WORKER_SESSION = GxSession(run_name)
    return _WORKER_SESSION._evaluate(suite, frame, values, batch)


@dataclass
class ExpectationOutcome:
    suite: str
    batch: str
    expectation: str
    expectation_type: str
    label: str
    column_name: str | None
    severity: str
    success: bool
    observed_value: str
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    mostly: float | None
    unexpected_examples: list[Any]

    @property
    def outcome(self) -> str:
        if self.success:
            return "pass"
        return "fail" if self.severity == "blocking" else "warn"


class GxSession:
    """One GX context for one Dagster run (shared by the run's check steps in this process)."""

    def __init__(self, run_name: str, docs_dir: Path | None = None) -> None:
        if _BACKGROUND_IMPORT is not None:
            _BACKGROUND_IMPORT.join()
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.execution_engine import pandas_execution_engine

        # GX fingerprints every pandas batch (a hash of each value) for its batch markers, below a
        # size limit: ~20 ms per 100,000-row power file, 0.5 s for the awards. A batch here is
        # identified by its delivered file (SHA-256 in raw._manifest) and lines, or by its mart
        # and run, so the limit is 0: no fingerprint. Process-wide, in workers too.
        pandas_execution_engine.HASH_THRESHOLD = 0
        self.ctx = gx.get_context(mode="ephemeral")
        self.ctx.variables.progress_bars = {"globally": False, "metric_calculations": False, "profilers": False}
        self.docs_dir = docs_dir
        if docs_dir is not None:
            # the results of every run stay on disk beside the site, so its index lists them all
            self.ctx.add_store(RESULTS_STORE, {
                "class_name": "ValidationResultsStore",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(docs_dir.with_name(docs_dir.name + RESULTS_SUFFIX))},
            })
            self.ctx.validation_results_store_name = RESULTS_STORE
            self.ctx.add_data_docs_site(
                SITE_NAME,
                {
                    "class_name": "SiteBuilder",
                    "show_how_to_buttons": False,
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                    "site_index_builder": {"module_name": "dagster_project.lib.quality.offline_docs",
                                           "class_name": "HistoryIndexBuilder",
                                           "entries_file": str(docs_dir.with_name(docs_dir.name + INDEX_SUFFIX))},
                    "site_section_builders": {"validations": {"renderer": {
                        "module_name": "dagster_project.lib.quality.offline_docs",
                        "class_name": "SeverityValidationPageRenderer"}}},
                },
            )
        self.source = self.ctx.data_sources.add_pandas("gxindustry")
        self.batch_definitions: dict[str, Any] = {}
        self.suites_stored: set[str] = set()
        self.run_identifier = RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.timezone.utc))
        self.validations = 0
        self._not_rendered: list = []  # resources stored since the last Data Docs build

    def validate(self, suite: Suite, frame: pd.DataFrame, values: dict[str, Any], batch: str) -> list[ExpectationOutcome]:
        """Validate one batch against a suite; one outcome per expectation, in the suite's order."""
        outcomes, result = self._evaluate(suite, frame, values, batch)
        self._record(suite, values, batch, result)
        return outcomes

    def validate_all(self, jobs: Iterable[Job], batches: int) -> Iterator[tuple[Any, list[ExpectationOutcome]]]:
        """(tag, outcomes) of each job, in the order of `jobs`, which is consumed lazily.

        With worker processes (only when `batches` is enough to pay for starting them: each
        imports GX), the caller builds the next batches while earlier ones are validated; at most
        two batches per worker are in flight, so memory stays at a few batches."""
        workers = _workers()
        if workers == 0 or batches < MIN_BATCHES_PER_WORKER * workers:
            for job in jobs:
                yield job.tag, self.validate(job.suite, job.frame, job.values, job.batch)
            return
        in_flight: deque[tuple[Job, Future]] = deque()
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for job in jobs:
                future = pool.submit(_evaluate_in_worker, self.run_identifier.run_name, job.suite, job.frame,
                                     job.values, job.batch)
                in_flight.append((job.without_frame(), future))
                if len(in_flight) >= 2 * workers:
                    yield self._collect(*in_flight.popleft())
            while in_flight:
                yield self._collect(*in_flight.popleft())

    def _collect(self, job: Job, future: Future) -> tuple[Any, list[ExpectationOutcome]]:
        outcomes, result = future.result()
        self._record(job.suite, job.values, job.batch, result)
        return job.tag, outcomes

    def _evaluate(self, suite: Suite, frame: pd.DataFrame, values: dict[str, Any], batch: str):
        gx_suite = to_gx(suite, values)
        if suite.name not in self.batch_definitions:
            asset = self.source.add_dataframe_asset(suite.name)
            self.batch_definitions[suite.name] = asset.add_batch_definition_whole_dataframe("batch")
        # One block per dtype: GX works on copies of the frame, and a frame whose columns were
        # added one by one (the derived columns) had its blocks merged again in every copy (a
        # 100,000-row power file: 86-111 ms per validation, 64 ms consolidated once here).
        frame = _consolidated(frame)
        gx_batch = self.batch_definitions[suite.name].get_batch(batch_parameters={"dataframe": frame})
        # Pass 1, every expectation: counts and sample values (GX's BASIC format is about a third
        # cheaper than SUMMARY, and most batches are clean). Pass 2, only the expectations that met
        # unexpected rows: again with SUMMARY and the suite's index columns, so that every example
        # says which row (line, key) it is.
        with _configurations_built_once():
            result = gx_batch.validate(gx_suite, result_format={"result_format": "BASIC",
                                                                "partial_unexpected_count": EXAMPLES})
            by_name = {r.expectation_config.meta.get("name"): r for r in result.results}
            index = [c for c in suite.index_columns if c in frame.columns]
            detail = [e for e in suite.expectations if e.is_map and index and by_name.get(e.name) is not None
                      and (by_name[e.name].result or {}).get("unexpected_count")]
            if detail:
                again = gx_batch.validate(
                    to_gx(suite, values, tuple(detail)),
                    result_format={"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES,
                                   "unexpected_index_column_names": index},
                )
                for r in again.results:
                    by_name[r.expectation_config.meta.get("name")] = r
                result.results = [by_name.get(r.expectation_config.meta.get("name"), r) for r in result.results]
        return [_outcome(suite, batch, e, by_name.get(e.name)) for e in suite.expectations], result

    def _record(self, suite: Suite, values: dict[str, Any], batch: str, result) -> None:
        """Keep a validation result (and its suite) for the Data Docs site."""
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        if suite.name not in self.suites_stored:
            self.ctx.suites.add(to_gx(suite, values))
            self.suites_stored.add(suite.name)
            self._not_rendered.append(ExpectationSuiteIdentifier(name=suite.name))
        result.meta["run_id"] = self.run_identifier
        key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=suite.name), self.run_identifier, batch)
        self.ctx.validation_results_store.set(key, result)
        self._not_rendered.append(key)
        self.validations += 1

    def build_docs(self) -> Path | None:
        """Render the validations stored since the last build, rebuild the index page (every run's
        validations: earlier runs' pages are kept) and point the new pages at the assets served
        from the site itself (offline_docs). The index path."""
        if self.docs_dir is None or not self.validations:
            return None
        from .offline_docs import make_offline

        if self._not_rendered:
            started = time.time()
            with _left_as_it_was_on_error(self.docs_dir):
                self.docs_dir.mkdir(parents=True, exist_ok=True)
                self.ctx.build_data_docs(site_names=[SITE_NAME], resource_identifiers=self._not_rendered)
                make_offline(self.docs_dir, since=started - 1)
            self._not_rendered = []
        return self.docs_dir / "index.html"


def _consolidated(frame: pd.DataFrame) -> pd.DataFrame:
    return frame if frame._mgr.is_consolidated() else frame.copy()


@contextmanager
def _left_as_it_was_on_error(site: Path):
    """A Data Docs build that fails on the disk (full, turned read-only) leaves the site as it was:
    the files it created (pages cut short or empty) are removed, and the index page it may have
    cut short is put back. The OSError goes on to the caller."""
    existed = site.is_dir()
    before = set(site.rglob("*")) if existed else set()
    index = site / "index.html"
    saved = index.read_bytes() if index.is_file() else None
    try:
        yield
    except OSError:
        created = set(site.rglob("*")) - before if site.is_dir() else set()
        if not existed:
            created.add(site)
        for path in sorted(created, key=lambda p: len(p.parts), reverse=True):  # files before their folders
            with contextlib.suppress(OSError):
                path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
        if saved is not None:
            with contextlib.suppress(OSError):
                index.write_bytes(saved)
        raise


@contextmanager
def _configurations_built_once():
    """During one validation (both passes), build each expectation's configuration once, not per read.

    GX 1.24's `Expectation.configuration` is a property that rebuilds the configuration through
    pydantic (`self.dict()`) each time it is read, and a validation reads it ~50 times per
    expectation: 40% of GX's time in cProfile. The expectations read during a validation are the
    ones GX creates for it, and neither they nor their configurations are changed while it runs
    (GX deep-copies a configuration before it adds to it). So the first build is reused, unless a
    field of the expectation was reassigned since (then it is built again); all of it is dropped
    when the block ends. GX's own property is restored on exit, also on error.
    `tests/test_quality.py` checks that outcomes, stored results and Data Docs pages are the same
    with and without this.
    """
    from great_expectations.expectations.expectation import Expectation

    gx_property = Expectation.__dict__["configuration"]
    built: dict[int, tuple[Any, tuple[int, ...], Any]] = {}

    def configuration(self):
        fields = tuple(map(id, self.__dict__.values()))
        hit = built.get(id(self))
        if hit is not None and hit[0] is self and hit[1] == fields:
            return hit[2]
        value = gx_property.fget(self)
        built[id(self)] = (self, fields, value)  # holding `self` keeps its id from being reused
        return value

    Expectation.configuration = property(configuration, doc=gx_property.__doc__)
    try:
        yield
    finally:
        Expectation.configuration = gx_property


def _outcome(suite: Suite, batch: str, e, r) -> ExpectationOutcome:
    base = dict(suite=suite.name, batch=batch, expectation=e.name, expectation_type=e.type, label=e.label,
                column_name=e.column, severity=e.severity, mostly=e.mostly)
    if r is None:  # cannot happen unless GX drops an expectation; never count it as passed
        return ExpectationOutcome(**base, success=False, observed_value="error: no result from GX", element_count=None,
                                  unexpected_count=None, unexpected_percent=None, unexpected_examples=[])
    error = _exception(r.exception_info)
    if error:
        return ExpectationOutcome(**base, success=False, observed_value=f"error: {error}", element_count=None,
                                  unexpected_count=None, unexpected_percent=None, unexpected_examples=[])
    res = dict(r.result or {})
    if e.is_map:
        n, bad = res.get("element_count"), res.get("unexpected_count")
        pct = res.get("unexpected_percent_total", res.get("unexpected_percent"))
        if pct is None and n:
            pct = 100.0 * (bad or 0) / n
        observed = f"{bad} of {n} rows ({(pct or 0):.2f}%)"
        if e.mostly is not None:
            observed += f"; at most {(1 - e.mostly):.0%} allowed"
        examples = _examples(res, e.column)
    else:
        n, bad, pct = None, None, None
        value = _plain(res.get("observed_value"))
        statistic = AGGREGATE_NAMES.get(e.type, "observed")
        observed = f"{statistic}: no value (empty batch or all NULL)" if value is None else \
            f"{statistic} {_number(value) if isinstance(value, (int, float)) else json.dumps(value, ensure_ascii=False)}"
        observed += _bounds(r)
        examples = []
    return ExpectationOutcome(**base, success=bool(r.success), observed_value=observed, element_count=n,
                              unexpected_count=bad, unexpected_percent=pct, unexpected_examples=examples)


def _bounds(r) -> str:
    """The bounds the statistic was held to, as resolved for the batch (a row count's floor from
    the previous delivery): '; at least 111', '; at most 1,000,000', or both."""
    kwargs = dict(getattr(getattr(r, "expectation_config", None), "kwargs", None) or {})
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    def said(v) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None  # no bound, or a date's
        return _number(int(v) if float(v).is_integer() else v)

    parts = [f"{word} {text}" for word, v in (("at least", low), ("at most", high)) if (text := said(v)) is not None]
    return "".join(f"; {p}" for p in parts)


def _examples(res: dict, column: str | None) -> list[Any]:
    values = res.get("partial_unexpected_list") or []
    index = res.get("partial_unexpected_index_list") or []
    out = []
    for i, value in enumerate(values[:EXAMPLES]):
        where = index[i] if i < len(index) and isinstance(index[i], dict) else None
        if where:
            item = {k: _plain(v) for k, v in where.items()}
            if column and "," not in column and column not in item:
                item[column] = _plain(value)
            out.append(item)
        else:
            out.append(_plain(value))
    return out


def _exception(info) -> str | None:
    if not info:
        return None
    if isinstance(info, dict) and "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    if isinstance(info, dict):  # {metric id: {raised_exception, exception_message, ...}}
        for v in info.values():
            if isinstance(v, dict) and v.get("raised_exception"):
                return v.get("exception_message") or "exception in GX"
    return None


def _number(v: float) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:,.6g}"


def _plain(v):
    """JSON-friendly values for the results table and Dagster metadata."""
    if v is None:
        return None
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return v.date().isoformat() if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return int(v) if v.is_integer() and abs(v) < 1e15 else round(v, 6)
    if isinstance(v, str) and len(v) == 19 and v.endswith("T00:00:00"):
        return v[:10]
    return v
