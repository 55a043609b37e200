"""The measures engine as an asset downstream of the dbt marts."""

import dagster as dg

from dagster_project.lib.measures import engine
from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.parameters import Parameters

from .resources import GxSettings

MART_INPUTS = [
    "dim_enterprise", "dim_project", "dim_power_account", "fct_enterprise_month", "fct_enterprise_quarter",
    "fct_project_month", "fct_power_month", "fct_export_destination_quarter", "fct_loans", "fct_applications",
    "fct_supply_links", "fct_recognitions",
]
OUTPUTS = {
    "policy_awards": "one row per evaluated (scenario, scheme, beneficiary), with the reason trace",
    "policy_budget": "Σ of chosen awards per scenario and scheme",
    "policy_kpis": "every KPI of the catalogue with target, actual or forecast, status",
    "policy_lists": "measure 1's four enterprise lists and measure 33's 退库风险 list",
    "policy_parameters": "the parameters in force for the run and where each value came from",
}

@dg.multi_asset(
    name="policy_measures",
    specs=[
        dg.AssetSpec(["marts", name], description=text, group_name="measures",
                     deps=[dg.AssetKey(["marts", m]) for m in MART_INPUTS])
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
    wan = {s: float(v) / 10_000 for s, v in result.budget_yuan.items()}
    context.log.info(
        f"as of {as_of}: base {wan['base']:,.2f}万元 (range {wan['low']:,.2f}–{wan['high']:,.2f}), "
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
            "total_base_wan_yuan": round(wan["base"], 2),
            "total_low_wan_yuan": round(wan["low"], 2),
            "total_high_wan_yuan": round(wan["high"], 2),
            "by_scheme": dg.MetadataValue.md(
                "| scheme | beneficiaries | 万元 |\n|---|---:|---:|\n"
                + "\n".join(f"| {s} | {n} | {float(a) / 10_000:,.2f} |" for s, n, a in per_scheme)
            ),
        },
    )
    yield dg.MaterializeResult(asset_key=["marts", "policy_kpis"], metadata={"kpis": kpi_count})
    yield dg.MaterializeResult(asset_key=["marts", "policy_lists"])
    yield dg.MaterializeResult(asset_key=["marts", "policy_parameters"])
