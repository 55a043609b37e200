"""Render the first sheet of each workbook to PNG for the README (LibreOffice -> PDF -> pdftoppm).

    .venv/bin/python -m reports.screenshots [--warehouse data/warehouse.duckdb] [--out docs/img]

Needs LibreOffice (libreoffice-calc), poppler-utils and a CJK font (fonts-noto-cjk) on the machine.
The workbooks are written to a temporary folder from the warehouse's latest measures run.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import duckdb

from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.parameters import Parameters
from dagster_project.paths import DEFAULT_DATA_DIR

from .budget_workbook import write_budget_workbook
from .kpi_workbook import write_kpi_workbook
from .libreoffice import first_page_png

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=DEFAULT_DATA_DIR / "warehouse.duckdb")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args(argv)
    catalogue = load_catalogue()
    with duckdb.connect(str(args.warehouse), read_only=True) as con, tempfile.TemporaryDirectory() as tmp:
        as_of = con.execute("select max(as_of) from marts.policy_awards").fetchone()[0]
        budget = write_budget_workbook(con, catalogue, Parameters(catalogue), Path(tmp), as_of)
        kpi = write_kpi_workbook(con, catalogue, Path(tmp), as_of)
        for path, name in ((budget, "budget_forecast.png"), (kpi, "kpi_report.png")):
            print(first_page_png(path, args.out / name, dpi=args.dpi))


if __name__ == "__main__":
    main()
