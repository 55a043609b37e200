"""The enterprise population and its true monthly figures.

An enterprise has a 2023 output level, a city-specific industry, a monthly
profile (SEASONS), growth for Jan–Sep and for Q4 2024 spread around its
group's trend, and noise. The *true* monthly output, revenue and profit live
here as (enterprise × month) integer arrays in tenths of 千元; what the
providers publish (with revisions and typos) is decided by the feed modules.
Output exists from 投产年月 on, with a three-month ramp-up; the statistics
bureau only sees it from the enterprise's first report (`report_from`).

With history (a window starting before 2023, `Window.first_month`), the
months before 2023 sit at the 2023 level deflated by the enterprise's 2023
growth (`yoy_2023`: its group's typical growth, part of its own 2024 lead
over the group, and noise), with the same seasonality and monthly noise.
Enterprises entered before the simulated months report from the first of
them (`Window.simulated_from`); 临规 tracking still starts in January 2023
(`TRACKING_FROM`). The months from 2023 on are the same whatever the
window's start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..uscc import make_uscc
from . import cases, industries, reference
from .rng import stream
from .scales import Scale
from .schedule import TRACKING_FROM, Window, add_months, ordinal


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
NOISE_SIGMA = 0.07  # month-to-month output noise of random enterprises
GROWTH_SPREAD = (0.12, 0.08)  # enterprise spread around the group's Jan–Sep and Q4 growth
# 2023 growth over 2022 (history only): the group's typical (Jan–Sep 2024) growth, this share of
# the enterprise's own 2024 lead over its group, and a spread of its own.
HISTORY_PERSISTENCE = 0.4
HISTORY_SPREAD = 0.08


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
    g9_mean = table["group"].map({g: t.yoy_jan_sep for g, t in trends.items()}).to_numpy()
    gq4_mean = table["group"].map({g: t.yoy_q4 for g, t in trends.items()}).to_numpy()
    dev = GROWTH_SPREAD[0] * rng.standard_normal(n)
    g9 = np.maximum(g9_mean + dev, -0.6)
    gq4 = np.maximum(gq4_mean + 0.6 * dev + GROWTH_SPREAD[1] * rng.standard_normal(n), -0.6)
    table["yoy_jan_sep"] = np.where(table["has_growth"], g9, 0.0)
    table["yoy_q4"] = np.where(table["has_growth"], gq4, 0.0)
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
    table["season"] = table["industry"].map({c: k.season for c, k in industries.BY_CODE.items()})
    table = table.sort_values(["county", "uscc"], ignore_index=True)
    table["report_from"] = np.maximum(table["report_from"].to_numpy(np.int64), window.simulated_from)
    table["yoy_2023"] = _growth_2023(table, seed)
    return _with_monthly_series(table, seed, window)


def _growth_2023(table: pd.DataFrame, seed: int) -> np.ndarray:
    """Each enterprise's output growth 2023 over 2022, for the history months (own stream: drawing it
    leaves every other draw, and so the default sample, as it was). Planted cases get no noise."""
    trends = industries.GROUP_TRENDS
    typical = table["group"].map({g: t.yoy_jan_sep for g, t in trends.items()}).to_numpy()
    lead = np.where(table["has_growth"].to_numpy(bool), table["yoy_jan_sep"].to_numpy() - typical, 0.0)
    z = stream(seed, "history-growth").standard_normal(len(table))
    quiet = (table["noise"].to_numpy() > 0).astype(float)
    return np.maximum(typical + HISTORY_PERSISTENCE * lead + HISTORY_SPREAD * quiet * z, -0.5)


def _with_monthly_series(table: pd.DataFrame, seed: int, window: Window) -> Population:
    n = len(table)
    months = np.array(window.months, dtype=np.int64)
    mo = ordinal(months)[None, :]
    year = (months // 100)[None, :]
    month = (months % 100)[None, :]
    # Standard normal draws, one stream per month so a month's values do not depend on the horizon.
    z = np.stack([stream(seed, "monthly", int(m)).standard_normal((4, n)) for m in months], axis=-1)

    seasons = np.array([industries.SEASONS[s] for s in industries.SEASON_NAMES])
    season_idx = table["season"].map({s: i for i, s in enumerate(industries.SEASON_NAMES)}).to_numpy()
    season = seasons[season_idx][:, month[0] - 1]

    g9 = table["yoy_jan_sep"].to_numpy()[:, None]
    gq4 = table["yoy_q4"].to_numpy()[:, None]
    in_2024_terms = np.where(month <= 9, 1 + g9, 1 + gq4)
    growth = np.where(year == 2023, 1.0, in_2024_terms * (1 + g9) ** np.maximum(year - 2024, 0))
    if window.has_history:  # before 2023: the 2023 level deflated by the 2023 growth
        g23 = table["yoy_2023"].to_numpy()[:, None]
        growth = np.where(year < 2023, (1 + g23) ** np.minimum(year - 2023, 0).astype(float), growth)

    k = mo - ordinal(table["started"].to_numpy(np.int64))[:, None]
    ramp = np.select([k < 0, k == 0, k == 1, k == 2], [0.0, 0.4, 0.7, 0.9], 1.0)

    sigma = table["noise"].to_numpy()[:, None]
    noise = np.exp(sigma * z[0] - sigma**2 / 2)
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
