"""Excel workbooks for finance and KPI tracking, written from warehouse tables (plain Python).

- `write_budget_workbook(con, catalogue, params, reports_dir, as_of, city_code=None)` ->
  `<reports>/<as_of>/budget_forecast_<as_of>.xlsx` (live formulas over the parameter cells)
- `write_kpi_workbook(con, catalogue, reports_dir, as_of, city_code=None, checks=None)` ->
  `<reports>/<as_of>/kpi_report_<as_of>.xlsx`
- `write_city_packs(...)`: both, filtered to each prefecture, under `<reports>/<as_of>/cities/`
"""

from .budget_workbook import budget_path, write_budget_workbook
from .kpi_workbook import CheckOutcome, kpi_path, write_kpi_workbook
from .packs import write_city_packs

__all__ = [
    "CheckOutcome", "budget_path", "kpi_path", "write_budget_workbook", "write_city_packs", "write_kpi_workbook",
]
