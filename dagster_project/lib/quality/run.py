"""Validate suites against the warehouse: build each batch, derive, run GX, record the results.

`validate_suites` is what the Dagster checks call; it knows nothing about Dagster. One call handles
a list of suites with one DuckDB connection (the caller's) and one GX session, and appends every
expectation result to `marts.dq_check_results`.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from dagster_project.lib import refdata
from dagster_project.lib.forecast.new_events import year_on
from dagster_project.lib.forecast.panel import add_months
from dagster_project.lib.ingest import DATASETS
from dagster_project.lib.ingest import customs as customs_feed
from dagster_project.lib.ingest import stats as stats_feed
from dagster_project.lib.ingest.spec import INVISIBLE, LOOKALIKE_ASCII, TOTALS_REASON, Dataset, PeriodKind
from dagster_project.lib.measures.quantities import latest_delivered_month
from dagster_project.lib.progress_bar import progress_bar

from . import warehouse
from .derive import Lookups, derive
from .gx_runner import ExpectationOutcome, GxSession, Job
from .suites import Suite

DATASET_BY_TABLE = {d.table: d for d in DATASETS}


@dataclass
class BatchResult:
    name: str  # file name (raw) or the table / suite name (marts)
    rows: int
    outcomes: list[ExpectationOutcome]
    file_name: str | None = None
    revalidation: bool = False

    def failed_blocking(self) -> bool:
        return any(o.severity == "blocking" and not o.success for o in self.outcomes)


@dataclass
class SuiteResult:
    suite: Suite
    batches: list[BatchResult] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)  # failing files now wholly replaced or withdrawn

    def outcomes(self, severity: str) -> list[ExpectationOutcome]:
        return [o for b in self.batches for o in b.outcomes if o.severity == severity]

    def passed(self, severity: str) -> bool:
        return all(o.success for o in self.outcomes(severity))

    def failures(self, severity: str) -> list[tuple[BatchResult, ExpectationOutcome]]:
        return [(b, o) for b in self.batches for o in b.outcomes if o.severity == severity and not o.success]


def run_values(as_of: date) -> dict[str, Any]:
    """Placeholder values that are the same for every batch of a run."""
    first = as_of.replace(day=1)
    last_closed = (first.year - 1) * 100 + 12 if first.month == 1 else first.year * 100 + first.month - 1
    return {
        "$as_of": datetime(as_of.year, as_of.month, as_of.day),
        "$a_year_after_as_of": datetime.combine(year_on(as_of), datetime.min.time()),
        "$as_of_month": as_of.year * 100 + as_of.month,
        "$last_closed_month": last_closed,
        "$last_closed_month_start": datetime(last_closed // 100, last_closed % 100, 1),
        # The latest month each monthly feed has delivered by the as-of date (statistics on the
        # 15th of the next month, customs on the 10th): a month not due yet is not missing.
        "$stats_delivered_month": _month_start(latest_delivered_month(as_of, stats_feed.ARRIVAL_DAY)),
        "$customs_delivered_month": _month_start(latest_delivered_month(as_of, customs_feed.EXPORT.arrival_day)),
        "$file_period": None,
        "$rows_floor": 0,
        "$county_codes": sorted(refdata.county_codes()),
        "$industry_classes": sorted(refdata.industry_classes()),
        "$country_codes": sorted(refdata.country_codes()),
    }


def _month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1)


def catalogue_values() -> dict[str, object]:
    """What SQL suites compare with from the measure catalogue: `$policy_quarter_start`,
    `$base_quarter_start` and `$base_quarter_end` (the catalogue's `base_quarter`, which YoY and
    increments compare Q4 with), `$new_market_lookback_start` (the first month of M22's look-back
    for new export destinations, `M22.lookback_months` before Q4) and `$loan_product` (the loan
    product M23 pays interest on)."""
    from dagster_project.lib.measures.catalogue import load_catalogue
    from dagster_project.lib.measures.parameters import Parameters

    catalogue = load_catalogue()
    doc = catalogue.document
    params = Parameters(catalogue)
    months = int(params.base("M22.lookback_months"))
    start = doc.policy_quarter.start
    return {"policy_quarter_start": start, "base_quarter_start": doc.base_quarter.start, "base_quarter_end": doc.base_quarter.end,
            "new_market_lookback_start": add_months(start, -months), "loan_product": params.base("M23.loan_product")}


def file_period_value(ds: Dataset, period: str | None):
    if period is None or ds.period is PeriodKind.NONE:
        return None
    if ds.period is PeriodKind.DELIVERY_DATE:
        return datetime(int(period[:4]), int(period[4:6]), int(period[6:8]))
    return int(period)


def _rows_floor(con, suite: Suite, ds: Dataset, delivery: warehouse.Delivery, as_of: date) -> int:
    """The fewest rows a periodic delivery may have without a word: the suite's `min_rows_share` of
    the rows of the dataset's latest earlier delivery (a file cut at a line end loads, short). 0
    where there is nothing to compare: no share, no earlier delivery, a correction (_vN holds a
    few rows by nature) or a revalidation (what of it is still in force)."""
    share = suite.params.get("min_rows_share")
    if share is None or delivery.version > 1 or delivery.revalidation or ds.period is PeriodKind.NONE:
        return 0
    previous = warehouse.previous_delivery_rows(con, ds, delivery.period, as_of)
    return math.ceil(float(share) * previous) if previous else 0


class _Batch(NamedTuple):
    """What validate_suites needs to know about a batch when its outcomes come back."""

    result: SuiteResult
    name: str
    rows: int
    file_name: str | None = None
    revalidation: bool = False
    delivery: tuple[Dataset, warehouse.Delivery] | None = None


def validate_suites(con, suites: list[Suite], as_of: date, session: GxSession, run_id: str,
                    now: datetime | None = None) -> list[SuiteResult]:
    """Validate the suites; the verdict on a delivered file is a fact about the inputs (the file,
    the later deliveries and withdrawals, the as-of date), the same in every run on them:

    - a file is first validated as delivered; if it fails a blocking expectation and later
      deliveries replace part of it, what of it is still in force is validated at once, and that
      is the verdict (so a rerun, which validates only what is in force, reaches the same one);
    - a file whose verdict is a blocking failure is validated again in every run, on what of it is
      in force; it is cleared only when a later delivery replaced all of it, or when it is withdrawn.
    """
    warehouse.ensure_results_table(con)
    values = run_values(as_of)
    periods = catalogue_values()  # bound in every SQL suite
    shared = {"directory": None, "accounts": None}

    def lookups(period: str | None, suite: Suite, extra: dict | None = None) -> Lookups:
        if "directory" in suite.derive and shared["directory"] is None:
            shared["directory"] = warehouse.directory(con, as_of)
        if "power_daily" in suite.derive and shared["accounts"] is None:
            shared["accounts"] = warehouse.accounts(con, as_of)
        return Lookups(as_of=as_of, period=period, directory=shared["directory"] or frozenset(),
                       accounts=shared["accounts"] or frozenset(), params=suite.params, **(extra or {}))

    results = [SuiteResult(suite) for suite in suites]
    rows: list[dict] = []
    files = [(result, DATASET_BY_TABLE[result.suite.dataset], delivery)
             for result in results if result.suite.batch == "file"
             for delivery in warehouse.deliveries_to_validate(con, DATASET_BY_TABLE[result.suite.dataset],
                                                              result.suite.asset, as_of)]
    for result in results:
        if result.suite.batch == "file":
            ds = DATASET_BY_TABLE[result.suite.dataset]
            for name, why in warehouse.withdrawn_failures(con, ds, result.suite.asset).items():
                result.cleared.append(name)
                rows.append(_cleared_row(run_id, now or datetime.now(), as_of, result.suite, name, f"withdrawn ({why})"))

    def mart_jobs() -> Iterator[Job]:
        for result in results:
            suite = result.suite
            if suite.batch == "table":
                frame = warehouse.table_batch(con, suite.table)
            elif suite.batch == "sql":
                bind = {"as_of": as_of, "last_closed_month": values["$last_closed_month"],
                        "stats_delivered_month": values["$stats_delivered_month"],
                        "customs_delivered_month": values["$customs_delivered_month"],
                        "invisible": INVISIBLE, "lookalike": "".join(LOOKALIKE_ASCII),
                        "ascii": "".join(LOOKALIKE_ASCII.values()), "totals_reason": TOTALS_REASON,
                        **periods, **suite.params}
                frame = warehouse.sql_batch(con, suite.sql, bind)
            else:
                continue
            frame = derive(frame, suite.derive, lookups(None, suite))
            yield Job(suite, frame, values, suite.name, _Batch(result, suite.table or suite.name, len(frame)))

    def file_jobs(items, checked_at: datetime | None) -> Iterator[Job]:
        """Each delivery's batch, built one at a time as the validator asks for it: as delivered
        on a first validation, what is in force on a revalidation."""
        for result, ds, delivery in items:
            suite = result.suite
            batch_frame = warehouse.file_batch(con, ds, delivery, as_of, in_force=delivery.revalidation)
            if batch_frame is None:
                later = ", ".join(warehouse.replaced_by(con, ds, delivery, as_of))
                result.cleared.append(delivery.file_name)
                rows.append(_cleared_row(run_id, checked_at or datetime.now(), as_of, suite, delivery.file_name,
                                         f"every row is replaced by later deliveries ({later})"))
                continue
            extra = {}
            if "stats_industry" in suite.derive:
                extra["previous_reports"] = warehouse.previous_reports(con, int(delivery.period), as_of)
            if "stats_projects" in suite.derive:
                extra["previous_library"], extra["earlier_project_codes"], extra["previous_open_projects"] = \
                    warehouse.earlier_projects(con, delivery.period, as_of)
                extra["project_history"] = warehouse.project_history(con, delivery.period, as_of)
            if "resend" in suite.derive:
                extra["identical_to"] = warehouse.identical_earlier_delivery(
                    con, ds, delivery, as_of, by_content="resend_moving_column" in suite.params)
            if "power_daily" in suite.derive:
                extra["power_levels"] = warehouse.power_levels(
                    con, delivery.period, as_of, int(Lookups(as_of, params=suite.params).param("level_window_days")))
            frame = derive(batch_frame, suite.derive, lookups(delivery.period, suite, extra))
            batch_values = dict(values, **{"$file_period": file_period_value(ds, delivery.period),
                                           "$rows_floor": _rows_floor(con, suite, ds, delivery, as_of)})
            yield Job(suite, frame, batch_values, delivery.file_name,
                      _Batch(result, delivery.file_name, len(frame), delivery.file_name, delivery.revalidation,
                             (ds, delivery)))

    def collect(jobs: Iterator[Job], count: int, checked_at: datetime | None, bar) -> list[tuple[_Batch, BatchResult]]:
        done = []
        for b, outcomes in session.validate_all(jobs, count):
            batch = BatchResult(b.name, b.rows, outcomes, b.file_name, b.revalidation)
            b.result.batches.append(batch)
            rows.extend(_rows(run_id, checked_at or datetime.now(), as_of, b.result.suite, batch))
            done.append((b, batch))
            bar.advance(b.rows)
        return done

    batches = len(files) + sum(s.batch != "file" for s in suites)
    layers = sorted({s.asset.split("/")[0] for s in suites})
    with progress_bar(batches, f"GX {'/'.join(layers)} checks", unit="batch") as bar:
        first = collect(itertools.chain(mart_jobs(), file_jobs(files, now)), batches, now, bar)
        # A first validation that failed, of a file partly replaced already: its verdict is what of it is in force.
        again = [(b, batch) for b, batch in first
                 if b.delivery is not None and not b.revalidation and batch.failed_blocking()
                 and warehouse.replaced_by(con, *b.delivery, as_of)]
        for b, batch in again:  # the verdict is the in-force validation's
            b.result.batches[:] = [other for other in b.result.batches if other is not batch]
        later = now + timedelta(microseconds=1) if now else None  # recorded after the first validation
        in_force = [(b.result, ds, replace(delivery, revalidation=True)) for b, _ in again for ds, delivery in [b.delivery]]
        collect(file_jobs(in_force, later), len(in_force), later, bar)
    warehouse.write_results(con, rows)
    return results


def _rows(run_id: str, checked_at: datetime, as_of: date, suite: Suite, batch: BatchResult) -> list[dict]:
    return [
        {
            "run_id": run_id, "checked_at": checked_at, "as_of": as_of, "asset": suite.asset,
            "check_name": suite.check_name(o.severity), "suite": suite.name, "file_name": batch.file_name,
            "batch_rows": batch.rows, "expectation": o.expectation, "expectation_type": o.expectation_type,
            "label": o.label, "column_name": o.column_name, "severity": o.severity, "success": o.success,
            "outcome": o.outcome, "observed_value": o.observed_value, "element_count": o.element_count,
            "unexpected_count": o.unexpected_count, "unexpected_percent": o.unexpected_percent, "mostly": o.mostly,
            "unexpected_examples": json.dumps(o.unexpected_examples, ensure_ascii=False, default=str),
        }
        for o in batch.outcomes
    ]


def _cleared_row(run_id: str, checked_at: datetime, as_of: date, suite: Suite, file_name: str, why: str) -> dict:
    """The result that ends a file's blocking failure: nothing of it is used any more (`why`)."""
    withdrawn = why.startswith("withdrawn")
    return {
        "run_id": run_id, "checked_at": checked_at, "as_of": as_of, "asset": suite.asset,
        "check_name": suite.check_name("blocking"), "suite": suite.name, "file_name": file_name, "batch_rows": 0,
        "expectation": "withdrawn" if withdrawn else "superseded", "expectation_type": None,
        "label": "已撤回" if withdrawn else "已被后续报送全部替代",
        "column_name": None, "severity": "blocking", "success": True, "outcome": "pass",
        "observed_value": f"{why}: earlier failures cleared",
        "unexpected_examples": "[]",
    }

