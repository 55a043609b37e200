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

An entry into the above-size statistics (入统) is such an event too, but it happens to an
enterprise already known: the number of entries comes the same way, and each draw picks that many
of the enterprises below the threshold now, each as likely as last year's candidates of its size
and of its record (reported a year before or not) were to enter after the same point
(`entry_weights`, `assign_entries`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np


@dataclass(frozen=True)
class Pace:
    so_far: int  # this quarter, up to the cut-off
    last_year_so_far: int  # last year's quarter up to the same day
    last_year_rest: int  # last year's quarter after the same day
    expected: float  # rows still to come by the quarter's end (the mean over draws)
    from_last_year: bool  # False: this year's daily rate (no last-year quarter to go by)
    pace_shape: float = 0.0  # gamma posterior of the pace (from_last_year) ...
    pace_rate: float = 1.0
    scale: float = 1.0  # ... else the factor from the year's rows to the rows still to come

    def draw_means(self, draws: int, rng: np.random.Generator) -> np.ndarray:
        """Each draw's expected number of rows still to come, with the uncertainty of its counts."""
        if self.from_last_year:
            rest = rng.gamma(self.last_year_rest, 1.0, size=draws)
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


def pace(on: np.ndarray, cutoff: date, quarter_start: date, quarter_end: date, prior: float,
         from_month: int) -> tuple[Pace, np.ndarray]:
    """The expected number of rows dated after `cutoff` up to `quarter_end`, and the indices of the
    rows to resample them from. `on`: the row dates (datetime64[D]). The year's pace counts from
    month `from_month` (`forecast.pace_from_month`): what comes in a batch at the start of a year
    (enterprises entering the statistics in January, a register keyed in at once) says nothing
    about how many more the end of the year brings."""
    d = on.astype("datetime64[D]")

    def between(a: date, b: date) -> np.ndarray:
        return (d >= np.datetime64(a)) & (d <= np.datetime64(b))

    year_start = date(quarter_start.year, 1, 1)
    pace_start = date(quarter_start.year, from_month, 1)
    if pace_start > min(cutoff, quarter_start):
        pace_start = year_start
    so_far = int(between(quarter_start, cutoff).sum())
    last_start, last_cut, last_end = year_back(quarter_start), year_back(cutoff), year_back(quarter_end)
    last_so_far = int(between(last_start, last_cut).sum())
    rest = np.flatnonzero(between(last_cut + timedelta(days=1), last_end))
    has_last_year = bool((d < np.datetime64(year_start)).any())
    if has_last_year:
        year = int(between(pace_start, cutoff).sum())
        last_year = int(between(year_back(pace_start), last_cut).sum())
        year_pace = (year + prior) / (last_year + prior)
        shape, rate = so_far + prior * year_pace, last_so_far + prior
        quarter_pace = shape / rate if rate > 0 else 0.0
        return Pace(so_far, last_so_far, len(rest), len(rest) * quarter_pace, True, shape, rate), rest
    this_year = np.flatnonzero(between(pace_start, cutoff))
    elapsed = (cutoff - pace_start).days + 1
    remaining = max((quarter_end - cutoff).days, 0)
    scale = remaining / elapsed if elapsed > 0 else 0.0
    return Pace(so_far, 0, 0, len(this_year) * scale, False, scale=scale), this_year


def draw_new(p: Pace, pool: np.ndarray, on: np.ndarray, cutoff: date, quarter_end: date, draws: int,
             dispersion: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(draw numbers 1..N, row indices into the source, new dates) of every simulated new row."""
    if p.expected <= 0 or len(pool) == 0 or quarter_end <= cutoff:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype="datetime64[D]")
    means = p.draw_means(draws, rng)
    counts = rng.negative_binomial(dispersion, dispersion / (dispersion + means))
    draw_of = np.repeat(np.arange(1, draws + 1), counts)
    picked = pool[rng.integers(0, len(pool), size=counts.sum())]
    if p.from_last_year:
        # Each distinct day moved once (a year has at most 366; the rows drawn number millions nationally).
        days, index = np.unique(on.astype("datetime64[D]")[picked], return_inverse=True)
        dates = np.array([np.datetime64(year_on(x)) for x in days.astype(object)], dtype="datetime64[D]")[index]
    else:
        span = (quarter_end - cutoff).days
        dates = np.datetime64(cutoff) + rng.integers(1, span + 1, size=len(picked)).astype("timedelta64[D]")
    return draw_of, picked, dates


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
