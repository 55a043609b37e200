"""The enterprise population and its true monthly figures.

An enterprise has a 2023 output level, a city-specific industry, its
industry's monthly profile (SEASONS, perturbed every year per policy group),
and year-on-year output growth that moves month by month: its group's trend
for the year and quarter, a lead of its own that persists over the years, a
departure for the year, and an AR(1) drift from month to month. Industry
shocks (per policy group and per GB/T 4754 division, AR(1) month to month)
move the output of all enterprises of an industry together; monthly noise
comes on top. docs/generator.md states the process as equations.

The *true* monthly output, revenue and profit live here as (enterprise ×
month) integer arrays in tenths of 千元; what the providers publish (with
revisions and typos) is decided by the feed modules. Output exists from
投产年月 on, with a three-month ramp-up; the statistics bureau only sees it
from the enterprise's first report (`report_from`).

Every random component is drawn on a fixed grid of months from January 2022
(the earliest history) on, from streams keyed by month or year, so a month's
figures depend neither on the as-of date nor on where the window starts. 2023
is the level year: 2024 and later grow from it month by month, 2022 (history)
is 2023 deflated by each month's 2023 growth. Enterprises entered before the
simulated months report from the first of them (`Window.simulated_from`); 临规
tracking still starts in January 2023 (`TRACKING_FROM`).

Planted cases (cases.py) take none of this randomness: their level year,
fixed growth and base profile give the hand-worked figures exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..uscc import make_uscc
from . import cases, industries, reference
from .rng import stream
from .scales import Scale
from .schedule import EARLIEST_HISTORY, TRACKING_FROM, Window, add_months, from_ordinal, month_of, ordinal


@dataclass(frozen=True)
class Cohort:
    """A kind of 规上 enterprise, by when it started producing and entered the statistics."""

    name: str
    share: float
    started: tuple[int, int]  # 投产年月 range
    entered: tuple[int, int] | None  # 入统年月 range; None: a new plant entering 1–4 months after 投产
    tracked_2023: bool  # reported as 临规 from 202301 (TRACKING_FROM) until 入统
    size_wan: tuple[float, float]  # median 2023 output (万元) and log-sd
    has_growth: bool = True  # False: a new plant, its level is the running level
    exits: bool = False


COHORTS: tuple[Cohort, ...] = (
    # established and exited firms entered in a January 1-5 years after starting, at the latest 202201
    Cohort("established", 0.83, (199501, 201812), (199601, 202201), False, (9000, 1.25)),
    Cohort("entered_2023", 0.03, (200501, 202106), (202301, 202301), False, (2400, 0.15)),
    Cohort("built_2023", 0.03, (202210, 202309), None, False, (6000, 1.0)),
    Cohort("entered_2024", 0.04, (200501, 202106), (202401, 202409), True, (2300, 0.15)),
    Cohort("built_2024", 0.04, (202306, 202409), None, False, (6000, 1.0), has_growth=False),
    Cohort("entered_q4", 0.01, (200501, 202106), (202410, 202412), True, (2300, 0.15)),
    Cohort("built_q4", 0.012, (202301, 202409), (202410, 202412), False, (4000, 0.8), has_growth=False),
    Cohort("exited", 0.008, (199501, 201812), (199601, 202201), False, (2000, 0.3), exits=True),
)
NEAR_SIZE_WAN = (1300, 0.3)  # 临规: median yearly revenue and log-sd, kept under 2000万
NOISE_SIGMA = 0.06  # transitory monthly output noise of random enterprises (log sd)
# Year-on-year growth of a random enterprise in month t of year Y (docs/generator.md):
#   g = trend(group, Y, Jan–Sep or Q4) + lead + departure(Y) + drift(t)
LEAD_SD = 0.10  # lead over its group, the same every year
DEPARTURE_SD = 0.06  # this year's departure from that lead
DRIFT = (0.7, 0.06)  # AR(1) drift month to month: persistence, stationary sd
MIN_GROWTH = -0.6  # no month falls below 40% of the same month a year earlier
# The group's trend: GROUP_TRENDS in the policy year 2024; in other years around its Jan–Sep 2024
# trend with a spread of its own, and a Q4 that departs from Jan–Sep by another spread.
TREND_YEAR_SD = 0.03
TREND_Q4_SD = 0.03
POLICY_YEAR = 2024
# Industry shocks on output (log), common to the enterprises of a policy group and of a
# GB/T 4754 division, AR(1) month to month: persistence, stationary sd.
GROUP_SHOCK = (0.6, 0.035)
DIVISION_SHOCK = (0.5, 0.025)
# Seasonality per policy group and year: log sd of each month's departure from the profile, and
# an extra one for December's push; renormalised so that a year's mean stays 1.
SEASON_SD = 0.03
DECEMBER_SD = 0.05
# Planted cases' 2023 growth over 2022 (history only): their group's Jan–Sep trend and this share
# of their own 2024 lead over it.
HISTORY_PERSISTENCE = 0.4
GRID_START = month_of(EARLIEST_HISTORY)  # first month of the grid every random component is drawn on
LEVEL_YEAR = 2023  # the year `level_wan` is the output of


@dataclass
class Population:
    """Enterprises (table rows, sorted by county and code) and their true monthly series."""

    window: Window
    table: pd.DataFrame
    output: np.ndarray  # (n, T) tenths of 千元
    revenue: np.ndarray  # (n, T) tenths of 千元
    profit: np.ndarray  # (n, T) tenths of 千元, monthly, may be negative
    employees: np.ndarray  # (n, T)
    reported: np.ndarray  # (n, T) files the monthly statistics report
    listed: np.ndarray  # (n, T) appears in the directory snapshot
    kwh_factor: np.ndarray  # (n, T) electricity per unit of output relative to 2023
    seed: int

    def index_of(self, key: str) -> int:
        return int(self._keys[key])

    def outside_usccs(self, purpose: str, divisions: np.ndarray) -> list[str]:
        """Valid codes of entities outside the directory (project owners, grid customers, taxpayers)."""
        return allocate_usccs(divisions, _OUTSIDE_BLOCKS[purpose], self.seed)

    def __post_init__(self) -> None:
        self._keys = pd.Series(self.table.index, index=self.table["key"])


# Index blocks of codes outside the directory; the directory uses 0..n-1 (n < 1,000,000).
_OUTSIDE_BLOCKS = {"projects": 1_000_000, "power": 2_000_000, "tax": 3_000_000, "history-projects": 4_000_000}


def short_name(name: str) -> str:
    """The name without its legal form (for event and project names)."""
    for form in ("集团有限公司", "股份有限公司", "有限责任公司", "有限公司"):
        if name.endswith(form):
            return name[: -len(form)]
    return name


def allocate_usccs(divisions: np.ndarray, first_index: int, seed: int) -> list[str]:
    """Valid, distinct codes: the organisation body is a bijection of the running index."""
    offset = int(stream(seed, "uscc-offset").integers(10**8))
    # 48271 is coprime with 10**8, so i -> 48271*i + offset (mod 10**8) never repeats.
    bodies = (48271 * (np.arange(len(divisions)) + first_index) + offset) % 10**8
    return [make_uscc(d, f"{b:08d}") for d, b in zip(divisions.tolist(), bodies.tolist())]


def _random_months(rng: np.random.Generator, lo: int, hi: int, size: int) -> np.ndarray:
    """Months drawn uniformly from lo..hi (YYYYMM, inclusive)."""
    return add_months(lo, rng.integers(0, ordinal(hi) - ordinal(lo) + 1, size))


def _draw_places_and_classes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cities by weight, counties uniformly within the city, classes from the city's mix."""
    cty = reference.counties()
    cities = np.array(list(industries.CITY_WEIGHTS))
    weights = np.array(list(industries.CITY_WEIGHTS.values()))
    city = rng.choice(cities, size=n, p=weights / weights.sum())
    county = np.empty(n, dtype=object)
    industry = np.empty(n, dtype=object)
    generic = pd.Series(industries.GENERIC_MIX, dtype=float)
    for c in cities:
        at = np.flatnonzero(city == c)
        options = cty.loc[cty["city_code"] == c, "county_code"].to_numpy()
        county[at] = rng.choice(options, size=len(at))
        special = pd.Series(industries.CITY_MIX[c], dtype=float)
        mix = (generic / generic.sum() * (1 - industries.CITY_SPECIALITY_SHARE)).add(
            special / special.sum() * industries.CITY_SPECIALITY_SHARE, fill_value=0.0
        )
        industry[at] = rng.choice(mix.index.to_numpy(), size=len(at), p=mix.to_numpy() / mix.sum())
    return county.astype(str), industry.astype(str)


def _random_table(n_above: int, n_near: int, rng: np.random.Generator) -> pd.DataFrame:
    county, industry = _draw_places_and_classes(rng, n_above + n_near)
    frames = []
    shares = np.array([c.share for c in COHORTS])
    cohort_of = rng.choice(len(COHORTS), size=n_above, p=shares / shares.sum())
    for ci, cohort in enumerate(COHORTS):
        m = int((cohort_of == ci).sum())
        started = _random_months(rng, *cohort.started, m)
        if cohort.entered is None:  # a new plant enters the statistics soon after it starts
            entered = add_months(started, rng.integers(1, 5, m))
            if cohort.name == "built_2024":
                entered = np.clip(entered, 202401, 202409)
        elif cohort.name in ("established", "exited"):  # entered in a January after it started
            years = np.minimum(started // 100 + rng.integers(1, 6, m), cohort.entered[1] // 100)
            entered = years * 100 + 1
        else:
            entered = _random_months(rng, *cohort.entered, m)
            if cohort.name == "entered_2024":  # most enter with the annual update in January
                entered = np.where(rng.random(m) < 0.8, 202401, entered)
        median, sd = cohort.size_wan
        frames.append(pd.DataFrame({
            "cohort": cohort.name,
            "started": started,
            "entered": entered,
            # First report before the window starts: clipped to the window in build_population.
            "report_from": np.full(m, TRACKING_FROM) if cohort.tracked_2023 else entered,
            "exited": np.where(rng.random(m) < 0.5, 202401, 202407) if cohort.exits else 0,
            "level_wan": median * np.exp(sd * rng.standard_normal(m)),
            "has_growth": cohort.has_growth,
        }))
    above = pd.concat(frames, ignore_index=True)
    near_median, near_sd = NEAR_SIZE_WAN
    near = pd.DataFrame({
        "cohort": "near",
        "started": _random_months(rng, 200001, 202206, n_near),
        "entered": 0,
        "report_from": TRACKING_FROM,
        "exited": 0,
        "level_wan": np.clip(near_median * np.exp(near_sd * rng.standard_normal(n_near)), 500, 1900),
        "has_growth": True,
    })
    table = pd.concat([above, near], ignore_index=True)
    table["county"] = county
    table["industry"] = industry
    table["group"] = table["industry"].map({c: industries.policy_group(c) for c in industries.BY_CODE})
    # Established firms are bigger in heavy industry; nobody 规上 falls far below the threshold.
    trends = industries.GROUP_TRENDS
    size = table["group"].map({g: t.size_factor for g, t in trends.items()}).to_numpy()
    is_established = table["cohort"].isin(["established"]).to_numpy()
    table["level_wan"] = np.where(is_established, np.maximum(table["level_wan"] * size, 1400), table["level_wan"])
    n = len(table)
    table["lead"] = LEAD_SD * rng.standard_normal(n)
    table["revenue_ratio"] = rng.uniform(0.90, 1.05, n)
    table["margin"] = 0.045 + 0.05 * rng.standard_normal(n)
    table["kwh_efficiency"] = 1.0 + 0.04 * rng.standard_normal(n)
    table["noise"] = NOISE_SIGMA
    # 临规 are sized by revenue: their level is revenue / ratio.
    is_near = (table["cohort"] == "near").to_numpy()
    table.loc[is_near, "level_wan"] = table.loc[is_near, "level_wan"] / table.loc[is_near, "revenue_ratio"]
    table["key"] = [f"E{i:06d}" for i in range(n)]
    table["planted"] = False
    table["name"] = None
    table["accounts"] = None
    exporter_p = table["group"].map({g: t.export_share for g, t in trends.items()}).to_numpy()
    exports = table["industry"].map({c: k.hs_code is not None for c, k in industries.BY_CODE.items()}).to_numpy()
    table["exporter"] = (rng.random(n) < exporter_p) & exports & (table["started"].to_numpy() <= 202406)
    heavy = table["industry"].map({c: k.two_high is not None for c, k in industries.BY_CODE.items()}).to_numpy()
    p_two_high = min(1.0, 0.03 * n / max(1, heavy.sum()))  # about 3% of all enterprises
    table["two_high"] = heavy & (rng.random(n) < p_two_high)
    return table


def _planted_table() -> pd.DataFrame:
    rows = []
    exporters = {e.exporter for e in cases.EXPORTS}
    for p in cases.ENTERPRISES:
        season = np.array(industries.SEASONS[industries.BY_CODE[p.industry].season])
        g9 = p.yoy_q4 if p.yoy_jan_sep is None else p.yoy_jan_sep
        gq4 = p.yoy_q4 or 0.0
        g9 = g9 or 0.0
        # Level = 2023 annual output (万元) that yields the target without noise.
        if p.q4_wan is not None:
            level = p.q4_wan * 12 / (season[9:12].sum() * (1 + gq4))
        elif p.jan_sep_wan is not None:
            level = p.jan_sep_wan * 12 / (season[:9].sum() * (1 + g9))
        else:
            level = p.annual_wan
        rows.append({
            "key": p.key, "planted": True, "cohort": "planted", "county": p.county, "industry": p.industry,
            "group": industries.policy_group(p.industry), "started": p.started, "entered": p.entered or 0,
            "report_from": p.tracked_from or p.entered or TRACKING_FROM,
            "exited": p.exited or 0, "level_wan": level, "has_growth": p.yoy_q4 is not None,
            "yoy_jan_sep": g9, "yoy_q4": gq4, "revenue_ratio": p.revenue_ratio, "margin": 0.05,
            "kwh_efficiency": p.kwh_efficiency_2024, "noise": 0.0, "name": p.name, "accounts": ("是",) if p.accounts is None else p.accounts,
            "exporter": p.key in exporters, "two_high": p.two_high,
        })
    return pd.DataFrame(rows)


def _names(table: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Place + trade word + product + legal form, unique; planted names are kept."""
    cty = reference.counties().set_index("county_code")
    city = table["county"].map(cty["city_name"].map(reference.city_short)).to_numpy(dtype=object)
    full_place = table["county"].map(cty["city_name"] + cty["county_name"]).to_numpy(dtype=object)
    product = table["industry"].map({c: k.product for c, k in industries.BY_CODE.items()}).to_numpy(dtype=object)
    middles = np.array(["", "", "", "科技", "实业"])
    words = np.array(reference.TRADE_WORDS)
    forms = np.array(reference.LEGAL_FORMS)
    n = len(table)
    place = np.where(rng.random(n) < 0.15, "广西", city)
    names = pd.Series(
        place + rng.choice(words, n) + rng.choice(middles, n) + product + rng.choice(forms, n), dtype=object
    )
    fixed = table["name"].notna().to_numpy()
    names[fixed] = table.loc[fixed, "name"]
    # Redraw clashes with the full county name as place, then number what still clashes.
    for _ in range(10):
        dup = (names.duplicated(keep="first") & ~fixed).to_numpy()
        if not dup.any():
            break
        k = int(dup.sum())
        names[dup] = full_place[dup] + rng.choice(words, k) + rng.choice(middles, k) + product[dup] + rng.choice(forms, k)
    dup = (names.duplicated(keep="first") & ~fixed).to_numpy()
    names[dup] = [f"{v.removesuffix('有限公司')}第{i + 2}有限公司" for i, v in enumerate(names[dup])]
    return names.to_numpy()


def build_population(scale: Scale, seed: int, window: Window) -> Population:
    rng = stream(seed, "enterprises")
    planted = _planted_table()
    n_planted_near = int((planted["entered"] == 0).sum())
    n_above = max(0, scale.above_size - (len(planted) - n_planted_near))
    random = _random_table(n_above, max(0, scale.near_size - n_planted_near), rng)
    table = pd.concat([planted, random], ignore_index=True)
    table["uscc"] = allocate_usccs(table["county"].to_numpy(), 0, seed)
    table["name"] = _names(table, rng)
    table["city"] = table["county"].str[:4] + "00"
    table["division"] = table["industry"].str[:2]
    table["season"] = table["industry"].map({c: k.season for c, k in industries.BY_CODE.items()})
    table = table.sort_values(["county", "uscc"], ignore_index=True)
    table["report_from"] = np.maximum(table["report_from"].to_numpy(np.int64), window.simulated_from)
    return _with_monthly_series(table, seed, window)


def _grid(window: Window) -> np.ndarray:
    """Months every random component is drawn on: from GRID_START through the as-of month, and at
    least through the level year (history months are deflated by the growth of the same month of
    the level year)."""
    last = max(ordinal(month_of(window.as_of)), ordinal(LEVEL_YEAR * 100 + 12))
    return np.array([from_ordinal(o) for o in range(ordinal(GRID_START), last + 1)], dtype=np.int64)


def _ar1(seed: int, name: str, months: np.ndarray, size: int, persistence: float, sd: float) -> np.ndarray:
    """(size, months) stationary AR(1) paths; month m's innovation comes from its own stream, so a
    month's value depends only on the months before it, never on how many follow."""
    out = np.empty((size, len(months)))
    innovation_sd = sd * np.sqrt(1 - persistence**2)
    for j, m in enumerate(months.tolist()):
        z = stream(seed, name, m).standard_normal(size)
        out[:, j] = sd * z if j == 0 else persistence * out[:, j - 1] + innovation_sd * z
    return out


def _group_trends(seed: int, years: np.ndarray) -> dict[int, tuple[dict[str, float], dict[str, float]]]:
    """Each group's mean year-on-year growth per year: (Jan–Sep, Q4). The policy year's are
    GROUP_TRENDS'; other years' are drawn around the group's Jan–Sep 2024 trend."""
    trends = industries.GROUP_TRENDS
    out = {}
    for year in np.unique(years).tolist():
        if year == POLICY_YEAR:
            out[year] = ({g: t.yoy_jan_sep for g, t in trends.items()}, {g: t.yoy_q4 for g, t in trends.items()})
            continue
        z = stream(seed, "group-trend", year).standard_normal((2, len(trends)))
        jan_sep = {g: t.yoy_jan_sep + TREND_YEAR_SD * z[0, i] for i, (g, t) in enumerate(trends.items())}
        out[year] = (jan_sep, {g: jan_sep[g] + TREND_Q4_SD * z[1, i] for i, g in enumerate(trends)})
    return out


def _random_growth(table: pd.DataFrame, seed: int, grid: np.ndarray) -> np.ndarray:
    """(n, grid) year-on-year output growth of random enterprises (docs/generator.md). A new plant
    (no growth of its cohort) keeps its running level: only the drift moves it."""
    n = len(table)
    years, month = grid // 100, grid % 100
    group = table["group"].to_numpy()
    trend = np.zeros((n, len(grid)))
    departure = np.zeros((n, len(grid)))
    for year, (jan_sep, q4) in _group_trends(seed, years).items():
        cols = years == year
        per_quarter = np.where(month[cols] >= 10, 1, 0)
        both = np.stack([pd.Series(group).map(jan_sep).to_numpy(), pd.Series(group).map(q4).to_numpy()])
        trend[:, cols] = both[per_quarter].T
        departure[:, cols] = DEPARTURE_SD * stream(seed, "growth-departure", year).standard_normal(n)[:, None]
    own = np.where(table["has_growth"].to_numpy(bool)[:, None],
                   trend + table["lead"].to_numpy()[:, None] + departure, 0.0)
    return own + _ar1(seed, "growth-drift", grid, n, *DRIFT)


def _planted_growth(table: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
    """(n, grid) fixed growth of planted cases: Jan–Sep and Q4 of 2024 as cases.py says, 2023's
    (history) their group's trend plus part of their own lead, and later years at the Jan–Sep rate."""
    years, month = grid // 100, grid % 100
    g9 = table["yoy_jan_sep"].to_numpy()[:, None]
    gq4 = table["yoy_q4"].to_numpy()[:, None]
    typical = table["group"].map({g: t.yoy_jan_sep for g, t in industries.GROUP_TRENDS.items()}).to_numpy()[:, None]
    g23 = np.where(table["has_growth"].to_numpy(bool)[:, None], typical + HISTORY_PERSISTENCE * (g9 - typical), typical)
    return np.select([years <= LEVEL_YEAR, (years == POLICY_YEAR) & (month >= 10)], [g23, gq4], g9)


def _growth_index(growth: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """(n, grid) output relative to the same month of the level year: 1 in the level year, later
    years compound each month's growth, earlier years are deflated by the level year's."""
    years = grid // 100
    index = np.ones_like(growth)
    factor = 1 + np.maximum(growth, MIN_GROWTH)
    for j in range(len(grid)):
        if years[j] > LEVEL_YEAR:
            index[:, j] = index[:, j - 12] * factor[:, j]
    for j in range(len(grid) - 1, -1, -1):
        if years[j] < LEVEL_YEAR:
            index[:, j] = index[:, j + 12] / factor[:, j + 12]
    return index


def _industry_shocks(table: pd.DataFrame, seed: int, grid: np.ndarray) -> np.ndarray:
    """(n, grid) log output shock common to each policy group and each division."""
    out = np.zeros((len(table), len(grid)))
    for column, name, (persistence, sd) in (("group", "group-shock", GROUP_SHOCK),
                                           ("division", "division-shock", DIVISION_SHOCK)):
        keys = table[column].to_numpy()
        universe = sorted(_all_industry_keys(column))
        paths = _ar1(seed, name, grid, len(universe), persistence, sd)
        out += paths[np.searchsorted(universe, keys)]
    return out


def _all_industry_keys(column: str) -> set[str]:
    """Every policy group or division the sample can have (shocks are drawn for all, in a fixed order,
    so a group's shock does not depend on which groups a small sample happens to hold)."""
    if column == "group":
        return set(industries.GROUP_TRENDS)
    return {c.code[:2] for c in industries.CLASSES}


def _seasons(table: pd.DataFrame, seed: int, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, grid) the base monthly profile of each enterprise's industry, and the same perturbed per
    policy group and year (random enterprises use the second, planted cases the first)."""
    profiles = np.array([industries.SEASONS[s] for s in industries.SEASON_NAMES])
    season_idx = table["season"].map({s: i for i, s in enumerate(industries.SEASON_NAMES)}).to_numpy()
    base = profiles[season_idx][:, grid % 100 - 1]
    groups = list(industries.GROUP_TRENDS)
    group_idx = table["group"].map({g: i for i, g in enumerate(groups)}).to_numpy()
    years = grid // 100
    factor = np.ones((len(table), len(grid)))
    for year in np.unique(years).tolist():
        z = stream(seed, "season", year).standard_normal((2, len(groups), 12))
        departure = np.exp(SEASON_SD * z[0])
        departure[:, 11] *= np.exp(DECEMBER_SD * z[1, :, 11])
        departure /= departure.mean(axis=1, keepdims=True)
        cols = np.flatnonzero(years == year)
        factor[:, cols] = departure[group_idx][:, grid[cols] % 100 - 1]
    return base, base * factor


def _with_monthly_series(table: pd.DataFrame, seed: int, window: Window) -> Population:
    n = len(table)
    months = np.array(window.months, dtype=np.int64)
    mo = ordinal(months)[None, :]
    year = (months // 100)[None, :]
    # Standard normal draws, one stream per month so a month's values do not depend on the horizon.
    z = np.stack([stream(seed, "monthly", int(m)).standard_normal((4, n)) for m in months], axis=-1)

    grid = _grid(window)
    cols = np.searchsorted(grid, months)  # the window's months on the grid
    planted = table["planted"].to_numpy(bool)[:, None]
    random_growth = _random_growth(table, seed, grid)
    growth_rate = np.where(planted, _planted_growth(table, grid), random_growth)
    growth = _growth_index(growth_rate, grid)[:, cols]
    base_season, perturbed_season = _seasons(table, seed, grid)
    season = np.where(planted, base_season, perturbed_season)[:, cols]
    shock = np.where(planted, 0.0, _industry_shocks(table, seed, grid))[:, cols]

    k = mo - ordinal(table["started"].to_numpy(np.int64))[:, None]
    ramp = np.select([k < 0, k == 0, k == 1, k == 2], [0.0, 0.4, 0.7, 0.9], 1.0)

    sigma = table["noise"].to_numpy()[:, None]
    noise = np.exp(sigma * z[0] - sigma**2 / 2 + shock)
    level_kyuan = table["level_wan"].to_numpy()[:, None] * 10
    output = np.rint(level_kyuan / 12 * season * growth * ramp * noise * 10).astype(np.int64)

    quiet = (sigma > 0).astype(float)  # planted cases carry no noise at all
    revenue = np.rint(output * table["revenue_ratio"].to_numpy()[:, None] * np.exp(0.03 * quiet * z[1])).astype(np.int64)
    margin = table["margin"].to_numpy()[:, None] + 0.02 * quiet * z[2]
    profit = np.rint(revenue * margin).astype(np.int64)
    productivity = 1200 * np.exp(0.4 * stream(seed, "productivity").standard_normal(n))  # 千元 per employee-year
    staff = np.maximum(level_kyuan[:, 0] / productivity, 8)[:, None]
    employees = np.where(k >= 0, np.maximum(np.rint(staff * (0.7 + 0.3 * growth) * (1 + 0.01 * quiet * z[3])), 5), 0)

    report_from = ordinal(table["report_from"].to_numpy(np.int64))[:, None]
    exited = table["exited"].to_numpy(np.int64)
    exit_o = np.where(exited > 0, ordinal(exited), np.iinfo(np.int64).max)[:, None]
    exit_year = np.where(exited > 0, exited // 100, 9999)[:, None]
    reported = (mo >= report_from) & (mo < exit_o)
    listed = (mo >= report_from) & (year <= exit_year)

    kwh_factor = np.where(year >= 2024, table["kwh_efficiency"].to_numpy()[:, None], 1.0) * np.ones_like(season)
    return Population(window, table, output, revenue, profit, employees.astype(np.int64), reported, listed,
                      kwh_factor, seed)
