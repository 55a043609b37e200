"""Per-city packs: the budget and KPI workbooks filtered to one prefecture each."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from dagster_project.lib.measures.catalogue import Catalogue
from dagster_project.lib.measures.parameters import Parameters

from . import data
from .budget_workbook import write_budget_workbook
from .kpi_workbook import CheckOutcome, write_kpi_workbook


def write_city_packs(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, params: Parameters, reports_dir: Path,
                     as_of: date, cities: list[str] | None = None,
                     checks: list[CheckOutcome] | None = None) -> dict[str, tuple[Path, Path]]:
    """Write `<reports>/<as_of>/cities/{budget_forecast,kpi_report}_<as_of>_<city_code>.xlsx` for every
    prefecture (or the given codes); returns city code -> (budget path, KPI path)."""
    codes = cities or [code for code, _ in data.cities(con)]
    return {
        code: (write_budget_workbook(con, catalogue, params, reports_dir, as_of, city_code=code),
               write_kpi_workbook(con, catalogue, reports_dir, as_of, city_code=code, checks=checks))
        for code in codes
    }
