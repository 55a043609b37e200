"""The forecast of what the quarter has not reported yet, as an asset between the marts and the measures."""

import dagster as dg

from dagster_project.lib.forecast import draws
from dagster_project.lib.forecast.settings import ForecastSettings
from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.engine import ENGINE_INPUTS
from dagster_project.lib.measures.parameters import Parameters

from .resources import GxSettings

TABLES = {
    "enterprise_draws": "per draw and enterprise: output of the unreported months, summed per period (元)",
    "project_draws": "per draw and project: investment and equipment of the unreported months (元)",
    "power_draws": "per draw and enterprise: kWh of the policy quarter's days not read yet",
    "export_draws": "per draw, enterprise and new destination: exports of the unreported months (元)",
    "scale_entries": "per draw: enterprises below the size threshold that will enter the above-size statistics (入统) later in the year",
    "project_starts": "per draw: projects of the library not started yet that start (开工) in a month not delivered yet",
    "new_enterprises": "per draw: enterprises that will first report later in the quarter (pseudo keys), from last year's late entrants",
    "new_projects": "per draw: projects that will first report later in the quarter (pseudo keys), from last year's late entrants",
    "new_export_destinations": "per draw: exporter-destination pairs first served in the quarter's unreported months (pseudo exporters)",
    "new_loans": "per draw: loans the register will still get this quarter (pseudo beneficiaries)",
    "new_applications": "per draw: applications the register will still get this quarter (pseudo beneficiaries)",
    "new_supply_links": "per draw: supply links the register will still get this quarter (pseudo beneficiaries)",
    "months": "per series, entity and forecast month: point forecast and the quantiles of its draws",
    "series": "per monthly series: entities forecast, past origins replayed, errors measured (or the fallback spread)",
    "runs": "the run's as-of date, method, number of draws and seed",
}


@dg.multi_asset(
    name="forecast_draws",
    specs=[dg.AssetSpec([draws.SCHEMA, name], description=text, group_name="forecast",
                        deps=[dg.AssetKey(["marts", m]) for m in ENGINE_INPUTS])
           for name, text in TABLES.items()],
    compute_kind="python",
)
def forecast_draws(context: dg.AssetExecutionContext, settings: GxSettings):
    """Simulated draws of every month, day and register row the quarter has not reported yet
    (lib/forecast, docs/forecast.md); one draw when the quarter is fully reported."""
    resolved = settings.resolved()
    catalogue = load_catalogue()
    params = Parameters.from_file(catalogue, resolved.params)
    as_of = settings.as_of(context)
    horizon = draws.Horizon.of(catalogue, as_of)
    with settings.connect() as con:
        n = draws.run(con, horizon, ForecastSettings.from_parameters(params))
        series = con.execute(f"select series, method, entities, origins, errors_measured from {draws.SCHEMA}.series "
                             "order by series").fetchall()
    context.log.info(f"as of {as_of}: {n} draws; stats reported to {horizon.stats_month:%Y-%m}, "
                     f"customs to {horizon.customs_month:%Y-%m}; "
                     + ", ".join(f"{s} {m} ({k} entities, errors from {o} past origins"
                                 + (", too few: fallback spread" if measured is False else "") + ")"
                                 for s, m, k, o, measured in series))
    for name in TABLES:
        yield dg.MaterializeResult(asset_key=[draws.SCHEMA, name], metadata={"as_of": str(as_of), "draws": n})
