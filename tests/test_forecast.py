"""The forecast's parts on panels built by hand: point forecasts, the pace of new rows, the power
signal's weights, the draws' quantiles."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from decimal import Decimal

import duckdb
import numpy as np
import pytest

from dagster_project.lib.forecast import draws as fd
from dagster_project.lib.forecast.new_events import (assign_entries, completeness, draw_new, entry_weights, pace,
                                                     registered_through)
from dagster_project.lib.forecast.panel import NEVER, Panel, load_panel, month_index, progress
from dagster_project.lib.forecast.series import (
    FALLBACK, POOLED_GROUP, SEASONAL, ErrorModel, PointForecast, SeriesSettings, SharedDraws, _draw_own, _runway_class,
    error_groups_at, estimate_shrinkage, late_reporters, measure_errors, point_forecast, simulate, with_late_months,
    within_plan,
)
from dagster_project.lib.forecast.settings import ForecastSettings
from dagster_project.lib.forecast.signal import PowerSignal, estimate, read_shares
from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.parameters import Parameters

S = SeriesSettings(growth_window=3, min_growth_months=2, runway_bounds=(3.0, 9.0), min_peers=2,
                   own_seasonal=True, training_months=24, min_group_entities=2, min_error_samples=5,
                   fallback_spread=0.2, size_classes=1, min_origins=2, common_jitter=0.5,
                   untested_step_spread=0.5)
START = date(2023, 1, 1)


def panel(values, groups=None, last=None, progress=None, planned=None) -> Panel:
    v = np.asarray(values, dtype=float)
    n, t = v.shape
    first = np.array([int(np.argmax(~np.isnan(row))) for row in v])
    return Panel("test", np.array([f"E{i}" for i in range(n)], dtype=object),
                 np.array(groups or ["g"] * n, dtype=object), START, v,
                 t - 1 if last is None else last, first, np.full(n, 10**6),
                 None if progress is None else np.asarray(progress, dtype=float),
                 None if planned is None else np.asarray(planned, dtype=float))


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


@pytest.mark.parametrize("late_report_months, late", [(0, []), (1, [1]), (2, [1, 2])])
def test_an_entity_missing_only_its_latest_months_is_late_not_stopped(late_report_months, late):
    """E1 has not reported the latest month (its report comes in a later delivery), E2 the last two;
    E3 missed the latest month and left the statistics (退库) in it; E4 stopped long ago; E5 left
    规上 long ago, was still tracked (临规) and missed the latest month. Late are those missing at
    most `late_report_months` months and not gone after their latest report: their months up to
    the latest delivered one are filled with their point forecast from their own latest report."""
    year = [100.0] * 11 + [200.0]
    this_year = [110.0] * 9
    rows = [year + this_year, year + this_year[:8] + [np.nan], year + this_year[:7] + [np.nan] * 2,
            year + this_year[:8] + [np.nan], year + [110.0] * 3 + [np.nan] * 6, year + this_year[:8] + [np.nan]]
    p = panel([r + [np.nan] * 3 for r in rows], last=20)
    left = np.full(6, 10**6)
    left[3] = 20  # left in the latest month, after its latest report
    left[5] = 5  # left 规上 in June 2023 and reported on as 临规
    s = dataclasses.replace(S, late_report_months=late_report_months)
    late_from = late_reporters(p, left, s)
    late = late + [5] if late else late
    assert np.flatnonzero(late_from >= 0).tolist() == late
    assert late_from[late].tolist() == {0: [], 1: [19, 19], 2: [19, 18, 19]}[late_report_months]
    live, filled = with_late_months(p, late_from, "model", s)
    assert np.flatnonzero(filled.any(axis=1)).tolist() == late
    for row in late:
        origin = int(late_from[row])
        expected = point_forecast(p, origin, 20 - origin, "model", s).values[row]
        assert live.values[row, origin + 1:21] == pytest.approx(expected)
        assert filled[row].sum() == 20 - origin
    assert np.array_equal(np.isnan(live.values[[0, 3, 4]]), np.isnan(p.values[[0, 3, 4]]))
    fc = point_forecast(live, 20, 3, "model", s)
    assert fc.active.tolist() == [True] + [i in late for i in range(1, 6)]


def test_projects_take_the_step_of_projects_with_as_much_plan_ahead_a_year_earlier():
    """Last year a project with years of plan ahead at its pace (a fifth of 1000 built, 10 a month:
    80 months) doubled into December and one a month from its plan (90 of 100, 10 a month) rose by
    half: this year's project 13 months from its plan (a third of 1000, 50 a month) gets the
    doubling, the one 1.5 months from it the half. A project without a plan is a class of its own,
    which with too few peers takes every peer's step."""
    nan = np.nan
    early_then = [nan] * 8 + [10.0, 10.0, 10.0, 20.0] + [nan] * 12
    late_then = [10.0] * 11 + [15.0] + [nan] * 12
    early_now = [nan] * 20 + [50.0, 50.0, 50.0, nan]
    late_now = [nan] * 12 + [10.0] * 11 + [nan]
    values = [early_then, early_then, late_then, late_then, early_now, late_now, late_now]
    share = [0.2, 0.2, 0.9, 0.9, 0.33, 0.85, nan]
    planned = [1000.0, 1000.0, 100.0, 100.0, 1000.0, 100.0, nan]
    p = panel(values, last=22, progress=[[s] * 24 for s in share], planned=planned)
    fc = point_forecast(p, 22, 1, "model", dataclasses.replace(S, own_seasonal=False))
    assert fc.values[4, 0] == pytest.approx(100.0) and fc.values[5, 0] == pytest.approx(15.0)
    assert fc.values[6, 0] == pytest.approx(10.0 * (20.0 + 20.0 + 15.0 + 15.0) / 40.0)
    assert fc.kind[4] == FALLBACK
    one_class = point_forecast(p, 22, 1, "model", dataclasses.replace(S, own_seasonal=False, runway_bounds=()))
    assert one_class.values[4, 0] == pytest.approx(50.0 * 70.0 / 40.0)


def test_the_runway_is_the_plan_left_at_the_recent_pace_not_the_share_built():
    """Two projects 65% through their plans: a renovation of 60 building 10 a month is 2 months from
    its end, a plant of 3000 building 50 a month 21 months. Last year's peers at 65% were a short
    one that stopped and a long one that went on: each project takes its own kind's step. Up to
    `completion_share` of the plan where the forecast stops projects: at 1.1 the renovation has
    2.7 months left, still short of 3."""
    nan = np.nan
    short_then = [10.0] * 11 + [0.0] + [nan] * 12
    long_then = [50.0] * 12 + [nan] * 12
    short_now = [nan] * 12 + [10.0] * 11 + [nan]
    long_now = [nan] * 12 + [50.0] * 11 + [nan]
    p = panel([short_then, long_then, short_now, long_now], last=22, progress=[[0.65] * 24] * 4,
              planned=[60.0, 3000.0, 60.0, 3000.0])
    one_peer = dataclasses.replace(S, own_seasonal=False, min_peers=1)
    for share in (float("inf"), 1.1):
        assert runway_class_of(p, 22, dataclasses.replace(one_peer, completion_share=share)).tolist()[2:] == [0, 2]
    fc = point_forecast(p, 22, 1, "model", one_peer)
    assert fc.values[2:, 0].tolist() == pytest.approx([0.0, 50.0])
    # A project's equipment (here a fifth of its investment) keeps the investment's runway: its own
    # pace would put the renovation 10 months from a plan that holds the whole building.
    equipment = dataclasses.replace(p, values=p.values / 5)
    assert runway_class_of(equipment, 22, one_peer).tolist()[2:] == [2, 2]
    assert runway_class_of(dataclasses.replace(equipment, pace=p.values), 22, one_peer).tolist()[2:] == [0, 2]


def runway_class_of(p: Panel, col: int, s: SeriesSettings) -> np.ndarray:
    return _runway_class(p, col, s.growth_window, s)


def test_a_class_with_few_peers_a_year_takes_its_peers_of_every_year_together():
    """Each year one project near its plan wound down into December (×0.5) while two half-built
    ones pushed (×3): with `min_peers` 2 neither year alone has enough late peers, both years
    together do. Before, the late project took every peer's step of each year (65 / 30, most of it
    the push of projects still building: on a replay of the other process ×2.1 for ×0.8 to come)."""
    nan = np.nan

    def peer(first: int, december: float) -> list[float]:
        return [nan] * first + [10.0] * 5 + [december] + [nan] * (30 - first)

    rows = [peer(6, 30.0), peer(6, 30.0), peer(6, 5.0), peer(18, 30.0), peer(18, 30.0), peer(18, 5.0)]
    rows += [[nan] * 30 + [40.0] * 3 + [nan] * 3] * 2
    share = [0.2, 0.2, 0.9, 0.2, 0.2, 0.9, 0.2, 0.9]
    planned = [1000.0 if s < 0.5 else 100.0 for s in share]  # 80 months of plan ahead, or 1 (20 and 0.25 now)
    p = panel(rows, last=32, progress=[[s] * 36 for s in share], planned=planned)
    fc = point_forecast(p, 32, 3, "model", dataclasses.replace(S, own_seasonal=False))
    assert fc.values[6].tolist() == pytest.approx([40.0, 40.0, 120.0])
    assert fc.values[7].tolist() == pytest.approx([40.0, 40.0, 20.0])
    three_peers = point_forecast(p, 32, 3, "model", dataclasses.replace(S, own_seasonal=False, min_peers=3))
    assert three_peers.values[7, 2] == pytest.approx(40.0 * 65.0 / 30.0)


def test_progress_is_the_reported_total_so_far_over_the_plan():
    """What the project reported before the panel's first month counts too (E3: 50 before, then 10
    a month of a plan of 100); a plan of 0 and no plan: no progress."""
    con = duckdb.connect()
    p = panel([[10.0, np.nan, 30.0], [5.0, 5.0, 5.0], [1.0, 1.0, 1.0], [10.0, 10.0, 10.0]], last=2)
    planned, share = progress(p, con, """select * from (values ('E0', 100.0, null), ('E1', 0.0, 0.0), ('E3', 100.0, 50.0))
                                t(key, planned, built_before)""")
    assert share[0].tolist() == pytest.approx([0.1, 0.1, 0.4])
    assert share[3].tolist() == pytest.approx([0.6, 0.7, 0.8])
    assert np.isnan(share[1]).all() and np.isnan(share[2]).all()
    assert planned[0] == planned[3] == 100.0 and np.isnan(planned[1]) and np.isnan(planned[2])


def test_a_project_is_forecast_up_to_its_plan_and_no_further():
    """A project's peers may still be building at full pace while it is near its plan: its
    forecast stops where its total reaches `completion_share` of the plan (E0: 95 of 100 built, a
    share of 1.1 leaves 15: 10 in the first month, 5 in the second, then 0); the same in every draw;
    a project with most of its plan to build (E1), one without a plan (E2), the naive forecast and
    a series without a limit are not held."""
    rows = [[10.0] * 12, [10.0] * 12, [10.0] * 12]
    built = [[0.95] * 12, [0.10] * 12, [np.nan] * 12]
    p = dataclasses.replace(panel(rows, last=8, progress=built), planned=np.array([100.0, 100.0, np.nan]))
    peers = dataclasses.replace(S, own_seasonal=False, runway_bounds=(), min_peers=1, completion_share=1.1)
    fc = point_forecast(p, 8, 3, "model", peers)
    assert fc.values[0].tolist() == pytest.approx([10.0, 5.0, 0.0])
    assert fc.values[1].tolist() == pytest.approx([10.0, 10.0, 10.0])
    assert fc.values[2].tolist() == pytest.approx([10.0, 10.0, 10.0])
    assert fc.room.tolist()[:2] == pytest.approx([15.0, 100.0]) and np.isinf(fc.room[2])
    assert point_forecast(p, 8, 3, "naive", peers).values[0].tolist() == pytest.approx([10.0] * 3)
    unlimited = dataclasses.replace(peers, completion_share=float("inf"))
    assert point_forecast(p, 8, 3, "model", unlimited).values[0].tolist() == pytest.approx([10.0] * 3)
    many = (10.0 * np.random.default_rng(1).lognormal(0, 1, (50, 3, 3))).astype(np.float32)
    held = within_plan(many.copy(), fc.room)
    assert (held[:, 0, :].sum(axis=1) <= 15.0 + 1e-4).all() and held.dtype == np.float32
    assert np.array_equal(held[:, 2, :], many[:, 2, :])


def test_a_project_still_building_past_its_plan_is_not_held_to_it():
    """A project still reporting at three times its plan (E0) has shown that its plan does not
    bound it (`forecast.plan_bounds_to`, here 1.3): forecast on at its peers' pace, and classed
    with the projects without a plan; a project at 1.05 (E1) is held to the 5 left to
    `completion_share` (1.1). One past that share and still investing in its latest month (E3, at
    1.2: three projects of an eleventh data process building at full pace past their plans were 0
    in every draw for seven weeks) is not held at 0 either: it goes on by the step of the projects
    finishing (runway class 0); past it and idle in its latest month (E4), it has finished."""
    rows = [[10.0] * 12, [10.0] * 12, [10.0] * 12, [10.0] * 12, [10.0] * 8 + [0.0] * 4]
    built = [[3.0] * 12, [1.05] * 12, [np.nan] * 12, [1.2] * 12, [1.2] * 12]
    p = dataclasses.replace(panel(rows, last=8, progress=built), planned=np.array([100.0, 100.0, np.nan, 100.0, 100.0]))
    peers = dataclasses.replace(S, own_seasonal=False, runway_bounds=(3.0,), min_peers=1, completion_share=1.1,
                                plan_bounds_to=1.3)
    fc = point_forecast(p, 8, 3, "model", peers)
    assert np.isinf(fc.room[0]) and fc.values[0].tolist() == pytest.approx([10.0] * 3)
    assert fc.room[1] == pytest.approx(5.0) and fc.values[1].tolist() == pytest.approx([5.0, 0.0, 0.0])
    assert np.isinf(fc.room[3]) and (fc.values[3] > 0).all()
    assert fc.room[4] == 0 and fc.values[4].tolist() == [0.0] * 3 and fc.dormant_level[4] == 0
    assert runway_class_of(p, 8, peers).tolist()[:4] == [2, 0, 2, 0]  # E0 with the projects without a plan


def test_the_completion_share_is_a_quantile_of_completed_projects_whole_lives():
    """Completed projects whose whole life the library holds (started after its first month)
    give the share: their total over their plan, at `forecast.completion_quantile`; a project
    started before the library's first month, one still building and one completed after the run's
    latest month do not count; with too few the fallback applies."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("""create table marts.dim_project as select * from (values
        ('OLD', 100.0, date '2021-12-01', date '2022-03-01'),
        ('LATE', 100.0, date '2022-05-01', date '2024-12-01'),
        ('OPEN', 100.0, date '2022-05-01', null)) t(project_code, planned_investment_yuan, start_month, completion_month)""")
    con.execute("""create table marts.fct_project_month as select * from (values
        ('OLD', date '2022-01-01', 10.0), ('OLD', date '2022-02-01', 10.0),
        ('LATE', date '2022-05-01', 300.0), ('OPEN', date '2022-05-01', 300.0)) t(project_code, month, investment_yuan)""")
    shares = [0.8 + 0.01 * i for i in range(40)]  # 0.80 .. 1.19
    for i, share in enumerate(shares):
        con.execute("insert into marts.dim_project values (?, 100.0, date '2022-06-01', date '2023-06-01')", [f"P{i}"])
        con.execute("insert into marts.fct_project_month values (?, date '2022-06-01', ?), (?, date '2023-06-01', ?)",
                    [f"P{i}", share * 60, f"P{i}", share * 40])
    settings = ForecastSettings.from_parameters(Parameters(load_catalogue()))
    h = fd.Horizon.of(load_catalogue(), date(2024, 11, 25))
    assert fd._completion_share(con, h, settings) == pytest.approx(np.quantile(shares, settings.completion_quantile))
    few = dataclasses.replace(settings, series=dataclasses.replace(settings.series, min_error_samples=41))
    assert fd._completion_share(con, h, few) == settings.completion_share_fallback == pytest.approx(1.1)


def test_a_projects_step_is_the_mean_of_its_peers_steps_in_every_year_of_the_training_window():
    """The December push of projects varies from year to year (on the other process ×2.7, ×1.4,
    ×2.1 in three years): one year's push is one draw of it. With peers two years back a project's
    step is the mean of both years' (×3 and ×1: ×2); a window of twelve months takes last year's
    alone; a year before the data is no year (not a step of 1)."""
    nan = np.nan
    two_years_ago = [nan] * 6 + [10.0] * 5 + [30.0] + [nan] * 24  # Jul–Sep 10 → December 30
    last_year = [nan] * 18 + [10.0] * 6 + [nan] * 12  # → December 10
    now = [nan] * 30 + [50.0] * 3 + [nan] * 3
    p = panel([two_years_ago, last_year, now], last=32)
    peers = dataclasses.replace(S, own_seasonal=False, runway_bounds=(), min_peers=1)
    assert point_forecast(p, 32, 3, "model", peers).values[2, 2] == pytest.approx(100.0)
    assert point_forecast(p, 32, 3, "model", dataclasses.replace(peers, training_months=12)).values[2, 2] == (
        pytest.approx(50.0))
    pushed_last_year = [nan] * 18 + [10.0] * 5 + [30.0] + [nan] * 12
    p = panel([[nan] * 36, pushed_last_year, now], last=32)
    assert point_forecast(p, 32, 3, "model", peers).values[2, 2] == pytest.approx(150.0)


def test_projects_finish_at_the_rate_their_peers_finished_a_year_earlier():
    """Last year, of two projects reporting 10 a month in September, one went on at 10 into
    October and one finished in September (nothing after): the step into October is 10 / 20, so
    this year's project is forecast at half its level — the expected value of going on or not.
    A project recorded as completed in September a year earlier had finished by then: no peer."""
    nan = np.nan
    goes_on = [10.0] * 10 + [nan] * 14
    finishes = [10.0] * 9 + [nan] * 15
    finished_earlier = [10.0] * 9 + [nan] * 15
    now = [nan] * 12 + [40.0] * 9 + [nan] * 3
    p = panel([goes_on, finishes, finished_earlier, now], last=20)
    p.stops[2] = 8
    fc = point_forecast(p, 20, 1, "model", dataclasses.replace(S, own_seasonal=False, runway_bounds=()))
    assert fc.values[3, 0] == pytest.approx(20.0)


def test_a_year_with_fewer_peers_than_min_peers_teaches_no_step():
    """At `tiny` the one project reporting a year earlier stopped after September: its step of 0 made
    every project's Q4 a 0 and the week-1 total −91%. With fewer peers than `min_peers` the year is
    skipped and, no year left, a project carries its recent level flat."""
    nan = np.nan
    finished = [10.0] * 9 + [nan] * 15
    now = [nan] * 12 + [40.0] * 9 + [nan] * 3
    p = panel([finished, now], last=20)
    projects = dataclasses.replace(S, own_seasonal=False, runway_bounds=())
    assert point_forecast(p, 20, 3, "model", dataclasses.replace(projects, min_peers=2)).values[1].tolist() == (
        pytest.approx([40.0, 40.0, 40.0]))
    assert point_forecast(p, 20, 3, "model", dataclasses.replace(projects, min_peers=1)).values[1].tolist() == [0, 0, 0]


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


def _established_and_ramping_up(started_known: bool = True) -> Panel:
    """60 enterprises growing at their own constant rate for 3 years (their lead over the group's
    persists exactly) and 20 plants started in month 12 that ramp up toward their capacity: their
    growth against their first months is large and falls."""
    rng = np.random.default_rng(2)
    months = np.arange(36)
    growth = rng.uniform(0.9, 1.3, (60, 1))
    established = rng.uniform(50, 150, (60, 1)) * growth ** (months / 12)
    ramp = np.where(months >= 12, rng.uniform(50, 150, (20, 1)) * (1 - np.exp(-(months - 11) / 8.0)), np.nan)
    p = panel(np.vstack([established, ramp]), last=35)
    started = np.concatenate([np.full(60, -60 if started_known else NEVER), np.full(20, 12)])
    return dataclasses.replace(p, started=started)


def test_plants_ramping_up_do_not_set_the_shrinkage_of_established_enterprises():
    """Found on a data process without noise (2026-12-08): one slope for all came out 0.50, set by
    the new plants' falling growth, and every established enterprise's growth, constant in the data,
    was forecast halfway to its group's."""
    p = _established_and_ramping_up()
    assert estimate_shrinkage(p, 3, S) < 0.8  # ramp_up_months 0: every entity counts
    assert estimate_shrinkage(p, 3, dataclasses.replace(S, ramp_up_months=24)) == pytest.approx(1.0, abs=0.01)
    # an enterprise whose production start is not known counts as established
    unknown = dataclasses.replace(p, started=np.full(80, NEVER))
    assert estimate_shrinkage(unknown, 3, dataclasses.replace(S, ramp_up_months=24)) == (
        pytest.approx(estimate_shrinkage(p, 3, S)))


def test_a_plant_ramping_up_goes_by_its_recent_level_not_by_its_first_year():
    """A plant started 15 months before the origin reached its capacity of 100 a month in its fourth
    month: its growth against the same months a year earlier (20, 30, 100) is ×2, and last year's
    months ahead were already at capacity: its own year says 200 a month where it reports 100 (on
    the other process a 有色金属 plant at 552万kWh a month was forecast at 180万kWh for October,
    M24 188万 expected against 42万 paid). Ramping up, it takes its recent level times its peers'
    step: the month a year earlier over the recent level then, of the five established enterprises
    flat at 100 and itself, (5 × 100 + 100) / (5 × 100 + 50)."""
    nan = np.nan
    plant = [nan] * 5 + [10.0, 20.0, 30.0] + [100.0] * 13
    p = dataclasses.replace(panel([[100.0] * 21] * 5 + [plant], last=20),
                            started=np.array([-30] * 5 + [5]))
    seasonal = point_forecast(p, 20, 3, "model", S).values[5]
    assert seasonal == pytest.approx([200.0, 200.0, 200.0])
    ramping = point_forecast(p, 20, 3, "model", dataclasses.replace(S, ramp_up_months=24))
    assert ramping.values[5] == pytest.approx([100.0 * 600 / 550] * 3)
    assert ramping.kind[5] == FALLBACK and ramping.kind[0] == SEASONAL


@pytest.mark.parametrize("factor, peer_growth", [(float("inf"), 2.55), (3.0, 1.155), (1.0, 1.0)])
def test_one_entitys_spike_moves_its_peers_only_within_the_outlier_bound(factor, peer_growth):
    # Five peers flat at 100 a month in both years; a sixth (as large) reports 100 times its output
    # in September. A peer's forecast growth is its group's × (its own over the group's)^0.5
    # (shrinkage 0.5), here √(group's). With the plain Σ this year / Σ last year the group grew
    # (5×300 + 10,200) / 1,800 = 6.5 over the window: every peer ×2.55. Bounded at 3× the group's
    # median growth (1.0), the spiker counts at ×3: (1,500 + 900) / 1,800 = 1.33, the peers ×1.155.
    flat = [100.0] * 21
    spike = [100.0] * 20 + [10_000.0]
    p = panel([flat] * 5 + [spike], last=20)
    s = dataclasses.replace(S, growth_shrinkage=0.5, group_outlier_factor=factor)
    fc = point_forecast(p, 20, 3, "model", s)
    assert fc.values[0] == pytest.approx([100.0 * peer_growth] * 3, rel=0.01)
    # the spiker's own growth (10,200 / 300 = 34) still counts for itself, unbounded
    assert fc.values[5, 0] == pytest.approx(100.0 * (peer_growth ** 2 * 34) ** 0.5, rel=0.01)


def test_draws_vary_around_the_point_and_repeat_with_the_seed():
    rng = np.random.default_rng(1)
    n = 40
    base = rng.uniform(50, 150, n)[:, None] * np.ones((1, 12))
    values = np.hstack([base, base[:, :10] * 1.1 * np.exp(rng.normal(0, 0.05, (n, 10))), np.full((n, 2), np.nan)])
    p = panel(values, groups=["a"] * 20 + ["b"] * 20, last=21)
    errors = measure_errors(p, 2, "model", S)
    assert errors.samples > 0 and len(errors.origins) > 0
    fc = point_forecast(p, 21, 2, "model", S)
    one = simulate(fc, p, errors, 200, np.random.default_rng(7), S)
    two = simulate(fc, p, errors, 200, np.random.default_rng(7), S)
    assert np.array_equal(one, two)
    totals = one.sum(axis=(1, 2))
    assert np.quantile(totals, 0.1) < fc.values.sum() < np.quantile(totals, 0.9)


def test_own_deviations_spread_the_total_without_moving_it():
    """Past origins: small forecasts that grew several-fold (own ratio 5) beside large ones slightly
    over-forecast (0.9), a forecast-weighted mean of 1 (the group's total was right). Today's mix is
    small forecasts only: drawn as measured, their paths would lift the total's median about
    fivefold. Centred per group and month, the draws' mean total is the point forecast."""
    rng = np.random.default_rng(2)
    horizon, small, large = 2, 60, 20
    paths = np.vstack([np.where(rng.random((small, horizon)) < 0.5, 9.0, 1.0), np.full((large, horizon), 0.9)])
    sizes = np.concatenate([np.full(small, 1.0), np.full(large, 10.0)])
    errors = _own_paths(paths, sizes)
    n = 30
    fc = PointForecast(np.full((n, horizon), 1.0), np.full(n, SEASONAL), np.ones(n, bool), 0, np.ones(n), False,
                        np.full(n, np.inf))
    settings = dataclasses.replace(S, size_classes=2, common_jitter=0.0)
    draws = simulate(fc, panel(np.ones((n, 3))), errors, 400, np.random.default_rng(3), settings)
    totals = draws.sum(axis=1)  # (draws, H)
    assert totals.mean(axis=0) == pytest.approx(fc.values.sum(axis=0), rel=1e-4)
    assert np.median(totals, axis=0) == pytest.approx(fc.values.sum(axis=0), rel=0.15)
    assert np.quantile(totals, 0.9, axis=0).min() > 1.2 * np.quantile(totals, 0.1, axis=0).max()


def test_past_paths_are_drawn_as_often_as_their_forecasts_weigh():
    """At a past origin the group's total was right: 20 projects forecast at 0.1 that reported 9
    times it (ramping up) beside 80 forecast at 1 that reported 0.8 times it, a forecast-weighted
    mean of 1. Drawn uniformly, the ramp-ups made the own draws' mean 2.4, and the centring divided
    every draw by it: a typical project's draws sat at a third of what its kind reported, and a
    plan cut their upper tail away (the other process's projects, August origins: the Q4 median
    41% below the outcome). Drawn with the weight of their forecast, the paths' mean is what the
    group's total measured, and a typical draw is the 0.8 the large ones reported."""
    rng = np.random.default_rng(8)
    horizon, ramping, steady = 2, 20, 80
    paths = np.vstack([np.full((ramping, horizon), 9.0), np.full((steady, horizon), 0.8)])
    sizes = np.concatenate([np.full(ramping, 0.1), np.full(steady, 1.0)])
    assert (paths[:, 0] * sizes).sum() / sizes.sum() == pytest.approx(1.0)
    errors = _own_paths(paths, sizes)
    n = 30
    fc = PointForecast(np.full((n, horizon), 1.0), np.full(n, SEASONAL), np.ones(n, bool), 0, np.ones(n), False,
                       np.full(n, np.inf))
    settings = dataclasses.replace(S, size_classes=1, common_jitter=0.0)
    draws = simulate(fc, panel(np.ones((n, 3))), errors, 400, rng, settings)
    assert draws.sum(axis=1).mean(axis=0) == pytest.approx(fc.values.sum(axis=0), rel=1e-4)
    assert np.median(draws) == pytest.approx(0.8, rel=0.05)


def test_a_project_draws_the_paths_of_past_projects_of_its_runway():
    """Past projects of one size: those reaching their plan within the quarter (runway class 0)
    reported a tenth of their forecast, those with a year of plan ahead (class 2) 1.1 times it.
    A project with a year ahead draws the paths of its class; where its class holds fewer than
    `min_error_samples` paths, those of its size class whatever their runway."""
    horizon, per_class = 2, 40
    paths = np.vstack([np.full((per_class, horizon), 0.1), np.full((per_class, horizon), 1.1)])
    runway_then = np.repeat([0, 2], per_class)
    errors = _own_paths(paths, np.ones(2 * per_class), runway=runway_then)
    n = 10
    fc = PointForecast(np.full((n, horizon), 1.0), np.full(n, SEASONAL), np.ones(n, bool), 0, np.ones(n), True,
                       np.full(n, np.inf))
    settings = dataclasses.replace(S, size_classes=1)
    for runway, expected in ((np.full(n, 2), {1.1}), (np.full(n, 0), {0.1}), (np.full(n, 1), {0.1, 1.1})):
        own = _draw_own(fc, errors, 200, np.random.default_rng(9), settings, np.array([f"E{i}" for i in range(n)]),
                        SharedDraws(), "project", runway)
        assert {round(float(x), 3) for x in np.unique(own)} == expected


def test_fewer_origins_than_min_origins_move_no_draw():
    """Past origins whose group came in at e times its forecast: with `min_origins` of them the
    draws carry that bias; with fewer (a history that begins a few months before the forecast, or
    one that starts mid-year) it is one stretch of months' luck, and moving every draw by it made
    a case's output median 2.7 times its point forecast. The draws then spread around the point
    forecast by the fallback spread, and the errors count as not measured (the sheet warns)."""
    horizon, n = 2, 30
    errors = _own_paths(np.ones((40, horizon)), np.ones(40), common=np.full(3, 1.0))
    fc = PointForecast(np.full((n, horizon), 1.0), np.full(n, SEASONAL), np.ones(n, bool), 0, np.ones(n), False,
                        np.full(n, np.inf))
    for min_origins, median, measured in ((3, np.e, True), (4, 1.0, False)):
        settings = dataclasses.replace(S, min_origins=min_origins, common_jitter=0.0)
        draws = simulate(fc, panel(np.ones((n, 3))), errors, 400, np.random.default_rng(4), settings)
        assert np.median(draws.sum(axis=1) / n, axis=0) == pytest.approx([median] * horizon, rel=0.05)
        assert errors.measured(horizon, settings) is measured


def _own_paths(paths: np.ndarray, sizes: np.ndarray, common: np.ndarray | None = None,
               runway: np.ndarray | None = None) -> ErrorModel:
    """Errors measured at three past origins: own paths of past entities P0, P1, … (all from origin
    0), common errors of group "g" and the pooled ones (0 unless given, (3,) per origin), the
    runway class of each path's entity then (0 unless given)."""
    count, horizon = paths.shape
    logs = np.zeros((2, 3, horizon)) if common is None else np.broadcast_to(common[None, :, None], (2, 3, horizon))
    return ErrorModel(np.arange(3), ["g", POOLED_GROUP], logs.copy(), paths, np.full(count, SEASONAL), sizes,
                      np.array([f"P{i}" for i in range(count)], dtype=object), np.zeros(count, np.int64),
                      paths.size, np.array([0]), np.zeros(count, np.int64) if runway is None else runway)


def test_a_path_measured_against_a_forecast_near_zero_does_not_move_the_others():
    """A stopped plant's month of 100 元 made a past forecast of a few hundred 元, and its restart
    an own path of ×30,373: drawn for any entity, it made the forecast-weighted mean the own draws
    are centred on huge, and the centring divided every entity's draws of the group by it (the
    December median of 169 of 171 enterprises fell under their point forecast's P10 on a fourth
    data process). Paths are kept within [1/cap, cap]: the median draw stays at the point forecast."""
    rng = np.random.default_rng(5)
    past, n, horizon = 1346, 60, 1  # as many paths as that process's output measured
    paths = np.exp(rng.normal(0, 0.2, (past, horizon)))
    paths[0] = 30_373.0
    errors = _own_paths(paths, np.ones(past))
    fc = PointForecast(np.full((n, horizon), 1.0), np.full(n, SEASONAL), np.ones(n, bool), 0, np.ones(n), False,
                        np.full(n, np.inf))
    for cap, ratio in ((float("inf"), None), (50.0, 1.0)):
        settings = dataclasses.replace(S, common_jitter=0.0, own_deviation_cap=cap)
        draws = simulate(fc, panel(np.ones((n, 3))), errors, 400, np.random.default_rng(4), settings)
        median = float(np.median(draws[:, :, 0]))
        if ratio is None:
            assert median < 0.5  # uncapped: every entity pushed down by the one path
        else:
            assert median == pytest.approx(ratio, rel=0.05)
            assert draws.max() <= 50.0 * 1.0001  # no draw beyond the cap (the common errors are 1 here)


def test_series_of_one_run_draw_the_same_origin_and_the_same_past_entitys_path():
    """Output and electricity of the same enterprises: in each draw both take the common errors of
    one past origin, and each enterprise the own path of one past enterprise in both (so that the
    enterprises whose output surprised in a draw are those whose power did). Drawn apart, the two
    series' deviations are unrelated."""
    rng = np.random.default_rng(4)
    past, n, horizon = 200, 50, 2
    output_paths = np.exp(rng.normal(0, 0.3, (past, horizon)))
    power_paths = output_paths * np.exp(rng.normal(0, 0.05, (past, horizon)))  # the same enterprises' power
    common = np.log([0.8, 1.0, 1.25])
    output_errors = _own_paths(output_paths, np.ones(past), common)
    power_errors = _own_paths(power_paths, np.ones(past), common)
    fc = PointForecast(np.full((n, horizon), 1.0), np.full(n, SEASONAL), np.ones(n, bool), 0, np.ones(n), False,
                        np.full(n, np.inf))
    p = panel(np.ones((n, 3)))
    settings = dataclasses.replace(S, common_jitter=0.0)

    def correlation(shared):
        output = simulate(fc, p, output_errors, 300, np.random.default_rng(1), settings, shared, "enterprise")
        power = simulate(fc, p, power_errors, 300, np.random.default_rng(2), settings, shared, "enterprise")
        totals_agree = np.corrcoef(output.sum(axis=(1, 2)), power.sum(axis=(1, 2)))[0, 1]
        x, y = np.log(output[:, :, 0]), np.log(power[:, :, 0])
        x, y = x - x.mean(axis=1, keepdims=True), y - y.mean(axis=1, keepdims=True)  # within a draw
        return totals_agree, float(np.corrcoef(x.ravel(), y.ravel())[0, 1])

    together, apart = correlation(SharedDraws()), correlation(None)
    assert together[0] > 0.95 and together[1] > 0.95
    assert abs(apart[1]) < 0.1 and apart[0] < together[0] - 0.3


def _december_push_panel(years: int, seed: int = 3) -> Panel:
    """Entities at about 100 a month with December doubled, `years` years, the last one through September."""
    rng = np.random.default_rng(seed)
    n = 40
    year = np.array([100.0] * 11 + [200.0])
    rows = np.tile(year, years)[None, :] * rng.uniform(0.5, 1.5, (n, 1)) * np.exp(rng.normal(0, 0.05, (n, 12 * years)))
    rows[:, -3:] = np.nan
    return panel(rows, groups=["a"] * 20 + ["b"] * 20, last=12 * years - 4)


def _spread(draws: np.ndarray) -> np.ndarray:
    """Per month ahead: P90 / P10 of the simulated total."""
    totals = draws.sum(axis=1)
    return np.quantile(totals, 0.9, axis=0) / np.quantile(totals, 0.1, axis=0)


PEERS = dataclasses.replace(S, own_seasonal=False)


def test_projects_share_their_common_errors_by_age_since_their_start():
    """Projects' steps come from peers of their runway, young or old, and every past origin of the
    replayed data forecast the projects in their first months low (they ramp up: 1.04-2.07 times
    their forecast three months ahead). With `age_bands` the common errors are measured and drawn
    per age class at each origin: the young projects' draws carry their ramp, the old ones' their
    own error (here high: their peers' steps hold the young ones' ramp). Pooled, the young take the
    old ones' errors. Without bands, or for a calendar series, the groups are the panel's."""
    nan = np.nan
    months = 30
    rows, started = [], []
    for i in range(6):  # old projects, flat
        rows.append([10.0] * months)
        started.append(0)
    for start in range(4, 26, 2):  # a project starting every other month, ramping over six months
        rows.append([nan] * start + [10.0 * min(k + 1, 6) for k in range(months - start)])
        started.append(start)
    p = dataclasses.replace(panel(rows, last=26), started=np.array(started))
    young = dataclasses.replace(PEERS, runway_bounds=(), min_peers=1, age_bands=(6.0,))
    assert error_groups_at(p, 26, young).tolist() == ["age1"] * 15 + ["age0"] * 2  # started at 22 and 24
    assert error_groups_at(p, 26, PEERS).tolist() == ["g"] * len(rows)
    assert error_groups_at(p, 26, dataclasses.replace(young, own_seasonal=True)).tolist() == ["g"] * len(rows)
    by_age = measure_errors(p, 3, "model", young)
    ramp = np.nanmean(by_age.common[by_age.groups.index("age0")], axis=0)
    flat = np.nanmean(by_age.common[by_age.groups.index("age1")], axis=0)
    assert (ramp > 0.2).all() and (np.abs(flat) < np.abs(ramp)).all()
    fc = point_forecast(p, 26, 3, "model", young)
    draws = simulate(fc, p, by_age, 400, np.random.default_rng(0), young, entity_kind="project")
    lift = np.median(draws, axis=0) / fc.values
    assert (lift[-2:] > 1.2).all()  # the ramp the point forecast misses
    assert (lift[:6] < 1).all()  # the old ones stepped like their peers, the young among them: high
    pooled = dataclasses.replace(young, age_bands=())
    together = simulate(fc, p, measure_errors(p, 3, "model", pooled), 400, np.random.default_rng(0), pooled,
                        entity_kind="project")
    pooled_lift = np.median(together, axis=0) / fc.values
    assert (pooled_lift[-2:] < 1).all()  # pooled with the old, the young take the old's errors


def test_a_december_push_never_tested_out_of_sample_widens_only_december():
    """Two years of history: no past origin forecast a December, so the peers' doubling (seen once)
    is uncertain by a share of itself; October's and November's steps (none) are not widened."""
    p = _december_push_panel(2)
    errors = measure_errors(p, 3, "model", PEERS)
    assert not np.isin(errors.tested % 12, [9, 10, 11]).any()
    fc = point_forecast(p, p.last, 3, "model", PEERS)
    assert fc.values[:, 2].sum() == pytest.approx(2 * fc.values[:, 1].sum(), rel=0.1)
    plain = simulate(fc, p, errors, 400, np.random.default_rng(5), dataclasses.replace(PEERS, untested_step_spread=0))
    widened = simulate(fc, p, errors, 400, np.random.default_rng(5), PEERS)
    assert _spread(widened)[2] > 1.5 * _spread(plain)[2]
    assert _spread(widened)[:2] == pytest.approx(_spread(plain)[:2], rel=0.15)
    # log-symmetric: the median December stays where the point forecast puts it
    assert np.median(widened.sum(axis=1)[:, 2]) == pytest.approx(np.median(plain.sum(axis=1)[:, 2]), rel=0.1)


@pytest.mark.parametrize("years, settings, method", [(3, PEERS, "model"), (2, S, "model"), (2, PEERS, "naive")],
                         ids=["december-tested", "own-seasonal", "naive"])
def test_measured_errors_alone_where_the_step_was_tested_or_is_the_entitys_own(years, settings, method):
    """Three years: last year's December was forecast from earlier origins, its measured errors say
    how the push varies. A series repeating each entity's own year keeps its measured errors too,
    and so does the naive forecast, which takes no peers' steps."""
    p = _december_push_panel(years)
    errors = measure_errors(p, 3, method, settings)
    assert np.isin(errors.tested % 12, [11]).any() == (years == 3)
    fc = point_forecast(p, p.last, 3, method, settings)
    plain = simulate(fc, p, errors, 200, np.random.default_rng(5), dataclasses.replace(settings, untested_step_spread=0))
    same = simulate(fc, p, errors, 200, np.random.default_rng(5), settings)
    assert np.array_equal(plain, same)


def test_pace_scales_last_years_rest_of_the_quarter():
    on = np.array(
        ["2023-10-05", "2023-10-20", "2023-11-10", "2023-12-01", "2023-12-20",  # last year: 2 by 10-25, 3 after
         "2024-10-03", "2024-10-04", "2024-10-10", "2024-10-24",  # this year: 4 by 10-25
         "2023-03-01", "2024-03-01"], dtype="datetime64[D]")
    p, pool = pace(on, date(2024, 10, 25), date(2024, 10, 1), date(2024, 12, 31), prior=0, from_month=1)
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
        return on, *pace(on, date(2024, 10, 25), date(2024, 10, 1), date(2024, 12, 31), prior=0, from_month=1)

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


def test_a_register_is_complete_to_its_latest_row_dated_by_the_as_of_date():
    on = np.array(["2024-10-31", "NaT", "2024-09-01", "2024-12-01"], dtype="datetime64[D]")  # 12-01: after the run
    assert registered_through(on, date(2024, 11, 25)) == date(2024, 10, 31)
    assert registered_through(on, date(2024, 10, 15)) == date(2024, 9, 1)
    assert registered_through(np.array([], dtype="datetime64[D]"), date(2024, 11, 25)) == date(2024, 11, 25)


def _register_copies(seed: int, copy_days: list[str], lag_days: tuple[int, int] = (3, 45), rows: int = 900):
    """A register of `rows` rows dated 2023–2024, each keyed in `lag_days` days after its date, and
    the whole copies delivered on `copy_days`: (versions, keys, dates) of every copy's rows, and
    every row's date (what the last copy will hold once the quarter is keyed in)."""
    rng = np.random.default_rng(seed)
    dates = np.datetime64("2023-01-01") + rng.integers(0, 731, rows).astype("timedelta64[D]")
    keyed = dates + rng.integers(lag_days[0], lag_days[1] + 1, rows).astype("timedelta64[D]")
    versions, keys, on = [], [], []
    for version, day in enumerate(map(np.datetime64, copy_days), start=1):
        held = (keyed <= day) & (dates <= day)
        versions += [version] * int(held.sum())
        keys += np.flatnonzero(held).tolist()
        on += dates[held].tolist()
    return np.array(versions), np.array(keys, dtype=object), np.array(on, dtype="datetime64[D]"), dates


COPIES = ["2023-07-01", "2024-01-01", "2024-04-01", "2024-07-01", "2024-10-14", "2024-11-11"]


def test_a_registers_earlier_copies_tell_how_many_rows_of_its_last_weeks_are_still_to_be_keyed_in():
    """Rows keyed in 3–45 days after their date, the register re-delivered as a whole about monthly
    (a fifth data process's registers). On 11 November the latest copy holds a fraction of the rows
    of its last weeks; taken as complete, the rows of the quarter (so far + still to come) came out
    at 59% of the outcome on average over 30 worlds; with the completeness its earlier copies show,
    at about 100%."""
    ratios = {"complete": [], "copies": []}
    for seed in range(30):
        versions, keys, on, every = _register_copies(seed, COPIES)
        latest = on[versions == versions.max()]
        cutoff = registered_through(latest, date(2024, 11, 11))
        share = completeness(versions, keys, on, 60, 0.9, 30)
        assert share is not None and share[0] < 0.5 and share[-1] == 1.0 and (np.diff(share) >= 0).all()
        outcome = ((every >= np.datetime64("2024-10-01")) & (every <= np.datetime64("2024-12-31"))).sum()
        for name, complete in (("complete", None), ("copies", share)):
            p, _ = pace(latest, cutoff, date(2024, 10, 1), date(2024, 12, 31), 5, 2, complete)
            ratios[name].append((p.so_far + p.expected) / outcome)
    assert np.mean(ratios["complete"]) < 0.7
    assert np.mean(ratios["copies"]) == pytest.approx(1, abs=0.1)


def test_rows_still_to_be_keyed_in_are_dated_by_the_cut_off_and_drawn_from_last_years_rows():
    versions, keys, on, _ = _register_copies(1, COPIES)
    latest = on[versions == versions.max()]
    cutoff = registered_through(latest, date(2024, 11, 11))
    share = completeness(versions, keys, on, 60, 0.9, 30)
    p, pool = pace(latest, cutoff, date(2024, 10, 1), date(2024, 12, 31), 5, 2, share)
    assert 0 < p.unregistered < p.expected
    draw_of, picked, dates = draw_new(p, pool, latest, cutoff, date(2024, 12, 31), 400, 10.0, np.random.default_rng(2))
    before = dates <= np.datetime64(cutoff)
    assert before.any() and (~before).any() and (dates >= np.datetime64("2024-10-01")).all()
    # the share of the rows drawn dated by the cut-off is the share of the expected rows
    assert before.mean() == pytest.approx(p.unregistered / p.expected, abs=0.05)


def test_a_register_keyed_in_on_time_or_delivered_once_forecasts_as_before():
    on_time = _register_copies(3, COPIES, lag_days=(0, 0))
    assert completeness(*on_time[:3], 60, 0.9, 30) is None  # every copy complete: the rows are drawn as before
    latest = on_time[2][on_time[0] == on_time[0].max()]
    cutoff = registered_through(latest, date(2024, 11, 11))
    before, pool_before = pace(latest, cutoff, date(2024, 10, 1), date(2024, 12, 31), 5, 2)
    ones, pool_ones = pace(latest, cutoff, date(2024, 10, 1), date(2024, 12, 31), 5, 2, np.ones(60))
    assert ones.expected == pytest.approx(before.expected) and ones.unregistered == 0 and before.unregistered == 0
    assert pool_ones.tolist() == pool_before.tolist()
    once = _register_copies(3, ["2024-11-11"])
    assert completeness(*once[:3], 60, 0.9, 30) is None  # one copy: nothing to compare


def test_a_copys_completeness_never_falls_with_the_lag():
    """Weeks of lag with 8 of 10, none, 5 of 10 and 9 of 10 rows held, then none: a row keyed in by
    a day is keyed in by every later day, so a fall is pooled with what comes before it, an empty
    week takes its neighbours' share and the last weeks the last share measured."""
    from dagster_project.lib.forecast.new_events import _non_decreasing

    shares = _non_decreasing(np.array([8, 0, 5, 9, 0.0]), np.array([10, 0, 10, 10, 0.0]))
    assert shares.tolist() == pytest.approx([0.65, 0.65, 0.65, 0.9, 0.9])
    assert _non_decreasing(np.zeros(3), np.zeros(3)).tolist() == [1, 1, 1]


@pytest.mark.parametrize(("repeated", "is_copy"), [(90, True), (89, False)])
def test_a_version_is_a_whole_copy_from_the_copy_share_of_the_rows_before_it(repeated, is_copy):
    """Version 1 holds 100 rows up to 28 June; version 2 repeats `repeated` of them and adds 100
    rows of July–August, those of August only half (keyed in late); version 3, two months on, holds
    them all. Version 2 a copy: its August tells how complete a copy is in its last weeks. A
    correction file below the share: version 1 alone is compared (complete in its last weeks)."""
    first = np.arange(100)
    v1_on = np.datetime64("2024-03-01") + (first % 120).astype("timedelta64[D]")
    later = np.arange(100, 260)
    later_on = np.datetime64("2024-07-01") + ((later - 100) % 123).astype("timedelta64[D]")
    v2_later = later[(later_on < np.datetime64("2024-08-01")) | ((later_on < np.datetime64("2024-09-01")) & (later % 2 == 0))]
    v3 = np.concatenate([first, later])
    versions = np.concatenate([np.ones(100, int), np.full(repeated + len(v2_later), 2), np.full(len(v3), 3)])
    keys = np.concatenate([first, first[:repeated], v2_later, v3]).astype(object)
    dates_of = dict(zip(np.concatenate([first, later]).tolist(), np.concatenate([v1_on, later_on])))
    on = np.array([dates_of[k] for k in keys.tolist()], dtype="datetime64[D]")
    share = completeness(versions, keys, on, 60, 0.9, 30)
    assert (share is not None and share.min() < 0.75) if is_copy else share is None


def test_without_last_years_quarter_the_years_daily_rate_is_used():
    on = np.array(["2024-01-15", "2024-04-15", "2024-07-15"], dtype="datetime64[D]")
    p, pool = pace(on, date(2024, 9, 30), date(2024, 10, 1), date(2024, 12, 31), prior=5, from_month=1)
    assert not p.from_last_year and p.expected == pytest.approx(3 / 274 * 92)
    assert sorted(pool.tolist()) == [0, 1, 2]


def test_a_january_batch_is_not_a_pace():
    """400 enterprises first report in January this year, against none last year; later in the year
    one a month, as last year. Counted from February, the year's pace is 1, and the quarter still
    gets about last year's rest; counted from January it would be some 70 times that."""
    later = [f"{y}-{m:02d}-01" for y in (2023, 2024) for m in range(2, 10)]
    on = np.array(["2024-01-01"] * 400 + later + ["2023-11-01", "2023-12-01"], dtype="datetime64[D]")
    p, _ = pace(on, date(2024, 9, 30), date(2024, 10, 1), date(2024, 12, 31), prior=5, from_month=2)
    assert p.expected == pytest.approx(2)
    january, _ = pace(on, date(2024, 9, 30), date(2024, 10, 1), date(2024, 12, 31), prior=5, from_month=1)
    assert january.expected > 60


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
        signal = PowerSignal(kwh.copy(), np.full(months, 30.0), {}, 3, 7, 5.0)
        plain = {o: point_forecast(p, o, 1, "model", S).values for o in range(14, months - 1)}
        fitted = estimate(signal, p, plain, 5)
        assert (fitted.beta_own > 0.5) is expect_weight, (fitted.beta_group, fitted.beta_own)


@pytest.mark.parametrize("lasting", [True, False], ids=["pace-lasts", "pace-passes"])
def test_how_long_a_change_of_pace_lasts_comes_from_the_data(lasting):
    """Each industry's power and output change pace month by month. Where a change lasts (a random
    walk), the month after a power change moves with it (γ near 1) and the forecast carries it
    into the months whose power is not in; where it passes (noise around a level), γ stays low."""
    rng = np.random.default_rng(11)
    n, months = 120, 30
    groups = np.array(["a", "b", "c", "d"] * (n // 4), dtype=object)
    steps = rng.normal(0, 0.06, (4, months))
    level = np.cumsum(steps, axis=1) if lasting else steps
    shared = level[np.arange(n) % 4]
    kwh = rng.uniform(1e5, 2e5, (n, 1)) * np.exp(shared + rng.normal(0, 0.01, (n, months)))
    output = kwh / 1000 * np.exp(rng.normal(0, 0.01, (n, months)))
    p = Panel("t", np.array([f"E{i}" for i in range(n)], dtype=object), groups, START, output, months - 1,
              np.zeros(n, dtype=int), np.full(n, 10**6))
    plain = {o: point_forecast(p, o, 3, "model", S).values for o in range(14, months - 1)}
    fitted = estimate(PowerSignal(kwh.copy(), np.full(months, 30.0), {}, 3, 7, 5.0), p, plain, 5)
    assert len(fitted.carry) == 2
    assert (fitted.carry[0] > 0.6) if lasting else (fitted.carry[0] < 0.45), fitted.carry
    # live: the latest month with power in (month 1 ahead) scales months 2 and 3 by its carry
    live = PowerSignal(kwh.copy(), np.full(months, 30.0), {}, 3, 7, 5.0, fitted.beta_group, fitted.beta_own, fitted.carry)
    live.kwh[:, months - 1:] = np.nan  # the last month's power is not in yet
    factor = live.factor(groups, months - 3, 2, live=True)
    group, _ = live.changes(groups, months - 3, months - 2, live=True)
    assert factor[:, 1] == pytest.approx(np.exp(fitted.carry[0] * group))


def _settings() -> ForecastSettings:
    return ForecastSettings.from_parameters(Parameters(load_catalogue()))


@pytest.mark.parametrize("bound", [5.0, 3.0])
def test_the_power_moves_a_months_output_within_the_catalogues_bound(bound):
    """forecast.power_max_adjustment caps the power's adjustment both ways (a meter read ×10 must not
    make the month ×10); within the bound it passes, where the power does not tell it is 1."""
    signal = PowerSignal(np.ones((1, 3)), np.full(3, 30.0), {}, 3, 7, bound)
    assert signal._bounded(np.array([10.0, 0.01, 2.0, np.nan])).tolist() == [bound, 1 / bound, 2.0, 1.0]
    assert _settings().power_max_adjustment == 5.0


def _new_pairs_warehouse(pairs: list[tuple[str, str, date, int]]) -> duckdb.DuckDBPyConnection:
    """The export marts the new-destination forecast reads: each (uscc, destination, first month,
    value) a pair new in the quarter of its first month, with the history to tell."""
    con = duckdb.connect()
    con.execute("create schema marts; create schema forecast")
    con.execute("""create table marts.fct_export_destination_quarter (uscc varchar, destination varchar,
                   quarter_start date, value_cny_yuan decimal(18, 2), is_new_destination boolean,
                   history_covers_lookback boolean)""")
    con.execute("create table marts.fct_export_destination_month (uscc varchar, destination varchar, month date, "
                "value_cny_yuan decimal(18, 2))")
    for uscc, dest, first, value in pairs:
        quarter = date(first.year, (first.month - 1) // 3 * 3 + 1, 1)
        con.execute("insert into marts.fct_export_destination_quarter values (?, ?, ?, ?, true, true)",
                    [uscc, dest, quarter, value])
        con.execute("insert into marts.fct_export_destination_month values (?, ?, ?, ?)", [uscc, dest, first, value])
    return con


def test_destinations_first_served_after_the_latest_delivery_come_from_last_years_late_ones():
    """As of October's customs (one new pair so far, as last year by October), the quarter still
    gets about as many new pairs as last year's November and December had, each with its quarter's
    value, opened by the exporter opening new destinations this quarter (D), its destination marked
    as forecast; once December is delivered none."""
    con = _new_pairs_warehouse([("A", "USA", date(2023, 10, 1), 100), ("B", "VNM", date(2023, 11, 1), 2000),
                                ("C", "THA", date(2023, 12, 1), 30000), ("D", "USA", date(2024, 10, 1), 7)])
    settings = _settings()
    october = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                         date(2024, 10, 1), date(2024, 10, 1), date(2024, 11, 25))
    fd._write_new_export_destinations(con, october, settings, 2000, np.random.default_rng(1))
    new = con.execute("select draw, uscc, source_uscc, destination, q4_cny from forecast.new_export_destinations").df()
    assert set(zip(new.source_uscc, new.destination, new.q4_cny.astype(float))) == {
        ("B", "VNM（预计）", 2000.0), ("C", "THA（预计）", 30000.0)}
    assert (new.uscc == "D").all()
    assert len(new) / 2000 == pytest.approx(2, rel=0.1)  # 2 pairs after October last year × pace 1
    closed = dataclasses.replace(october, stats_month=date(2024, 12, 1), customs_month=date(2024, 12, 1),
                                 output_month=date(2024, 12, 1), projects_month=date(2024, 12, 1))
    fd._write_new_export_destinations(con, closed, settings, 1, np.random.default_rng(1))
    assert con.execute("select count(*) from forecast.new_export_destinations").fetchone()[0] == 0


def test_destinations_still_to_come_go_to_the_quarters_openers_as_often_as_each_has_opened():
    """M22.new_market pays an enterprise on the sum of its new destinations: a pair still to come
    opened by a simulated exporter of its own was judged alone, and on a tenth data process 30
    exporters opening markets of about 18万 a month were forecast to pass 100万 with their
    reported months only. As of October's customs A opened two new destinations this quarter and
    B one: the pairs still to come go to A about twice as often as to B. Before the quarter's
    first new pair (September's customs) they keep a simulated exporter each."""
    con = _new_pairs_warehouse([("X", "USA", date(2023, 11, 1), 500), ("Y", "VNM", date(2023, 12, 1), 800),
                                ("A", "JPN", date(2024, 10, 1), 10), ("A", "KOR", date(2024, 10, 1), 10),
                                ("B", "THA", date(2024, 10, 1), 10)])
    october = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                         date(2024, 10, 1), date(2024, 10, 1), date(2024, 11, 25))
    fd._write_new_export_destinations(con, october, _settings(), 3000, np.random.default_rng(1))
    share = con.execute("select avg((uscc = 'A')::int), count(*) filter (where uscc not in ('A', 'B')) "
                        "from forecast.new_export_destinations").fetchone()
    assert share[0] == pytest.approx(2 / 3, abs=0.03) and share[1] == 0
    september = dataclasses.replace(october, stats_month=date(2024, 9, 1), customs_month=date(2024, 9, 1))
    fd._write_new_export_destinations(con, september, _settings(), 300, np.random.default_rng(1))
    new = con.execute("select uscc, destination from forecast.new_export_destinations").df()
    assert len(new) and new.uscc.str.startswith(fd.PSEUDO + "export:").all() and new.uscc.is_unique
    assert not new.destination.str.endswith("（预计）").any()


def test_without_last_years_new_pairs_this_years_rate_and_complete_quarters_say_how_many():
    """The look-back of last year's quarter reaches before the data: no pair can be called new then.
    This year 3 pairs were new by September's customs (two in Q2, one in Q3): about 3 × 92 / 273
    more by the end of the year, each with the value a Q2/Q3 pair had in its quarter, none with the
    part-quarter value of a pair new in October."""
    con = _new_pairs_warehouse([("A", "USA", date(2024, 4, 1), 100), ("B", "VNM", date(2024, 6, 1), 2000),
                                ("C", "THA", date(2024, 8, 1), 300), ("D", "JPN", date(2024, 10, 1), 7)])
    settings = _settings()
    september = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                           date(2024, 8, 1), date(2024, 9, 1), date(2024, 10, 20))
    fd._write_new_export_destinations(con, september, settings, 2000, np.random.default_rng(1))
    new = con.execute("select source_uscc, q4_cny from forecast.new_export_destinations").df()
    assert set(zip(new.source_uscc, new.q4_cny.astype(float))) == {("A", 100.0), ("B", 2000.0), ("C", 300.0)}
    counted_from = date(2024, settings.pace_from_month, 1)
    rate = 3 / ((date(2024, 9, 1) - counted_from).days + 1) * (date(2024, 12, 1) - date(2024, 9, 1)).days
    assert len(new) / 2000 == pytest.approx(rate, rel=0.15)


def test_without_earlier_quarters_new_pairs_the_quarters_own_say_what_a_new_pair_is_worth():
    """This year's only new pairs are the quarter's own (October): the pairs still to come take
    their value so far, rather than nothing."""
    con = _new_pairs_warehouse([("A", "USA", date(2024, 10, 1), 100), ("B", "VNM", date(2024, 10, 1), 2000)])
    october = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                         date(2024, 10, 1), date(2024, 10, 1), date(2024, 11, 25))
    fd._write_new_export_destinations(con, october, _settings(), 2000, np.random.default_rng(1))
    new = con.execute("select source_uscc, q4_cny from forecast.new_export_destinations").df()
    assert set(zip(new.source_uscc, new.q4_cny.astype(float))) == {("A", 100.0), ("B", 2000.0)}


def _later_months_of_a_new_pair(past_ratios: list[float], prior: float) -> np.ndarray:
    """The simulated November + December of a pair new in October 2024 (1,000 元), as of October's
    customs, after past new pairs whose first month was followed by `past_ratios` × it in each of
    their quarter's two later months."""
    con = _new_pairs_warehouse([("N", "USA", date(2024, 10, 1), 1000)]
                               + [(f"P{i}", "VNM", date(2024, 4, 1), 100) for i in range(len(past_ratios))])
    for i, ratio in enumerate(past_ratios):
        for month in (date(2024, 5, 1), date(2024, 6, 1)):
            con.execute("insert into marts.fct_export_destination_month values (?, 'VNM', ?, ?)",
                        [f"P{i}", month, 100 * ratio])
    settings = dataclasses.replace(_settings(), new_destination_prior=prior)
    october = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                         date(2024, 10, 1), date(2024, 10, 1), date(2024, 11, 25))
    fd._write_export_draws(con, october, settings, 4000, np.random.default_rng(1))
    later = con.execute("select draw, q4_cny_fc from forecast.export_draws where uscc = 'N'").df()
    return later.set_index("draw")["q4_cny_fc"].reindex(range(1, 4001), fill_value=0).to_numpy(dtype=float)


def test_a_new_pairs_later_months_without_past_examples_are_a_one_off_or_a_repeat():
    """No earlier new destination to learn from: each later month is the first month's value again
    or nothing, as likely (the prior's two examples): a range from 0 to both months, not a certain 0
    and not a certain linear extrapolation."""
    later = _later_months_of_a_new_pair([], prior=2)
    assert set(np.unique(later)) == {0.0, 1000.0, 2000.0}
    assert np.mean(later == 0) == pytest.approx(0.25, abs=0.03)
    assert np.mean(later == 2000) == pytest.approx(0.25, abs=0.03)
    assert len(_later_months_of_a_new_pair([], prior=0)) == 4000 and not _later_months_of_a_new_pair([], prior=0).any()


def test_a_new_pairs_later_months_follow_many_past_examples():
    """Sixty past new pairs each shipped 0.3 × their first month in each later month: the prior's two
    examples hardly count (a draw takes one of them for a month with probability 2/62)."""
    later = _later_months_of_a_new_pair([0.3] * 60, prior=2)
    assert np.median(later) == pytest.approx(600.0)
    assert np.mean(np.isclose(later, 600.0)) > 0.9


def test_candidates_are_as_likely_to_enter_as_last_years_of_their_size():
    """Last year 2 of the 10 larger candidates entered the statistics late in the year and none of
    the 10 smaller: a large candidate now is far likelier than a small one, a small one not impossible."""
    size_then = np.array([10.0] * 10 + [100.0] * 10)
    entered = np.array([False] * 10 + [True, True] + [False] * 8)
    unbased = np.zeros(20, bool)
    w = entry_weights(size_then, unbased, entered, np.array([5.0, 120.0]), np.zeros(2, bool), classes=2)
    assert w[0] == pytest.approx(0.5 / 11) and w[1] == pytest.approx(2.5 / 11)
    assert entry_weights(np.zeros(0), np.zeros(0, bool), np.zeros(0, bool), np.array([1.0, 2.0]), np.zeros(2, bool),
                         classes=2).tolist() == [1.0, 1.0]


def test_candidates_are_as_likely_to_enter_as_last_years_with_the_same_record():
    """Last year the 3 entrants were among the 10 candidates that had first reported that year; none
    of the 10 with a year's reports before entered, whatever their size. Now a candidate with a
    year's reports (a base, which M02.small_to_large needs) is the unlikely entrant, as it was, even
    of the size last year's entrants had."""
    size_then = np.array([10.0, 100.0] * 10)
    based_then = np.array([True] * 10 + [False] * 10)
    entered = np.array([False] * 10 + [True, True, True] + [False] * 7)
    w = entry_weights(size_then, based_then, entered, np.array([100.0, 100.0]), np.array([True, False]), classes=2)
    assert w[0] == pytest.approx(0.5 / 6) and w[1] == pytest.approx(1.5 / 6)
    assert w[1] / w[0] == pytest.approx(3.0)


def test_each_draw_gets_as_many_distinct_entrants_as_entries():
    rng = np.random.default_rng(3)
    draw_of = np.array([1, 1, 1, 2, 4, 4])
    weights = np.array([0.0, 1.0, 1.0, 3.0])
    rows, who = assign_entries(draw_of, weights, rng)
    assert rows.tolist() == [0, 1, 2, 3, 4, 5]
    assert sorted(who[:3].tolist()) == [1, 2, 3]  # three entries, three candidates that can enter
    assert len(set(who[4:].tolist())) == 2 and 0 not in who
    picks = np.concatenate([assign_entries(np.array([1]), weights, rng)[1] for _ in range(2000)])
    assert np.mean(picks == 3) == pytest.approx(0.6, abs=0.04)
    # more entries than candidates: the entries beyond them do not happen
    rows, who = assign_entries(np.array([1, 1, 1, 1]), weights, rng)
    assert rows.tolist() == [0, 1, 2] and sorted(who.tolist()) == [1, 2, 3]


def test_entries_into_the_above_size_statistics_still_to_come():
    """Last year two of the ten larger enterprises below the threshold entered the statistics in
    November and December; as of September's statistics this year about two of this year's
    candidates will, mostly large ones, in November or December; none once December is delivered,
    and never an enterprise already above the threshold or no longer reporting."""
    con = duckdb.connect()
    con.execute("create schema marts; create schema forecast")
    con.execute("create table marts.dim_enterprise (uscc varchar, above_size_since date, is_above_size boolean)")
    con.execute("create table marts.fct_enterprise_month (uscc varchar, month date, output_single_month_yuan decimal(18, 2))")
    enterprises = ([(f"S{i}", None, False, 10) for i in range(10)] + [(f"L{i}", None, False, 100) for i in range(8)]
                   + [("L8", date(2023, 11, 1), True, 100), ("L9", date(2023, 12, 1), True, 100),
                      ("BIG", date(2015, 1, 1), True, 1000), ("GONE", None, False, 100)])
    for uscc, since, above, size in enterprises:
        con.execute("insert into marts.dim_enterprise values (?, ?, ?)", [uscc, since, above])
        last = date(2024, 3, 1) if uscc == "GONE" else date(2024, 9, 1)
        con.execute("""insert into marts.fct_enterprise_month
                       select ?, m::date, ? from range(date '2023-01-01', ?::date + interval 1 month, interval 1 month) t(m)""",
                    [uscc, size, last])
    settings = _settings()
    september = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                           date(2024, 9, 1), date(2024, 9, 1), date(2024, 10, 20))
    fd._write_scale_entries(con, september, settings, 2000, np.random.default_rng(1))
    entries = con.execute("select draw, uscc, above_size_since from forecast.scale_entries").df()
    assert len(entries) / 2000 == pytest.approx(2, rel=0.15)
    assert not entries.duplicated(["draw", "uscc"]).any()
    assert set(entries.uscc) <= {f"S{i}" for i in range(10)} | {f"L{i}" for i in range(8)}
    # a large candidate: (2 + ½) / (11 + 1) of last year's large ones entered, a small one ½ / 11:
    # with 8 large and 10 small candidates, about 4 entries in 5 are large ones
    assert entries.uscc.str.startswith("L").mean() == pytest.approx(0.75, abs=0.05)
    assert set(entries.above_size_since.dt.date) <= {date(2024, 11, 1), date(2024, 12, 1)}
    closed = dataclasses.replace(september, stats_month=date(2024, 12, 1), customs_month=date(2024, 12, 1),
                                 output_month=date(2024, 12, 1), projects_month=date(2024, 12, 1))
    fd._write_scale_entries(con, closed, settings, 1, np.random.default_rng(1))
    assert con.execute("select count(*) from forecast.scale_entries").fetchone()[0] == 0


def test_entries_still_to_come_go_at_this_years_rate_per_candidate():
    """A wave of new builds: none entered the statistics from February to August last year, three
    did after it; this year 10 of 20 newcomers entered from March to August. The pace of counts
    (3 × (10 + 5) / (0 + 5) = 9) ignored that the pool empties; the rate per candidate-month does
    not: 10 entries over 181 candidate-months (10 old candidates × 7 months, the 10 newcomers left
    × 7, the 10 that entered until their month of entry: 41), for the 20 candidates now in each of
    September to December: 20 × 4 × 10 / 181 ≈ 4.4 entries."""
    con = duckdb.connect()
    con.execute("create schema marts; create schema forecast")
    con.execute("create table marts.dim_enterprise (uscc varchar, above_size_since date, is_above_size boolean)")
    con.execute("create table marts.fct_enterprise_month (uscc varchar, month date, output_single_month_yuan decimal(18, 2))")
    entered_on = [date(2024, 3 + i % 6, 1) for i in range(10)]  # March to August, 41 months at risk in all
    enterprises = ([(f"C{i}", None, False, date(2023, 1, 1)) for i in range(10)]
                   + [(f"E{i}", date(2023, 10 + i, 1), True, date(2023, 1, 1)) for i in range(3)]
                   + [(f"N{i}", entered_on[i], True, date(2024, 2, 1)) for i in range(10)]
                   + [(f"N{i}", None, False, date(2024, 2, 1)) for i in range(10, 20)])
    for uscc, since, above, first in enterprises:
        con.execute("insert into marts.dim_enterprise values (?, ?, ?)", [uscc, since, above])
        con.execute("""insert into marts.fct_enterprise_month
                       select ?, m::date, 50 from range(?::date, date '2024-09-01', interval 1 month) t(m)""", [uscc, first])
    assert sum(month_index(d, date(2024, 2, 1)) + 1 for d in entered_on) == 41
    august = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                        date(2024, 8, 1), date(2024, 8, 1), date(2024, 9, 20))
    fd._write_scale_entries(con, august, _settings(), 4000, np.random.default_rng(2))
    entries = con.execute("select draw, uscc, above_size_since from forecast.scale_entries").df()
    assert len(entries) / 4000 == pytest.approx(20 * 4 * 10 / 181, rel=0.1)
    assert set(entries.above_size_since.dt.date) == {date(2024, m, 1) for m in (9, 10, 11, 12)}
    assert set(entries.uscc) <= {f"C{i}" for i in range(10)} | {f"N{i}" for i in range(10, 20)}


def test_projects_waiting_to_start_start_at_the_monthly_rate_of_the_history():
    """Project data from 2023-01, as of September 2024's statistics: 21 months of history. Four
    projects waited all 21 months (84 project-months, in the library since 2022-06: the months before
    the data do not count), three started after 6, 15 and 3 months of waiting (24 more, 3 starts),
    one entered in June (July–September: 3 more). 3 starts in 111 project-months: each draw takes a
    monthly rate from beta(3 + ½, 108 + ½) and each of the five waiting projects starts in October,
    November or December with 1 − (1 − rate)³. A project entering and starting in one month never
    waited; none starts once December is delivered, nor without a waiting month in the history."""
    con = duckdb.connect()
    con.execute("create schema marts; create schema forecast")
    con.execute("create table marts.dim_project (project_code varchar, library_entry_month date, start_month date)")
    con.execute("create table marts.fct_project_month (project_code varchar, month date)")
    con.execute("insert into marts.fct_project_month values ('S1', date '2023-01-01')")
    projects = ([(f"W{i}", date(2022, 6, 1), None) for i in range(4)]
                + [("S1", date(2022, 6, 1), date(2023, 6, 1)), ("S2", date(2022, 12, 1), date(2024, 3, 1)),
                   ("GOING", date(2024, 1, 1), date(2024, 4, 1)), ("SAME_MONTH", date(2024, 9, 1), date(2024, 9, 1)),
                   ("BEFORE_DATA", date(2020, 1, 1), date(2022, 11, 1)), ("N1", date(2024, 6, 1), None)])
    con.executemany("insert into marts.dim_project values (?, ?, ?)", projects)
    settings = _settings()
    september = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                           date(2024, 9, 1), date(2024, 9, 1), date(2024, 10, 20))
    fd._write_project_starts(con, september, settings, 4000, np.random.default_rng(1))
    starts = con.execute("select draw, project_code, start_month from forecast.project_starts").df()
    waiting = {"N1"} | {f"W{i}" for i in range(4)}
    assert set(starts.project_code) == waiting
    assert not starts.duplicated(["draw", "project_code"]).any()
    a, b = 3.5, 108.5

    def no_start(months: int) -> float:  # E[(1 − rate)^months] over the beta
        return float(np.prod([(b + i) / (a + b + i) for i in range(months)]))

    stays = no_start(3)
    share = starts.groupby("project_code").size() / 4000
    assert share.to_numpy() == pytest.approx(1 - stays, abs=0.01)
    months = starts.start_month.dt.date.value_counts()
    assert set(months.index) == {date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 1)}
    assert months.to_numpy() / months.sum() == pytest.approx([1 / 3] * 3, abs=0.04)  # a rate of ~3% a month
    # projects of one draw share its rate: the number starting varies more than if each had its own
    per_draw = starts.groupby("draw").size().reindex(range(1, 4001), fill_value=0)
    n, p = len(waiting), 1 - stays
    p_var = (1 - 2 * no_start(3) + no_start(6)) - p**2  # the variance of a draw's probability
    assert per_draw.var() == pytest.approx(n * p * (1 - p) + n * (n - 1) * p_var, rel=0.06)
    assert per_draw.var() > 1.06 * n * p * (1 - p)
    closed = dataclasses.replace(september, stats_month=date(2024, 12, 1), customs_month=date(2024, 12, 1),
                                 output_month=date(2024, 12, 1), projects_month=date(2024, 12, 1))
    fd._write_project_starts(con, closed, settings, 1, np.random.default_rng(1))
    assert con.execute("select count(*) from forecast.project_starts").fetchone()[0] == 0
    con.execute("delete from marts.dim_project where library_entry_month < date '2024-09-01'")
    con.execute("insert into marts.dim_project values ('NEW', date '2024-09-01', null)")
    fd._write_project_starts(con, september, settings, 100, np.random.default_rng(1))
    assert con.execute("select count(*) from forecast.project_starts").fetchone()[0] == 0


@pytest.mark.parametrize(("as_of", "stats", "customs", "open_"), [
    (date(2024, 11, 25), date(2024, 10, 1), date(2024, 10, 1), True),
    (date(2025, 1, 14), date(2024, 11, 1), date(2024, 12, 1), True),
    (date(2025, 1, 15), date(2024, 12, 1), date(2024, 12, 1), False),
    # January's statistics in (15 February), or the next quarter: the policy quarter stays reported.
    # Uncapped, the forecast looked for January 2025 in panels that end in December and failed.
    (date(2025, 2, 17), date(2024, 12, 1), date(2024, 12, 1), False),
    (date(2025, 4, 1), date(2024, 12, 1), date(2024, 12, 1), False),
])
def test_the_horizon_never_reaches_past_the_quarter(as_of, stats, customs, open_):
    h = fd.Horizon.of(load_catalogue(), as_of)
    assert (h.stats_month, h.customs_month, h.open) == (stats, customs, open_)


def test_a_stats_dataset_whose_due_month_is_missing_is_forecast_from_its_own_latest_month(tmp_path):
    """On 25 November October is due. The industry report has arrived, the project library of
    October has not: the projects are forecast from October on (as on 14 November, before it was
    due), not taken as "no longer reporting" in a month delivered empty; the same for a customs
    month. What counts is the delivery, not the rows: a December library whose projects all
    finished reports December. A dataset with nothing at all keeps the month due; a withdrawn file
    is no delivery; nothing is read past the month due or the as-of date."""
    from dagster_project.lib.ingest import DATASETS
    from dagster_project.lib.ingest.loader import ensure_raw_tables
    from dagster_project.lib.ingest.withdrawals import ensure_withdrawals, withdraw

    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_raw_tables(con, DATASETS)
    ensure_withdrawals(con, DATASETS)

    def delivered(dataset: str, period: str, on: str, feed: str = "stats") -> None:
        con.execute("insert into raw._manifest (file_name, feed, dataset, period, available_on) values (?, ?, ?, ?, ?)",
                    [f"{feed}_{dataset}_{period}.csv", feed, dataset, period, on])

    due = fd.Horizon.of(load_catalogue(), date(2024, 11, 25))
    assert due.as_delivered(con) == due  # nothing delivered at all: the months due
    for dataset in ("industry", "projects"):
        delivered(dataset, "202409", "2024-10-15")
    delivered("industry", "202410", "2024-11-15")
    delivered("industry", "202411", "2024-12-15")  # arrives after the as-of date
    h = due.as_delivered(con)
    assert (h.stats_month, h.output_month, h.projects_month, h.open) == (
        date(2024, 10, 1), date(2024, 10, 1), date(2024, 9, 1), True)
    delivered("projects", "202410", "2024-11-15")
    assert due.as_delivered(con).projects_month == date(2024, 10, 1)
    withdraw(con, "stats_projects_202410.csv", "sent by mistake")
    assert due.as_delivered(con).projects_month == date(2024, 9, 1)
    assert due.customs_month == date(2024, 10, 1)  # due; nothing delivered at all: kept
    delivered("export", "202409", "2024-10-20", feed="customs")
    assert due.as_delivered(con).customs_month == date(2024, 9, 1)  # October's file late: forecast
    delivered("export", "202410", "2024-11-20", feed="customs")
    assert due.as_delivered(con).customs_month == date(2024, 10, 1)
    # the quarter reported but for the December library: still open, December forecast
    for dataset, period in (("industry", "202412"), ("projects", "202411")):
        delivered(dataset, period, "2025-01-15")
    closed = fd.Horizon.of(load_catalogue(), date(2025, 1, 20))
    assert not closed.open and closed.as_delivered(con).open
    delivered("projects", "202412", "2025-01-15")  # with rows or none: December is reported
    assert closed.as_delivered(con).open  # customs still at October
    for period in ("202411", "202412"):
        delivered("export", period, "2025-01-15", feed="customs")
    assert not closed.as_delivered(con).open


def test_every_table_the_forecast_writes_is_a_declared_asset(empty_warehouse):
    """A table of schema `forecast` that is not an asset would be invisible in the lineage."""
    from rulekit import Warehouse

    from dagster_project.defs.forecast import TABLES

    wh = Warehouse(empty_warehouse)
    wh.enterprise(1, q4_wan=100, q4b_wan=100)
    wh.run(as_of=date(2024, 10, 20))
    written = {t for (t,) in wh.con.execute(
        "select table_name from information_schema.tables where table_schema = 'forecast'").fetchall()}
    assert written == set(TABLES)


def test_every_table_the_measures_write_is_a_declared_asset(empty_warehouse):
    """policy_budget_components was written by the engine for weeks and declared nowhere (the run's
    record, policy_runs and policy_budget_history, is written by the engine's `record`)."""
    from rulekit import Warehouse

    from dagster_project.defs.measures import DECLARED

    wh = Warehouse(empty_warehouse)
    wh.enterprise(1, q4_wan=100, q4b_wan=100)
    wh.run(as_of=date(2024, 10, 20))
    written = {t for (t,) in wh.con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' and table_name like 'policy%'"
    ).fetchall()}
    assert written == set(DECLARED)


def test_the_series_table_says_where_the_history_could_not_measure_the_errors(empty_warehouse):
    """One enterprise gives fewer own errors than `forecast.min_error_samples`: its draws take the
    fallback spread, and forecast.series says so (the 预测方法 sheet warns finance from it)."""
    from rulekit import Warehouse

    wh = Warehouse(empty_warehouse)
    code = wh.enterprise(1)
    for month in range(21):  # 2023-01 .. 2024-09
        wh.insert("marts.fct_enterprise_month", uscc=code, month=date(2023 + month // 12, month % 12 + 1, 1),
                  output_single_month_yuan=Decimal(1_000_000 + 10_000 * month))
    wh.run(as_of=date(2024, 10, 20))
    rows = {r[0]: r[1:] for r in wh.con.execute(
        "select series, entities, months_ahead, origins, errors, errors_measured from forecast.series").fetchall()}
    entities, months_ahead, origins, errors, measured = rows["output"]
    assert (entities, months_ahead) == (1, 3)  # September reported by 2024-10-20: October to December ahead
    assert errors < int(Parameters(load_catalogue()).base("forecast.min_error_samples"))
    assert measured is False


def _power_warehouse(december_days: list[float | None],
                     year_before: tuple[float, float, float, float] | None = None) -> duckdb.DuckDBPyConnection:
    """One enterprise at 100 kWh a day from January 2023, then the first days of December 2024
    (None: a day flagged 缺失); `year_before`: its row of fct_power_month_to_date (kWh on the same
    dates, those dates, this year's days read and month priced per weekday), none by default."""
    con = duckdb.connect()
    con.execute("create schema marts; create schema forecast")
    con.execute("create table marts.dim_enterprise (uscc varchar, industry_group varchar, production_start date)")
    con.execute("insert into marts.dim_enterprise values ('E1', 'g', date '2015-06-01')")
    con.execute("""create table marts.fct_power_month as
                   select 'E1' as uscc, m::date as month, 100.0 * day(last_day(m)) as kwh, last_day(m) as last_reading_date,
                          day(last_day(m)) as account_days_with_reading, 0 as account_days_missing
                   from range(date '2023-01-01', date '2024-12-01', interval 1 month) t(m)""")
    read = [d for d in december_days if d is not None]
    con.execute("insert into marts.fct_power_month values ('E1', date '2024-12-01', ?, ?, ?, ?)",
                [sum(read), date(2024, 12, len(december_days)), len(read), len(december_days) - len(read)])
    con.execute(_TO_DATE_TABLE)
    if year_before is not None:
        con.execute("insert into marts.fct_power_month_to_date values ('E1', date '2024-12-01', ?, ?, ?, ?, ?, ?)",
                    [len(december_days), sum(december_days), *year_before])
    return con


_TO_DATE_TABLE = """create table marts.fct_power_month_to_date (uscc varchar, month date, days_read integer,
    kwh_read decimal(18, 3), kwh_year_before_same_dates decimal(18, 3), weekday_kwh_year_before_same_dates decimal(18, 3),
    weekday_kwh_days_read decimal(18, 3), weekday_kwh_month decimal(18, 3))"""


def test_the_month_being_read_is_completed_with_what_its_days_carried_a_year_before():
    """A week read (Sunday to Saturday, 580 kWh). The year before, those dates read 10% more than
    their weekdays say (a holiday-free week against a quiet one), and this year's days read price
    at 580 of a month at 2,800: the week carries 1.1 × 580 / 2,800 of the month, which makes it
    2,800 / 1.1 = 2,545.45 kWh, not the 2,568.57 of calendar days (580 + 580 / 7 × 24)."""
    settings = ForecastSettings.from_parameters(Parameters(load_catalogue()))
    december = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                          date(2024, 10, 1), date(2024, 10, 1), date(2024, 12, 2))
    week = [40.0, 100.0, 100.0, 100.0, 100.0, 100.0, 40.0]
    priced = fd._power(_power_warehouse(week, (660.0, 600.0, 580.0, 2800.0)), december, settings, "model", 1,
                       np.random.default_rng(1), SharedDraws())
    assert priced.series.forecast.values[0, 0] == pytest.approx(2800.0 / 1.1)
    plain = fd._power(_power_warehouse(week), december, settings, "model", 1, np.random.default_rng(1), SharedDraws())
    assert plain.series.forecast.values[0, 0] == pytest.approx(580.0 + 580.0 / 7 * 24)


def test_days_flagged_missing_in_the_month_being_read_are_days_not_read_not_days_without_power():
    """A week of December read with its last three days flagged 缺失 (blank; a later delivery
    re-reads them): they counted as no power, and the month came out 300 kWh × 31/7 short. Filled at
    the pace of the days read, the month is what the same week read in full makes it. On an eighth
    data process a week flagged 缺失 for every account read as a week without power: every group's
    October ×0.62–0.69 and M02.growth 26万 against 461万 (2026-12-07)."""
    settings = ForecastSettings.from_parameters(Parameters(load_catalogue()))
    december = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                          date(2024, 10, 1), date(2024, 10, 1), date(2024, 12, 2))

    def month(days):
        return fd._power(_power_warehouse(days), december, settings, "model", 1, np.random.default_rng(1),
                         SharedDraws()).series.forecast.values[0, 0]

    assert month([100.0] * 4 + [None] * 3) == pytest.approx(month([100.0] * 7)) == pytest.approx(3100.0)


def test_read_shares_pool_each_group_and_fall_back_to_everyone_then_to_calendar_days():
    """Every row's days read price at 30 of a month at 100. Group g has two enterprises with a year
    before (their dates at 0.2 and 0.4 of what their weekdays say; pooled 30 / 100), group h one
    (alone 0.5; with fewer than `min_entities` it takes everyone's pool, 70 / 180). X of group g
    has no year before and takes g's share; Y's meters stopped on day 3 of 10 read (calendar share
    3 / 30); a month read in part that is not the month being read takes calendar days."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(_TO_DATE_TABLE)
    for uscc, dates, priced in (("A", 10, 50), ("B", 20, 50), ("C", 40, 80)):
        con.execute("insert into marts.fct_power_month_to_date values (?, date '2024-12-01', 10, 1, ?, ?, 30, 100)",
                    [uscc, dates, priced])
    keys, groups = np.array(["A", "B", "C", "X", "Y"]), np.array(["g", "g", "h", "g", "g"])
    elapsed, length = np.array([10, 10, 10, 10, 3]), np.full(5, 30)
    shares = read_shares(con, keys, groups, date(2024, 12, 1), elapsed, length, min_entities=2)
    g = (10 + 20) / (50 + 50) * 30 / 100
    everyone = (10 + 20 + 40) / (50 + 50 + 80) * 30 / 100
    assert shares.tolist() == pytest.approx([g, g, everyone, g, 3 / 30])
    other_month = read_shares(con, keys, groups, date(2024, 11, 1), elapsed, length, min_entities=2)
    assert other_month.tolist() == pytest.approx((elapsed / length).tolist())


def test_the_month_being_read_goes_on_at_its_pace_once_min_power_days_are_read():
    """On 2 December 2024 the one day read was a Sunday (40 kWh against 100 on a working day): at
    the pace of calendar days the month would be 31 Sundays, 1,240 kWh. With the year before
    saying what a Sunday carries (40 of a month priced at 2,800), the pace from the first day read
    (`forecast.min_power_days` = 1) makes it 2,800. With `forecast.min_power_days` at 7 the days
    not read take the month's forecast (3,100 × 30/31) until a week is read, then the pace."""
    settings = ForecastSettings.from_parameters(Parameters(load_catalogue()))
    assert settings.min_power_days == 1
    december = fd.Horizon(date(2024, 1, 1), date(2024, 7, 1), date(2024, 10, 1), date(2024, 12, 1),
                          date(2024, 10, 1), date(2024, 10, 1), date(2024, 12, 2))

    def december_forecast(days: list[float], year_before=None, min_days: int = 1) -> float:
        result = fd._power(_power_warehouse(days, year_before), december,
                           dataclasses.replace(settings, min_power_days=min_days), "model", 1,
                           np.random.default_rng(1), SharedDraws())
        assert result.month_read == date(2024, 12, 1) and result.read_so_far.tolist() == [sum(days)]
        return result.series.forecast.values[0, 0]

    assert december_forecast([40.0], (40.0, 40.0, 40.0, 2800.0)) == pytest.approx(2800.0)
    assert december_forecast([40.0]) == pytest.approx(1240.0)
    assert december_forecast([40.0], min_days=7) == pytest.approx(40.0 + 3100.0 * 30 / 31)
    week = [40.0, 100.0, 100.0, 100.0, 100.0, 100.0, 40.0]  # Sunday to Saturday: 580 in 7 days
    assert december_forecast(week, min_days=7) == pytest.approx(580.0 + 580.0 / 7 * 24)


def _enterprises_and_projects(path, last_month_of_enterprise_1: date):
    """Twelve enterprises reporting output and six projects reporting investment, monthly from
    January 2023 to September 2024 (enterprise 1 to `last_month_of_enterprise_1`), forecast as of
    20 October 2024 with 50 draws."""
    from rulekit import Warehouse, add_project, uscc

    wh = Warehouse(path)
    months = [date(2023 + m // 12, m % 12 + 1, 1) for m in range(21)]
    for n in range(1, 13):
        code = wh.enterprise(n)
        for k, month in enumerate(months):
            if n == 1 and month > last_month_of_enterprise_1:
                continue
            wh.insert("marts.fct_enterprise_month", uscc=code, month=month,
                      output_single_month_yuan=Decimal(1_000_000 * n * (1 + 0.01 * k + 0.05 * ((k * n) % 3))))
    for p in range(6):
        add_project(wh, f"P{p}", uscc(1), planned_wan=20_000, start=date(2023, 1, 1))
        wh.con.execute("delete from marts.fct_project_month where project_code = ?", [f"P{p}"])
        for k, month in enumerate(months):
            wh.insert("marts.fct_project_month", project_code=f"P{p}", month=month, uscc=uscc(1),
                      investment_yuan=Decimal(2_000_000 * (p + 1) * (1 + 0.1 * ((k * (p + 2)) % 4))),
                      equipment_yuan=Decimal(0))
    wh.run({"forecast.draws": 50}, as_of=date(2024, 10, 20))
    return {t: wh.con.execute(f"select * from forecast.{t} order by all").fetchall()
            for t in ("enterprise_draws", "project_draws")}


def test_one_series_data_never_shift_another_series_draws(empty_warehouse_template, tmp_path):
    """Enterprise 1 last reported July, two months before September (the latest delivered): it
    stopped, is not forecast, and the enterprises' draws are drawn for one fewer. The projects'
    draws stay the same to the cent: each part of a run takes its own random stream
    (`draws.random_stream`); with one stream for all, the projects took whatever numbers the
    enterprises had left."""
    runs = []
    for name, last in (("a", date(2024, 9, 1)), ("b", date(2024, 7, 1))):
        path = tmp_path / f"{name}.duckdb"
        shutil.copy(empty_warehouse_template, path)
        runs.append(_enterprises_and_projects(path, last))
    assert runs[0]["enterprise_draws"] != runs[1]["enterprise_draws"]
    assert len(runs[0]["project_draws"]) == 6 * 50
    assert runs[0]["project_draws"] == runs[1]["project_draws"]


@pytest.mark.parametrize("case", ["late", "left", "old rule"])
def test_a_late_report_is_forecast_from_the_enterprises_latest_month(empty_warehouse_template, tmp_path, case):
    """Enterprise 1 has not reported September by 20 October (its report comes in a later
    delivery): it is forecast from August, September included (Q3 and the year's figures), and
    forecast.series counts it. Left the statistics in September (退库), or with
    `forecast.late_report_months` 0 (the rule before 2026-12-06), it is not forecast at all."""
    from rulekit import Warehouse, uscc

    path = tmp_path / "wh.duckdb"
    shutil.copy(empty_warehouse_template, path)
    _enterprises_and_projects(path, date(2024, 8, 1))
    wh = Warehouse(path)
    overrides = {"forecast.draws": 50}
    if case == "left":
        wh.con.execute("update marts.dim_enterprise set above_size_exit = date '2024-09-01' where uscc = ?", [uscc(1)])
    if case == "old rule":
        overrides["forecast.late_report_months"] = 0
    wh.run(overrides, as_of=date(2024, 10, 20))
    [(late,)] = wh.con.execute("select late_entities from forecast.series where series = 'output'").fetchall()
    draws = wh.con.execute("select q3_output_fc, q4_output_fc, fy_output_fc from forecast.enterprise_draws "
                           "where uscc = ?", [uscc(1)]).fetchall()
    months = [m for (m,) in wh.con.execute("select month::date from forecast.months where series = 'output' and key = ? "
                                           "order by month", [uscc(1)]).fetchall()]
    if case != "late":
        assert (late, draws, months) == (0, [], [])
        return
    assert late == 1 and len(draws) == 50
    assert months == [date(2024, m, 1) for m in (9, 10, 11, 12)]
    # September in Q3 and in the year; the year's months to come are September to December
    assert all(q3 > 0 and q4 > 0 and abs(fy - q3 - q4) <= Decimal("0.02") for q3, q4, fy in draws)
    [(september,)] = wh.con.execute("select point from forecast.months where series = 'output' and key = ? "
                                    "and month = date '2024-09-01'", [uscc(1)]).fetchall()
    assert september > 0


def test_a_panel_refuses_rows_without_a_key():
    """pd.factorize codes a missing key -1, and values[-1] is the last entity's row: refused instead."""
    con = duckdb.connect()
    con.execute("create table m as select * from (values ('a', 'g', date '2024-01-01', 1.0), "
                "(null, 'g', date '2024-02-01', 2.0)) t(key, grp, month, value)")
    with pytest.raises(ValueError, match="1 rows without a key"):
        load_panel(con, "output", "select * from m", date(2024, 1, 1), date(2024, 3, 1), date(2024, 2, 1))


def _dormant_panel(restarters: int, stayers: int) -> Panel:
    """Projects at 100 a month. `restarters` report 0 in months 13–15 and 100 again from 16; `stayers`
    report 0 from month 13 to 20 and then nothing; the last row reported 0 in its latest three
    months (21–23) after 100 before: dormant at the origin, 23."""
    rows = ([[100.0] * 13 + [0.0] * 3 + [100.0] * 8 for _ in range(restarters)]
            + [[100.0] * 13 + [0.0] * 8 + [np.nan] * 3 for _ in range(stayers)]
            + [[100.0] * 21 + [0.0] * 3])
    return panel([r + [np.nan] * 3 for r in rows], last=23)


@pytest.mark.parametrize("restarters", [10, 0])
def test_a_dormant_project_restarts_in_the_draws_as_often_as_dormant_ones_did(restarters):
    """A project reporting 0 for its whole recent window (after 100 a month before it) is forecast 0,
    and any error times 0 is 0: four projects of a seventh data process, dormant for months and then
    resuming, lay in no draw (2026-12-07). At the past origins measured (months 14 to 20), 10
    halted projects restarted at their old level after three months at 0 (a path from each of
    their months 14 and 15 at 0: 0, 100, 100 and 100, 100, 100) and 10 stayed at 0 (a path from
    each of the seven origins): 20 of 90 paths restart, so a dormant project now restarts at its
    old level in about 2 draws in 9. Where no halted project ever restarted, it stays at 0 in
    every draw."""
    p = _dormant_panel(restarters, 10)
    errors = measure_errors(p, 3, "model", PEERS)
    complete = errors.restarts[~np.isnan(errors.restarts).any(axis=1)]
    assert len(complete) == 70 + 2 * restarters and (complete.sum(axis=1) > 0).sum() == 2 * restarters
    fc = point_forecast(p, p.last, 3, "model", PEERS)
    dormant = len(p.keys) - 1
    assert fc.values[dormant].tolist() == [0, 0, 0] and fc.dormant_level[dormant] == 100
    assert (fc.dormant_level[:dormant] == 0).all()
    draws = simulate(fc, p, errors, 700, np.random.default_rng(11), PEERS)[:, dormant, :]
    restarted = draws.sum(axis=1) > 0
    assert restarted.mean() == pytest.approx(2 * restarters / (70 + 2 * restarters), abs=0.04)
    assert set(np.unique(draws)) <= {0.0, 100.0}


def test_a_project_halts_with_its_first_month_at_zero_and_its_equipment_with_it():
    """Nine projects at 100 a month throughout; the last invested 100 a month and 0 in its latest two
    months (a ninth data process, 2026-12-07: 4,907万 in September, 0 in October and November, read
    at a third of September's pace times a long runway's December push: 6,735万 forecast for
    December, 0 came). It halted: its point forecast is 0, and with no halted project in the history
    it stays at 0 in every draw. Its equipment, 10 a month and still 10 in its latest months, halts
    with its investment. The other projects go on; the naive forecast carries the year to date flat."""
    steady = [100.0] * 24
    investment = panel([steady] * 9 + [[100.0] * 22 + [0.0] * 2], last=23)
    equipment = dataclasses.replace(panel([[10.0] * 24] * 10, last=23), pace=investment.values)
    halted = len(investment.keys) - 1
    for p, level in ((investment, 100.0), (equipment, 10.0)):
        fc = point_forecast(p, p.last, 3, "model", PEERS)
        assert fc.values[halted].tolist() == [0, 0, 0] and fc.dormant_level[halted] == level
        assert (fc.values[:halted] > 0).all() and (fc.dormant_level[:halted] == 0).all()
        errors = measure_errors(p, 3, "model", PEERS)
        draws = simulate(fc, p, errors, 200, np.random.default_rng(5), PEERS)
        assert (draws[:, halted, :] == 0).all() and (np.median(draws[:, :halted, :], axis=0) > 0).all()
    naive = point_forecast(investment, investment.last, 3, "naive", PEERS)
    assert naive.values[halted].tolist() == pytest.approx([1000 / 12] * 3) and not naive.dormant_level.any()


def test_a_dormant_project_without_room_in_its_plan_or_under_the_naive_forecast_stays_at_zero():
    """A project dormant with its plan used up has finished; the naive baseline carries the recent
    mean flat and takes no restarts."""
    p = _dormant_panel(10, 10)
    last_row = np.arange(len(p.keys)) == len(p.keys) - 1  # built 120% of its plan
    p_plan = dataclasses.replace(p, planned=np.where(last_row, 2100.0, np.nan),
                                 progress=np.where(last_row[:, None], 1.2, np.full(p.values.shape, np.nan)))
    settings = dataclasses.replace(PEERS, completion_share=1.1)
    assert point_forecast(p_plan, p.last, 3, "model", settings).dormant_level[-1] == 0
    naive = point_forecast(p, p.last, 3, "naive", PEERS)
    assert (naive.dormant_level == 0).all()
    errors = measure_errors(p, 3, "naive", PEERS)
    assert len(errors.restarts) == 0


def test_a_register_whose_last_year_had_nothing_left_after_the_day_may_still_get_rows():
    """Last December's applications all came by the 6th; this December's come at a row a day. Counted
    as last year's rest (0) × the pace, the rows still to come were 0 with certainty: with Jeffreys'
    prior count on last year's rest, a few may still come, resampled from this quarter's rows and
    dated over the days left. Without the prior (entrants, export pairs) nothing changes."""
    on = np.array(["2023-10-10", "2023-11-15", "2023-12-06"]
                  + [f"2024-12-{d:02d}" for d in range(7, 16)] + ["2024-10-20"], dtype="datetime64[D]")
    cutoff, start, end = date(2024, 12, 16), date(2024, 10, 1), date(2024, 12, 31)
    plain, plain_pool = pace(on, cutoff, start, end, prior=5, from_month=2)
    assert plain.expected == 0 and len(plain_pool) == 0
    p, pool = pace(on, cutoff, start, end, prior=5, from_month=2, rest_prior=0.5)
    assert p.pool_this_quarter and sorted(pool.tolist()) == list(range(3, 13))
    assert p.expected == pytest.approx(0.5 * (10 + 5 * (10 + 5) / (3 + 5)) / (3 + 5))  # rest × pace
    draw_of, picked, dates = draw_new(p, pool, on, cutoff, end, 4000, 10.0, np.random.default_rng(2))
    assert np.bincount(draw_of, minlength=4001)[1:].mean() == pytest.approx(p.expected, rel=0.15)
    assert (dates > np.datetime64("2024-12-16")).all() and (dates <= np.datetime64("2024-12-31")).all()
    assert set(picked.tolist()) <= set(pool.tolist())
    quiet, quiet_pool = pace(on[:3], cutoff, start, end, prior=5, from_month=2, rest_prior=0.5)  # none this year
    assert quiet.expected == 0 and len(quiet_pool) == 0 and not quiet.pool_this_quarter


def test_a_register_with_nothing_in_last_years_quarter_may_get_rows_before_its_first_of_this_quarter():
    """Last year's fourth quarter had no application; this year's first comes after the run. On 7
    October the rows still to come were 0 with certainty (M21 0 at low, base and high against 50万,
    2026-12-07): with Jeffreys' prior count on last year's rest, a few may come, resampled from this
    year's rows so far and dated over the days left; none this year, none to come."""
    on = np.array(["2023-03-10", "2023-06-15", "2024-04-02", "2024-06-20", "2024-09-05"], dtype="datetime64[D]")
    cutoff, start, end = date(2024, 10, 7), date(2024, 10, 1), date(2024, 12, 31)
    plain, _ = pace(on, cutoff, start, end, prior=5, from_month=2)
    assert plain.expected == 0
    p, pool = pace(on, cutoff, start, end, prior=5, from_month=2, rest_prior=0.5)
    assert p.pool_this_quarter and sorted(pool.tolist()) == [2, 3, 4]  # this year's rows
    year_pace = (3 + 5) / (2 + 5)
    assert p.expected == pytest.approx(0.5 * (0 + 5 * year_pace) / (0 + 5))
    draw_of, _, dates = draw_new(p, pool, on, cutoff, end, 4000, 10.0, np.random.default_rng(3))
    assert 0 < np.bincount(draw_of, minlength=4001)[1:].mean() == pytest.approx(p.expected, rel=0.15)
    assert (dates > np.datetime64("2024-10-07")).all() and (dates <= np.datetime64("2024-12-31")).all()


def test_one_giants_paths_weigh_no_more_than_a_typical_forecasts():
    """The weights count less the paths measured against forecasts near 0; one giant's paths
    (13.7% of a province's output on an eleventh data process) would otherwise be most large
    enterprises' own draws. A path weighs at most the pool's median forecast."""
    from dagster_project.lib.forecast.series import _forecast_weights

    sizes = np.array([0.1, 1.0, 2.0, 3.0, 1000.0])
    weights = _forecast_weights(sizes)
    assert weights.sum() == pytest.approx(1.0)
    assert weights[4] == pytest.approx(weights[2]) == pytest.approx(weights[3])
    assert weights[0] == pytest.approx(weights[2] / 20)


def test_weighted_draws_come_as_often_as_their_weights():
    """Walker's alias method against the weights it is given: a zero weight never drawn, the others
    in proportion (200,000 draws: within half a point)."""
    from dagster_project.lib.forecast.series import _weighted_draws

    weights = np.array([0.5, 0.25, 0.125, 0.125, 0.0])
    drawn = _weighted_draws(weights, (1000, 200), np.random.default_rng(10))
    assert drawn.shape == (1000, 200)
    assert np.bincount(drawn.ravel(), minlength=5) / drawn.size == pytest.approx(weights, abs=0.005)
