"""The forecast and the rules in one call, for plain-Python callers (tests, the backtest, tools):
what the Dagster assets `forecast_draws` and `policy_measures` do one after the other."""

from __future__ import annotations

from datetime import date

import duckdb

from dagster_project.lib.forecast import draws
from dagster_project.lib.forecast.settings import ForecastSettings

from . import engine
from .catalogue import Catalogue
from .parameters import Parameters


def forecast_and_evaluate(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, params: Parameters, as_of: date,
                          method: str = "model") -> engine.EngineResult:
    draws.run(con, draws.Horizon.of(catalogue, as_of), ForecastSettings.from_parameters(params), method)
    return engine.run(con, catalogue, params, as_of)
