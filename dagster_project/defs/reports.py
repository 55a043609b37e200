"""The Excel workbooks as assets downstream of the measure tables."""

import dagster as dg

from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.parameters import Parameters
from reports import CheckOutcome, write_budget_workbook, write_city_packs, write_kpi_workbook

from .resources import GxSettings

MEASURE_TABLES = ["policy_budget", "policy_awards", "policy_kpis", "policy_lists", "policy_parameters",
                  "policy_runs", "policy_budget_history"]  # the last two: the run recorded, compared with earlier ones
DEPS = [dg.AssetKey(["marts", name]) for name in MEASURE_TABLES]


class WorkbookConfig(dg.Config):
    city_packs: bool = False  # also write both workbooks filtered to each prefecture, under <as_of>/cities/


def checks_of_run(context: dg.AssetExecutionContext) -> list[CheckOutcome]:
    """The data-quality checks evaluated so far in this run (dbt tests and any other asset checks)."""
    records = context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    out = []
    for record in records:
        evaluation = record.dagster_event.event_specific_data
        failed_rows = evaluation.metadata.get("dagster_dbt/failed_row_count")
        out.append(CheckOutcome(
            asset=evaluation.asset_key.to_user_string(),
            check=evaluation.check_name,
            passed=bool(evaluation.passed),
            severity=evaluation.severity.value if evaluation.severity else "ERROR",
            failed_rows=None if failed_rows is None else int(failed_rows.value),
            description=evaluation.description or "",
        ))
    return out


@dg.multi_asset(
    name="policy_workbooks",
    specs=[
        dg.AssetSpec(["reports", "budget_forecast"], group_name="reports", deps=DEPS,
                     description="budget_forecast_<as_of>.xlsx: the subsidy budget for finance, live formulas "
                                 "over the parameter cells"),
        dg.AssetSpec(["reports", "kpi_report"], group_name="reports", deps=DEPS,
                     description="kpi_report_<as_of>.xlsx: KPI status of all measures, growth table, "
                                 "monitoring lists, data quality"),
    ],
    compute_kind="excel",
)
def policy_workbooks(context: dg.AssetExecutionContext, config: WorkbookConfig, settings: GxSettings):
    resolved = settings.resolved()
    catalogue = load_catalogue()
    params = Parameters.from_file(catalogue, resolved.params)
    as_of = settings.as_of(context)
    checks = checks_of_run(context)
    with settings.connect() as con:
        budget = write_budget_workbook(con, catalogue, params, resolved.reports, as_of)
        kpi = write_kpi_workbook(con, catalogue, resolved.reports, as_of, checks=checks)
        packs = write_city_packs(con, catalogue, params, resolved.reports, as_of, checks=checks) \
            if config.city_packs else {}
    context.log.info(f"workbooks as of {as_of}: {budget}, {kpi}" + (f" and {len(packs)} city packs" if packs else ""))
    yield dg.MaterializeResult(
        asset_key=["reports", "budget_forecast"],
        metadata={"path": dg.MetadataValue.path(str(budget)), "as_of": str(as_of),
                  "parameters": params.fingerprint(),
                  **({"city_packs": dg.MetadataValue.path(str(budget.parent / "cities"))} if packs else {})},
    )
    yield dg.MaterializeResult(
        asset_key=["reports", "kpi_report"],
        metadata={"path": dg.MetadataValue.path(str(kpi)), "as_of": str(as_of),
                  "checks_failed": sum(not c.passed for c in checks)},
    )
