"""The weekly forecast: simulated draws of everything the quarter has not reported yet.

Reads the marts as of the run (reported months only) and writes schema `forecast`:

* `forecast.enterprise_draws(draw, uscc, q3_output_fc, q4_output_fc, fy_output_fc)` — the
  unreported months of each enterprise's output added up per period, per draw (元);
* `forecast.power_draws(draw, uscc, q4_kwh_fc)` — the unread days of the policy quarter (kWh);
* `forecast.project_draws(draw, project_code, q4_investment_fc, equipment_fc)` — investment of the
  unreported policy-quarter months and equipment of the unreported months to December (元);
* `forecast.export_draws(draw, uscc, destination, q4_cny_fc)` — exports to destinations new in the
  policy quarter in its unreported months (元);
* `forecast.new_export_destinations(draw, uscc, source_uscc, destination, q4_cny)` — per draw,
  exports to destinations that will first be served in the quarter's unreported months: last
  year's pairs first served after the same month, as many as the pace says (new_events.py), with
  their quarter's value, each opened by an exporter opening new destinations in the quarter so far
  (as often as each has; destination marked （预计）), or before the quarter's first such pair by a
  simulated exporter `~export:<draw>:<n>`;
* `forecast.new_loans`, `forecast.new_applications`, `forecast.new_supply_links`,
  `forecast.new_recognitions` — per draw, the register rows the quarter will still get
  (new_events.py), with the marts' columns, a pseudo beneficiary (`uscc` = `~<register>:<draw>:<n>`:
  a new row is not a known enterprise's) and `source_uscc`, whose quantities the rules judge it by
  (recognitions pay no scheme: the KPIs that count them count these too, measures/kpis.py);
* `forecast.register_paces(register, registered_through, quarter_so_far, last_year_so_far,
  last_year_rest, expected_rows, unregistered_rows)` — per register, the day it holds rows to (its
  latest row dated by the as-of date: registers have no delivery calendar), the counts the rows
  still to come are drawn from, and of them the rows dated by that day still to be keyed in;
* `forecast.new_enterprises`, `forecast.new_projects` — per draw, the enterprises and projects that
  will first report later in the quarter (pseudo keys `~enterprise:…`, `~project:…`), resampled from
  last year's late entrants with their quarter's figures, dates moved a year on;
* `forecast.project_starts(draw, project_code, start_month)` — per draw, projects of the library
  not started yet (开工年月 blank) that will start in a month not delivered yet, at the monthly
  start rate of the projects that waited in the history;
* `forecast.scale_entries(draw, uscc, above_size_since)` — per draw, enterprises below the
  statistics' size threshold that will enter it (入统) in a month not delivered yet: as many as this
  year's entries per candidate-month give the candidates now over the months left, picked by how
  often last year's candidates of their size entered;
* `forecast.months(series, key, month, point, low, median, high)` — per entity and forecast month,
  the point forecast and the quantiles of its draws (what a reason trace or a chart shows);
* `forecast.series(series, method, entities, late_entities, months_ahead, origins, errors,
  errors_measured, dormant_entities, restart_paths, restarted_paths, restarts_drawn)` — per monthly
  series: entities forecast (of them late: not reported the latest month delivered yet, forecast
  from their latest report), months ahead, the past origins replayed and the errors measured there;
  `errors_measured` false where the history was too short to measure them and the draws use
  `forecast.fallback_spread` (an assumption) instead; the dormant entities (room left, more reported
  before; an enterprise's series 0 in every month of its recent window, a project's investment 0
  in its latest month: point forecast 0), the dormant paths of past
  origins and how many of them restarted, and whether the draws took them (at least
  `forecast.min_error_samples`; else the dormant entities stay at 0 in every draw);
* `forecast.runs` — one row per run: as-of, method, draws and seed.

Draw numbers run 1..N; with nothing left to forecast (the quarter fully reported) N = 1 and every
table is empty: the actuals are the outcome. The measures engine adds these draws to the actual
quantities of the marts and runs the rules on every draw.
"""

from __future__ import annotations

import dataclasses
import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from dagster_project.lib.ingest import customs as customs_feed
from dagster_project.lib.ingest import stats as stats_feed
from dagster_project.lib.ingest.withdrawals import deliveries_in_use
from dagster_project.lib.measures.catalogue import Catalogue
from dagster_project.lib.measures.quantities import latest_delivered_month

from .new_events import assign_entries, completeness, draw_new, entry_weights, pace, per_candidate, registered_through
from .panel import NEVER, Panel, add_months, key_positions, load_panel, month_index, months_by_key, progress
from .signal import KWH_BEING_READ_SQL, PowerSignal, read_shares
from .signal import estimate as estimate_signal
from .series import (PointForecast, SeriesSettings, SharedDraws, estimate_shrinkage, late_reporters,
                     measure_errors, point_forecast, simulate, with_late_months)
from .settings import ForecastSettings

SCHEMA = "forecast"
# Registers whose rows a scheme or a KPI counts by their date, and that date (as in the marts).
REGISTERS = {"loans": "disbursed_on", "applications": "held_on", "supply_links": "first_supply_on",
             "recognitions": "recognised_on"}
# Registers of published lists, and the columns that tell one list from another: a list's year
# holds about as many as its last year (`_within_the_lists_year`).
PUBLISHED_LISTS = {"recognitions": ("list_category", "level", "recognition_type")}


@dataclass(frozen=True)
class Horizon:
    """What the run has and what it must forecast, in months."""

    year_start: date  # January of the policy year
    q3_start: date
    q4_start: date
    q4_end_month: date  # December
    stats_month: date  # latest stats month due by the as-of date (the arrival rule)
    customs_month: date  # latest delivered customs month
    as_of: date
    # The latest month each stats dataset holds (`as_delivered`): the month due (the default),
    # unless its delivery is missing; from there on the dataset's months are forecast.
    output_month: date | None = None
    projects_month: date | None = None

    def __post_init__(self) -> None:
        for name in ("output_month", "projects_month"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, self.stats_month)

    @property
    def open(self) -> bool:
        stats = min(self.stats_month, self.output_month, self.projects_month)
        return stats < self.q4_end_month or self.customs_month < self.q4_end_month

    def as_delivered(self, con: duckdb.DuckDBPyConnection) -> Horizon:
        """The horizon with the latest month of the enterprise report, the project library and the
        customs exports delivered (in the manifest, arrived by the as-of date, not withdrawn), when earlier than the
        month due: a delivery due and missing (the check mart_policy_periods names it) is then
        forecast, not taken as reported and empty. Without October's project library (its industry
        report in) every project had not reported "the latest month", was taken as stopped, and
        M15.increment fell from 1,253万 to 250万 on a tiny landing. The same for the customs month:
        a late October file took the month's new destinations out of every draw (an eleventh data
        process, 2026-12-07). A month delivered counts as reported whatever rows it holds (a project
        library whose projects all finished in November reports December with none of them); a month
        missing inside the data stays a gap."""
        deliveries = deliveries_in_use(con)
        if deliveries is None:
            return self  # no deliveries recorded (a warehouse built by hand): the months due

        def delivered(feed: str, dataset: str, due: date) -> date:
            [(latest,)] = con.execute(
                f"select max(period) filter (where period <> '') from {deliveries} "
                "where feed = ? and dataset = ? and coalesce(available_on, ?) <= ?",
                [feed, dataset, self.as_of, self.as_of]).fetchall()
            if not latest:  # nothing at all: nothing to forecast either
                return due
            return min(date(int(latest[:4]), int(latest[4:6]), 1), due)
        return dataclasses.replace(self, output_month=delivered("stats", "industry", self.stats_month),
                                   projects_month=delivered("stats", "projects", self.stats_month),
                                   customs_month=delivered("customs", "export", self.customs_month))

    @classmethod
    def of(cls, catalogue: Catalogue, as_of: date) -> Horizon:
        """The horizon of a run as of `as_of` under the policy document of `catalogue`."""
        doc = catalogue.document
        q4 = doc.policy_quarter.start
        q4_end_month = date(doc.policy_quarter.end.year, doc.policy_quarter.end.month, 1)
        # Months delivered after the quarter's last are nothing to the forecast: a run in February
        # (January's statistics in) has the quarter reported, as one on 15 January has.
        return cls(
            year_start=date(doc.year, 1, 1),
            q3_start=add_months(q4, -3),
            q4_start=q4,
            q4_end_month=q4_end_month,
            stats_month=min(latest_delivered_month(as_of, stats_feed.ARRIVAL_DAY), q4_end_month),
            customs_month=min(latest_delivered_month(as_of, customs_feed.EXPORT.arrival_day), q4_end_month),
            as_of=as_of,
        )


@dataclass
class SeriesResult:
    name: str
    method: str  # the point method the series used
    origins: int  # past origins the forecast was replayed from to measure its errors
    errors: int  # (entity, origin, month ahead) errors measured there
    errors_measured: bool | None  # the draws rest on them (None: nothing to forecast); else the fallback spread
    draws: np.ndarray  # (N, n, H)
    panel: Panel
    forecast: PointForecast
    late: LateMonths | None = None  # months late entities have not reported yet (series.late_reporters)
    # dormant entities (series.PointForecast.dormant_level), the dormant paths measured at past
    # origins over the months ahead, how many of them restarted, and whether the draws took them
    dormant: int = 0
    restart_paths: int = 0
    restarted_paths: int = 0
    restarts_drawn: bool = False


@dataclass
class LateMonths:
    """The months up to the latest delivered one that late entities have not reported yet: forecast
    from each one's latest report (series.with_late_months), and drawn as the entity's first month
    ahead is (the same ratio to its point forecast: a late report says nothing of the error)."""

    rows: np.ndarray  # (m,) the late entities' rows in the panel
    cols: np.ndarray  # (k,) panel columns, ascending
    filled: np.ndarray  # (m, k) the entity is late for that month
    point: np.ndarray  # (m, k) the point forecast there (0 where not filled)
    draws: np.ndarray  # (N, m, k)


def run(con: duckdb.DuckDBPyConnection, horizon: Horizon, settings: ForecastSettings, method: str = "model") -> int:
    """Write the forecast tables; return the number of draws (1 when nothing is left to forecast)."""
    horizon = horizon.as_delivered(con)
    draws = settings.draws if horizon.open else 1
    stream = functools.partial(random_stream, settings.seed, horizon.as_of)
    shared = SharedDraws()
    output = _output(con, horizon, settings, method, draws, stream("output"), shared)
    investment, equipment = _projects(con, horizon, settings, method, draws, stream, shared)
    power = _power(con, horizon, settings, method, draws, stream("kwh"), shared)
    con.execute(f"create schema if not exists {SCHEMA}")
    con.begin()  # every table of the run, or none: the measures read them together
    try:
        _write_enterprise_draws(con, horizon, output, draws)
        _write_project_draws(con, horizon, investment, equipment, draws)
        _write_power_draws(con, horizon, power, draws)
        _write_export_draws(con, horizon, settings, draws, stream("exports"))
        _write_new_export_destinations(con, horizon, settings, draws, stream("new_export_destinations"))
        _store(con, "register_paces", pd.DataFrame([
            _write_new_register_rows(con, horizon, settings, draws, stream(f"new_{table}"), table, column)
            for table, column in REGISTERS.items()]))
        _write_new_enterprises(con, horizon, settings, draws, stream("new_enterprises"))
        _write_scale_entries(con, horizon, settings, draws, stream("scale_entries"))
        _write_new_projects(con, horizon, settings, draws, stream("new_projects"))
        _write_project_starts(con, horizon, settings, draws, stream("project_starts"))
        series = [output, investment, equipment, *([power.series] if power else [])]
        _write_months(con, series, settings)
        _write_series(con, series)
        con.execute(f"""create or replace table {SCHEMA}.runs as select ?::date as as_of, ?::varchar as method,
                        ?::integer as draws, ?::bigint as seed""", [horizon.as_of, method, draws, settings.seed])
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return draws


def random_stream(seed: int, as_of: date, name: str) -> np.random.Generator:
    """The random numbers of one part of a run (a series, a kind of new row), from the seed, the
    as-of date and the part's name: the same inputs give the same draws, and one part's data never
    shift another's numbers (with one stream for all, an enterprise whose output forecast moved to
    another size class took other numbers, and every project simulated after it with them)."""
    return np.random.default_rng([seed, as_of.toordinal(), zlib.crc32(name.encode())])


def _history_start(h: Horizon, settings: ForecastSettings) -> date:
    """The first month the panels read: January, `forecast.history_years` years before the policy year's."""
    return date(h.year_start.year - settings.history_years, 1, 1)


def _forecast_series(panel: Panel, settings: SeriesSettings, method: str, draws: int,
                     rng: np.random.Generator, own_seasonal: bool, shared: SharedDraws,
                     signal: PowerSignal | None = None, left: np.ndarray | None = None) -> SeriesResult:
    """Point forecast and draws. `own_seasonal`: the series repeats its own year (enterprises'
    output and power: last year's same month × growth); otherwise it follows a life cycle
    (projects: a build schedule, not an annual pattern) and goes by its peers' steps only. Draws
    move with the run's other series through `shared` (series.SharedDraws; enterprises' series
    with each other, projects' with each other). `left`: per entity the column of the month it
    left the statistics, for a series whose entities may report late (series.late_reporters)."""
    horizon = panel.months - 1 - panel.last
    if horizon <= 0:  # everything reported: nothing to forecast, nothing to measure
        fc = point_forecast(panel, panel.last, 0, method, settings)
        return SeriesResult(panel.name, method, 0, 0, None, np.zeros((draws, len(panel.keys), 0)), panel, fc)
    s = dataclasses.replace(settings, own_seasonal=own_seasonal)
    if own_seasonal and method == "model":
        s = dataclasses.replace(s, growth_shrinkage=estimate_shrinkage(panel, horizon, s))
    used = _estimated(signal, panel, horizon, s) if own_seasonal and method == "model" else None
    errors = measure_errors(panel, horizon, method, s, used)  # on the months as reported
    live, filled = with_late_months(panel, late_reporters(panel, left, s), method, s) if left is not None \
        else (panel, None)
    fc = point_forecast(live, panel.last, horizon, method, s, used, live=True)
    kind = "enterprise" if own_seasonal else "project"
    values = simulate(fc, live, errors, draws, rng, s, shared, kind) if draws > 1 else fc.values[None, :, :]
    variant = method if method == "naive" else ("model/own" if s.own_seasonal else "model/peers")
    measured = errors.measured(horizon, s) if fc.active.any() else None
    paths = errors.restarts[~np.isnan(errors.restarts).any(axis=1)] if errors.restarts.shape[1] == horizon \
        else np.zeros((0, horizon))
    return SeriesResult(panel.name, variant, len(errors.origins), errors.samples, measured, values, panel, fc,
                        _late_months(live, filled, fc, values), int((fc.dormant_level > 0).sum()), len(paths),
                        int((paths.sum(axis=1) > 0).sum()), len(paths) >= s.min_error_samples)


def _late_months(live: Panel, filled: np.ndarray | None, fc: PointForecast, values: np.ndarray) -> LateMonths | None:
    if filled is None or not filled.any():
        return None
    rows, cols = np.flatnonzero(filled.any(axis=1)), np.flatnonzero(filled.any(axis=0))
    late = filled[np.ix_(rows, cols)]
    point = np.where(late, live.values[np.ix_(rows, cols)], 0.0)
    first = fc.values[rows, 0]
    ratio = np.divide(values[:, rows, 0], first, out=np.ones((values.shape[0], len(rows))), where=first > 0)
    return LateMonths(rows, cols, late, point, ratio[:, :, None] * point[None, :, :])


def _estimated(signal: PowerSignal | None, panel: Panel, horizon: int, s: SeriesSettings) -> PowerSignal | None:
    """The signal with its weights estimated against the plain forecast of each past origin's next months."""
    if signal is None:
        return None
    data_from = int(panel.first_reported.min()) if len(panel.keys) else panel.last
    origins = range(max(data_from + 12 + s.growth_window - 1, panel.last - s.training_months), panel.last)
    plain = {o: point_forecast(panel, o, horizon, "model", s).values for o in origins}
    return estimate_signal(signal, panel, plain, s.min_error_samples)


def _output(con, h: Horizon, settings: ForecastSettings, method: str, draws: int, rng,
            shared: SharedDraws) -> SeriesResult:
    panel = load_panel(
        con, "output",
        """select m.uscc as key, coalesce(e.industry_group, '其他') as grp, m.month, m.output_single_month_yuan as value
           from marts.fct_enterprise_month m left join marts.dim_enterprise e using (uscc)""",
        _history_start(h, settings), h.q4_end_month, h.output_month,
    )
    signal = PowerSignal.load(con, panel, settings.series.growth_window, settings.min_power_days,
                              settings.power_max_adjustment, settings.series.min_group_entities)
    left = months_by_key(con, "select uscc as key, above_size_exit as month from marts.dim_enterprise",
                         panel.keys, panel.start)
    return _forecast_series(_with_production_start(con, panel), settings.series, method, draws, rng, True, shared,
                            signal, left)


def _with_production_start(con, panel: Panel) -> Panel:
    """The enterprises' panel with the month each started production (投产年月; NEVER where blank)."""
    started = months_by_key(con, "select uscc as key, production_start as month from marts.dim_enterprise",
                            panel.keys, panel.start)
    return dataclasses.replace(panel, started=started)


def _projects(con, h: Horizon, settings: ForecastSettings, method: str, draws: int,
              stream: Callable[[str], np.random.Generator], shared: SharedDraws) -> list[SeriesResult]:
    """Investment and equipment of the library's projects; both match peers on the runway of the
    investment (the months its planned total lasts at its recent pace: equipment is bought as the
    building goes)."""
    start = _history_start(h, settings)
    panels = {
        name: load_panel(
            con, name,
            f"""select m.project_code as key, coalesce(p.industry_group, '其他') as grp, m.month, m.{column} as value
                from marts.fct_project_month m left join marts.dim_project p using (project_code)""",
            start, h.q4_end_month, h.projects_month,
            stops_sql="select project_code as key, completion_month as month from marts.dim_project",
        )
        for name, column in (("investment", "investment_yuan"), ("equipment", "equipment_yuan"))
    }
    planned, built = progress(panels["investment"], con, f"""
        select p.project_code as key, p.planned_investment_yuan as planned,
               sum(m.investment_yuan) filter (where m.month < date '{start}') as built_before
        from marts.dim_project p left join marts.fct_project_month m using (project_code)
        group by all""")
    # Both panels come from the same library rows: the same projects, in the same order.
    assert np.array_equal(panels["investment"].keys, panels["equipment"].keys)
    series = dataclasses.replace(settings.series, completion_share=_completion_share(con, h, settings))
    pace = panels["investment"].values
    started = months_by_key(con, "select project_code as key, start_month as month from marts.dim_project",
                            panels["investment"].keys, start)
    started = np.where(started == NEVER, panels["investment"].first_reported, started)
    return [_forecast_series(dataclasses.replace(panel, progress=built, planned=planned, pace=pace, started=started),
                             series, method, draws, stream(name), False, shared) for name, panel in panels.items()]


def _completion_share(con, h: Horizon, settings: ForecastSettings) -> float:
    """The most of its plan a project reports over its life (SeriesSettings.completion_share): the
    `forecast.completion_quantile` of the total over the plan of the projects completed by the run
    whose whole life the library holds (started after its first month: a project started before
    reported months the warehouse never saw); `forecast.completion_share_fallback` with fewer than
    `forecast.min_error_samples` such projects."""
    shares = con.execute("""
        select sum(m.investment_yuan)::double / any_value(p.planned_investment_yuan)::double as share
        from marts.dim_project p join marts.fct_project_month m using (project_code)
        where p.planned_investment_yuan > 0 and p.completion_month <= ? and m.month <= ?
          and p.start_month > (select min(month) from marts.fct_project_month)
        group by p.project_code""", [h.projects_month, h.projects_month]).fetchnumpy()["share"]
    if len(shares) < settings.series.min_error_samples:
        return settings.completion_share_fallback
    return float(np.quantile(shares, settings.completion_quantile))


@dataclass
class PowerResult:
    series: SeriesResult  # complete months; the draws of the month being read are for the whole month
    read_so_far: np.ndarray  # (n,) kWh read in the month being read (0 where none)
    month_read: date  # the month being read (the one after the last complete month)


def _power(con, h: Horizon, settings: ForecastSettings, method: str, draws: int, rng,
           shared: SharedDraws) -> PowerResult | None:
    """kWh of the enterprises' metered accounts: complete months are the panel; the month being read
    is its reading so far plus the rest of the month, with the error of a month ahead. What the days
    read carry of a month is the share the same dates and weekdays carried a year before, per group
    (`read_shares`; the share of calendar days where there is no year before). The rest goes at the
    pace read so far once `forecast.min_power_days` days are in; before that, the days not read
    take their share of the month's forecast: with the rate of one Sunday read (1 December 2024)
    every enterprise's December was a month of Sundays, M24 20–50% low in every replayed Q4 2024
    on 2 December."""
    [(last_read,)] = con.execute("select max(last_reading_date) from marts.fct_power_month").fetchall()
    if last_read is None:
        return None
    last_complete = add_months(date(last_read.year, last_read.month, 1), 0 if (last_read + timedelta(days=1)).day == 1 else -1)
    month_read = add_months(last_complete, 1)
    panel = load_panel(
        con, "kwh",
        """select m.uscc as key, coalesce(e.industry_group, '其他') as grp, m.month, m.kwh as value
           from marts.fct_power_month m left join marts.dim_enterprise e using (uscc)
           where m.last_reading_date = last_day(m.month)""",
        _history_start(h, settings), max(h.q4_end_month, last_complete), last_complete,
    )
    result = _forecast_series(_with_production_start(con, panel), settings.series, method, draws, rng, True, shared)
    read = np.zeros(len(panel.keys))
    if result.draws.shape[2] and month_read <= h.q4_end_month:
        rows = con.execute(
            f"""select uscc, {KWH_BEING_READ_SQL} as kwh, datediff('day', month, last_reading_date) + 1 as days,
                      day(last_day(month)) as days_in_month
               from marts.fct_power_month where month = ?""", [month_read]).fetchnumpy()
        row = key_positions(panel.keys, rows["uscc"])
        known = row >= 0
        elapsed = np.zeros(len(panel.keys))
        length = np.ones(len(panel.keys))
        read[row[known]] = np.asarray(rows["kwh"], dtype=float)[known]
        elapsed[row[known]] = np.asarray(rows["days"], dtype=float)[known]
        length[row[known]] = np.asarray(rows["days_in_month"], dtype=float)[known]
        reading = result.forecast.active & (elapsed > 0)
        point = result.forecast.values[:, 0]
        share = read_shares(con, panel.keys, panel.groups, month_read, elapsed, length,
                            settings.series.min_group_entities)
        at_rate = read * (1 - share) / np.maximum(share, 1e-9)
        as_forecast = point * (1 - share)
        rest = np.where(reading, np.where(elapsed >= settings.min_power_days, at_rate, as_forecast), 0.0)
        ratio = np.divide(result.draws[:, :, 0], point, out=np.ones_like(result.draws[:, :, 0]), where=point > 0)
        result.draws[:, :, 0] = np.where(reading, read + rest * ratio, result.draws[:, :, 0])
        result.forecast.values[:, 0] = np.where(reading, read + rest, point)
    return PowerResult(result, read, month_read)


def _period_sums(result: SeriesResult, start: date, end: date) -> np.ndarray:
    """(N, n): the draws added up over the forecast months within start..end (late entities' months
    not reported yet included)."""
    p = result.panel
    within = range(p.col(start), p.col(end) + 1)
    total = result.draws[:, :, [c - p.last - 1 for c in within if c > p.last]].sum(axis=2)
    if result.late is not None:
        total = total.astype(np.float64)
        total[:, result.late.rows] += result.late.draws[:, :, np.isin(result.late.cols, list(within))].sum(axis=2)
    return total


def _frame(result: SeriesResult, draws: int, key: str, columns: dict[str, np.ndarray], scale: int) -> pa.Table:
    """Long table (draw, key, columns...) of the entities forecast at all; the columns as exact
    DECIMAL(18, scale), each value rounded once."""
    active = np.flatnonzero(result.forecast.active)
    n = len(active)
    # Keys as a dictionary (each entity's text once, then its index per draw): millions of rows.
    keys = pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(n, dtype=np.int32), draws)),
                                          pa.array(result.panel.keys[active].tolist(), type=pa.string()))
    table = {"draw": pa.array(np.repeat(np.arange(1, draws + 1, dtype=np.int16), n)), key: keys}
    for name, values in columns.items():
        table[name] = _decimal(values[:, active].reshape(-1), scale)
    return pa.table(table)


def _decimal(values: np.ndarray, scale: int) -> pa.Array:
    """DECIMAL(18, scale) of `values` rounded to `scale` places: Arrow's 64-bit decimal over the
    integers of its units, no copy (a cast per value of millions of draws would take seconds; the
    128-bit decimal this wrote before cost ~4 s at province size, most of it touching the fresh
    memory of its twice-as-wide buffer). Computed in place on one copy of `values`."""
    units = np.array(values, dtype=np.float64)
    np.nan_to_num(units, copy=False)
    units *= 10**scale
    np.rint(units, out=units)
    integers = units.astype(np.int64)
    return pa.Array.from_buffers(pa.decimal64(18, scale), len(integers), [None, pa.py_buffer(integers)])


def _write_enterprise_draws(con, h: Horizon, output: SeriesResult, draws: int) -> None:
    q3_end = add_months(h.q4_start, -1)
    _store(con, "enterprise_draws", _frame(output, draws, "uscc", {
        "q3_output_fc": _period_sums(output, h.q3_start, q3_end),
        "q4_output_fc": _period_sums(output, h.q4_start, h.q4_end_month),
        "fy_output_fc": _period_sums(output, h.year_start, h.q4_end_month),
    }, 2))


def _write_project_draws(con, h: Horizon, investment: SeriesResult, equipment: SeriesResult, draws: int) -> None:
    # Investment and equipment come from the same library rows: the same projects are forecast in both.
    assert np.array_equal(investment.forecast.active, equipment.forecast.active)
    inv = _frame(investment, draws, "project_code", {
        "q4_investment_fc": _period_sums(investment, h.q4_start, h.q4_end_month),
        "equipment_fc": _period_sums(equipment, h.year_start, h.q4_end_month),
    }, 2)
    _store(con, "project_draws", inv)


def _write_power_draws(con, h: Horizon, power: PowerResult | None, draws: int) -> None:
    if power is None:
        _store(con, "power_draws", pd.DataFrame({"draw": pd.Series(dtype="int16"), "uscc": pd.Series(dtype=object),
                                                 "q4_kwh_fc": pd.Series(dtype=float)}))
        return
    q4 = _period_sums(power.series, h.q4_start, h.q4_end_month)
    if h.q4_start <= power.month_read <= h.q4_end_month:
        q4 = q4 - power.read_so_far[None, :]  # read so far: in the marts' actual quarter already
    _store(con, "power_draws", _frame(power.series, draws, "uscc", {"q4_kwh_fc": np.maximum(q4, 0.0)}, 3))


# Each destination new to its exporter in a quarter (with the history to tell), and its months in that quarter.
NEW_DESTINATION_MONTHS = """from marts.fct_export_destination_quarter q
        join marts.fct_export_destination_month m
          on m.uscc = q.uscc and m.destination = q.destination
         and m.month between q.quarter_start and q.quarter_start + interval 2 month
        where q.is_new_destination and q.history_covers_lookback"""


def _write_export_draws(con, h: Horizon, settings: ForecastSettings, draws: int, rng) -> None:
    """Exports to a destination new in the policy quarter, in its months not delivered yet: the first
    month's value × the ratio a past new destination's later months had to its first month (a
    one-off shipment gives 0, a new market that takes off more than 1), resampled from every
    quarter the data covers, together with `forecast.new_destination_prior` examples of the two
    plain outcomes, half a one-off (0) and half the first month repeated (1): with few past new
    destinations the range stays open between them, with none it is theirs alone, and with many
    they hardly count. Destinations first served after the latest delivery:
    `_write_new_export_destinations`."""
    months = con.execute(f"""
        select q.uscc, q.destination, q.quarter_start, m.month, m.value_cny_yuan::double as value
        {NEW_DESTINATION_MONTHS}
        order by all
    """).df()
    columns = {"draw": pd.Series(dtype="int16"), "uscc": pd.Series(dtype=object),
               "destination": pd.Series(dtype=object), "q4_cny_fc": pd.Series(dtype=float)}
    if months.empty or not h.open:
        _store(con, "export_draws", pd.DataFrame(columns))
        return
    months["offset"] = ((months["month"].dt.year - months["quarter_start"].dt.year) * 12
                        + months["month"].dt.month - months["quarter_start"].dt.month)
    live_q = pd.Timestamp(h.q4_start)
    reported = h.customs_month
    # History: complete past quarters, each new (uscc, destination)'s later months over its first,
    # beside the prior's two outcomes, each weighing half the prior's count of examples.
    prior = settings.new_destination_prior / 2
    ratios: dict[int, list[float]] = {step: [0.0, 1.0] for step in (1, 2)}
    weights: dict[int, list[float]] = {step: [prior, prior] for step in (1, 2)}
    past = months[months["quarter_start"] < live_q]
    for _, g in past.groupby(["uscc", "destination", "quarter_start"]):
        first = g.iloc[0]
        for step in (1, 2):
            if first["offset"] + step <= 2:
                later = g.loc[g["offset"] == first["offset"] + step, "value"]
                ratios[step].append(float(later.sum()) / first["value"] if first["value"] > 0 else 0.0)
                weights[step].append(1.0)
    live = months[months["quarter_start"] == live_q]
    frames = []
    for (uscc, destination), g in live.groupby(["uscc", "destination"]):
        first = g.iloc[0]
        first_month = first["month"].date()
        total = np.zeros(draws)
        for month_offset in range(int(first["offset"]) + 1, 3):
            month = add_months(h.q4_start, month_offset)
            step = month_offset - int(first["offset"])
            if month <= reported or sum(weights[step]) <= 0:
                continue
            chance = np.asarray(weights[step]) / sum(weights[step])
            total += first["value"] * np.asarray(ratios[step])[rng.choice(len(chance), size=draws, p=chance)]
        if first_month <= reported and total.any():
            frames.append(pd.DataFrame({"draw": np.arange(1, draws + 1, dtype=np.int16), "uscc": uscc,
                                        "destination": destination, "q4_cny_fc": total}))
    _store(con, "export_draws", pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns),
           {"q4_cny_fc": 2})


def _write_new_export_destinations(con, h: Horizon, settings: ForecastSettings, draws: int, rng) -> None:
    pairs = con.execute(f"""
        select q.uscc, q.destination, q.quarter_start, q.value_cny_yuan::double as q4_cny, min(m.month) as first_month
        {NEW_DESTINATION_MONTHS}
        group by all
        order by all
    """).df()
    months = pairs["first_month"].to_numpy(dtype="datetime64[D]")
    p, pool = pace(months, h.customs_month, h.q4_start, h.q4_end_month, settings.pace_prior, settings.pace_from_month)
    if not p.from_last_year:
        # Last year's quarter cannot tell its new pairs (its look-back reaches before the data): this
        # year's rate of new pairs says how many, and each takes the value a pair new in an earlier,
        # complete quarter of this year had in its quarter (a pair's value needs its whole quarter);
        # where this year's only new pairs are the quarter's own, their value so far (a lower bound).
        complete = pairs["quarter_start"].to_numpy(dtype="datetime64[D]") < np.datetime64(h.q4_start)
        if complete[pool].any():
            pool = pool[complete[pool]]
    draw_of, picked, _ = draw_new(p, pool, months, h.customs_month, h.q4_end_month, draws if h.open else 0,
                                  settings.count_dispersion, rng)
    new = _new_frame(pairs[["uscc", "destination", "q4_cny"]], draw_of, picked, "export")
    new = new.rename(columns={"uscc": "source_uscc"}).rename(columns={"pseudo_key": "uscc"})
    # Who opens them: the exporters opening new destinations in the quarter so far, each as often
    # as it has. M22.new_market pays an enterprise on the sum of its new destinations, and a pair
    # still to come under an exporter of its own was judged alone: on a tenth data process 30
    # exporters opened markets of about 18万 each month of the quarter, 23 of them passed 100万
    # only with their later months', and the pairs still to come could pay nothing (56万 [54–59]
    # from 11 November, 73万 came; 57万 with this, its pairs still to come being last year's
    # small ones). Its destination is marked as forecast in the trace; before the quarter's first
    # new pair the exporter stays a simulated one.
    so_far = pairs.loc[(pairs["quarter_start"] == pd.Timestamp(h.q4_start))
                       & (pairs["first_month"] <= pd.Timestamp(h.customs_month)), "uscc"].value_counts().sort_index()
    if len(new) and len(so_far):
        who = rng.choice(len(so_far), size=len(new), p=(so_far / so_far.sum()).to_numpy())
        new["uscc"] = so_far.index.to_numpy()[who]
        new["destination"] = new["destination"] + FORECAST_MARK
    _store(con, "new_export_destinations", new, {"q4_cny": 2})


# After a value a trace shows that is forecast, not delivered (a destination still to come).
FORECAST_MARK = "（预计）"

# The first character of a simulated entity's key (a register row, an exporter, an enterprise or a
# project the quarter will still get): no real USCC or project code starts so. They count in the
# budget's draws, never as a beneficiary (measures/engine.py).
PSEUDO = "~"


def _new_frame(source: pd.DataFrame, draw_of: np.ndarray, picked: np.ndarray, kind: str) -> pd.DataFrame:
    frame = source.iloc[picked].reset_index(drop=True)
    frame.insert(0, "draw", draw_of.astype(np.int16))
    frame["pseudo_key"] = [f"{PSEUDO}{kind}:{d}:{i}" for i, d in enumerate(draw_of.tolist())]
    return frame


def _write_new_register_rows(con, h: Horizon, settings: ForecastSettings, draws: int, rng, table: str,
                             column: str) -> dict:
    """The register's rows still to come, per draw, counted from the last day the register is
    complete (new_events.registered_through); what they were counted from, for the workbooks."""
    rows = con.execute(f"select * from marts.fct_{table} where {column} is not null order by all").df()
    on = rows[column].to_numpy(dtype="datetime64[D]")
    through = registered_through(on, h.as_of)
    quarter_end = date(h.q4_end_month.year, 12, 31)
    copies = con.execute("select source_version, row_key, dated_on from marts.fct_register_row_versions "
                         "where register = ? order by all", [table]).df()
    complete = completeness(copies.source_version.to_numpy(), copies.row_key.to_numpy(dtype=object),
                            copies.dated_on.to_numpy(dtype="datetime64[D]"), settings.register_lag_max_days,
                            settings.register_copy_share, settings.series.min_error_samples)
    p, pool = pace(on, through, h.q4_start, quarter_end, settings.pace_prior, settings.pace_from_month, complete,
                   settings.rest_prior)
    draw_of, picked, dates = draw_new(p, pool, on, through, quarter_end, draws if h.open else 0,
                                      settings.count_dispersion, rng)
    new = _new_frame(rows, draw_of, picked, table)
    if table in PUBLISHED_LISTS:
        keep = _within_the_lists_year(new, rows, column, h.q4_start.year, h.as_of, PUBLISHED_LISTS[table])
        new, dates = new[keep].reset_index(drop=True), dates[keep]
    shift = pd.to_datetime(dates) - pd.to_datetime(new[column])
    new[column] = pd.to_datetime(dates)
    for c in new.columns:
        if c.endswith("_quarter_start"):
            new[c] = new[column].dt.to_period("Q").dt.start_time
        elif c == column.removesuffix("_on") + "_year":  # recognised_year of recognised_on
            new[c] = new[column].dt.year.astype(new[c].dtype)
        elif c != column and c not in ("draw",) and pd.api.types.is_datetime64_any_dtype(new[c]):
            new[c] = new[c] + shift  # e.g. a loan's maturity keeps its term
    new = new.rename(columns={"uscc": "source_uscc"}).rename(columns={"pseudo_key": "uscc"})
    for key in ("application_id", "recognition_key"):  # a row's own key: the new row's is its pseudo key
        if key in new.columns:
            new[key] = new["uscc"]
    _store(con, f"new_{table}", new)
    return {"register": table, "registered_through": through, "quarter_so_far": p.so_far,
            "last_year_so_far": p.last_year_so_far, "last_year_rest": p.last_year_rest,
            "expected_rows": p.expected if h.open else 0.0, "unregistered_rows": p.unregistered if h.open else 0.0}


def _within_the_lists_year(new: pd.DataFrame, rows: pd.DataFrame, column: str, year: int, as_of: date,
                           lists: tuple[str, ...]) -> np.ndarray:
    """Which drawn rows to keep (a mask over `new`): per draw and list, at most as many as the
    list's last year held beyond this year's rows so far. A list is published in a batch or two a
    year, not a row at a time, and its batch moves from one year to the next (the generator's
    国家级 绿色工厂: four on 28 November 2023, two on 26 September 2024): drawn from last year's
    rows after the same day, a list whose batch is out already got last year's late batch again
    (the demo's M17.green_factories 8 against an outcome of 2, M29.champions_new 8 against 4)."""
    if new.empty:
        return np.zeros(0, dtype=bool)
    on = pd.to_datetime(rows[column])
    last = rows[on.dt.year == year - 1].groupby(list(lists)).size()
    now = rows[(on.dt.year == year) & (on <= pd.Timestamp(as_of))].groupby(list(lists)).size()
    room = last.sub(now, fill_value=0).clip(lower=0).rename("room").reset_index()
    drawn = new[["draw", *lists]].merge(room, on=list(lists), how="left")  # a left merge keeps new's order
    return (drawn.groupby(["draw", *lists]).cumcount() < drawn["room"].fillna(0)).to_numpy()


def _first_reports(con, sql: str) -> pd.DataFrame:
    """(key, first reported month) of every entity of a monthly fact, leaving out those first seen
    in the first month of the data (already there before it, not entrants)."""
    frame = con.execute(f"""
        with firsts as (select key, min(month) as first_month from ({sql}) group by key)
        select * from firsts where first_month > (select min(first_month) from firsts) order by key
    """).df()
    frame["first_month"] = frame["first_month"].astype("datetime64[ns]")
    return frame


def _entrants(con, h: Horizon, settings: ForecastSettings, draws: int, rng, sql: str, kind: str, now: date):
    """Last year's late entrants resampled for each draw: (frame of picked keys with draw and pseudo
    key); `now`: the latest month the entities' dataset holds."""
    firsts = _first_reports(con, sql)
    months = firsts["first_month"].to_numpy(dtype="datetime64[D]")
    p, pool = pace(months, now, h.q4_start, h.q4_end_month, settings.pace_prior, settings.pace_from_month)
    if not p.from_last_year:  # entrants need their quarter's figures: only last year's quarter has them
        pool = np.zeros(0, dtype=np.int64)
    draw_of, picked, _ = draw_new(p, pool, months, now, h.q4_end_month, draws if h.open else 0,
                                  settings.count_dispersion, rng)
    return _new_frame(firsts, draw_of, picked, kind)


def _write_new_enterprises(con, h: Horizon, settings: ForecastSettings, draws: int, rng) -> None:
    picked = _entrants(con, h, settings, draws, rng,
                       "select uscc as key, month from marts.fct_enterprise_month", "enterprise", h.output_month)
    last_q4 = add_months(h.q4_start, -12)
    con.register("picked_entrants", picked)
    con.execute(f"""
        create or replace table {SCHEMA}.new_enterprises as
        select p.draw, p.pseudo_key as uscc, p.key as source_uscc, e.city_code, e.industry_group,
               e.is_difficult_industry,
               e.production_start + interval 1 year as production_start,
               e.above_size_since + interval 1 year as above_size_since,
               coalesce(q.output_yuan, 0)::double as q4_output
        from picked_entrants p
        join marts.dim_enterprise e on e.uscc = p.key
        left join marts.fct_enterprise_quarter q on q.uscc = p.key and q.quarter_start = ?
    """, [last_q4])
    con.unregister("picked_entrants")


def _write_scale_entries(con, h: Horizon, settings: ForecastSettings, draws: int, rng) -> None:
    """Entries into the above-size statistics (入统年月) still to come in the year's months not
    delivered yet: their number at this year's entries per candidate-month since
    `forecast.pace_from_month` (new_events.per_candidate; without an entry this year, last year's
    entries after the same month at this year's pace, new_events.pace), the enterprises among those
    below the threshold now, each as likely as last year's candidates of its size (average monthly
    output over the last 12 months) were to enter."""
    then, then_end = add_months(h.output_month, -12), add_months(h.q4_end_month, -12)
    people = con.execute("""
        with size as (
            select uscc,
                   avg(output_single_month_yuan::double) filter (where month between $now - interval 11 month and $now) as size_now,
                   avg(output_single_month_yuan::double) filter (where month between $then - interval 11 month and $then) as size_then,
                   bool_or(month = $now) as reports_now, bool_or(month = $then) as reported_then,
                   bool_or(month = $now - interval 12 month) as based_now,
                   bool_or(month = $then - interval 12 month) as based_then
            from marts.fct_enterprise_month group by uscc
        )
        select e.uscc, s.size_now, s.size_then, s.based_now, s.based_then,
               s.reports_now and e.above_size_since is null and not e.is_above_size as candidate_now,
               s.reported_then and (e.above_size_since > $then
                                    or (e.above_size_since is null and not e.is_above_size)) as candidate_then,
               e.above_size_since > $then and e.above_size_since <= $then_end as entered_then
        from marts.dim_enterprise e join size s using (uscc)
        order by e.uscc
    """, {"now": h.output_month, "then": then, "then_end": then_end}).df()
    [(data_from,)] = con.execute("select min(month) from marts.fct_enterprise_month").fetchall()
    if data_from is None or data_from > add_months(then, -12):
        # Whether last year's candidates had reported a year before them is not in the data: one record class.
        people["based_now"] = people["based_then"] = False
    now = people[people["candidate_now"].fillna(False)]
    before = people[people["candidate_then"].fillna(False)]
    entries = con.execute(
        "select above_size_since from marts.dim_enterprise where above_size_since is not null order by uscc").df()
    months = entries["above_size_since"].to_numpy(dtype="datetime64[D]")
    window_from = date(h.output_month.year, settings.pace_from_month, 1)
    if window_from > h.output_month:
        window_from = date(h.output_month.year, 1, 1)
    # a candidate in a month: reporting then, not above the threshold before it (entering in it counts)
    [(exposure, entered)] = con.execute("""
        with reports as (select distinct uscc, month from marts.fct_enterprise_month where month between ? and ?)
        select count(*) filter (where (e.above_size_since is null and not e.is_above_size) or e.above_size_since >= r.month),
               count(*) filter (where e.above_size_since = r.month)
        from reports r join marts.dim_enterprise e using (uscc)
    """, [window_from, h.output_month]).fetchall()
    if entered:
        ahead = [add_months(h.output_month, k) for k in range(1, month_index(h.q4_end_month, h.output_month) + 1)]
        p = per_candidate(entered, exposure, len(now), ahead)
        pool = np.flatnonzero((months >= np.datetime64(window_from)) & (months <= np.datetime64(h.output_month)))
    else:
        p, pool = pace(months, h.output_month, h.q4_start, h.q4_end_month, settings.pace_prior, settings.pace_from_month)
    draw_of, _, dates = draw_new(p, pool, months, h.output_month, h.q4_end_month, draws if h.open else 0,
                                 settings.count_dispersion, rng)
    weights = entry_weights(before["size_then"].fillna(0).to_numpy(), before["based_then"].fillna(False).to_numpy(),
                            before["entered_then"].fillna(False).to_numpy(), now["size_now"].fillna(0).to_numpy(),
                            now["based_now"].fillna(False).to_numpy(), settings.series.size_classes)
    rows, who = assign_entries(draw_of, weights, rng)
    _store(con, "scale_entries", pd.DataFrame({
        "draw": draw_of[rows].astype(np.int16), "uscc": now["uscc"].to_numpy()[who].astype(object),
        "above_size_since": pd.to_datetime(dates[rows]).to_period("M").to_timestamp()}))


def _write_new_projects(con, h: Horizon, settings: ForecastSettings, draws: int, rng) -> None:
    """Last year's late entrants of the project library, a year on, with the dates the library
    shows now. A start (开工) reported after last year's quarter moves past this quarter's end, so
    such a copy is started for M11 (尚未开工) although at the end of its own quarter it was not.
    Copying the start as it stood then was measured and dropped (docs/forecast-changes.md,
    2026-12-05): one year's late entrants, resampled, make a single large unstarted entrant a
    two-in-three event of every draw, and M11's error on the replayed quarters rose from 18% to
    31%; M11 of projects still to enter the library needs a rate over more than one year."""
    picked = _entrants(con, h, settings, draws, rng,
                       "select project_code as key, month from marts.fct_project_month", "project", h.projects_month)
    last_q4 = add_months(h.q4_start, -12)
    con.register("picked_entrants", picked)
    con.execute(f"""
        create or replace table {SCHEMA}.new_projects as
        select p.draw, p.pseudo_key as project_code, p.key as source_project_code, d.uscc, d.city_code,
               d.industry_group, d.construction_type,
               d.start_month + interval 1 year as start_month,
               d.library_entry_month + interval 1 year as library_entry_month,
               d.tags, d.planned_investment_yuan,
               coalesce(q.investment_yuan, 0)::double as q4_investment,
               coalesce(q.equipment_yuan, 0)::double as equipment
        from picked_entrants p
        join marts.dim_project d on d.project_code = p.key
        left join marts.fct_project_quarter q on q.project_code = p.key and q.quarter_start = ?
    """, [last_q4])
    con.unregister("picked_entrants")


def _write_project_starts(con, h: Horizon, settings: ForecastSettings, draws: int, rng) -> None:
    """Projects of the library not started yet that start (开工) in a month not delivered yet.

    The rate is a monthly hazard: over the last `forecast.training_months` months of project data,
    the starts among the projects waiting at the end of the month before (in the library, not
    started), over the project-months waited. Each draw takes its own monthly rate from the beta
    posterior (`forecast.start_prior` on each side: three starts in ten project-months say less than
    thirty in a hundred), and each waiting project starts in the first month not delivered yet in
    which it draws a start. Every waiting month of the history counts, not only last year's same
    months: a handful of projects wait at any one time, and last year's share among the four
    waiting then (two started) made a 24亿 project of the other process a coin flip in October.
    The hazard is one for all months and all waiting times: the data hold too few starts to tell a
    December push of starts, or a longer wait, from chance. A start ends M11's 尚未开工 condition in
    that draw. Without a waiting project-month in the history there is nothing to learn from: no
    starts are drawn (the condition holds as reported)."""
    waiting = [k for (k,) in con.execute(
        "select project_code from marts.dim_project where start_month is null order by project_code").fetchall()]
    [(data_from,)] = con.execute("select min(month) from marts.fct_project_month").fetchall()
    window_from = add_months(h.projects_month, 1 - settings.series.training_months)
    [(exposure, started)] = con.execute("""
        with months as (select unnest(generate_series(?::date, ?::date, interval 1 month))::date as m)
        select count(*), count(*) filter (where p.start_month = months.m)
        from months join marts.dim_project p
          on p.library_entry_month < months.m and (p.start_month is null or p.start_month >= months.m)
    """, [max(window_from, data_from) if data_from else window_from, h.projects_month]).fetchall()
    to_come = [add_months(h.projects_month, k) for k in range(1, month_index(h.q4_end_month, h.projects_month) + 1)]
    rows: dict[str, list] = {"draw": [], "project_code": [], "start_month": []}
    if h.open and waiting and exposure and to_come:
        hazard = rng.beta(started + settings.start_prior, exposure - started + settings.start_prior, size=draws)
        hazard = np.maximum(hazard, np.finfo(float).tiny)  # a beta draw may underflow to 0: never a start
        wait = rng.geometric(np.repeat(hazard, len(waiting)).reshape(draws, len(waiting)))
        draw_index, project_index = np.nonzero(wait <= len(to_come))
        rows = {"draw": (draw_index + 1).tolist(), "project_code": [waiting[i] for i in project_index],
                "start_month": [to_come[w - 1] for w in wait[draw_index, project_index]]}
    _store(con, "project_starts", pd.DataFrame({
        "draw": pd.Series(rows["draw"], dtype="int64"), "project_code": pd.Series(rows["project_code"], dtype=object),
        "start_month": pd.Series(pd.to_datetime(rows["start_month"]), dtype="datetime64[ns]")}))


def _write_months(con, results: list[SeriesResult], settings: ForecastSettings) -> None:
    frames = []
    for r in results:
        active = np.flatnonzero(r.forecast.active)
        horizon = r.draws.shape[2]
        if not len(active) or not horizon:
            continue
        quantiles = [settings.quantile_low, 0.5, settings.quantile_high]
        q = np.quantile(r.draws[:, active, :], quantiles, axis=0)
        months = [r.panel.month(r.panel.last + 1 + k) for k in range(horizon)]
        frames.append(pd.DataFrame({
            "series": r.name,
            "method": r.method,
            "key": np.repeat(r.panel.keys[active], horizon),
            "month": np.tile(np.array(months, dtype="datetime64[D]"), len(active)),
            "point": r.forecast.values[active].reshape(-1),
            "low": q[0].reshape(-1),
            "median": q[1].reshape(-1),
            "high": q[2].reshape(-1),
        }))
        if r.late is not None:  # a late entity's months not reported yet: forecast months of its own
            entity, k = np.nonzero(r.late.filled)
            q = np.quantile(r.late.draws[:, entity, k], quantiles, axis=0)
            frames.append(pd.DataFrame({
                "series": r.name, "method": r.method, "key": r.panel.keys[r.late.rows[entity]],
                "month": np.array([r.panel.month(int(c)) for c in r.late.cols[k]], dtype="datetime64[D]"),
                "point": r.late.point[entity, k], "low": q[0], "median": q[1], "high": q[2]}))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {c: pd.Series(dtype=t) for c, t in (("series", object), ("method", object), ("key", object),
                                              ("month", "datetime64[ns]"), ("point", float), ("low", float),
                                              ("median", float), ("high", float))})
    _store(con, "months", frame)


def _write_series(con, results: list[SeriesResult]) -> None:
    _store(con, "series", pd.DataFrame({
        "series": [r.name for r in results],
        "method": [r.method for r in results],
        "entities": pd.array([int(r.forecast.active.sum()) for r in results], dtype="int32"),
        "late_entities": pd.array([len(r.late.rows) if r.late is not None else 0 for r in results], dtype="int32"),
        "months_ahead": pd.array([r.draws.shape[2] for r in results], dtype="int32"),
        "origins": pd.array([r.origins for r in results], dtype="int32"),
        "errors": pd.array([r.errors for r in results], dtype="int64"),
        "errors_measured": pd.array([r.errors_measured for r in results], dtype="boolean"),
        "dormant_entities": pd.array([r.dormant for r in results], dtype="int32"),
        "restart_paths": pd.array([r.restart_paths for r in results], dtype="int32"),
        "restarted_paths": pd.array([r.restarted_paths for r in results], dtype="int32"),
        "restarts_drawn": pd.array([r.restarts_drawn for r in results], dtype="boolean"),
    }))


def _store(con, table: str, frame: pd.DataFrame | pa.Table, exact: dict[str, int] | None = None) -> None:
    """Write `frame` as table `table`; `exact`: data frame columns stored as DECIMAL(18, scale) (a
    simulated amount is rounded once here, so that the rules add it to the reported one exactly)."""
    names = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
    exact = exact or {}
    columns = ", ".join(f"round({c}, {exact[c]})::decimal(18, {exact[c]}) as {c}" if c in exact else c for c in names)
    con.register("frame_to_store", frame)
    try:
        con.execute(f"create or replace table {SCHEMA}.{table} as select {columns} from frame_to_store")
    finally:
        con.unregister("frame_to_store")
