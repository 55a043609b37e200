"""The backtest report: errors and range coverage per scheme, from weekly results."""

from datetime import date
from decimal import Decimal

from dagster_project.lib.measures.backtest import WeeklyResult, mondays, report


def test_mondays_of_a_quarter():
    weeks = mondays(date(2023, 10, 1), date(2023, 12, 31))
    assert weeks[0] == date(2023, 10, 2) and weeks[-1] == date(2023, 12, 25) and len(weeks) == 13


def test_report_measures_error_and_coverage():
    results = [
        WeeklyResult(date(2023, 10, 2), "M24", Decimal(90), Decimal(80), Decimal(95), 9),
        WeeklyResult(date(2023, 10, 9), "M24", Decimal(110), Decimal(105), Decimal(120), 11),
    ]
    table = report(results, {"M24": (Decimal(100), 10)}, "gxindustry backtest")
    row = next(line for line in table.splitlines() if line.startswith("| M24 "))
    assert row == "| M24 | 0.01 | 10 | 2 | 10.0% | 10.0% | 0/2 |"
    assert "Produced by `gxindustry backtest`." in table
