"""The code location: every asset, the weekly job and its schedule."""

import dagster as dg

from dagster_project.defs.automation import FRESHNESS_CHECKS, landing_sensor_factory, run_failure_alert
from dagster_project.defs.checks import ASSET_CHECKS  # data-quality checks (expectations/)
from dagster_project.defs.dbt import dbt_resource, warehouse_models
from dagster_project.defs.forecast import forecast_draws
from dagster_project.defs.ingest import INGEST_ASSETS
from dagster_project.defs.measures import policy_measures, policy_run_record
from dagster_project.defs.reports import policy_workbooks  # workbooks (reports/)
from dagster_project.defs.resources import AS_OF_TAG, GxSettings
from dagster_project.progress import progress_logger

# DuckDB has one writer: the assets run one after another in one process.
weekly_refresh = dg.define_asset_job(
    "weekly_refresh",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="ingest -> dbt -> checks -> measures -> reports, over everything that has landed",
)



@dg.schedule(name="weekly_refresh_monday_0700", job=weekly_refresh, cron_schedule="0 7 * * 1",
             execution_timezone="Asia/Shanghai", description="The weekly refresh, as of the Monday it runs on.")
def weekly_schedule(context: dg.ScheduleEvaluationContext):
    as_of = context.scheduled_execution_time.date()
    return dg.RunRequest(run_key=as_of.isoformat(), tags={AS_OF_TAG: as_of.isoformat()})


defs = dg.Definitions(
    loggers={"progress": progress_logger, "console": dg.colored_console_logger},
    assets=[*INGEST_ASSETS, warehouse_models, forecast_draws, policy_measures, policy_run_record, policy_workbooks],
    asset_checks=[*ASSET_CHECKS, *FRESHNESS_CHECKS],  # blocking data-quality checks stop the steps downstream
    jobs=[weekly_refresh],
    schedules=[weekly_schedule],
    sensors=[landing_sensor_factory(weekly_refresh), run_failure_alert],
    resources={"settings": GxSettings(), "dbt": dbt_resource()},
)
