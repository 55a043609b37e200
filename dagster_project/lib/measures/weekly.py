"""The forecast and the rules in one call, for plain-Python callers (tests, the backtest, tools):
what the Dagster assets `forecast_draws`, `policy_measures` and `policy_run_record` do one after the
other (without the measure checks between the last two)."""

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
    result = engine.run(con, catalogue, params, as_of)
    engine.record(con, result)
    return result
