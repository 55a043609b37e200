"""What starts and watches runs without anyone at the keyboard: the landing sensor and the
run-failure alert (the weekly schedule lives in definitions.py)."""

import hashlib

import dagster as dg

from dagster_project.lib.alerts import Alert, raise_alert
from dagster_project.lib.ingest import FEEDS, datasets_of, landing_as_of
from dagster_project.lib.ingest.filenames import FileNameError, parse_name
from dagster_project.lib.ingest.landing import scan_landing
from dagster_project.lib.ingest.withdrawals import withdrawn_names
from dagster_project.settings import Settings

from .resources import AS_OF_TAG, GxSettings


def new_deliveries(settings: Settings, loaded: set[str]) -> list[str]:
    """Names of correctly named regular files in the feed folders that are not in the manifest yet."""
    found = []
    for feed, paths in scan_landing(settings.landing, FEEDS).files.items():
        for path in paths:
            try:
                parse_name(path.name, feed, datasets_of(feed))
            except FileNameError:
                continue
            if path.name not in loaded:
                found.append(f"{feed}/{path.name}")
    return found


def _loaded_files(settings: Settings) -> tuple[set[str], set[str]] | None:
    """File names in the manifest, and those withdrawn; None while a refresh holds the warehouse
    (try again next tick)."""
    import duckdb

    if not settings.warehouse.exists():
        return set(), set()
    try:
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            return {r[0] for r in con.execute("select file_name from raw._manifest").fetchall()}, withdrawn_names(con)
    except duckdb.Error:
        return None


def landing_sensor_factory(job) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED,
               description="Starts the refresh when new deliveries have landed and stayed unchanged for a tick.")
    def landing_sensor(context: dg.SensorEvaluationContext):
        settings = Settings.from_env()
        known = _loaded_files(settings)
        if known is None:
            return dg.SkipReason("the warehouse is busy (a refresh is running)")
        loaded, withdrawn = known
        new = new_deliveries(settings, loaded)
        if not new:
            return dg.SkipReason("no new deliveries")
        # A delivery set is complete when it did not change since the previous tick (files still
        # being copied in would change it).
        fingerprint = hashlib.sha256("\n".join(new).encode()).hexdigest()[:16]
        if context.cursor != fingerprint:
            context.update_cursor(fingerprint)
            return dg.SkipReason(f"{len(new)} new file(s); waiting one tick for the set to settle")
        as_of = landing_as_of(settings.landing, withdrawn)
        return dg.RunRequest(run_key=fingerprint, tags={AS_OF_TAG: as_of.isoformat()} if as_of else {})

    return landing_sensor


@dg.run_failure_sensor(description="Writes an alert naming the failed steps and blocking checks.",
                       default_status=dg.DefaultSensorStatus.RUNNING)
def run_failure_alert(context: dg.RunFailureSensorContext):
    run = context.dagster_run
    step_failures = context.get_step_failure_events()
    failed_steps = [e.step_key for e in step_failures if e.step_key]
    failed_checks = []
    for record in context.instance.get_records_for_run(run.run_id).records:
        event = record.event_log_entry.dagster_event
        if event and event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed and data.severity == dg.AssetCheckSeverity.ERROR:
                failed_checks.append(f"{data.asset_key.to_user_string()}:{data.check_name}")
    # the cause the operator needs, not only "Steps failed": each failed step's own message, once
    causes = list(dict.fromkeys(_failure_cause(e) for e in step_failures if _failure_cause(e)))
    configured = run.run_config.get("resources", {}).get("settings", {}).get("config", {}).get("as_of")
    alert = Alert(run.run_id, run.job_name, run.tags.get(AS_OF_TAG) or configured or None, failed_steps, failed_checks,
                  "; ".join(causes[:3]) or context.failure_event.message or "")
    path = raise_alert(alert, Settings.from_env().warehouse.parent / "logs")
    context.log.info(f"alert written to {path}")


def _failure_cause(event: dg.DagsterEvent) -> str:
    """A failed step's message: a `dg.Failure`'s description, else the error's first line."""
    data = event.step_failure_data
    if data is None:
        return ""
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    return data.error.message.strip().splitlines()[0] if data.error and data.error.message else ""


FRESHNESS_ASSETS = {"stats": "stats_industry", "tax": "tax_vat", "customs": "customs_export", "power": "power_daily",
                    "registers": "registers_loans"}


def _freshness_check(feed: str, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["raw", table]), name=f"{feed}_feed_fresh", blocking=False,
                    description=f"The {feed} feed has delivered what its cadence promises by the run's as-of date.")
    def _check(context: dg.AssetCheckExecutionContext, settings: GxSettings) -> dg.AssetCheckResult:
        from dagster_project.lib.status import freshness

        as_of = settings.as_of(context)
        with settings.connect() as con:
            status = next(f for f in freshness(con, as_of) if f.feed == feed)
        return dg.AssetCheckResult(passed=status.fresh, severity=dg.AssetCheckSeverity.WARN, description=status.note,
                                   metadata={"as_of": str(as_of), "latest": status.latest or "",
                                             "expected": status.expected or "", "note": status.note})

    return _check


FRESHNESS_CHECKS = [_freshness_check(feed, table) for feed, table in FRESHNESS_ASSETS.items()]
