"""Subsidy schemes, one module per measure family; each exposes SCHEMES: scheme id -> SQL builder."""

from importlib import import_module

_FAMILIES = (
    "m02_output_growth",
    "m08_supply_links",
    "m11_revolving_fund",
    "m15_investment",
    "m20_equipment_renewal",
    "m21_sales_events",
    "m22_market_expansion",
    "m23_loan_interest",
    "m24_power_increment",
)
MODULES = tuple(import_module(f"{__name__}.{family}") for family in _FAMILIES)

SCHEMES = {scheme_id: build for module in MODULES for scheme_id, build in module.SCHEMES.items()}
# Schemes whose amount a workbook can recompute as MIN(rate × basis, cap) from the parameter cells.
LIVE = {scheme_id: live for module in MODULES for scheme_id, live in module.LIVE.items()}
