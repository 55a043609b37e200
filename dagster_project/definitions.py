"""The code location: every asset, the weekly job and its schedule."""

import dagster as dg

from dagster_project.defs.checks import ASSET_CHECKS  # data-quality checks (expectations/)
from dagster_project.defs.dbt import dbt_resource, warehouse_models
from dagster_project.defs.ingest import INGEST_ASSETS
from dagster_project.defs.measures import policy_measures
from dagster_project.defs.reports import policy_workbooks  # workbooks (reports/)
from dagster_project.defs.resources import GxSettings
from dagster_project.progress import progress_logger

# DuckDB has one writer: the assets run one after another in one process.
weekly_refresh = dg.define_asset_job(
    "weekly_refresh",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="ingest -> dbt -> checks -> measures -> reports, over everything that has landed",
)

weekly_schedule = dg.ScheduleDefinition(
    name="weekly_refresh_monday_0700",
    job=weekly_refresh,
    cron_schedule="0 7 * * 1",
    execution_timezone="Asia/Shanghai",
)

defs = dg.Definitions(
    loggers={"progress": progress_logger, "console": dg.colored_console_logger},
    assets=[*INGEST_ASSETS, warehouse_models, policy_measures, policy_workbooks],
    asset_checks=ASSET_CHECKS,  # data quality: blocking checks stop the steps downstream
    jobs=[weekly_refresh],
    schedules=[weekly_schedule],
    resources={"settings": GxSettings(), "dbt": dbt_resource()},
)
