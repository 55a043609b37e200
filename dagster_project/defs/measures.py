"""The measures engine as an asset downstream of the dbt marts."""

import dagster as dg

from dagster_project.lib.measures import engine
from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.parameters import Parameters
from dagster_project.lib.money import wan_text
from dagster_project.lib.written_tables import described

from .forecast import TABLES as FORECAST_TABLES
from .resources import GxSettings

FORECAST_SCHEMA = "forecast"

DECLARED = described("measures")  # dbt_models/models/python_outputs.yml
# Written once the run's measure checks have passed (`policy_run_record`): a run they stop must
# not become the "previous run" of the next one, nor replace its date's history.
RECORD = ("policy_runs", "policy_budget_history")
OUTPUTS = {name: text for name, text in DECLARED.items() if name not in RECORD}

@dg.multi_asset(
    name="policy_measures",
    specs=[
        dg.AssetSpec(["marts", name], description=text, group_name="measures",
                     deps=[dg.AssetKey(["marts", m]) for m in engine.ENGINE_INPUTS]
                     + [dg.AssetKey([FORECAST_SCHEMA, t]) for t in FORECAST_TABLES])
        for name, text in OUTPUTS.items()
    ],
    compute_kind="python",
)
def policy_measures(context: dg.AssetExecutionContext, settings: GxSettings):
    resolved = settings.resolved()
    catalogue = load_catalogue()
    params = Parameters.from_file(catalogue, resolved.params)
    as_of = settings.as_of(context)
    with settings.connect() as con:
        result = engine.run(con, catalogue, params, as_of)
        per_scheme = con.execute(
            "select scheme_id, beneficiaries, amount_yuan from marts.policy_budget where scenario = 'base' order by scheme_id"
        ).fetchall()
        kpi_count = con.execute("select count(*) from marts.policy_kpis").fetchone()[0]
    wan = {s: wan_text(v) for s, v in result.budget_yuan.items()}
    context.log.info(
        f"as of {as_of}: base {wan['base']}万元 (range {wan['low']}–{wan['high']}), "
        f"{result.beneficiaries} beneficiaries, parameters {result.params_fingerprint}"
    )
    yield dg.MaterializeResult(
        asset_key=["marts", "policy_awards"],
        metadata={"as_of": str(as_of), "beneficiaries_base": result.beneficiaries,
                  "parameters": result.params_fingerprint,
                  "origin_of_parameters": str(resolved.params) if resolved.params else "catalogue"},
    )
    yield dg.MaterializeResult(
        asset_key=["marts", "policy_budget"],
        metadata={
            "total_base_wan_yuan": wan["base"],
            "total_low_wan_yuan": wan["low"],
            "total_high_wan_yuan": wan["high"],
            "by_scheme": dg.MetadataValue.md(
                "Each scheme's median over the draws: medians do not add up to the total's median "
                "(total_base_wan_yuan), nor beneficiaries to the total's awards.\n\n"
                "| scheme | beneficiaries | 万元 |\n|---|---:|---:|\n"
                + "\n".join(f"| {s} | {n} | {wan_text(a)} |" for s, n, a in per_scheme)
            ),
        },
    )
    yield dg.MaterializeResult(asset_key=["marts", "policy_kpis"], metadata={"kpis": kpi_count})
    for name in [n for n in OUTPUTS if n not in ("policy_awards", "policy_budget", "policy_kpis")]:
        yield dg.MaterializeResult(asset_key=["marts", name], metadata={"as_of": str(as_of), "draws": result.draws})


@dg.multi_asset(
    name="policy_run_record",
    specs=[dg.AssetSpec(["marts", name], description=DECLARED[name], group_name="measures",
                        deps=[dg.AssetKey(["marts", m]) for m in OUTPUTS]) for name in RECORD],
    compute_kind="python",
)
def policy_run_record(context: dg.AssetExecutionContext, settings: GxSettings):
    """Downstream of every measure table, so that their blocking checks stop it."""
    resolved = settings.resolved()
    params = Parameters.from_file(load_catalogue(), resolved.params)
    as_of = settings.as_of(context)
    with settings.connect() as con:
        result = engine.summary(con, as_of, params)
        engine.record(con, result)
    context.log.info(f"run as of {as_of} recorded: base {wan_text(result.budget_yuan['base'])}万元")
    for name in RECORD:
        yield dg.MaterializeResult(asset_key=["marts", name], metadata={"as_of": str(as_of)})
