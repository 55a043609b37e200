"""The dbt project as Dagster assets (staging -> intermediate -> marts, plus seeds).

The manifest is produced by `gxindustry prepare` (dbt parse), never at import.
"""

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project.lib.incremental import full_refresh_reason
from dagster_project.paths import DBT_PROJECT_DIR

from .resources import GxSettings

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

class LayeredTranslator(DagsterDbtTranslator):
    """Models and seeds are keyed `<schema>/<name>` (e.g. `marts/dim_enterprise`), grouped by schema;
    sources keep the default `<source>/<table>` = `raw/<feed>_<dataset>`, the ingestion assets' keys."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dbt_resource_props["schema"]
        return super().get_group_name(dbt_resource_props)

@dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, dagster_dbt_translator=LayeredTranslator())
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: GxSettings):
    resolved = settings.resolved()
    resolved.export()  # the dbt profile reads GXINDUSTRY_WAREHOUSE
    as_of = settings.as_of(context)
    dbt_vars = {"as_of": as_of.isoformat()}
    args = ["build", "--vars", json.dumps(dbt_vars)]
    with settings.connect() as con:
        reason = full_refresh_reason(con, as_of)
    if reason:
        context.log.info(f"full refresh of the incremental models: {reason}")
        args.append("--full-refresh")
    context.log.info(f"dbt {' '.join(args)} on {resolved.warehouse}")
    yield from dbt.cli(args, context=context, target_path=resolved.dbt_target).stream()

def dbt_resource() -> DbtCliResource:
    # The dbt of this environment, whether or not the venv's bin is on PATH (e.g. under the daemon).
    executable = Path(sys.executable).with_name("dbt")
    return DbtCliResource(project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=str(executable))
