"""The forecast of what the quarter has not reported yet, as an asset between the marts and the measures."""

import dagster as dg

from dagster_project.lib.forecast import draws
from dagster_project.lib.forecast.settings import ForecastSettings
from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.engine import ENGINE_INPUTS
from dagster_project.lib.measures.parameters import Parameters
from dagster_project.lib.written_tables import described

from .resources import GxSettings

TABLES = described(draws.SCHEMA)  # dbt_models/models/python_outputs.yml


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
    with settings.connect() as con:
        horizon = draws.Horizon.of(catalogue, as_of).as_delivered(con)
        n = draws.run(con, horizon, ForecastSettings.from_parameters(params))
        series = con.execute(f"select series, method, entities, late_entities, origins, errors_measured "
                             f"from {draws.SCHEMA}.series order by series").fetchall()
    behind = [f"{label} only to {month:%Y-%m} (the months after it forecast)"
              for label, month in (("the industry report", horizon.output_month),
                                   ("the project library", horizon.projects_month)) if month < horizon.stats_month]
    context.log.info(f"as of {as_of}: {n} draws; stats reported to {horizon.stats_month:%Y-%m}"
                     + "".join(f", {b}" for b in behind) + f", customs to {horizon.customs_month:%Y-%m}; "
                     + ", ".join(f"{s} {m} ({k} entities"
                                 + (f", {late} of them late with the latest month: forecast from their latest report"
                                    if late else "")
                                 + f", errors from {o} past origins"
                                 + (", too few: fallback spread" if measured is False else "") + ")"
                                 for s, m, k, late, o, measured in series))
    for name in TABLES:
        yield dg.MaterializeResult(asset_key=[draws.SCHEMA, name], metadata={"as_of": str(as_of), "draws": n})
