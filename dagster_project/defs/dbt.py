"""The dbt project as Dagster assets (staging -> intermediate -> marts, plus seeds).

The manifest is produced by `gxindustry prepare` (dbt parse), never at import.
"""

import importlib.metadata
import json
import sys
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from dagster_project.lib.dbt_invocation import as_of_environment, dbt_vars
from dagster_project.lib.incremental import full_refresh_reason
from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.parameters import Parameters
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
    params = Parameters.from_file(load_catalogue(), resolved.params)
    args = ["build", "--vars", json.dumps(dbt_vars(params))]
    with settings.connect() as con:
        reason = full_refresh_reason(con, as_of)
    if reason:
        context.log.info(f"full refresh of the incremental models: {reason}")
        args.append("--full-refresh")
    context.log.info(f"dbt {' '.join(args)} as of {as_of} on {resolved.warehouse}")
    with as_of_environment(as_of):
        invocation = dbt.cli(args, context=context, target_path=resolved.dbt_target)  # starts dbt
    yield from invocation.stream()


class EnvironmentDbtCli(DbtCliResource):
    """dagster-dbt's resource for the dbt installed next to this Python, without two start-up costs.

    Before each command dagster-dbt runs `dbt --version` in a subprocess (1.9 s) and opens a dbt
    adapter on the warehouse (1.3 s). The version is that of the `dbt-core` package of this
    environment, whose `dbt` is the executable used; the adapter only serves dagster-dbt's
    optional row-count and column metadata, which these assets do not fetch. dagster-dbt runs
    without an adapter for engines that have none (dbt Fusion). `test_definitions` checks the
    version against `dbt --version`, and every end-to-end test runs dbt through this resource.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    # The dbt of this environment, whether or not the venv's bin is on PATH (e.g. under the daemon).
    executable = Path(sys.executable).with_name("dbt")
    return EnvironmentDbtCli(project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=str(executable))
