"""Reference code lists the project carries itself (the dbt seeds), for Python code."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from dagster_project.paths import SEEDS_DIR


def _column(file: str, column: str, seeds_dir: Path = SEEDS_DIR) -> frozenset[str]:
    with open(seeds_dir / file, encoding="utf-8", newline="") as fh:
        return frozenset(row[column] for row in csv.DictReader(fh))


@cache
def county_codes() -> frozenset[str]:
    """GB/T 2260 county-level codes under Guangxi."""
    return _column("ref_gbt2260_guangxi_counties.csv", "county_code")


@cache
def industry_classes() -> frozenset[str]:
    """GB/T 4754-2017 4-digit classes (mining, manufacturing, utilities)."""
    return _column("ref_gbt4754_classes.csv", "class_code")


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-3 codes."""
    return _column("ref_iso3166_countries.csv", "alpha3")
