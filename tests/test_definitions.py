"""The Dagster code location loads, and its graph is wired the way the data flows."""

import subprocess
import sys
from pathlib import Path

import dagster as dg


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
    from dagster_project.settings import ENV_DUCKDB_MEMORY

    settings = GxSettings(warehouse=str(tmp_path / "wh.duckdb"))
    monkeypatch.delenv(ENV_DUCKDB_MEMORY, raising=False)
    with settings.connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "7.4 GiB"  # 8 GB
    monkeypatch.setenv(ENV_DUCKDB_MEMORY, "2GB")
    with settings.connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "1.8 GiB"  # 2 GB
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    assert ENV_DUCKDB_MEMORY in profile["gxindustry"]["outputs"]["default"]["settings"]["memory_limit"]
