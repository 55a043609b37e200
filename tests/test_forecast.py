"""The forecast's parts on panels built by hand: point forecasts, the pace of new rows, the power
signal's weights, the draws' quantiles."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest

from dagster_project.lib.forecast.new_events import draw_new, pace
from dagster_project.lib.forecast.panel import Panel
from dagster_project.lib.forecast.series import (
    FALLBACK, SEASONAL, SeriesSettings, estimate_shrinkage, measure_errors, point_forecast, simulate,
)
from dagster_project.lib.forecast.signal import PowerSignal, estimate

S = SeriesSettings(growth_window=3, min_growth_months=2, age_class_months=6, age_classes=4, min_peers=2,
                   own_seasonal=True, training_months=24, min_group_entities=2, min_error_samples=5,
                   fallback_spread=0.2, size_classes=1, min_origins=2, common_jitter=0.5)
START = date(2023, 1, 1)


def panel(values, groups=None, last=None, born=None) -> Panel:
    v = np.asarray(values, dtype=float)
    n, t = v.shape
    first = np.array([int(np.argmax(~np.isnan(row))) for row in v])
    return Panel("test", np.array([f"E{i}" for i in range(n)], dtype=object),
                 np.array(groups or ["g"] * n, dtype=object), START, v,
                 t - 1 if last is None else last, first, np.full(n, 10**6), None if born is None else np.asarray(born))


def test_seasonal_ratio_is_last_years_month_times_recent_growth():
    # 2023: 100 a month, December 200; 2024: 10% up through September.
    year = [100.0] * 11 + [200.0]
    p = panel([year + [110.0] * 9 + [np.nan] * 3], last=20)
    fc = point_forecast(p, 20, 3, "model", S)
    assert fc.kind.tolist() == [SEASONAL]
    assert fc.values[0] == pytest.approx([110.0, 110.0, 220.0])


def test_naive_takes_the_year_to_date_ratio():
    year = [100.0] * 11 + [200.0]
    # January–June flat, July–September +30%: the naive ratio is (6×100 + 3×130) / 900 = 1.1
    p = panel([year + [100.0] * 6 + [130.0] * 3 + [np.nan] * 3], last=20)
    assert point_forecast(p, 20, 3, "naive", S).values[0] == pytest.approx([110.0, 110.0, 220.0])
    assert point_forecast(p, 20, 3, "model", S).values[0] == pytest.approx([130.0, 130.0, 260.0])


def test_an_entity_that_did_not_report_the_origin_is_not_forecast():
    p = panel([[100.0] * 20 + [np.nan] * 4], last=20)
    fc = point_forecast(p, 20, 3, "model", S)
    assert not fc.active[0] and fc.values[0].tolist() == [0, 0, 0]


def test_young_projects_take_the_step_of_projects_as_young_a_year_earlier():
    """Last year a 3-month-old project doubled into December, an old one rose by half: this year's
    young project gets the doubling, the old one the half."""
    nan = np.nan
    young_then = [nan] * 8 + [10.0, 10.0, 10.0, 20.0] + [nan] * 12
    old_then = [10.0] * 11 + [15.0] + [nan] * 12
    young_now = [nan] * 20 + [50.0, 50.0, 50.0, nan]
    old_now = [nan] * 12 + [10.0] * 11 + [nan]
    p = panel([young_then, young_then, old_then, old_then, young_now, old_now], last=22,
              born=[8, 8, -12, -12, 20, -12])
    fc = point_forecast(p, 22, 1, "model", dataclasses.replace(S, own_seasonal=False))
    assert fc.values[4, 0] == pytest.approx(100.0) and fc.values[5, 0] == pytest.approx(15.0)
    assert fc.kind[4] == FALLBACK


def test_shrinkage_measures_how_much_own_growth_persists():
    rng = np.random.default_rng(0)
    n = 60
    base = rng.uniform(50, 150, n)[:, None] * np.ones((1, 12))
    # Each month's growth is the group's 5% plus noise that does not persist: nothing carries on.
    noisy = base * 1.05 * np.exp(rng.normal(0, 0.2, (n, 12)))
    p = panel(np.hstack([base, noisy]), last=23)
    assert estimate_shrinkage(p, 3, S) < 0.3
    # A lasting lead of each enterprise: it carries on.
    lead = np.exp(rng.normal(0, 0.3, (n, 1)))
    p = panel(np.hstack([base, base * 1.05 * lead * np.exp(rng.normal(0, 0.01, (n, 12)))]), last=23)
    assert estimate_shrinkage(p, 3, S) > 0.8


def test_draws_vary_around_the_point_and_repeat_with_the_seed():
    rng = np.random.default_rng(1)
    n = 40
    base = rng.uniform(50, 150, n)[:, None] * np.ones((1, 12))
    values = np.hstack([base, base[:, :10] * 1.1 * np.exp(rng.normal(0, 0.05, (n, 10))), np.full((n, 2), np.nan)])
    p = panel(values, groups=["a"] * 20 + ["b"] * 20, last=21)
    errors = measure_errors(p, 2, "model", S)
    assert errors.samples > 0 and len(errors.origins) > 0
    fc = point_forecast(p, 21, 2, "model", S)
    one = simulate(fc, p.groups, errors, 200, np.random.default_rng(7), S)
    two = simulate(fc, p.groups, errors, 200, np.random.default_rng(7), S)
    assert np.array_equal(one, two)
    totals = one.sum(axis=(1, 2))
    assert np.quantile(totals, 0.1) < fc.values.sum() < np.quantile(totals, 0.9)


def test_pace_scales_last_years_rest_of_the_quarter():
    on = np.array(
        ["2023-10-05", "2023-10-20", "2023-11-10", "2023-12-01", "2023-12-20",  # last year: 2 by 10-25, 3 after
         "2024-10-03", "2024-10-04", "2024-10-10", "2024-10-24",  # this year: 4 by 10-25
         "2023-03-01", "2024-03-01"], dtype="datetime64[D]")
    p, pool = pace(on, date(2024, 10, 25), date(2024, 10, 1), date(2024, 12, 31), prior=0)
    assert (p.so_far, p.last_year_so_far, p.last_year_rest) == (4, 2, 3) and p.from_last_year
    assert p.expected == pytest.approx(3 * 4 / 2)
    draw_of, picked, dates = draw_new(p, pool, on, date(2024, 10, 25), date(2024, 12, 31), 500, 10.0,
                                      np.random.default_rng(3))
    assert set(picked.tolist()) <= {2, 3, 4}
    assert (dates > np.datetime64("2024-10-25")).all() and (dates <= np.datetime64("2024-12-31")).all()
    assert np.bincount(draw_of, minlength=501)[1:].mean() == pytest.approx(6, rel=0.15)


def test_fewer_rows_counted_give_a_wider_range_of_rows_to_come():
    """The pace and last year's rest are estimated from counts: 3 rows after the day last year and
    4 against 2 so far say less than 300 and 400 against 200, though the pace is the same. With few
    rows the number still to come varies more than a Poisson count of the same mean would."""

    def pace_of(scale: int):
        on = np.concatenate([np.repeat(np.datetime64("2023-10-05"), 2 * scale),
                             np.repeat(np.datetime64("2023-12-01"), 3 * scale),
                             np.repeat(np.datetime64("2024-10-04"), 4 * scale)])
        return on, *pace(on, date(2024, 10, 25), date(2024, 10, 1), date(2024, 12, 31), prior=0)

    def relative_spread(p) -> float:
        means = p.draw_means(4000, np.random.default_rng(5)) / p.expected
        assert means.mean() == pytest.approx(1, rel=0.05)
        return float(np.quantile(means, 0.9) - np.quantile(means, 0.1))

    (on, few, pool), (_, many, _) = pace_of(1), pace_of(100)
    assert few.expected == pytest.approx(6) and many.expected == pytest.approx(600)
    assert relative_spread(few) > 3 * relative_spread(many)
    draw_of, _, _ = draw_new(few, pool, on, date(2024, 10, 25), date(2024, 12, 31), 4000, 1e6,
                             np.random.default_rng(5))
    counts = np.bincount(draw_of, minlength=4001)[1:]
    assert counts.var() > 3 * counts.mean()


def test_without_last_years_quarter_the_years_daily_rate_is_used():
    on = np.array(["2024-01-15", "2024-04-15", "2024-07-15"], dtype="datetime64[D]")
    p, pool = pace(on, date(2024, 9, 30), date(2024, 10, 1), date(2024, 12, 31), prior=5)
    assert not p.from_last_year and p.expected == pytest.approx(3 / 274 * 92)
    assert sorted(pool.tolist()) == [0, 1, 2]


def test_power_signal_weights_come_from_the_data():
    """Output follows power month by month in one world, not at all in the other: the estimated
    weights find it."""
    rng = np.random.default_rng(5)
    n, months = 80, 24
    groups = np.array(["a"] * 40 + ["b"] * 40, dtype=object)
    kwh = rng.uniform(1e5, 2e5, (n, 1)) * np.exp(np.cumsum(rng.normal(0, 0.05, (n, months)), axis=1))
    follows = kwh / 1000 * np.exp(rng.normal(0, 0.01, (n, months)))
    ignores = rng.uniform(100, 200, (n, 1)) * np.exp(rng.normal(0, 0.05, (n, months)))
    for output, expect_weight in ((follows, True), (ignores, False)):
        p = Panel("t", np.array([f"E{i}" for i in range(n)], dtype=object), groups, START, output, months - 1,
                  np.zeros(n, dtype=int), np.full(n, 10**6))
        signal = PowerSignal(kwh.copy(), np.full(months, 30.0), {}, 3, 7)
        plain = {o: point_forecast(p, o, 1, "model", S).values[:, 0] for o in range(14, months - 1)}
        fitted = estimate(signal, p, plain, 5)
        assert (fitted.beta_own > 0.5) is expect_weight, (fitted.beta_group, fitted.beta_own)


def test_destinations_first_served_after_the_latest_delivery_come_from_last_years_late_ones():
    """As of October's customs (one new pair so far, as last year by October), the quarter still
    gets about as many new pairs as last year's November and December had, each with its quarter's
    value, under a simulated exporter; once December is delivered none."""
    import duckdb

    from dagster_project.lib.forecast import draws as fd
    from dagster_project.lib.forecast.settings import ForecastSettings
    from dagster_project.lib.measures.catalogue import load_catalogue
    from dagster_project.lib.measures.parameters import Parameters

    con = duckdb.connect()
    con.execute("create schema marts; create schema forecast")
    con.execute("""create table marts.fct_export_destination_quarter (uscc varchar, destination varchar,
                   quarter_start date, value_cny_yuan decimal(18, 2), is_new_destination boolean,
                   history_covers_lookback boolean)""")
    con.execute("create table marts.fct_export_destination_month (uscc varchar, destination varchar, month date, "
                "value_cny_yuan decimal(18, 2))")
    for uscc, dest, first, value in [("A", "USA", date(2023, 10, 1), 100), ("B", "VNM", date(2023, 11, 1), 2000),
                                     ("C", "THA", date(2023, 12, 1), 30000), ("D", "USA", date(2024, 10, 1), 7)]:
        quarter = date(first.year, 10, 1)
        con.execute("insert into marts.fct_export_destination_quarter values (?, ?, ?, ?, true, true)",
                    [uscc, dest, quarter, value])
        con.execute("insert into marts.fct_export_destination_month values (?, ?, ?, ?)", [uscc, dest, first, value])
    settings = ForecastSettings.from_parameters(Parameters(load_catalogue()))
    october = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                         date(2024, 10, 1), date(2024, 10, 1), date(2024, 11, 25))
    fd._write_new_export_destinations(con, october, settings, 2000, np.random.default_rng(1))
    new = con.execute("select draw, uscc, source_uscc, destination, q4_cny from forecast.new_export_destinations").df()
    assert set(zip(new.source_uscc, new.destination, new.q4_cny.astype(float))) == {("B", "VNM", 2000.0),
                                                                                    ("C", "THA", 30000.0)}
    assert new.uscc.str.startswith(fd.PSEUDO + "export:").all() and new.uscc.is_unique
    assert len(new) / 2000 == pytest.approx(2, rel=0.1)  # 2 pairs after October last year × pace 1
    closed = dataclasses.replace(october, stats_month=date(2024, 12, 1), customs_month=date(2024, 12, 1))
    fd._write_new_export_destinations(con, closed, settings, 1, np.random.default_rng(1))
    assert con.execute("select count(*) from forecast.new_export_destinations").fetchone()[0] == 0
