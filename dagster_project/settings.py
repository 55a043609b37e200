"""Run configuration in one place: environment variables, then embedded defaults.

| variable              | meaning                                  | default                      |
|-----------------------|------------------------------------------|------------------------------|
| GXINDUSTRY_LANDING    | landing dir (<landing>/<feed>/<file>)    | <repo>/data/landing          |
| GXINDUSTRY_WAREHOUSE  | DuckDB warehouse file                    | <repo>/data/warehouse.duckdb |
| GXINDUSTRY_REPORTS    | reports dir (one folder per as-of date)  | <repo>/data/reports          |
| GXINDUSTRY_PARAMS     | YAML parameter overrides                 | none                         |
| GXINDUSTRY_AS_OF      | the pipeline's "today" (YYYY-MM-DD)      | latest data date loaded      |
| GXINDUSTRY_GX_WORKERS | GX worker processes on large loads       | one per core (0: in-process) |
| GXINDUSTRY_DUCKDB_MEMORY | DuckDB buffer pool of the run's processes | 8GB                       |
| GXINDUSTRY_DBT_MEMORY    | DuckDB buffer pool of dbt's process       | 1500MB                    |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dagster_project.paths import DEFAULT_DATA_DIR

ENV_LANDING = "GXINDUSTRY_LANDING"
ENV_WAREHOUSE = "GXINDUSTRY_WAREHOUSE"
ENV_REPORTS = "GXINDUSTRY_REPORTS"
ENV_PARAMS = "GXINDUSTRY_PARAMS"
ENV_AS_OF = "GXINDUSTRY_AS_OF"
ENV_DUCKDB_MEMORY = "GXINDUSTRY_DUCKDB_MEMORY"
ENV_DBT_MEMORY = "GXINDUSTRY_DBT_MEMORY"  # read by dbt's profile (dbt_models/profiles.yml)
# DuckDB takes 80% of RAM by default; with dbt, the run's process and GX workers alive at the same
# time that is more than the machine has. Beyond the limit, sorts and windows spill to disk.
DEFAULT_DUCKDB_MEMORY = "8GB"
# dbt's models read and write each table once: at province size its full build took as long with
# 1.5 GB as with 8 GB, and its process peaked at 1.6 GiB instead of 2.9 (docs/benchmarks.md,
# 2026-12-03 23:30). The run's process keeps the larger pool: the GX checks and the measures read
# the same tables again and again. At national size (104 M readings) the 1.5 GB pool costs dbt 20%
# of its time against 8 GB, for 6 GiB less.
DEFAULT_DBT_MEMORY = "1500MB"


def duckdb_memory_limit() -> str:
    return os.environ.get(ENV_DUCKDB_MEMORY) or DEFAULT_DUCKDB_MEMORY


@dataclass(frozen=True)
class Settings:
    landing: Path
    warehouse: Path
    reports: Path
    params: Path | None = None
    as_of: date | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def path(var: str, default: Path) -> Path:
            return Path(env.get(var) or default).expanduser().resolve()

        as_of = env.get(ENV_AS_OF)
        params = env.get(ENV_PARAMS)
        return cls(
            landing=path(ENV_LANDING, DEFAULT_DATA_DIR / "landing"),
            warehouse=path(ENV_WAREHOUSE, DEFAULT_DATA_DIR / "warehouse.duckdb"),
            reports=path(ENV_REPORTS, DEFAULT_DATA_DIR / "reports"),
            params=Path(params).expanduser().resolve() if params else None,
            as_of=_as_of_date(as_of) if as_of else None,
        )

    @property
    def dbt_target(self) -> Path:
        """dbt's artifacts and log for this warehouse (manifest, run_results.json, dbt.log), one
        folder reused by every run: the last run's files are there to read, nothing piles up, and
        the next run can reuse its partial parse."""
        return self.warehouse.parent / "dbt_target" / self.warehouse.stem

    def export(self) -> None:
        """Write the resolved values back to the environment, so that dbt (a subprocess
        whose profile reads GXINDUSTRY_WAREHOUSE) sees the same absolute paths."""
        os.environ[ENV_LANDING] = str(self.landing)
        os.environ[ENV_WAREHOUSE] = str(self.warehouse)
        os.environ[ENV_REPORTS] = str(self.reports)
        if self.params:
            os.environ[ENV_PARAMS] = str(self.params)
        if self.as_of:
            os.environ[ENV_AS_OF] = self.as_of.isoformat()


def _as_of_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"as-of date {text!r} (--as-of / {ENV_AS_OF}) is not a date YYYY-MM-DD: {exc}") from None
