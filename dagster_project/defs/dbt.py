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
from dagster_project.lib.dbt_selection import (
    BuildPlan,
    plan_build,
    project_fingerprint,
    raw_sources,
    record_build,
    unchanged_in_build_order,
)
from dagster_project.lib.incremental import clear_full_refresh_requests, full_refresh_reason
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
    """`dbt build` of what changed (`lib/dbt_selection.py`); the models it leaves alone are reported
    as not rebuilt, with the test results of the run that built them."""
    resolved = settings.resolved()
    resolved.export()  # the dbt profile reads GXINDUSTRY_WAREHOUSE
    as_of = settings.as_of(context)
    variables = dbt_vars(Parameters.from_file(load_catalogue(), resolved.params))
    args = ["build", "--vars", json.dumps(variables)]
    fingerprint = project_fingerprint(DBT_PROJECT_DIR, variables)
    manifest = json.loads(Path(DBT_PROJECT.manifest_path).read_text(encoding="utf-8"))
    with settings.connect() as con:
        reason = full_refresh_reason(con, as_of)
        plan = plan_build(con, as_of, fingerprint, raw_sources(manifest), reason)
    if reason:
        context.log.info(f"full refresh of the incremental models: {reason}")
        args.append("--full-refresh")
    plan, earlier = _with_earlier_results(context, plan)
    context.log.info(f"dbt build of {'everything' if plan.everything else ', '.join(plan.sources) or 'nothing'}: "
                     f"{plan.reason}")
    if not plan.everything:  # first: a rebuilt model may read one that is not rebuilt, never the reverse
        yield from _not_rebuilt(context, manifest, plan)
    tested: set[dg.AssetCheckKey] = set()
    if plan.sources != ():
        args += plan.select_args(manifest)
        context.log.info(f"dbt {' '.join(args[:3])} … as of {as_of} on {resolved.warehouse}")
        with as_of_environment(as_of):
            invocation = dbt.cli(args, context=context, target_path=resolved.dbt_target)  # starts dbt
        for event in invocation.stream():
            if isinstance(event, dg.AssetCheckResult):
                tested.add(dg.AssetCheckKey(event.asset_key, event.check_name))
            yield event
    if not plan.everything:
        yield from _carried_over(context.selected_asset_check_keys - tested, earlier, plan.last.run_id)
    if not context.is_subset:  # building a few models is not a complete build
        with settings.connect() as con:
            record_build(con, context.run_id, as_of, plan.loaded_to, fingerprint)
            clear_full_refresh_requests(con)


def _with_earlier_results(context: dg.AssetExecutionContext, plan: BuildPlan) -> tuple[BuildPlan, dict]:
    """The plan, rebuilding everything unless all models are asked for and the last build's test
    results are in this instance (to stand for the tests not run); with those results."""
    if plan.everything:
        return plan, {}
    if context.is_subset:
        return plan.rebuild_everything("a subset of the models was asked for"), {}
    earlier = _check_results_of_run(context.instance, plan.last.run_id)
    missing = context.selected_asset_check_keys - earlier.keys()
    if missing:
        return plan.rebuild_everything(f"{len(missing)} test result(s) of run {plan.last.run_id} "
                                       "are not in this Dagster instance"), {}
    return plan, earlier


def _not_rebuilt(context: dg.AssetExecutionContext, manifest: dict, plan: BuildPlan):
    """The models and seeds the plan leaves alone, parents first: their tables are the last build's."""
    note = f"not rebuilt: no new rows in its sources since run {plan.last.run_id}, which built or carried it"
    translator = LayeredTranslator()
    for node in unchanged_in_build_order(manifest, plan.sources):
        key = translator.get_asset_key(node)
        yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_key(key),
                        metadata={"rebuilt": False, "unchanged_since_run": plan.last.run_id, "note": note})


def _check_results_of_run(instance: dg.DagsterInstance, run_id: str) -> dict[dg.AssetCheckKey, Any]:
    records = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    return {r.dagster_event.event_specific_data.asset_check_key: r.dagster_event.event_specific_data for r in records}


def _carried_over(keys: set[dg.AssetCheckKey], earlier: dict[dg.AssetCheckKey, Any], last_run: str):
    """The tests dbt did not run (their models and sources are unchanged), with the results they
    had in the last build: the run's checks and the data-quality sheet list every test. A result
    carried again keeps naming the run that ran the test, and what the test said then."""
    for key in sorted(keys, key=lambda k: k.to_user_string()):
        result = earlier[key]
        carried = "carried_from_run" in result.metadata
        ran_in = result.metadata["carried_from_run"].value if carried else last_run
        said = result.metadata["test_description"].value if carried else (result.description or "")
        yield dg.AssetCheckResult(
            asset_key=key.asset_key, check_name=key.name, passed=result.passed, severity=result.severity,
            description=f"carried over from run {ran_in} (model and sources unchanged)" + (f": {said}" if said else ""),
            metadata={**result.metadata, "carried_from_run": ran_in, "test_description": said},
        )


# dagster-dbt's resource for the dbt installed next to this Python, without two start-up costs.
# Before each command dagster-dbt runs `dbt --version` in a subprocess (1.9 s) and opens a dbt
# adapter on the warehouse (1.3 s). The version is that of the `dbt-core` package of this
# environment, whose `dbt` is the executable used; the adapter only serves dagster-dbt's optional
# row-count and column metadata, which these assets do not fetch. dagster-dbt runs without an
# adapter for engines that have none (dbt Fusion). `test_definitions` checks the version against
# `dbt --version`, and every end-to-end test runs dbt through this resource.
class EnvironmentDbtCli(DbtCliResource):
    """The dbt of this installation, building the project in dbt_models/ on the warehouse (its
    profile reads the warehouse path and the as-of date from the run)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    # The dbt of this environment, whether or not the venv's bin is on PATH (e.g. under the daemon).
    executable = Path(sys.executable).with_name("dbt")
    return EnvironmentDbtCli(project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=str(executable))
