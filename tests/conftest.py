"""Shared fixtures: an empty warehouse built by the real dbt project (for rule tests),
and the dbt manifest that Dagster needs (parsed once per session, never at import)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.dbt_invocation import AS_OF_ENV
from dagster_project.lib.ingest import DATASETS
from dagster_project.lib.ingest.loader import ensure_raw_tables
from dagster_project.paths import DBT_PROJECT_DIR

DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(args: list[str], warehouse: Path, as_of: date | None = None) -> None:
    """Run dbt on `warehouse` as the pipeline does (`as_of`: the run's as-of date, default: everything)."""
    env = dict(os.environ, GXINDUSTRY_WAREHOUSE=str(warehouse))
    env.pop(AS_OF_ENV, None)
    if as_of:
        env[AS_OF_ENV] = as_of.isoformat()
    result = subprocess.run(
        [DBT, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    from dagster_project.cli import prepare_dbt

    prepare_dbt()
    return DBT_PROJECT_DIR / "target" / "manifest.json"


@pytest.fixture(scope="session")
def empty_warehouse_template(tmp_path_factory, dbt_manifest) -> Path:
    """Every raw, staging and mart table, empty: built once by `dbt build`."""
    path = tmp_path_factory.mktemp("template") / "empty.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_raw_tables(con, DATASETS)
    dbt(["build", "--quiet"], path, as_of=date(2025, 2, 1))
    return path


@pytest.fixture
def empty_warehouse(empty_warehouse_template, tmp_path) -> Path:
    path = tmp_path / "wh.duckdb"
    shutil.copy(empty_warehouse_template, path)
    return path
