"""The Dagster code location loads, and its graph is wired the way the data flows."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest


def test_definitions_validate(dbt_manifest):
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run([str(dagster), "definitions", "validate", "-m", "dagster_project.definitions"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_graph_lines_up_ingestion_dbt_and_measures(dbt_manifest):
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for raw in ("raw/stats_industry", "raw/power_daily", "raw/tax_vat", "raw/customs_export", "raw/registers_loans"):
        assert raw in keys
    staging = graph.get(dg.AssetKey(["staging", "stg_stats__industry"]))
    assert dg.AssetKey(["raw", "stats_industry"]) in staging.parent_keys
    awards = graph.get(dg.AssetKey(["marts", "policy_awards"]))
    assert dg.AssetKey(["marts", "fct_enterprise_quarter"]) in awards.parent_keys


def test_weekly_schedule_is_monday_morning_in_shanghai(dbt_manifest):
    from dagster_project.definitions import defs

    schedule = defs.resolve_schedule_def("weekly_refresh_monday_0700")
    assert schedule.cron_schedule == "0 7 * * 1"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == "weekly_refresh"


def test_warehouse_connections_cap_duckdbs_memory(tmp_path, monkeypatch):
    """DuckDB would take 80% of RAM in each process; the run's connections and dbt's are capped."""
    import yaml

    from dagster_project.defs.resources import GxSettings
    from dagster_project.paths import DBT_PROJECT_DIR
    from dagster_project.settings import DEFAULT_DBT_MEMORY, ENV_DBT_MEMORY, ENV_DUCKDB_MEMORY

    settings = GxSettings(warehouse=str(tmp_path / "wh.duckdb"))
    monkeypatch.delenv(ENV_DUCKDB_MEMORY, raising=False)
    with settings.connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "7.4 GiB"  # 8 GB
    monkeypatch.setenv(ENV_DUCKDB_MEMORY, "2GB")
    with settings.connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "1.8 GiB"  # 2 GB
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    # dbt's process: a pool of its own, with the default the settings name
    assert profile["gxindustry"]["outputs"]["default"]["settings"]["memory_limit"] == (
        f"{{{{ env_var('{ENV_DBT_MEMORY}', '{DEFAULT_DBT_MEMORY}') }}}}")


def test_the_dbt_resource_knows_the_version_of_the_dbt_it_runs(dbt_manifest):
    """The resource reads dbt's version from the installed package instead of running `dbt --version`."""
    import re

    from dagster_project.definitions import defs

    dbt = defs.resources["dbt"]
    output = subprocess.run([dbt.dbt_executable, "--version"], capture_output=True, text=True, check=True).stdout
    assert str(dbt._cli_version) == re.search(r"(\d+\.\d+\.\d+)", output).group(1)


def test_dbt_project_var_defaults_are_the_catalogue_values_the_pipeline_passes():
    """dbt by hand (without --vars) computes what the pipeline does without parameter overrides."""
    import yaml

    from dagster_project.lib.dbt_invocation import dbt_vars
    from dagster_project.lib.measures.catalogue import load_catalogue
    from dagster_project.lib.measures.parameters import Parameters
    from dagster_project.paths import DBT_PROJECT_DIR

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["vars"] == dbt_vars(Parameters.from_file(load_catalogue(), None))


def test_the_as_of_date_is_in_dbts_environment_only_inside_the_block(monkeypatch):
    import os
    from datetime import date

    from dagster_project.lib.dbt_invocation import AS_OF_ENV, as_of_environment

    monkeypatch.delenv(AS_OF_ENV, raising=False)
    with as_of_environment(date(2024, 11, 25)):
        assert os.environ[AS_OF_ENV] == "2024-11-25"
    assert AS_OF_ENV not in os.environ
    monkeypatch.setenv(AS_OF_ENV, "2024-11-18")
    with pytest.raises(RuntimeError), as_of_environment(date(2024, 11, 25)):
        raise RuntimeError("dbt failed to start")
    assert os.environ[AS_OF_ENV] == "2024-11-18"


def test_finance_overrides_reach_dbt_vars():
    from dagster_project.lib.dbt_invocation import dbt_vars
    from dagster_project.lib.measures.catalogue import load_catalogue
    from dagster_project.lib.measures.parameters import Parameters

    assert dbt_vars(Parameters(load_catalogue(), {"M22.lookback_months": 14})) == {"new_destination_lookback_months": 14}


def test_the_launchpad_config_has_as_of_and_it_wins_over_the_environment(dbt_manifest, monkeypatch):
    import dagster as dg

    from dagster_project.defs.resources import GxSettings
    from dagster_project.definitions import defs

    job = defs.resolve_job_def("weekly_refresh")
    settings = job.run_config_schema.config_type.fields["resources"].config_type.fields["settings"]
    assert "as_of" in settings.config_type.fields["config"].config_type.fields
    monkeypatch.setenv("GXINDUSTRY_AS_OF", "2024-11-18")
    context = dg.build_asset_context()
    assert GxSettings(as_of="2024-11-25").as_of(context) == date(2024, 11, 25)
    assert GxSettings().as_of(context) == date(2024, 11, 18)
    with pytest.raises(dg.Failure, match="not a date"):
        GxSettings(as_of="25/11/2024").as_of(context)


def test_tables_written_in_python_are_declared_to_dbt_with_the_marts_they_read(dbt_manifest):
    """The forecast and measures tables appear in dbt's docs as sources (dbt_models/models/
    python_outputs.yml, where their Dagster descriptions come from), and the exposure
    `policy_measures` depends on exactly the marts the engine reads: the lineage finance's numbers
    follow is visible in dbt's docs too. dagster-dbt makes no assets of them (no duplicate keys)."""
    import json

    from dagster_project.definitions import defs
    from dagster_project.defs.forecast import TABLES
    from dagster_project.defs.measures import DECLARED as OUTPUTS
    from dagster_project.lib.measures.engine import ENGINE_INPUTS

    manifest = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    sources = {(s["source_name"], s["name"]): s["description"] for s in manifest["sources"].values()}
    assert {t for (source, t) in sources if source == "forecast"} == set(TABLES)
    assert {t for (source, t) in sources if source == "measures"} == set(OUTPUTS)
    assert all(" ".join(sources[("measures", t)].split()) == text for t, text in OUTPUTS.items())
    exposure = manifest["exposures"]["exposure.gxindustry.policy_measures"]
    assert {n.split(".")[-1] for n in exposure["depends_on"]["nodes"]} == set(ENGINE_INPUTS)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {f"marts/{t}" for t in OUTPUTS} | {f"forecast/{t}" for t in TABLES} <= keys
    assert not [k for k in keys if k.startswith(("measures/", "quality/")) or k.count("/") > 1]
