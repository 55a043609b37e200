"""What will still happen by the end of the quarter: register rows not dated yet, entities not reported yet.

A register row (a loan, an application, a supply link) counts for a scheme from the day it is
dated; an enterprise or a project counts from its first report. While the quarter is open, some
of those the quarter will hold have not happened yet. Last year's same quarter says how many
came after the same point of the quarter, and what they looked like; this year's pace says
whether there are more or fewer this year:

    expected = (last year's rows after the same day) × pace,
    pace     = (this quarter so far + k × pace of the year) / (last year's quarter so far + k),
    pace of the year = (this year so far + k) / (last year to the same day + k),
                       both counted from month m of their year,

k = `forecast.pace_prior` (early in the quarter the year's pace dominates), m =
`forecast.pace_from_month` (a January batch is not a pace). Both factors are
counts of a few events, so neither is known exactly: each draw takes its own last year's rest
(gamma with shape = the rows counted, the posterior of a Poisson rate) and its own pace (gamma with
shape = this quarter so far + k × pace of the year, rate = last year so far + k), whose mean is the
point `expected` above; with few rows the range widens, with many it narrows. The number of new
rows is then negative binomial around that draw's mean (size `forecast.count_dispersion`: rows come
in batches), resampled from last year's rows after the same day, moved one year on. A register or a
panel without last year's quarter takes this year's daily rate instead (gamma with shape = the
year's rows) and resamples this year's rows, spread evenly over the rest of the quarter.

A hand-kept register also lacks rows of its own last weeks: staff key a row in some days after
its date and re-deliver the register as a whole copy when they get to it. How complete the latest
copy is for the rows dated L days before its latest row comes from the earlier copies: the share
of the rows a later copy showed, dated L days before an earlier copy's latest row, that the
earlier copy already held (`completeness`). Last year's rows then count in "so far" only by that
share (this year's so far is thinned by it too), and the rest of them is still to come, dated
before the cut-off: `expected` includes the rows dated by the cut-off still to be keyed in. A
register delivered once, or whose copies were complete, has completeness 1 and nothing changes.

An entry into the above-size statistics (入统) is such an event too, but it happens to an
enterprise already known, one of a finite pool: the number of entries comes from this year's
entries per candidate-month, for each candidate now in each month still to come (`per_candidate`;
the pace above where this year has no entry to go by), and each draw picks that many of the
enterprises below the threshold now, each as likely as last year's candidates of its size and of
its record (reported a year before or not) were to enter after the same point (`entry_weights`,
`assign_entries`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np


@dataclass(frozen=True)
class Pace:
    so_far: int  # this quarter, up to the cut-off
    last_year_so_far: float  # last year's quarter up to the same day (its rows thinned by the completeness)
    last_year_rest: float  # last year's quarter after the same day (and its rows a copy as late would lack)
    expected: float  # rows still to come by the quarter's end (the mean over draws)
    from_last_year: bool  # False: this year's daily rate (no last-year quarter to go by)
    pace_shape: float = 0.0  # gamma posterior of the pace (from_last_year) ...
    pace_rate: float = 1.0
    scale: float = 1.0  # ... else the factor from the year's rows to the rows still to come
    unregistered: float = 0.0  # of `expected`, the rows dated by the cut-off still to be keyed in
    # where the completeness is below 1: how likely each pool row is to be drawn (None: alike), and
    # without last year's quarter the days the rows still to come are dated on and their weights
    pool_weights: np.ndarray | None = None
    days: np.ndarray | None = None
    day_weights: np.ndarray | None = None
    # the count taken for last year's rest where it had no row after the same day (a register:
    # `forecast.rest_prior`); the pool is then this quarter's rows so far, dated over the days left
    rest_prior: float = 0.0
    pool_this_quarter: bool = False

    def draw_means(self, draws: int, rng: np.random.Generator) -> np.ndarray:
        """Each draw's expected number of rows still to come, with the uncertainty of its counts."""
        if self.from_last_year:
            rest = rng.gamma(self.last_year_rest or self.rest_prior, 1.0, size=draws)
            return rest * rng.gamma(self.pace_shape, 1.0 / self.pace_rate, size=draws)
        rows = self.expected / self.scale if self.scale > 0 else 0.0
        return rng.gamma(rows, 1.0, size=draws) * self.scale


def year_back(d: date) -> date:
    return d.replace(year=d.year - 1) if not (d.month == 2 and d.day == 29) else date(d.year - 1, 2, 28)


def year_on(d: date) -> date:
    return d.replace(year=d.year + 1) if not (d.month == 2 and d.day == 29) else date(d.year + 1, 2, 28)


def registered_through(on: np.ndarray, as_of: date) -> date:
    """The last day a hand-kept register is known to hold every row of: its latest row dated by
    the as-of date (the as-of date for an empty register). FEEDS.md gives registers no delivery
    calendar: staff re-deliver the workbook when they get to it, so the rows dated between its
    last re-delivery and the run are still to come, like the rows dated later. Taken as "nothing
    happened" up to the as-of date, a register re-delivered monthly a month behind forecast M23
    at 103.59万 at low, base and high three weeks before a quarter end that paid 282.27万 (its
    November loans keyed in on 2 December). Counting from the latest row instead errs the other
    way on a register kept up to date: last year's rows between the latest row's day and the run's
    come on top (measured both ways in docs/forecast-changes.md)."""
    d = on.astype("datetime64[D]")
    d = d[~np.isnat(d) & (d <= np.datetime64(as_of))]
    return min(as_of, d.max().astype(object)) if len(d) else as_of


def completeness(versions: np.ndarray, keys: np.ndarray, on: np.ndarray, max_lag: int, copy_share: float,
                 min_samples: int) -> np.ndarray | None:
    """How complete a register's latest copy is for its rows dated L days before its latest row
    (L = 0 … max_lag − 1; rows dated earlier are complete), or None where the copies do not tell
    (fewer than `min_samples` rows to measure it on) or every copy was complete.

    `versions`, `keys`, `on`: one element per row of every delivered version (a row's key, its
    date in that version). A version is a copy of the whole register when it repeats at least
    `copy_share` of the rows earlier versions held up to its own latest row; a `_vN` correcting a
    few rows is not a copy. Each copy but the latest is compared with every row known now: of
    the rows dated L days before the copy's latest row, the share it held. Only rows dated at
    least `max_lag` days before the latest row count (later copies may still add to the rest).
    Shares pooled over copies, in weeks of lag, made non-decreasing in the lag (a row keyed in
    by a day is keyed in by every later day)."""
    if len(on) == 0:
        return None
    on = on.astype("datetime64[D]")
    order = np.argsort(versions, kind="stable")
    known: dict[object, np.datetime64] = {}
    for k, d in zip(keys[order].tolist(), on[order]):  # a later version's date of a row wins
        known[k] = d
    latest = max(known.values())
    complete_before = latest - np.timedelta64(max_lag, "D")
    held_by: dict[int, set] = {}
    last_day: dict[int, np.datetime64] = {}
    for v in np.unique(versions).tolist():
        mask = versions == v
        held_by[v], last_day[v] = set(keys[mask].tolist()), on[mask].max()
    copies, seen = [], set()
    for v in sorted(held_by):
        earlier = [k for k in seen if known[k] <= last_day[v]]
        if not copies or len(held_by[v] & set(earlier)) >= copy_share * len(earlier):
            copies.append(v)
        seen |= held_by[v]
    weeks = -(-max_lag // 7)
    held, counted = np.zeros(weeks), np.zeros(weeks)
    known_keys = np.array(list(known), dtype=object)
    known_on = np.array(list(known.values()), dtype="datetime64[D]")
    for v in copies[:-1]:
        lag = (last_day[v] - known_on).astype(int)
        use = (lag >= 0) & (lag < max_lag) & (known_on <= complete_before)
        week = lag[use] // 7
        np.add.at(counted, week, 1)
        np.add.at(held, week, np.fromiter((k in held_by[v] for k in known_keys[use]), bool, int(use.sum())))
    if counted.sum() < min_samples:
        return None
    share = _non_decreasing(held, counted)
    if (share >= 1).all():  # every copy held every row of its last weeks: nothing is still to be keyed in
        return None
    return np.clip(np.repeat(share, 7)[:max_lag], 1e-3, 1.0)


def _non_decreasing(held: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Shares held / counted per bin, pooled where they fall with the bin (pool adjacent
    violators); a bin without rows takes its neighbour's."""
    blocks: list[list[float]] = []  # [held, counted, bins]
    for h, c in zip(held.tolist(), counted.tolist()):
        if blocks and not blocks[-1][1]:  # empty bins before: pooled with this one
            blocks[-1] = [h, c, blocks[-1][2] + 1]
        else:
            blocks.append([h, c, 1])
        while len(blocks) > 1 and blocks[-1][1] and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            h2, c2, n2 = blocks.pop()
            blocks[-1] = [blocks[-1][0] + h2, blocks[-1][1] + c2, blocks[-1][2] + n2]
    out = np.concatenate([np.full(n, h / c if c else np.nan) for h, c, n in blocks])
    if np.isnan(out).all():
        return np.ones(len(out))
    return np.where(np.isnan(out), out[~np.isnan(out)][-1], out)


def pace(on: np.ndarray, cutoff: date, quarter_start: date, quarter_end: date, prior: float,
         from_month: int, complete: np.ndarray | None = None, rest_prior: float = 0.0) -> tuple[Pace, np.ndarray]:
    """The expected number of rows dated after `cutoff` up to `quarter_end`, and the indices of the
    rows to resample them from. `on`: the row dates (datetime64[D]). The year's pace counts from
    month `from_month` (`forecast.pace_from_month`): what comes in a batch at the start of a year
    (enterprises entering the statistics in January, a register keyed in at once) says nothing
    about how many more the end of the year brings. `complete` (from `completeness`): how complete
    the register is for rows dated L days before `cutoff`; the rows of the quarter it lacks are
    still to come too. `rest_prior`: the count taken for last year's rest where it is 0 (Jeffreys'
    0.5 for a Poisson count): a register whose last year had no row after the same day was forecast
    to get none, with certainty, while this December's applications came at a row a day (a seventh
    data process, 2026-12-07); with it, such a register may still get a few, resampled from this
    quarter's rows. Where last year had rows after the day, their count stands alone: the prior
    added to every count took M08's mean absolute error on 20 replayed quarters from 27% to 35%."""
    d = on.astype("datetime64[D]")

    def held(days: np.ndarray, cut: date) -> np.ndarray:
        """Per date (≤ cut): the share of its rows a register cut then would hold."""
        if complete is None:
            return np.ones(len(days))
        lag = (np.datetime64(cut) - days).astype(int)
        return np.where(lag < len(complete), complete[np.clip(lag, 0, len(complete) - 1)], 1.0)

    def between(a: date, b: date) -> np.ndarray:
        return (d >= np.datetime64(a)) & (d <= np.datetime64(b))

    year_start = date(quarter_start.year, 1, 1)
    pace_start = date(quarter_start.year, from_month, 1)
    if pace_start > min(cutoff, quarter_start):
        pace_start = year_start
    so_far = int(between(quarter_start, cutoff).sum())
    if (d < np.datetime64(year_start)).any():
        # last year's rows a register as late as this one would hold count as so far; the others,
        # and every row after the same day, are the rest still to come
        last_start, last_cut, last_end = year_back(quarter_start), year_back(cutoff), year_back(quarter_end)
        weight = np.zeros(len(d))
        before = between(last_start, last_cut)
        weight[before] = 1.0 - held(d[before], last_cut)
        weight[between(last_cut + timedelta(days=1), last_end)] = 1.0
        last_so_far = float((1.0 - weight[before]).sum())
        year = int(between(pace_start, cutoff).sum())
        last_year = float(held(d[between(year_back(pace_start), last_cut)], last_cut).sum())
        year_pace = (year + prior) / (last_year + prior)
        shape, rate = so_far + prior * year_pace, last_so_far + prior
        quarter_pace = shape / rate if rate > 0 else 0.0
        rest = np.flatnonzero(weight > 0)
        rest_rows = float(weight[rest].sum())
        # resampled from this quarter's rows, or before the quarter's first row from this year's:
        # a register with none in last year's quarter read 0 at low, base and high until its first
        # row of the quarter came (the generator's tiny applications, M21 0 against 50万 on 7 October,
        # 2026-12-07); with nothing this year either there is nothing to resample
        this_quarter = rest_prior > 0 and len(rest) == 0 and (so_far > 0 or year > 0)
        if this_quarter:
            rest = np.flatnonzero(between(quarter_start if so_far > 0 else pace_start, cutoff))
        prior = rest_prior if this_quarter else 0.0
        return Pace(so_far, last_so_far, rest_rows, (rest_rows or prior) * quarter_pace, True, shape, rate,
                    unregistered=float(weight[before].sum()) * quarter_pace,
                    pool_weights=None if complete is None or this_quarter else weight[rest],
                    rest_prior=prior, pool_this_quarter=this_quarter), rest
    # this year's daily rate over the days as complete as the register is, to the days still to come
    this_year = np.flatnonzero(between(pace_start, cutoff))
    exposure = float(held(np.arange(np.datetime64(pace_start), np.datetime64(cutoff) + 1), cutoff).sum())
    past = np.arange(np.datetime64(max(pace_start, quarter_start)), np.datetime64(cutoff) + 1)
    ahead = np.arange(np.datetime64(cutoff) + 1, np.datetime64(quarter_end) + 1)
    day_weights = np.concatenate([1.0 - held(past, cutoff), np.ones(len(ahead))])
    scale = float(day_weights.sum()) / exposure if exposure > 0 else 0.0
    rate = len(this_year) / exposure if exposure > 0 else 0.0
    return Pace(so_far, 0, 0, len(this_year) * scale, False, scale=scale,
                unregistered=rate * float(day_weights[:len(past)].sum()),
                days=None if complete is None else np.concatenate([past, ahead]),
                day_weights=None if complete is None else day_weights), this_year


def draw_new(p: Pace, pool: np.ndarray, on: np.ndarray, cutoff: date, quarter_end: date, draws: int,
             dispersion: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(draw numbers 1..N, row indices into the source, new dates) of every simulated new row."""
    if p.expected <= 0 or len(pool) == 0 or (quarter_end <= cutoff and not p.unregistered):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype="datetime64[D]")
    means = p.draw_means(draws, rng)
    counts = rng.negative_binomial(dispersion, dispersion / (dispersion + means))
    draw_of = np.repeat(np.arange(1, draws + 1), counts)
    if p.pool_weights is None:
        picked = pool[rng.integers(0, len(pool), size=counts.sum())]
    else:
        picked = pool[rng.choice(len(pool), size=counts.sum(), p=p.pool_weights / p.pool_weights.sum())]
    if p.from_last_year and not p.pool_this_quarter:
        # Each distinct day moved once (a year has at most 366; the rows drawn number millions nationally).
        days, index = np.unique(on.astype("datetime64[D]")[picked], return_inverse=True)
        dates = np.array([np.datetime64(year_on(x)) for x in days.astype(object)], dtype="datetime64[D]")[index]
    elif p.days is None or p.pool_this_quarter:
        span = (quarter_end - cutoff).days
        dates = np.datetime64(cutoff) + rng.integers(1, span + 1, size=len(picked)).astype("timedelta64[D]")
    else:
        dates = p.days[rng.choice(len(p.days), size=len(picked), p=p.day_weights / p.day_weights.sum())]
    return draw_of, picked, dates


def per_candidate(entered: int, exposure: float, candidates: int, months_ahead: list[date]) -> Pace:
    """Entries still to come at this year's rate per candidate: `entered` entries over `exposure`
    candidate-months this year (an enterprise below the threshold reporting in a month is one), for
    each of the `candidates` below the threshold now in each month not delivered yet, dated on those
    months alike. The rate is a count of a few events: each draw takes its own (gamma with shape =
    the entries counted), as `pace` does for a year without last year's quarter.

    Entries happen to a known, finite pool: counted as events at last year's number × this year's
    pace, a wave of new builds entering from late last year (none in last year's months to compare
    with) made the pace ×4.2 and every candidate left entered in the median draw (17 forecast, 3
    came: an eighth data process, 2026-12-07). On the 20 replayed quarters, five origins each, the
    rate per candidate was nearer the entries that came than the pace: mean absolute error 9.9 →
    6.9 entries on the generator, 4.3 → 2.2 on the other process (docs/forecast-changes.md)."""
    scale = candidates * len(months_ahead) / exposure if exposure > 0 else 0.0
    return Pace(entered, 0, 0, entered * scale, False, scale=scale,
                days=np.array(months_ahead, dtype="datetime64[D]"), day_weights=np.ones(len(months_ahead)))


def entry_weights(size_then: np.ndarray, based_then: np.ndarray, entered_then: np.ndarray, size_now: np.ndarray,
                  based_now: np.ndarray, classes: int) -> np.ndarray:
    """Per candidate now: how likely it is to be among the entrants still to come, as the share of
    last year's candidates like it that entered after the same point. Alike means of the same size
    class (quantile classes of last year's sizes) and alike in whether it reported a year before
    (`based_*`): which enterprises enter late in a year is not a matter of size alone (on the other
    process they were the ones that first reported that year), and a rule may hinge on exactly
    that (M02.small_to_large needs last year's reports). The shares carry Jeffreys' prior (half an
    entry in one candidate more), so that a class without entrants last year is unlikely, not
    impossible."""
    if len(size_then) == 0:
        return np.ones(len(size_now))
    edges = np.quantile(size_then, np.linspace(0, 1, classes + 1)[1:-1])
    class_then = np.searchsorted(edges, size_then) + classes * based_then.astype(int)
    class_now = np.searchsorted(edges, size_now) + classes * based_now.astype(int)
    share = (np.bincount(class_then, entered_then.astype(float), 2 * classes) + 0.5) / (np.bincount(class_then, None, 2 * classes) + 1)
    return share[class_now]


def assign_entries(draw_of: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(row of `draw_of`, candidate index) of every simulated entry: in each draw as many distinct
    candidates as that draw's entries (`draw_of`, from draw_new), each picked with probability ∝
    its weight; entries beyond the candidates there are do not happen."""
    rows_out, picked_out = [], []
    eligible = int((weights > 0).sum())
    draws, first, counts = np.unique(draw_of, return_index=True, return_counts=True)
    for start, count in zip(first.tolist(), counts.tolist()):
        k = min(count, eligible)
        if k:
            picked_out.append(rng.choice(len(weights), size=k, replace=False, p=weights / weights.sum()))
            rows_out.append(np.arange(start, start + k))
    if not picked_out:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(rows_out), np.concatenate(picked_out)
