"""A second, independent data process writing a landing dir per docs/contract/FEEDS.md.

    python benchmarks/other_process.py --out DIR --seed N --scale small \\
        --first-month 202201 --final-as-of 2025-01-20 [--arrivals FILE]

Why: the forecast must hold on data from processes other than the project's own generator
(`dagster_project/lib/generate`). This module is written from the feed contract alone and shares no
code or constants with that generator; from the project it takes only the contract-level USCC
functions (`dagster_project.lib.uscc`) and the reference seeds (`dbt_models/seeds/*.csv`).

The process (all draws from one seed, one named random stream per component):

- Enterprises: 规上 incumbents, tracked 临规 near the threshold, entrants that start production
  during the window and ramp up along a logistic curve, and taxpayers/grid customers outside the
  directory. Sizes are drawn by stratified quantiles of a log-normal, so even `tiny` has a top tier.
  入统 happens in the January review (previous year's revenue ≥ 2000万) or, for newly built
  enterprises, in the month after their run-rate reaches scale; 退库 in the January review
  (revenue < 1500万) or on closure (a monthly hazard, higher for small enterprises).
- Log output = size + local level with a stochastic, mean-reverting drift (toward the enterprise's
  growth in its industry's growth of that year) + occasional regime shifts + a seasonal profile
  drawn per industry and perturbed per year (Spring Festival split over January/February by its
  real date, a December push per industry-year and enterprise-year) + common industry shocks
  (AR(1), correlated across an industry's enterprises, with a macro factor) + heavy-tailed
  (Student-t) enterprise shocks and rare stoppage months.
- The statistics bureau reports integer 千元; ~4% of 本月 values are preliminary and revised
  quietly in the next month's 累计, and ~0.4% of monthly reports come late (the next 累计 catches up).
- Projects: S-curve investment (Kumaraswamy CDF over a duration that grows with size), lumpy
  monthly noise, a February dip, a December push that varies by project and year, stalls,
  overruns; rows stop after the completion month. Some 新建 projects build the plants of entrants;
  some 双百双新 projects enter the library before they start.
- Power: each account's monthly kWh follow output with the account's own elasticity (industry
  mean), an efficiency trend and AR(1) noise; days follow an account-specific weekly rhythm and
  holidays. Meters fail for runs of days (缺失) or are estimated (估算); most are re-read in the
  next weekly delivery. Account snapshots come every fourth Monday.
- Customs: exporters ship to a few persistent markets (each with its own shipping frequency),
  sometimes enter a new market for good, and make one-off shipments to destinations new to them.
  CNY is USD at a drifting monthly rate. About 0.1% of lines carry a mistyped USCC.
- Registers: loans, applications, first-time supply links as seasonal Poisson processes whose Q4
  volume differs year to year; recognitions in announcement batches; fairs on their real calendar.

Delivery calendar (also returned, and written as JSON outside the landing dir):
stats and tax for month M on the 15th of M+1, customs on the 10th; a `_v2` correction of tax or
customs arrives with the next month's file (15th / 10th of M+2); power files on the Monday their
name carries; registers are standing lists: the final version (rows dated up to the final as-of)
is written, and it counts from the first day of the window (the warehouse cuts rows by their dates).

docs/other-process.md says what differs from lib/generate and why.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import io
import json
import sys
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import xlsxwriter

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from dagster_project.lib.uscc import CHARSET, is_valid, make_uscc  # noqa: E402

SEEDS = REPO / "dbt_models" / "seeds"
FEEDS = ("stats", "power", "tax", "customs", "registers")


# ---------------------------------------------------------------------------------------------
# Scales and calendar
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scale:
    incumbents: int  # 规上 at the start of the window
    near: int  # tracked 临规 at the start
    entrants: int  # start production during the window
    outsiders: int  # taxpayers, grid customers and exporters outside the stats directory
    projects: int  # projects in the library over the window


SCALES = {
    "tiny": Scale(incumbents=40, near=12, entrants=8, outsiders=2, projects=16),
    "small": Scale(incumbents=820, near=230, entrants=150, outsiders=40, projects=300),
    "medium": Scale(incumbents=2700, near=800, entrants=500, outsiders=120, projects=1000),
}

STATS_DAY, TAX_DAY, CUSTOMS_DAY = 15, 15, 10  # day of M+1 on which month M arrives (docs/contract/OUTPUTS.md)
# Spring Festival (lunar new year's day): factories close roughly from a week before to two weeks after.
SPRING_FESTIVAL = {2019: date(2019, 2, 5), 2020: date(2020, 1, 25), 2021: date(2021, 2, 12),
                   2022: date(2022, 2, 1), 2023: date(2023, 1, 22), 2024: date(2024, 2, 10),
                   2025: date(2025, 1, 29), 2026: date(2026, 2, 17)}
HOLIDAY_BEFORE, HOLIDAY_AFTER = 7, 15
ABOVE_SIZE_REVENUE = 20_000  # 规上 threshold, 千元 of annual revenue (2000万元)
EXIT_REVENUE = 15_000  # a 规上 enterprise below this in the January review usually leaves (千元)


def month_add(yyyymm: int, n: int) -> int:
    o = (yyyymm // 100) * 12 + yyyymm % 100 - 1 + n
    return (o // 12) * 100 + o % 12 + 1


def first_of(yyyymm: int) -> date:
    return date(yyyymm // 100, yyyymm % 100, 1)


def arrival(yyyymm: int, day: int, later_months: int = 0) -> date:
    """The day of the month after `yyyymm` (+ later_months) on which a monthly file arrives."""
    return first_of(month_add(yyyymm, 1 + later_months)).replace(day=day)


@dataclass(frozen=True)
class Calendar:
    first_month: int  # first month delivered
    final_as_of: date  # everything delivered by this day is written

    @property
    def months(self) -> list[int]:
        """Simulated months: January of the first month's year to the final as-of month."""
        last = self.final_as_of.year * 100 + self.final_as_of.month
        out, m = [], self.first_month // 100 * 100 + 1
        while m <= last:
            out.append(m)
            m = month_add(m, 1)
        return out

    def index(self, yyyymm: int) -> int:
        return self.months.index(yyyymm)

    @property
    def start_day(self) -> date:
        return first_of(self.first_month)

    @property
    def day_ordinals(self) -> np.ndarray:
        """Days with power readings: from the first day delivered to the day before the final as-of."""
        return np.arange(self.start_day.toordinal(), self.final_as_of.toordinal())

    def delivered(self, day: int, later_months: int = 0) -> list[int]:
        return [m for m in self.months
                if m >= self.first_month and arrival(m, day, later_months) <= self.final_as_of]

    def mondays(self) -> list[date]:
        """Weekly power deliveries: every Monday after the first delivered day up to the final as-of."""
        first = self.start_day + timedelta(days=7 - self.start_day.weekday())
        return [first + timedelta(weeks=k) for k in range((self.final_as_of - first).days // 7 + 1)]


# ---------------------------------------------------------------------------------------------
# Reference data: the project's seeds (GB/T 2260, GB/T 4754-2017, ISO 3166-1)
# ---------------------------------------------------------------------------------------------

def _seed(name: str) -> pd.DataFrame:
    return pd.read_csv(SEEDS / name, dtype=str, keep_default_na=False)


@dataclass
class Reference:
    counties: pd.DataFrame  # county_code, county_name, city_code, city_name
    classes: pd.DataFrame  # class_code, class_name, division_code (industrial divisions only)
    countries: frozenset[str]

    @classmethod
    def load(cls) -> Reference:
        classes = _seed("ref_gbt4754_classes.csv")
        industrial = classes["division_code"].astype(int).between(6, 46)  # sections B, C, D
        return cls(_seed("ref_gbt2260_guangxi_counties.csv"), classes[industrial].reset_index(drop=True),
                   frozenset(_seed("ref_iso3166_countries.csv")["alpha3"]))


# Prior weight of each division in Guangxi's industry (sugar, wood, building materials, metals,
# Liuzhou's cars, electronics); each seed draws its own mix around it.
DIVISION_PRIOR = {
    "06": 0.5, "08": 0.6, "09": 1.0, "10": 1.2, "13": 6.0, "14": 2.0, "15": 2.5, "16": 0.2, "17": 1.5,
    "18": 1.2, "19": 0.8, "20": 6.0, "21": 1.5, "22": 2.5, "23": 1.0, "24": 1.2, "25": 1.0, "26": 4.0,
    "27": 2.5, "28": 0.5, "29": 2.5, "30": 7.0, "31": 3.0, "32": 3.5, "33": 2.5, "34": 2.5, "35": 2.5,
    "36": 3.5, "37": 1.0, "38": 3.0, "39": 3.5, "40": 0.6, "41": 0.5, "42": 1.0, "43": 0.4, "44": 2.0,
    "45": 0.4, "46": 0.8,
}
# Continuous-process industries barely pause for the Spring Festival.
CONTINUOUS = {"22", "25", "26", "28", "30", "31", "32", "44", "45", "46"}
# kWh per 千元 of output, typical of the division (order of magnitude).
POWER_INTENSITY = {"25": 60, "26": 160, "28": 110, "30": 220, "31": 260, "32": 520, "22": 130, "44": 40,
                   "45": 20, "46": 300, "09": 150, "10": 120, "08": 140, "06": 90}
DEFAULT_INTENSITY = 35
# Words for names and project titles.
PRODUCT_WORD = {
    "06": "矿业", "08": "矿业", "09": "矿业", "10": "石材", "13": "糖业", "14": "食品", "15": "酒业",
    "16": "烟草", "17": "丝绸", "18": "服饰", "19": "鞋业", "20": "木业", "21": "家居", "22": "纸业",
    "23": "印务", "24": "文体", "25": "能源", "26": "化工", "27": "药业", "28": "化纤", "29": "塑胶",
    "30": "建材", "31": "钢铁", "32": "铝业", "33": "五金", "34": "机械", "35": "装备", "36": "汽车",
    "37": "船舶", "38": "电气", "39": "电子", "40": "仪表", "41": "制品", "42": "再生资源", "43": "机修",
    "44": "电力", "45": "燃气", "46": "水务",
}
BRAND_CHARS = "桂邕柳鑫华盛源泰恒达兴隆宏远昌丰瑞祥嘉骏凯博越鸿锦荣旺通信德和润安捷力创新益欣铭沃晟壮鼎邦"
RARE_CHARS = "㟃䶮𠮶鿍㐂"  # outside GBK: four-byte sequences in GB18030
NAME_SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司", "实业有限公司", "集团有限公司", "科技有限公司")
EXPORT_PROPENSITY = {"39": 0.55, "17": 0.4, "18": 0.45, "19": 0.45, "24": 0.4, "20": 0.35, "21": 0.3,
                     "34": 0.25, "35": 0.3, "36": 0.2, "37": 0.3, "38": 0.3, "13": 0.12, "14": 0.15,
                     "15": 0.1, "26": 0.2, "27": 0.15, "29": 0.2, "32": 0.18, "31": 0.1, "22": 0.1}
HS_HEADINGS = {
    "06": ["2701"], "08": ["2601"], "09": ["2609", "2606"], "10": ["2515", "2517"],
    "13": ["1701", "1006", "2303", "1602"], "14": ["2106", "1905", "2103"], "15": ["2208", "0902", "2202"],
    "16": ["2402"], "17": ["5007", "5208", "5402"], "18": ["6109", "6203", "6204"], "19": ["6403", "4202"],
    "20": ["4412", "4407", "4418"], "21": ["9403", "9401"], "22": ["4802", "4810"], "23": ["4911"],
    "24": ["9503", "9506"], "25": ["2710", "2713"], "26": ["2815", "2836", "3105"], "27": ["3004", "2941"],
    "28": ["5503", "5402"], "29": ["4011", "3923"], "30": ["2523", "7005", "6907"],
    "31": ["7208", "7214", "7219"], "32": ["7601", "8001", "7901"], "33": ["7308", "7318"],
    "34": ["8413", "8481"], "35": ["8429", "8474", "8436"], "36": ["8703", "8704", "8708"],
    "37": ["8711", "8901"], "38": ["8501", "8504", "8544"], "39": ["8517", "8542", "8471", "8528"],
    "40": ["9026", "9030"], "41": ["9601"], "42": ["7602"], "43": ["8487"],
}
# Destinations: regular trade partners with a prior weight; one-off shipments go further afield.
MARKETS = {"VNM": 10, "USA": 8, "HKG": 6, "THA": 5, "MYS": 5, "IDN": 5, "PHL": 4, "SGP": 3, "JPN": 4,
           "KOR": 4, "IND": 3, "DEU": 2, "NLD": 2, "GBR": 2, "AUS": 2, "MMR": 2, "KHM": 2, "LAO": 1.5,
           "ARE": 1.5, "SAU": 1, "BRA": 1.5, "MEX": 1.5, "RUS": 1.5, "TUR": 1, "BGD": 1, "PAK": 1}
FAR_MARKETS = ("NGA", "ZAF", "EGY", "KEN", "ETH", "TZA", "GHA", "CIV", "MAR", "DZA", "CHL", "PER", "COL",
               "ARG", "ECU", "CAN", "ITA", "ESP", "FRA", "POL", "CZE", "HUN", "ROU", "GRC", "PRT", "SWE",
               "FIN", "NOR", "DNK", "BEL", "KAZ", "UZB", "MNG", "NPL", "LKA", "OMN", "QAT", "KWT", "JOR",
               "ISR", "IRQ", "NZL", "PNG", "FJI", "BRN", "TLS", "PAN", "DOM", "GTM", "URY", "UKR", "SRB")
TRADE_MODES = ("0110", "0615", "0214", "1039", "9610")
TRADE_MODE_P = (0.8, 0.07, 0.05, 0.05, 0.03)
CUSTOMS_PORTS = ("7201", "7203", "7206", "7208", "7216", "7227")
LENDERS = ("广西北部湾银行", "桂林银行", "柳州银行", "中国工商银行广西分行", "中国农业银行广西分行",
           "中国银行广西分行", "中国建设银行广西分行", "广西农村信用社联合社", "交通银行广西分行",
           "兴业银行南宁分行", "招商银行南宁分行")
LOAN_PRODUCTS = ("工业流动资金贷", "技术改造贷", "科技创新贷", "外贸企业贷", "小微企业贷")
LOAN_PRODUCT_P = (0.42, 0.2, 0.14, 0.12, 0.12)
TWO_HIGH_PROCESS = {"31": ("炼铁", "炼钢", "轧钢"), "32": ("电解铝", "铜冶炼", "锌冶炼"),
                    "30": ("水泥熟料", "平板玻璃", "建筑陶瓷"), "26": ("烧碱", "合成氨", "电石"),
                    "25": ("原油加工", "炼焦"), "22": ("化学木浆",), "28": ("粘胶纤维",), "44": ("燃煤发电",)}
BUYERS = ("深圳市{}电子有限公司", "东莞{}精密科技有限公司", "惠州市{}通讯设备有限公司", "{}智能终端（广西）有限公司",
          "苏州{}光电有限公司", "重庆{}电子科技有限公司", "珠海{}半导体有限公司", "上海{}信息技术有限公司")


# ---------------------------------------------------------------------------------------------
# Random streams: one per component, so that changing one part leaves the others' draws alone
# ---------------------------------------------------------------------------------------------

class Streams:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])


def stratified_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    """n standard-normal draws, one from each of n equal-probability strata, in random order: even a
    small population gets its tails."""
    u = (rng.permutation(n) + rng.random(n)) / max(n, 1)
    inv = NormalDist().inv_cdf
    return np.array([inv(min(max(x, 1e-9), 1 - 1e-9)) for x in u])


def ar1(rng: np.random.Generator, rows: int, T: int, phi: float, sigma: float) -> np.ndarray:
    """(rows, T) stationary AR(1) paths."""
    x = np.zeros((rows, T))
    x[:, 0] = rng.normal(0, sigma / np.sqrt(1 - phi * phi), rows)
    e = rng.normal(0, sigma, (rows, T))
    for t in range(1, T):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x


# ---------------------------------------------------------------------------------------------
# Enterprises
# ---------------------------------------------------------------------------------------------

@dataclass
class Enterprises:
    table: pd.DataFrame  # one row per enterprise (see build_enterprises)
    months: list[int]  # the simulated months, the columns of the arrays
    output: np.ndarray  # (n, T) true monthly output, 千元 (float)
    revenue: np.ndarray  # (n, T) 千元
    profit: np.ndarray  # (n, T) 千元
    employees: np.ndarray  # (n, T)
    reports: np.ndarray  # (n, T) bool: files a monthly report
    listed: np.ndarray  # (n, T) bool: in the directory snapshot
    tracked_from: np.ndarray  # (n,) month index from which 累计 accumulates
    above_from: np.ndarray  # (n,) month index of 入统 (-1: before the window, NEVER: not 规上)
    exit_at: np.ndarray  # (n,) month index of 退库 (NEVER: none)

    def index(self, d: date) -> int:
        """Column of the month of day d."""
        first = self.months[0]
        return (d.year - first // 100) * 12 + d.month - first % 100


NEVER = 10_000


def _unique_codes(rng: np.random.Generator, counties: np.ndarray) -> list[str]:
    """Valid GB 32100-2015 codes registered in each enterprise's county, all distinct."""
    seen: set[str] = set()
    out = []
    letters = np.array(list(CHARSET))
    for county in counties:
        while True:
            if rng.random() < 0.6:  # post-2015 registrations: "MA" + six characters
                body = "MA" + "".join(rng.choice(letters, 6))
            else:
                body = "".join(rng.choice(letters[:10], 8))
            code = make_uscc(county, body)
            if code not in seen:
                seen.add(code)
                out.append(code)
                break
    assert all(is_valid(c) for c in out)
    return out


def _names(rng: np.random.Generator, cities: np.ndarray, divisions: np.ndarray) -> list[str]:
    names = []
    for city, div in zip(cities, divisions):
        brand = "".join(rng.choice(list(BRAND_CHARS), 2))
        u = rng.random()
        if u < 0.004:
            brand = brand[0] + rng.choice(list(RARE_CHARS))
        place = city.removesuffix("市")
        name = f"{place}{brand}{PRODUCT_WORD[div]}{rng.choice(NAME_SUFFIXES)}"
        if rng.random() < 0.05:
            name = f"广西{brand}{PRODUCT_WORD[div]}{rng.choice(NAME_SUFFIXES)}"
        if rng.random() < 0.03:
            name = name.replace("有限", "（广西）有限", 1)
        if rng.random() < 0.004:  # what typists leave behind: a comma or quotes in a name
            name = name.replace("公司", rng.choice(['公司,分厂', '"公司"', '公司, 二期']), 1)
        names.append(name)
    return names


def _divisions(ref: Reference, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """This seed's mix of divisions and, within each, of classes."""
    divs = sorted(set(ref.classes["division_code"]) & set(DIVISION_PRIOR))
    prior = np.array([DIVISION_PRIOR[d] for d in divs])
    weights = rng.dirichlet(prior / prior.sum() * 60)
    class_weights = {}
    for d in divs:
        n = int((ref.classes["division_code"] == d).sum())
        class_weights[d] = rng.dirichlet(np.full(n, 0.8))
    return np.array(divs), weights, class_weights


def build_enterprises(cal: Calendar, scale: Scale, ref: Reference, streams: Streams) -> Enterprises:
    rng = streams("population")
    kinds = np.array(["incumbent"] * scale.incumbents + ["near"] * scale.near + ["entrant"] * scale.entrants
                     + ["outsider"] * scale.outsiders)
    n = len(kinds)
    months = cal.months
    T = len(months)
    divs, div_w, class_w = _divisions(ref, rng)
    division = rng.choice(divs, n, p=div_w)
    industry = np.empty(n, dtype=object)
    for d in np.unique(division):
        at = np.flatnonzero(division == d)
        classes = ref.classes.loc[ref.classes["division_code"] == d, "class_code"].to_numpy()
        industry[at] = rng.choice(classes, len(at), p=class_w[d])
    county_w = rng.dirichlet(np.full(len(ref.counties), 1.2))
    county_idx = rng.choice(len(ref.counties), n, p=county_w)
    counties = ref.counties.iloc[county_idx]

    # Monthly output at the start of the window, 千元 (log): 规上 well above the threshold with a long
    # right tail; 临规 just under it; entrants at their eventual capacity.
    z = np.empty(n)
    for kind, centre, spread in (("incumbent", np.log(5200), 1.05), ("near", np.log(1450), 0.22),
                                 ("entrant", np.log(4200), 1.0), ("outsider", np.log(700), 0.6)):
        at = np.flatnonzero(kinds == kind)
        z[at] = centre + spread * stratified_normal(rng, len(at))
    incumbent = kinds == "incumbent"
    z[incumbent] = np.maximum(z[incumbent], np.log(1250))

    first_sim = months[0]
    start_idx = cal.index(cal.first_month)
    production = np.zeros(n, dtype=int)  # month index of 投产 (negative: before the window)
    prod_month = np.empty(n, dtype=object)
    entrant = kinds == "entrant"
    production[~entrant] = -rng.integers(12, 300, (~entrant).sum())
    # Entrants start production over the window (none in the last two months: nothing to report yet).
    production[entrant] = rng.integers(max(start_idx - 6, -6), max(T - 2, 1), entrant.sum())
    for i in range(n):
        prod_month[i] = month_add(first_sim, int(production[i]))
    above_since = np.full(n, "", dtype=object)
    inc_at = np.flatnonzero(incumbent)
    lag = rng.integers(0, 60, len(inc_at))
    for i, lg in zip(inc_at, lag):
        m = max(month_add(first_sim, int(production[i]) + int(lg)), month_add(first_sim, -240))
        above_since[i] = str(min(m, month_add(first_sim, -1)))

    output = simulate_output(cal, division, z, production, kinds, streams)
    closure = _closures(cal, z, kinds, streams)
    alive = np.arange(T)[None, :] < closure[:, None]
    output = np.where(alive, output, 0.0)

    lives = streams("revenue")
    ratio = lives.uniform(0.86, 1.07, n)
    lagged = np.concatenate([output[:, :1], output[:, :-1]], axis=1)
    revenue = ratio[:, None] * (0.8 * output + 0.2 * lagged) * np.exp(lives.normal(0, 0.035, (n, T)))
    revenue = np.where(output > 0, revenue, 0.0)
    years = np.array(months) // 100
    margin = lives.normal(0.05, 0.055, n)[:, None] + lives.normal(0, 0.02, (n, len(np.unique(years))))[
        :, np.searchsorted(np.unique(years), years)]
    profit = revenue * (margin + lives.normal(0, 0.015, (n, T)))
    productivity = np.exp(lives.normal(np.log(1200), 0.5, n))  # 千元 of annual output per employee
    base_staff = np.maximum(8, np.exp(z) * 12 / productivity)
    smooth = pd.DataFrame(output.T).rolling(6, min_periods=1).mean().to_numpy().T
    employees = np.where(output > 0, np.round(base_staff[:, None] * np.clip(smooth / np.exp(z)[:, None], 0.05, None)
                                              ** 0.3 + lives.normal(0, 1.5, (n, T))), 0)
    employees = np.maximum(employees, np.where(output > 0, 5, 0)).astype(int)

    tracked_from, above_from, exit_at = _lifecycle(cal, kinds, production, revenue, closure, streams)
    entered = (above_from >= 0) & (above_from < NEVER)
    above_since[entered] = [str(months[t]) for t in above_from[entered]]
    exit_month = np.array([str(months[e]) if e < T else "" for e in exit_at], dtype=object)

    t_idx = np.arange(T)[None, :]
    tracked = (t_idx >= tracked_from[:, None]) & (kinds != "outsider")[:, None]
    in_statistics = alive & (t_idx < exit_at[:, None])
    reports = tracked & in_statistics & (output > 0)
    late = streams("late reports").random((n, T)) < 0.004
    # An enterprise that left stays in the directory, with its 退库年月, for the month it left and two more.
    listed = tracked & (in_statistics | ((t_idx >= exit_at[:, None]) & (t_idx < exit_at[:, None] + 3)))
    codes = _unique_codes(streams("uscc"), counties["county_code"].to_numpy())
    table = pd.DataFrame({
        "uscc": codes,
        "name": _names(streams("names"), counties["city_name"].to_numpy(), division),
        "county": counties["county_code"].to_numpy(),
        "county_name": counties["county_name"].to_numpy(),
        "city": counties["city_code"].to_numpy(),
        "city_name": counties["city_name"].to_numpy(),
        "industry": industry.astype(str),
        "division": division,
        "kind": kinds,
        "log_size": z,
        "production": prod_month.astype(int),
        "above_since": above_since,
        "exit_month": exit_month,
    })
    return Enterprises(table, months, output, revenue, profit, employees, reports & ~late, listed,
                       tracked_from, above_from, exit_at)


def _spring_festival_share(year: int) -> tuple[float, float]:
    """Shares of the Spring Festival closure falling in January and February of `year`."""
    sf = SPRING_FESTIVAL[year]
    days = [sf + timedelta(days=k) for k in range(-HOLIDAY_BEFORE, HOLIDAY_AFTER + 1)]
    jan = sum(d.month == 1 and d.year == year for d in days)
    feb = sum(d.month == 2 for d in days)
    total = len(days)
    return jan / total, feb / total


def simulate_output(cal: Calendar, division: np.ndarray, z: np.ndarray, production: np.ndarray,
                    kinds: np.ndarray, streams: Streams) -> np.ndarray:
    """True monthly output (千元): see the module docstring for the model."""
    rng = streams("output")
    months = np.array(cal.months)
    T, n = len(months), len(z)
    month_of_year = months % 100
    years = months // 100
    year_list = np.unique(years)
    year_idx = np.searchsorted(year_list, years)
    divs = np.unique(division)
    d_idx = np.searchsorted(divs, division)
    D, Y = len(divs), len(year_list)

    # Industry: growth per year, seasonal profile perturbed per year, December push per year,
    # AR(1) shocks with a macro factor, rare regime shifts.
    div_growth = rng.normal(0.05, 0.05, D)[:, None] + rng.normal(0, 0.05, (D, Y))
    k = np.arange(12)[None, :]
    coef = rng.normal(0, [0.05, 0.05, 0.025, 0.025], (D, 4))
    profile = (coef[:, :1] * np.cos(2 * np.pi * k / 12) + coef[:, 1:2] * np.sin(2 * np.pi * k / 12)
               + coef[:, 2:3] * np.cos(4 * np.pi * k / 12) + coef[:, 3:4] * np.sin(4 * np.pi * k / 12))
    quarter_end = rng.normal(0.03, 0.02, D)
    profile[:, [2, 5, 8]] += quarter_end[:, None]
    season = profile[:, None, :] + rng.normal(0, 0.025, (D, Y, 12))
    december = rng.normal(0.07, 0.04, D)[:, None] + rng.normal(0, 0.04, (D, Y))
    season[:, :, 11] += december
    holiday = np.zeros((Y, 12))
    for y, year in enumerate(year_list):
        jan, feb = _spring_festival_share(int(year))
        holiday[y, 0], holiday[y, 1] = -0.42 * jan, -0.42 * feb
    sensitivity = np.array([0.3 if d in CONTINUOUS else 1.0 for d in divs])
    macro = ar1(rng, 1, T, 0.7, 0.012)[0]
    loading = rng.normal(1, 0.35, D)
    industry_shock = ar1(rng, D, T, 0.55, 0.03) + loading[:, None] * macro[None, :]
    shift_at = np.where(rng.random(D) < 0.12, rng.integers(0, T, D), T)
    industry_shock += np.where(np.arange(T)[None, :] >= shift_at[:, None], rng.normal(0, 0.12, D)[:, None], 0)

    # Enterprise: long-run growth around its industry's, mean-reverting drift, level shocks and shifts.
    own = rng.normal(0, 0.07, n) + np.where(kinds == "near", rng.normal(0.02, 0.06, n), 0)
    target = (div_growth[d_idx][:, year_idx] + own[:, None]) / 12  # (n, T) monthly log growth
    phi = 0.88
    drift = target[:, 0] + rng.normal(0, 0.006, n)
    level = np.zeros((n, T))
    jump_p = rng.random((n, T)) < 0.005
    jumps = np.where(jump_p, rng.normal(0, 0.28, (n, T)), 0.0)
    eta = rng.normal(0, 0.018, (n, T))
    zeta = rng.normal(0, 0.0028, (n, T))
    for t in range(1, T):
        drift = phi * drift + (1 - phi) * target[:, t] + zeta[:, t]
        level[:, t] = level[:, t - 1] + drift + eta[:, t] + jumps[:, t]
    amplitude = np.exp(rng.normal(0, 0.3, n))
    holiday_sens = sensitivity[d_idx] * rng.uniform(0.6, 1.4, n)
    ent_december = rng.normal(0, 0.06, (n, Y))
    seasonal = (amplitude[:, None] * season[d_idx][:, year_idx, month_of_year - 1]
                + holiday_sens[:, None] * holiday[year_idx, month_of_year - 1][None, :]
                + np.where(month_of_year == 12, ent_december[:, year_idx], 0.0))
    shocks = 0.045 * np.clip(rng.standard_t(3, (n, T)), -12, 12)
    stoppage = np.where(rng.random((n, T)) < 0.006, -rng.uniform(0.3, 1.2, (n, T)), 0.0)
    log_out = z[:, None] + level + seasonal + industry_shock[d_idx] + shocks + stoppage

    # Entrants ramp up after 投产 (logistic); nobody produces before it.
    tau = np.arange(T)[None, :] - production[:, None]
    half = rng.uniform(1.5, 7, n)[:, None]
    steep = rng.uniform(0.7, 1.8, n)[:, None]
    ramp = np.where(kinds[:, None] == "entrant", 1 / (1 + np.exp(-(tau - half) / steep)), 1.0)
    out = np.exp(log_out) * ramp
    return np.where(tau >= 0, out, 0.0)


def _closures(cal: Calendar, z: np.ndarray, kinds: np.ndarray, streams: Streams) -> np.ndarray:
    """Month index from which an enterprise has closed (NEVER if it survives the window)."""
    rng = streams("closures")
    T = len(cal.months)
    hazard = np.where(z < np.log(2500), 0.004, 0.0012)
    closed = rng.random((len(z), T)) < hazard[:, None]
    closed[:, :2] = False
    first = np.where(closed.any(axis=1), closed.argmax(axis=1), NEVER)
    return np.where(kinds == "entrant", NEVER, first)


def _lifecycle(cal: Calendar, kinds: np.ndarray, production: np.ndarray, revenue: np.ndarray,
               closure: np.ndarray, streams: Streams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tracked from, 入统 at, 退库 at) as month indices: the January review of last year's revenue,
    newly built enterprises entering once their run-rate reaches scale, 退库 on closure."""
    rng = streams("lifecycle")
    months = np.array(cal.months)
    T, n = len(months), len(kinds)
    tracked_from = np.where(kinds == "entrant", np.maximum(production, 0), 0)
    above_from = np.where(kinds == "incumbent", -1, NEVER)
    exit_at = np.full(n, NEVER)
    candidate = kinds != "outsider"
    for t in range(T):
        is_above = (above_from <= t) & (exit_at == NEVER)
        if months[t] % 100 == 1 and t >= 12:
            last_year = revenue[:, t - 12:t].sum(axis=1)
            full_year = tracked_from <= t - 12
            promote = (candidate & (above_from == NEVER) & full_year & (last_year >= ABOVE_SIZE_REVENUE)
                       & (closure > t) & (rng.random(n) < 0.85))
            above_from = np.where(promote, t, above_from)
            drop = is_above & full_year & (last_year < EXIT_REVENUE) & (rng.random(n) < 0.6)
            exit_at = np.where(drop, t, exit_at)
        if t >= 3:
            run_rate = revenue[:, t - 3:t].sum(axis=1) * 4
            newly = ((kinds == "entrant") & (above_from == NEVER) & (production <= t - 3) & (closure > t)
                     & (run_rate >= ABOVE_SIZE_REVENUE) & (rng.random(n) < 0.45))
            above_from = np.where(newly, t, above_from)
        closing = (closure == t) & (above_from <= t) & (exit_at == NEVER)
        exit_at = np.where(closing, t, exit_at)
    return tracked_from, above_from, exit_at


# ---------------------------------------------------------------------------------------------
# Projects
# ---------------------------------------------------------------------------------------------

@dataclass
class Projects:
    table: pd.DataFrame
    investment: np.ndarray  # (P, T) 万元, tenths as integers
    equipment: np.ndarray  # (P, T)
    reports: np.ndarray  # (P, T) bool


TYPE_CODE = {"新建": 1, "扩建": 2, "改建": 3, "技术改造": 4}
TYPE_SIZE = {"新建": (np.log(26000), 1.1), "扩建": (np.log(14000), 1.0), "改建": (np.log(6000), 0.9),
             "技术改造": (np.log(5200), 0.95)}
TYPE_EQUIPMENT = {"新建": (0.15, 0.45), "扩建": (0.2, 0.5), "改建": (0.2, 0.5), "技术改造": (0.35, 0.75)}


def _kumaraswamy(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return 1 - (1 - np.clip(x, 0, 1) ** a) ** b


def build_projects(cal: Calendar, ent: Enterprises, scale: Scale, streams: Streams) -> Projects:
    rng = streams("projects")
    months = np.array(cal.months)
    T = len(months)
    years = months // 100
    year_list = np.unique(years)
    owners_pool = np.flatnonzero(ent.table["kind"].isin(["incumbent", "near"]).to_numpy())
    size = np.exp(ent.table["log_size"].to_numpy())

    # Library entries: a seasonal intensity with a Q4 level that differs by year, over the window and
    # the two years before it (projects still under construction when the window opens).
    before = 24
    season = np.array([0.55, 0.5, 1.25, 1.3, 1.2, 1.15, 0.9, 0.85, 1.05, 1.0, 1.05, 1.1])
    q4_factor = np.exp(rng.normal(np.log(1.25), 0.25, len(year_list)))
    w_window = season[months % 100 - 1] * np.where(months % 100 >= 10, q4_factor[np.searchsorted(year_list, years)], 1)
    w = np.concatenate([np.full(before, season.mean()), w_window])
    target = scale.projects * w / w.sum()  # expected entries per month

    rows = []
    # Plants of entrants: a 新建 project that ends about when the enterprise starts production.
    for i in np.flatnonzero(ent.table["kind"].to_numpy() == "entrant"):
        if len(rows) >= scale.projects // 6 or rng.random() > 0.5:
            continue
        planned = float(np.exp(rng.normal(np.log(size[i] * 12 / 10 * 1.4), 0.5)))  # 万元, ~1.4 years of sales
        duration = _duration(rng, planned)
        entry = _month_index(months, int(ent.table["production"].iloc[i])) - duration
        if entry >= -before:
            rows.append(dict(owner=i, kind="新建", planned=planned, duration=duration, start=entry, entry=entry))
    # The other entries fill the intensity up around the plants' entries.
    plants = np.bincount(np.array([r["entry"] for r in rows], dtype=int) + before, minlength=len(target))
    fill = np.maximum(target - plants, 0)
    remaining = scale.projects - len(rows)
    entries = rng.choice(np.arange(-before, T), remaining, p=fill / fill.sum())
    types = rng.choice(list(TYPE_CODE), remaining, p=[0.33, 0.24, 0.1, 0.33])
    owner_w = size[owners_pool] ** 0.7
    owners = rng.choice(owners_pool, remaining, p=owner_w / owner_w.sum())
    for entry, kind, owner in zip(entries, types, owners):
        mu, sd = TYPE_SIZE[kind]
        planned = float(np.clip(np.exp(rng.normal(mu, sd)), 500, 300_000))
        duration = _duration(rng, planned)
        start = int(entry) - int(rng.choice([0, 0, 0, 0, 1, 2]))
        rows.append(dict(owner=int(owner), kind=kind, planned=planned, duration=duration, start=start,
                         entry=int(entry)))
    P = len(rows)
    table = pd.DataFrame(rows)
    # Tags, by the kind and size of project.
    tags = []
    for r in rows:
        t = []
        big = r["planned"] >= 20_000 and r["kind"] in ("新建", "扩建")
        if big and rng.random() < 0.6:
            t.append("双百双新")
        if (r["kind"] == "技术改造" and rng.random() < 0.6) or (r["kind"] == "改建" and rng.random() < 0.3):
            t.append("千企技改")
        if r["planned"] >= 100_000 and rng.random() < 0.6:
            t.append("重大产业标志性工程")
        if rng.random() < 0.22:
            t.append("招商引资")
        if (r["kind"] == "技术改造" and rng.random() < 0.5) or rng.random() < 0.04:
            t.append("设备更新重点方向")
        tags.append(t)
    table["tags"] = [";".join(t) for t in tags]
    # Many 双百双新 projects enter the library during their preparation, months before they start.
    pre = np.array([("双百双新" in t) and rng.random() < 0.55 for t in tags])
    table.loc[pre, "start"] = table.loc[pre, "entry"] + np.minimum(rng.geometric(1 / 9, pre.sum()), 18)

    push_mean = rng.normal(0.45, 0.2, len(year_list))  # log level of each year's December push
    investment = np.zeros((P, T))
    equipment = np.zeros((P, T))
    completion = np.full(P, NEVER)
    for p, r in table.iterrows():
        D = int(r["duration"])
        stall = rng.random() < 0.1
        stall_len = int(rng.integers(2, 8)) if stall else 0
        stall_at = int(rng.integers(1, max(D - 1, 2))) if stall else 0
        life = D + stall_len
        a, b = rng.uniform(1.4, 2.6), rng.uniform(1.6, 3.0)
        x = np.arange(D + 1) / D
        share = np.diff(_kumaraswamy(x, a, b))
        if stall:  # months of near standstill (funding, permits) push the rest of the curve back
            share = np.concatenate([share[:stall_at], np.full(stall_len, 0.003), share[stall_at:]])
        cal_idx = int(r["start"]) + np.arange(life)
        cal_month = np.array([month_add(months[0], int(c)) % 100 for c in cal_idx])
        cal_year = np.array([month_add(months[0], int(c)) // 100 for c in cal_idx])
        y_idx = np.clip(np.searchsorted(year_list, cal_year), 0, len(year_list) - 1)
        factor = np.exp(rng.normal(0, 0.35, life))  # lumpy months
        factor *= np.where(cal_month == 2, 0.55, 1.0) * np.where(cal_month == 1, 0.8, 1.0)
        # The December push: the year's level, and each project's own response to it.
        factor *= np.where(cal_month == 12, np.exp(push_mean[y_idx] + rng.normal(0, 0.3, life)), 1.0)
        weights = share * factor
        total = r["planned"] * np.exp(rng.normal(-0.03, 0.1))
        monthly = total * weights / weights.sum()
        e_lo, e_hi = TYPE_EQUIPMENT[r["kind"]]
        eq_share = rng.uniform(e_lo, e_hi)
        progress = np.cumsum(monthly) / monthly.sum()
        eq = monthly * np.clip(2 * eq_share * progress ** 0.8, 0, 0.95)
        inside = (cal_idx >= 0) & (cal_idx < T)
        investment[p, cal_idx[inside]] = monthly[inside]
        equipment[p, cal_idx[inside]] = eq[inside]
        completion[p] = cal_idx[-1]
    investment = np.round(investment * 10)  # tenths of 万元
    equipment = np.minimum(np.round(equipment * 10), investment)
    idx = np.arange(T)[None, :]
    entry = table["entry"].to_numpy()
    reports = (idx >= entry[:, None]) & (idx <= completion[:, None])
    table["completion"] = completion
    return Projects(table, investment, equipment, reports)


def _month_index(months: np.ndarray, yyyymm: int) -> int:
    first = int(months[0])
    return (yyyymm // 100 - first // 100) * 12 + yyyymm % 100 - first % 100


def _duration(rng: np.random.Generator, planned: float) -> int:
    return int(np.clip(round((6 + 3.2 * (planned / 1000) ** 0.28) * np.exp(rng.normal(0, 0.25))), 4, 60))


# ---------------------------------------------------------------------------------------------
# Writing files
# ---------------------------------------------------------------------------------------------

@dataclass
class Landing:
    root: Path
    cal: Calendar
    arrivals: dict[str, date] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def put(self, feed: str, dataset: str, name: str, data: bytes, arrives: date, rows: int) -> None:
        assert arrives <= self.cal.final_as_of, (name, arrives)
        folder = self.root / feed
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        self.arrivals[f"{feed}/{name}"] = arrives
        key = f"{feed}_{dataset}"
        self.rows[key] = self.rows.get(key, 0) + rows


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str, crlf: bool = False,
              bom: bool = False) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _text(values: np.ndarray) -> np.ndarray:
    """Whole numbers as text."""
    return np.round(values).astype(np.int64).astype(str)


def _tenths(values: np.ndarray) -> np.ndarray:
    """Whole numbers of tenths as decimal text with one place ("12.3", "0.0")."""
    v = np.round(values).astype(np.int64)
    a = np.abs(v)
    return np.char.add(np.char.add(np.char.add(np.where(v < 0, "-", ""), (a // 10).astype(str)), "."),
                       (a % 10).astype(str))


def _cents(values: np.ndarray) -> np.ndarray:
    """Amounts as text with two decimals."""
    v = np.round(np.asarray(values, dtype=float) * 100).astype(np.int64)
    if v.size == 0:  # a month no project reports (tiny): np.char.zfill has no width to take
        return np.zeros(0, dtype=str)
    return np.char.add(np.char.add((v // 100).astype(str), "."), np.char.zfill((v % 100).astype(str), 2))


def _rows(*columns) -> list[list[str]]:
    return [list(r) for r in zip(*columns)]


def write_stats(landing: Landing, ent: Enterprises, projects: Projects, streams: Streams) -> None:
    """Directory, monthly report (whole 千元, quiet revisions of last month inside 累计), project library."""
    cal = landing.cal
    tab = ent.table
    n, T = ent.output.shape
    rng = streams("stats revisions")
    v_out, v_rev, v_profit = np.round(ent.output), np.round(ent.revenue), np.round(ent.profit)
    prelim_out = np.where(rng.random((n, T)) < 0.04, np.round(v_out * np.exp(rng.normal(0, 0.04, (n, T)))), v_out)
    prelim_rev = np.where(rng.random((n, T)) < 0.04, np.round(v_rev * np.exp(rng.normal(0, 0.04, (n, T)))), v_rev)
    years = np.array(cal.months) // 100
    counted = np.arange(T)[None, :] >= ent.tracked_from[:, None]
    cum = {}
    for key, v in (("out", v_out), ("rev", v_rev), ("profit", v_profit)):
        c = np.zeros_like(v)
        for y in np.unique(years):
            cols = np.flatnonzero(years == y)
            c[:, cols] = np.cumsum(np.where(counted[:, cols], v[:, cols], 0), axis=1)
        cum[key] = c
    # 累计 holds the final figures of earlier months and this month's preliminary one.
    ytd_out = cum["out"] - v_out + prelim_out
    ytd_rev = cum["rev"] - v_rev + prelim_rev
    uscc, name = tab["uscc"].to_numpy(), tab["name"].to_numpy()
    county, industry = tab["county"].to_numpy(), tab["industry"].to_numpy()
    above_since, production = tab["above_since"].to_numpy(), tab["production"].astype(str).to_numpy()
    exit_month = tab["exit_month"].to_numpy()
    directory_header = ["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "规模标志", "入统年月", "投产年月", "退库年月"]
    report_header = ["统一社会信用代码", "报告期", "工业总产值_本月_千元", "工业总产值_累计_千元", "营业收入_本月_千元",
                     "营业收入_累计_千元", "利润总额_累计_千元", "从业人员期末人数"]
    for m in cal.delivered(STATS_DAY):
        t = cal.index(m)
        arrives = arrival(m, STATS_DAY)
        at = np.flatnonzero(ent.listed[:, t])
        above = ent.above_from[at] <= t
        left = ent.exit_at[at] <= t
        rows = _rows(uscc[at], name[at], county[at], industry[at], np.where(above, "规上", "临规"),
                     np.where(above, above_since[at], ""), production[at], np.where(left, exit_month[at], ""))
        landing.put("stats", "enterprise", f"stats_enterprise_{m}.csv",
                    csv_bytes(directory_header, rows, "gb18030", crlf=True), arrives, len(rows))
        at = np.flatnonzero(ent.reports[:, t])
        rows = _rows(uscc[at], [str(m)] * len(at), _text(prelim_out[at, t]), _text(ytd_out[at, t]),
                     _text(prelim_rev[at, t]), _text(ytd_rev[at, t]), _text(cum["profit"][at, t]),
                     ent.employees[at, t].astype(str))
        landing.put("stats", "industry", f"stats_industry_{m}.csv",
                    csv_bytes(report_header, rows, "gb18030", crlf=True), arrives, len(rows))
        _write_projects_month(landing, projects, m, t, arrives)


PROJECT_HEADER = ["项目代码", "项目名称", "统一社会信用代码", "行政区划代码", "行业代码", "建设性质", "计划总投资_万元",
                  "开工年月", "入库年月", "本月完成投资_万元", "本月设备购置_万元", "项目标签", "竣工年月"]


def _write_projects_month(landing: Landing, projects: Projects, m: int, t: int, arrives: date) -> None:
    tab = projects.table
    months = landing.cal.months
    at = np.flatnonzero(projects.reports[:, t])
    start = tab["start"].to_numpy()[at]
    started = start <= t
    completion = tab["completion"].to_numpy()[at]
    columns = [tab[c].to_numpy()[at] for c in ("code", "name", "uscc", "county", "industry", "kind")]
    columns += [_cents(tab["planned"].to_numpy()[at]),
                np.where(started, [str(month_add(months[0], int(s))) for s in start], ""),
                [str(month_add(months[0], int(e))) for e in tab["entry"].to_numpy()[at]],
                np.where(started, _tenths(projects.investment[at, t]), "0.0"),
                np.where(started, _tenths(projects.equipment[at, t]), "0.0"),
                tab["tags"].to_numpy()[at], np.where(completion == t, str(m), "")]
    header = PROJECT_HEADER
    if m >= 202401:  # the library's new export puts the money columns first
        order = [0, 1, 9, 10, 6, 2, 3, 4, 5, 7, 8, 11, 12]
        header = [header[k] for k in order]
        columns = [columns[k] for k in order]
    rows = _rows(*columns)
    landing.put("stats", "projects", f"stats_projects_{m}.csv", csv_bytes(header, rows, "gb18030", crlf=True),
                arrives, len(rows))


def name_projects(projects: Projects, ent: Enterprises, ref: Reference, streams: Streams) -> None:
    """Project code (national format: year-county-division-type-serial), name, owner, place, class."""
    rng = streams("project names")
    tab = projects.table
    owners = ent.table.iloc[tab["owner"].to_numpy()].reset_index(drop=True)
    serials = 100_000 + rng.choice(900_000, len(tab), replace=False)
    phrase = {"新建": "年产{}万件{}生产线建设项目", "扩建": "{}扩能项目（二期）", "改建": "{}生产车间改造项目",
              "技术改造": "{}智能化技术改造项目"}
    codes, names, counties = [], [], []
    for k in range(len(tab)):
        o = owners.iloc[k]
        kind = tab["kind"].iat[k]
        entry = month_add(ent.months[0], int(tab["entry"].iat[k]))
        same_city = ref.counties.loc[ref.counties["city_code"] == o["city"], "county_code"].to_numpy()
        county = o["county"] if rng.random() < 0.85 else str(rng.choice(same_city))
        counties.append(county)
        codes.append(f"{entry // 100}-{county}-{o['division']}-{TYPE_CODE[kind]:02d}-{serials[k]:06d}")
        word = PRODUCT_WORD[o["division"]]
        title = phrase[kind].format(int(rng.integers(1, 50)), word) if kind == "新建" else phrase[kind].format(word)
        names.append(o["name"].split("有限")[0].removesuffix("股份") + title)
    tab["code"], tab["name"], tab["county"] = codes, names, counties
    tab["uscc"], tab["industry"] = owners["uscc"].to_numpy(), owners["industry"].to_numpy()


def write_tax(landing: Landing, ent: Enterprises, streams: Streams) -> None:
    """VAT returns of every producing enterprise (directory or not), filed in the first half of M+1;
    a few months get a `_v2` of corrected returns (更正申报) with the next month's file."""
    rng = streams("tax")
    cal = landing.cal
    tab = ent.table
    n, T = ent.output.shape
    sales = ent.revenue * 1000 * np.exp(rng.normal(0, 0.05, (n, T)))  # 元
    vat_share = rng.uniform(0.018, 0.06, n)[:, None] * np.exp(rng.normal(0, 0.2, (n, T)))
    vat = np.where(rng.random((n, T)) < 0.07, 0.0, sales * vat_share)  # 0: input VAT carried forward
    filed_in_time = rng.random((n, T)) >= 0.015
    office = ("国家税务总局" + tab["city_name"] + tab["county_name"] + "税务局").to_numpy()
    uscc = tab["uscc"].to_numpy()
    can_correct = cal.delivered(TAX_DAY, 1)
    corrected = set(rng.choice(can_correct, min(4, len(can_correct)), replace=False).tolist()) if can_correct else set()
    for m in cal.delivered(TAX_DAY):
        t = cal.index(m)
        at = np.flatnonzero((ent.output[:, t] > 0) & filed_in_time[:, t])
        first_day = first_of(month_add(m, 1)).toordinal()
        filed = [date.fromordinal(first_day + int(d)).isoformat() for d in rng.integers(0, TAX_DAY, len(at))]
        header = ["纳税人识别号", "所属期", "开票销售额_元", "应纳增值税额_元", "申报日期"]
        columns = [uscc[at], [str(m)] * len(at), _cents(sales[at, t]), _cents(vat[at, t]), filed]
        if m >= 202403:  # the bureau added the tax office to its export
            header.append("主管税务机关")
            columns.append(office[at])
        rows = _rows(*columns)
        landing.put("tax", "vat", f"tax_vat_{m}.csv", csv_bytes(header, rows, "gb18030"), arrival(m, TAX_DAY),
                    len(rows))
        if m in corrected and rows:
            fixed = [list(rows[k]) for k in sorted(rng.choice(len(rows), max(1, len(rows) // 80), replace=False))]
            for row in fixed:
                row[2] = str(_cents(float(row[2]) * np.exp(rng.normal(0, 0.08))))
            landing.put("tax", "vat", f"tax_vat_{m}_v2.csv", csv_bytes(header, fixed, "gb18030"),
                        arrival(m, TAX_DAY, 1), len(fixed))


# ---------------------------------------------------------------------------------------------
# Power
# ---------------------------------------------------------------------------------------------

def build_accounts(cal: Calendar, ent: Enterprises, streams: Streams) -> pd.DataFrame:
    rng = streams("accounts")
    tab = ent.table
    n = len(tab)
    counts = rng.choice([0, 1, 2, 3], n, p=[0.05, 0.72, 0.18, 0.05])
    owner = np.repeat(np.arange(n), counts)
    A = len(owner)
    numbers = 10_000_000 + rng.choice(90_000_000, A, replace=False)
    city_digit = tab["city"].str[2:4].to_numpy()[owner]
    size = np.exp(tab["log_size"].to_numpy())[owner]
    voltage = np.where(size > 40_000, np.where(rng.random(A) < 0.3, "220kV", "110kV"),
                       np.where(size > 6_000, np.where(rng.random(A) < 0.5, "35kV", "10kV"), "10kV"))
    production = tab["production"].to_numpy()[owner]
    prod_day = np.array([first_of(int(p)).toordinal() for p in production])
    opened = prod_day - rng.integers(20, 400, A)
    second = np.concatenate([[False], owner[1:] == owner[:-1]])
    opened = np.where(second, opened + rng.integers(0, 900, A), opened)
    names = tab["name"].to_numpy()[owner].astype(object)
    names = np.where(second, names + "（二号表）", names)
    holder = tab["uscc"].to_numpy()[owner].astype(object)
    holder = np.where(rng.random(A) < 0.03, "", holder)  # the grid could not match the holder
    shares = np.ones(A)
    for i in np.unique(owner):
        at = np.flatnonzero(owner == i)
        shares[at] = rng.dirichlet(np.full(len(at), 2.0))
    return pd.DataFrame({
        "number": [f"{c}{x:08d}" for c, x in zip(city_digit, numbers)],
        "name": names, "uscc": holder, "county": tab["county"].to_numpy()[owner],
        "metered": np.where(rng.random(A) < 0.07, "否", "是"), "voltage": voltage,
        "opened": opened, "owner": owner, "share": shares,
        "opened_text": [date.fromordinal(int(d)).isoformat() for d in opened],
    })


def simulate_power(cal: Calendar, ent: Enterprises, accounts: pd.DataFrame, streams: Streams) -> np.ndarray:
    """(accounts, days) true daily kWh."""
    rng = streams("power")
    tab = ent.table
    n, T = ent.output.shape
    division = tab["division"].to_numpy()
    size = np.exp(tab["log_size"].to_numpy())
    intensity = np.array([POWER_INTENSITY.get(d, DEFAULT_INTENSITY) for d in division])
    k = intensity * size * np.exp(rng.normal(0, 0.4, n))  # kWh per month at the enterprise's size
    beta_div = {d: rng.uniform(0.6, 0.98) for d in np.unique(division)}
    beta = np.array([beta_div[d] for d in division]) + rng.normal(0, 0.08, n)
    trend = rng.normal(-0.02, 0.03, n) / 12
    noise = ar1(rng, n, T, 0.7, 0.04)
    rel = ent.output / size[:, None]
    producing = ent.output > 0
    log_p = np.log(k)[:, None] + beta[:, None] * np.log(np.maximum(rel, 1e-6)) + trend[:, None] * np.arange(T) + noise
    monthly = np.where(producing, np.exp(log_p), k[:, None] * 0.03)  # construction or standby load

    days = cal.day_ordinals
    day_dates = [date.fromordinal(int(d)) for d in days]
    month_idx = np.array([cal.index(d.year * 100 + d.month) for d in day_dates])
    dim = np.array([calendar.monthrange(d.year, d.month)[1] for d in day_dates])
    weekday = np.array([d.weekday() for d in day_dates])
    spring = np.zeros(len(days), dtype=bool)
    national = np.array([d.month == 10 and d.day <= 7 for d in day_dates])
    for year, sf in SPRING_FESTIVAL.items():
        lo, hi = (sf - timedelta(days=HOLIDAY_BEFORE)).toordinal(), (sf + timedelta(days=HOLIDAY_AFTER)).toordinal()
        spring |= (days >= lo) & (days <= hi)
    owner = accounts["owner"].to_numpy()
    A = len(owner)
    continuous = np.isin(division[owner], list(CONTINUOUS))
    sat = np.where(continuous, rng.uniform(0.95, 1.0, A), rng.uniform(0.7, 0.95, A))
    sun = np.where(continuous, rng.uniform(0.93, 1.0, A), rng.uniform(0.45, 0.9, A))
    wd = np.ones((A, 7))
    wd[:, 5], wd[:, 6] = sat, sun
    wd /= wd.mean(axis=1, keepdims=True)
    sf_factor = np.where(continuous, rng.uniform(0.75, 0.95, A), rng.uniform(0.2, 0.6, A))
    nd_factor = np.where(continuous, rng.uniform(0.9, 1.0, A), rng.uniform(0.55, 0.9, A))
    sigma = rng.uniform(0.03, 0.12, A)
    per_day = monthly[owner][:, month_idx] / dim[None, :] * accounts["share"].to_numpy()[:, None]
    kwh = per_day * wd[:, weekday] * np.where(spring[None, :], sf_factor[:, None], 1.0)
    kwh *= np.where(national[None, :], nd_factor[:, None], 1.0)
    kwh *= np.exp(rng.normal(0, 1, (A, len(days))) * sigma[:, None])
    return np.round(kwh, 1)


def write_power(landing: Landing, accounts: pd.DataFrame, kwh: np.ndarray, streams: Streams) -> None:
    """Weekly deliveries on Mondays (the seven days before, plus re-reads of the week before that) and
    an account snapshot every fourth Monday."""
    rng = streams("meters")
    cal = landing.cal
    days = cal.day_ordinals
    A, Dn = kwh.shape
    opened = accounts["opened"].to_numpy()
    live = days[None, :] >= opened[:, None]
    # Flags: outage runs (缺失) and estimated days (估算); most get re-read in the next delivery.
    flag = np.zeros((A, Dn), dtype=np.int8)  # 0 正常, 1 估算, 2 缺失
    years = Dn / 365.25
    for a in range(A):
        for _ in range(rng.poisson(3.5 * years)):
            s = int(rng.integers(0, Dn))
            flag[a, s:s + 1 + rng.geometric(0.35)] = 2
    flag = np.where((flag == 0) & (rng.random((A, Dn)) < 0.008), 1, flag)
    reread = (flag > 0) & (rng.random((A, Dn)) < np.where(flag == 2, 0.55, 0.4))
    estimate = np.round(kwh * np.exp(rng.normal(0, 0.12, (A, Dn))), 1)
    day_text = pa.array([date.fromordinal(int(d)).isoformat() for d in days])
    numbers = pa.array(accounts["number"].to_numpy().astype(str))
    flag_text = pa.array(["正常", "估算", "缺失"])
    header = "用电户号,日期,用电量_千瓦时,数据标志\n".encode()
    bom_until = date(2023, 6, 30)  # the grid's old export wrote a BOM
    for k, monday in enumerate(cal.mondays()):
        name = f"power_daily_{monday:%Y%m%d}.csv"
        d1 = monday.toordinal() - days[0]
        week = np.arange(max(d1 - 7, 0), min(d1, Dn))
        prev = np.arange(max(d1 - 14, 0), max(d1 - 7, 0))
        a_i, d_i = np.nonzero(live[:, week])
        d_i = week[d_i]
        f = flag[a_i, d_i]
        value = np.where(f == 0, kwh[a_i, d_i], np.where(f == 1, estimate[a_i, d_i], np.nan))
        ra, rd = np.nonzero(reread[:, prev] & live[:, prev])  # re-read days of the week before
        rd = prev[rd]
        all_a = np.concatenate([a_i, ra])
        all_d = np.concatenate([d_i, rd])
        all_f = np.concatenate([f, np.zeros(len(ra), dtype=np.int8)])
        all_v = np.concatenate([value, kwh[ra, rd]])
        table = pa.table({
            "a": pc.take(numbers, pa.array(all_a)),
            "d": pc.take(day_text, pa.array(all_d)),
            "v": pa.array(all_v, type=pa.float64(), from_pandas=True),
            "f": pc.take(flag_text, pa.array(all_f)),
        })
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
        data = header + buf.getvalue()
        if monday <= bom_until:
            data = b"\xef\xbb\xbf" + data
        landing.put("power", "daily", name, data, monday, len(all_a))
        if k % 4 == 0:
            _write_accounts(landing, accounts, monday)


ACCOUNTS_HEADER = ["用电户号", "户名", "统一社会信用代码", "行政区划代码", "独立计量", "电压等级", "立户日期"]


def _write_accounts(landing: Landing, accounts: pd.DataFrame, monday: date) -> None:
    acc = accounts[accounts["opened"] <= monday.toordinal()]
    header, columns = ACCOUNTS_HEADER, ["number", "name", "uscc", "county", "metered", "voltage", "opened_text"]
    if monday >= date(2024, 4, 1):  # the grid's new marketing system exports in another order
        order = [0, 2, 1, 3, 5, 4, 6]
        header, columns = [header[k] for k in order], [columns[k] for k in order]
    rows = acc[columns].values.tolist()
    landing.put("power", "accounts", f"power_accounts_{monday:%Y%m%d}.csv", csv_bytes(header, rows, "utf-8", bom=True),
                monday, len(rows))


# ---------------------------------------------------------------------------------------------
# Customs
# ---------------------------------------------------------------------------------------------

CUSTOMS_HEADER = ["报关单号", "项号", "出口日期", "经营单位编码", "统一社会信用代码", "商品编码", "贸易方式", "运抵国",
                  "美元金额", "人民币金额_元"]


def _choose_new(rng: np.random.Generator, pool: np.ndarray, known: set[str]) -> str | None:
    fresh = [d for d in pool if d not in known]
    return str(rng.choice(fresh)) if fresh else None


def simulate_exports(cal: Calendar, ent: Enterprises, ref: Reference, streams: Streams) -> dict[int, pd.DataFrame]:
    """Export lines per month: persistent markets (own frequency and weight, entered and left over
    time) and one-off shipments to destinations new to the exporter."""
    rng = streams("customs")
    months = cal.months
    tab = ent.table
    n = len(tab)
    division = tab["division"].to_numpy()
    markets = np.array([m for m in MARKETS if m in ref.countries])
    market_w = np.array([MARKETS[m] for m in markets], dtype=float)
    far = np.array([m for m in FAR_MARKETS if m in ref.countries])
    p_export = np.array([EXPORT_PROPENSITY.get(d, 0.04) for d in division]) * np.where(
        tab["kind"].to_numpy() == "outsider", 2.0, 1.0)
    exporters = np.flatnonzero((rng.random(n) < p_export) & np.isin(division, list(HS_HEADINGS)))
    share = rng.uniform(0.05, 0.6, n)
    customs_code = np.array([f"{c[:4]}{x:06d}" for c, x in zip(tab["city"], rng.choice(999_999, n, replace=False))])
    products = np.empty((n, 2), dtype=object)
    for i in exporters:
        headings = rng.choice(HS_HEADINGS[division[i]], 2)
        products[i] = [h + rng.choice(["10", "11", "19", "20", "90"]) + "0000" for h in headings]
    # The market book: one row per (exporter, destination) with its frequency, weight and span.
    book = {"ent": [], "dest": [], "p": [], "w": [], "since": [], "until": []}
    for i in exporters:
        k = min(1 + rng.poisson(1.4), len(markets))
        for d, w in zip(rng.choice(markets, k, replace=False, p=market_w / market_w.sum()),
                        rng.dirichlet(np.full(k, 1.5))):
            for key, v in zip(book, (i, str(d), rng.uniform(0.35, 1.0), w, 0, NEVER)):
                book[key].append(v)
    rate = np.clip(6.36 + np.cumsum(rng.normal(0.02, 0.05, len(months))), 6.2, 7.35)  # CNY per USD
    serial = rng.integers(10_000, 90_000, len(CUSTOMS_PORTS))
    out = {}
    for t, m in enumerate(months):
        producing = ent.output[exporters, t] > 0
        known = {}
        for e, d in zip(book["ent"], book["dest"]):
            known.setdefault(e, set()).add(d)
        for i in exporters[producing & (rng.random(len(exporters)) < 0.012)]:  # a new market, for good
            d = _choose_new(rng, markets, known.get(i, set()))
            if d:
                known.setdefault(i, set()).add(d)
                for key, v in zip(book, (i, d, rng.uniform(0.3, 0.9), rng.uniform(0.05, 0.4), t, NEVER)):
                    book[key].append(v)
        b = {k: np.array(v) for k, v in book.items()}
        until = b["until"]
        until[(until == NEVER) & (b["since"] < t) & (rng.random(len(until)) < 0.004)] = t  # a market lost
        book["until"] = until.tolist()
        active = (b["since"] <= t) & (t < until) & (ent.output[b["ent"], t] > 0) & (rng.random(len(until)) < b["p"])
        ent_s = b["ent"][active]
        dest_s = b["dest"][active]
        value_s = (share[ent_s] * ent.revenue[ent_s, t] * 1000 * b["w"][active] / b["p"][active]
                   * np.exp(rng.normal(0, 0.45, active.sum())))
        one_off = exporters[producing & (rng.random(len(exporters)) < 0.035)]
        extra_e, extra_d = [], []
        for i in one_off:
            d = _choose_new(rng, far if rng.random() < 0.4 else markets, known.get(i, set()))
            if d:
                extra_e.append(i)
                extra_d.append(d)
        ent_s = np.concatenate([ent_s, np.array(extra_e, dtype=int)])
        dest_s = np.concatenate([dest_s, np.array(extra_d, dtype=str)]).astype(str)
        value_s = np.concatenate([value_s, np.exp(rng.normal(np.log(400_000), 1.0, len(extra_e)))])
        # Shipments -> declarations (1 + Poisson) -> lines (1..3 items).
        decl_n = 1 + rng.poisson(0.4, len(ent_s))
        d_ship = np.repeat(np.arange(len(ent_s)), decl_n)
        d_value = value_s[d_ship] / decl_n[d_ship]
        ports = rng.integers(0, len(CUSTOMS_PORTS), len(d_ship))
        steps = rng.integers(1, 40, len(d_ship))
        numbers = np.zeros(len(d_ship), dtype=np.int64)
        for k in range(len(CUSTOMS_PORTS)):
            at = np.flatnonzero(ports == k)
            numbers[at] = serial[k] + np.cumsum(steps[at])
            serial[k] = numbers[at][-1] if len(at) else serial[k]
        decl = np.array([f"{CUSTOMS_PORTS[p]}{m // 100}1{x:09d}" for p, x in zip(ports, numbers)], dtype=str)
        ndays = calendar.monthrange(m // 100, m % 100)[1]
        day = rng.integers(1, ndays + 1, len(d_ship))
        mode = rng.choice(TRADE_MODES, len(d_ship), p=TRADE_MODE_P)
        items = rng.integers(1, 4, len(d_ship))
        l_decl = np.repeat(np.arange(len(d_ship)), items)
        line_no = np.arange(len(l_decl)) - np.repeat(np.cumsum(items) - items, items) + 1
        weight = rng.gamma(1.0, 1.0, len(l_decl))
        weight /= np.bincount(l_decl, weight)[l_decl]
        usd = np.maximum(np.round(d_value[l_decl] * weight / rate[t], 2), 50.0)
        ship = d_ship[l_decl]
        ent_l = ent_s[ship]
        codes = tab["uscc"].to_numpy()[ent_l].astype(str)
        typo = rng.random(len(codes)) < 0.001  # two characters swapped by the typist
        codes = np.where(typo, [c[:5] + c[6] + c[5] + c[7:] for c in codes], codes)
        out[m] = pd.DataFrame({
            "报关单号": decl[l_decl], "项号": line_no.astype(str),
            "出口日期": [date(m // 100, m % 100, int(x)).isoformat() for x in day[l_decl]],
            "经营单位编码": customs_code[ent_l], "统一社会信用代码": codes,
            "商品编码": products[ent_l, rng.integers(0, 2, len(l_decl))].astype(str),
            "贸易方式": mode[l_decl], "运抵国": dest_s[ship],
            "美元金额": _cents(usd), "人民币金额_元": _cents(np.round(usd * rate[t], 2)),
            "_usd": usd, "_rate": rate[t],
        })
    return out


def write_customs(landing: Landing, ent: Enterprises, ref: Reference, streams: Streams) -> None:
    """Monthly export lines; from 2023-07 the district's new system orders the columns otherwise; a
    few months get a `_v2` of amended lines (改单) with the next month's file."""
    cal = landing.cal
    lines = simulate_exports(cal, ent, ref, streams)
    rng = streams("customs delivery")
    can_correct = cal.delivered(CUSTOMS_DAY, 1)
    corrected = set(rng.choice(can_correct, min(3, len(can_correct)), replace=False).tolist()) if can_correct else set()
    order = [0, 1, 4, 3, 2, 7, 5, 6, 9, 8]
    for m in cal.delivered(CUSTOMS_DAY):
        frame = lines[m].sort_values(["出口日期", "报关单号", "项号"], key=lambda c: c.str.zfill(3) if c.name == "项号" else c)
        header = [CUSTOMS_HEADER[k] for k in order] if m >= 202307 else CUSTOMS_HEADER
        bom = bool(rng.random() < 0.5)
        rows = frame[header].values.tolist()
        landing.put("customs", "export", f"customs_export_{m}.csv", csv_bytes(header, rows, "utf-8", bom=bom),
                    arrival(m, CUSTOMS_DAY), len(rows))
        if m in corrected and rows:
            fixed = frame.iloc[sorted(rng.choice(len(frame), max(1, len(frame) // 60), replace=False))].copy()
            usd = np.round(fixed["_usd"].to_numpy() * np.exp(rng.normal(0, 0.1, len(fixed))), 2)
            fixed["美元金额"], fixed["人民币金额_元"] = _cents(usd), _cents(np.round(usd * fixed["_rate"].to_numpy(), 2))
            landing.put("customs", "export", f"customs_export_{m}_v2.csv",
                        csv_bytes(header, fixed[header].values.tolist(), "utf-8", bom=bom),
                        arrival(m, CUSTOMS_DAY, 1), len(fixed))


# ---------------------------------------------------------------------------------------------
# Registers
# ---------------------------------------------------------------------------------------------

def _business_days(start: date, end: date) -> np.ndarray:
    """Day ordinals of working days: weekdays outside the National Day week and the Spring Festival."""
    d = np.arange(start.toordinal(), end.toordinal() + 1)
    weekday = (d + 6) % 7  # date.fromordinal(1) is a Monday: ordinal 1 -> 0
    closed = np.zeros(len(d), dtype=bool)
    for year in range(start.year, end.year + 1):
        national = date(year, 10, 1).toordinal()
        closed |= (d >= national) & (d < national + 7)
        sf = SPRING_FESTIVAL[year].toordinal()
        closed |= (d >= sf - 1) & (d < sf + 6)
    return d[(weekday < 5) & ~closed]


def _poisson_dates(rng: np.random.Generator, cal: Calendar, yearly: float, season: np.ndarray,
                   q4_spread: float) -> list[date]:
    """Event dates on business days, by a seasonal intensity whose Q4 level varies by year."""
    out = []
    for year in sorted({m // 100 for m in cal.months}):
        lo = max(date(year, 1, 1), cal.start_day)
        hi = min(date(year, 12, 31), cal.final_as_of)
        if lo > hi:
            continue
        days = _business_days(lo, hi)
        if not len(days):
            continue
        months = np.array([date.fromordinal(int(d)).month for d in days])
        year_level = np.exp(rng.normal(0, 0.15))
        q4 = np.exp(rng.normal(0, q4_spread))
        lam = yearly / 250 * year_level * season[months - 1] * np.where(months >= 10, q4, 1.0)
        count = rng.poisson(lam)
        out.extend(date.fromordinal(int(d)) for d, c in zip(days, count) for _ in range(c))
    return out


def _pick(rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    if k <= 0 or not len(candidates):
        return np.array([], dtype=int)
    return rng.choice(candidates, min(k, len(candidates)), replace=False, p=weights / weights.sum())


def _in_stats(ent: Enterprises, d: date) -> tuple[np.ndarray, np.ndarray]:
    """Enterprises in the directory and producing in d's month, with weights by size."""
    t = ent.index(d)
    alive = np.flatnonzero(ent.listed[:, t] & (ent.output[:, t] > 0))
    return alive, np.exp(ent.table["log_size"].to_numpy()[alive]) ** 0.5


def build_registers(cal: Calendar, ent: Enterprises, streams: Streams) -> dict[str, tuple[list[str], list[list]]]:
    n = len(ent.table)
    uscc = ent.table["uscc"].to_numpy()
    names = ent.table["name"].to_numpy()
    regs = {}

    # 桂惠贷 loans: year-end push by the banks, a Q4 level that differs from year to year.
    rng = streams("loans")
    season = np.array([0.8, 0.5, 1.3, 1.0, 1.0, 1.3, 0.9, 0.9, 1.2, 0.9, 1.0, 1.5])
    loans, seen = [], set()
    for d in _poisson_dates(rng, cal, n * 0.22, season, 0.25):
        cand, w = _in_stats(ent, d)
        for i in _pick(rng, cand, w, 1):
            lender = str(rng.choice(LENDERS))
            if (i, lender, d) in seen:
                continue
            seen.add((i, lender, d))
            term = int(rng.choice([6, 12, 12, 12, 24, 36]))
            matures = date(d.year + (d.month - 1 + term) // 12, (d.month - 1 + term) % 12 + 1, min(d.day, 28))
            principal = float(np.clip(np.round(np.exp(rng.normal(np.log(800), 0.9)) / 10) * 10, 50, 20_000))
            loans.append([uscc[i], lender, str(rng.choice(LOAN_PRODUCTS, p=LOAN_PRODUCT_P)), d, matures,
                          principal, round(float(rng.uniform(2.9, 4.35)), 2)])
    regs["loans"] = (["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"], loans)

    # Applications: launches and order fairs as a seasonal process, trade fairs on their calendar.
    rng = streams("applications")
    apps = []
    launch = np.array([0.5, 0.4, 1.0, 1.1, 1.0, 0.9, 0.8, 0.8, 1.2, 1.3, 1.4, 1.2])
    orders = np.array([0.6, 0.3, 1.2, 0.9, 0.7, 0.6, 0.6, 0.8, 1.0, 1.1, 1.6, 1.8])
    for kind, season_k, yearly, cost in (("新品发布会", launch, n * 0.05, 60_000), ("产品订货会", orders, n * 0.04, 90_000)):
        for d in _poisson_dates(rng, cal, yearly, season_k, 0.35):
            cand, w = _in_stats(ent, d)
            for i in _pick(rng, cand, w, 1):
                apps.append([i, kind, f"{names[i][:6]}{d.year}年{kind}", d,
                             round(float(np.exp(rng.normal(np.log(cost), 0.6))), -2)])
    for year in sorted({m // 100 for m in cal.months}):
        fairs = [("中国—东盟博览会", date(year, 9, int(rng.integers(14, 25))), 0.03),
                 ("中国进出口商品交易会（春季）", date(year, 4, 15), 0.02),
                 ("中国进出口商品交易会（秋季）", date(year, 10, 15), 0.025),
                 ("中国国际进口博览会", date(year, 11, 5), 0.008),
                 ("中国国际工业博览会", date(year, 9, int(rng.integers(17, 24))), 0.01),
                 ("广西名特优工业产品展", date(year, int(rng.integers(5, 12)), int(rng.integers(1, 28))), 0.015)]
        level = np.exp(rng.normal(0, 0.3))
        for fair, d, rate in fairs:
            if not (cal.start_day <= d <= cal.final_as_of):
                continue
            cand, w = _in_stats(ent, d)
            for i in _pick(rng, cand, w, rng.poisson(n * rate * level)):
                held = d + timedelta(days=int(rng.integers(0, 3)))
                if held > cal.final_as_of:
                    continue
                apps.append([i, "展会", f"{year}{fair}", held, round(float(np.exp(rng.normal(np.log(18_000), 0.7))), -2)])
    apps.sort(key=lambda a: (a[3], a[0]))
    app_rows = [[f"SB{a[3].year}{k:05d}", uscc[a[0]], a[1], a[2], a[3], a[4]] for k, a in enumerate(apps, start=1)]
    regs["applications"] = (["申报编号", "统一社会信用代码", "活动类型", "活动名称", "举办日期", "申报费用_元"], app_rows)

    # Recognitions: announcement batches per list and level, dates and sizes varying by year.
    rng = streams("recognitions")
    recog = []
    schedule = (("专精特新中小企业", "自治区级", "新认定", 2, 0.03), ("专精特新中小企业", "自治区级", "复核", 1, 0.012),
                ("专精特新中小企业", "国家级", "新认定", 1, 0.004), ("制造业单项冠军", "国家级", "新认定", 1, 0.0015),
                ("制造业单项冠军", "自治区级", "新认定", 1, 0.01), ("制造业单项冠军", "自治区级", "复核", 1, 0.012),
                ("绿色工厂", "国家级", "新认定", 1, 0.008), ("绿色工厂", "自治区级", "新认定", 2, 0.012),
                ("数字化转型典型场景", "自治区级", "新认定", 2, 0.035), ("龙头企业", "市级", "新认定", 1, 0.02))
    for year in sorted({m // 100 for m in cal.months}):
        for category, level, kind, batches, rate in schedule:
            for _ in range(batches if rng.random() < 0.85 else batches + 1):
                d = date(year, 1, 1) + timedelta(days=int(rng.integers(20, 355)))
                if not (cal.start_day <= d <= cal.final_as_of):
                    continue
                cand, w = _in_stats(ent, d)
                for i in _pick(rng, cand, w, rng.poisson(n * rate)):
                    label = names[i] if category != "数字化转型典型场景" else (
                        f"{names[i]}{rng.choice(['智能排产', '数字孪生产线', '设备预测性维护', '质量在线检测', '能耗精细管控'])}场景")
                    recog.append([category, level, uscc[i], label, d, kind])
        for level, mean in (("国家级", 1.2), ("自治区级", 2.0)):
            d = date(year, 1, 1) + timedelta(days=int(rng.integers(60, 350)))
            if cal.start_day <= d <= cal.final_as_of:
                for _ in range(rng.poisson(mean)):
                    city = ent.table["city_name"].iat[int(rng.integers(0, n))].removesuffix("市")
                    park = f"{city}{rng.choice(['高新技术产业开发区', '经济技术开发区', '工业园区', '产业园'])}"
                    recog.append(["绿色园区", level, "", park, d, "新认定"])
    recog = [list(r) for r in dict.fromkeys(tuple(r) for r in recog)]
    recog.sort(key=lambda r: (r[4], r[0], r[1], r[3]))
    regs["recognitions"] = (["名单类别", "级别", "统一社会信用代码", "名称", "认定日期", "认定类型"], recog)

    # 两高 list: energy-heavy processes (no dates: a standing list).
    rng = streams("two high")
    division = ent.table["division"].to_numpy()
    two_high = [[uscc[i], str(rng.choice(TWO_HIGH_PROCESS[division[i]]))] for i in range(n)
                if division[i] in TWO_HIGH_PROCESS and ent.table["kind"].iat[i] != "outsider" and rng.random() < 0.3]
    regs["two_high"] = (["统一社会信用代码", "工序或产品"], two_high)

    # First-time supply links of electronics enterprises (division 39).
    rng = streams("supply links")
    links, seen_links = [], set()
    electronics = np.flatnonzero((division == "39") & (ent.table["kind"].to_numpy() != "outsider"))
    season_l = np.array([0.6, 0.5, 1.1, 1.1, 1.0, 1.0, 0.9, 0.9, 1.1, 1.1, 1.2, 1.3])
    if len(electronics):
        for d in _poisson_dates(rng, cal, len(electronics) * 0.5, season_l, 0.35):
            i = int(rng.choice(electronics))
            if ent.output[i, ent.index(d)] <= 0:
                continue
            buyer = str(rng.choice(BUYERS)).format("".join(rng.choice(list(BRAND_CHARS), 2)))
            if (i, buyer) in seen_links:
                continue
            seen_links.add((i, buyer))
            links.append([uscc[i], buyer, d, round(float(np.exp(rng.normal(np.log(200), 1.0))), 1)])
    links.sort(key=lambda r: (r[2], r[0]))
    regs["supply_links"] = (["统一社会信用代码", "采购方名称", "首次供货日期", "合同金额_万元"], links)
    return regs


REGISTER_SHEETS = {"recognitions": "认定名单", "loans": "桂惠贷", "applications": "申报", "two_high": "两高名单",
                   "supply_links": "首次供需"}


def write_registers(landing: Landing, regs: dict[str, tuple[list[str], list[list]]], streams: Streams) -> None:
    """Hand-kept workbooks: a title row above the header of 申报, stray blank rows, trailing spaces,
    numbers and dates typed as text in a few cells."""
    rng = streams("register typing")
    for dataset, (header, rows) in regs.items():
        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, {"in_memory": True})
        wb.set_properties({"created": datetime.combine(landing.cal.final_as_of, datetime.min.time())})
        ws = wb.add_worksheet(REGISTER_SHEETS[dataset])
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        bold = wb.add_format({"bold": True, "align": "center"})
        r0 = 0
        if dataset == "applications":
            ws.merge_range(0, 0, 0, len(header) - 1, "产销活动及参展补助申报台账", bold)
            r0 = 1
        for c, h in enumerate(header):
            ws.write_string(r0, c, h)
        r = r0 + 1
        for row in rows:
            if rng.random() < 0.01:
                r += 1  # a stray blank row
            for c, v in enumerate(row):
                if isinstance(v, date):
                    if rng.random() < 0.03:
                        ws.write_string(r, c, v.isoformat())
                    else:
                        ws.write_datetime(r, c, datetime.combine(v, datetime.min.time()), date_fmt)
                elif isinstance(v, float):
                    if rng.random() < 0.03:
                        ws.write_string(r, c, f"{v:g} ")
                    else:
                        ws.write_number(r, c, v)
                elif v == "":
                    continue
                else:
                    ws.write_string(r, c, v + (" " if rng.random() < 0.02 else ""))
            r += 1
        wb.close()
        landing.put("registers", dataset, f"registers_{dataset}.xlsx", buf.getvalue(), landing.cal.start_day, len(rows))


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

@dataclass
class Result:
    landing: Path
    arrivals_file: Path
    arrivals: dict[str, date]  # "<feed>/<file>" -> delivery date
    rows: dict[str, int]  # data rows per dataset over all its files
    enterprises: int
    projects: int
    accounts: int


def write_landing(out: Path, seed: int, scale: str = "small", first_month: int = 202201,
                  final_as_of: date = date(2025, 1, 20), arrivals_file: Path | None = None) -> Result:
    """Write every file delivered by `final_as_of` into `out/<feed>/` and the arrival dates as JSON."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r} (known: {', '.join(SCALES)})")
    if not (1 <= first_month % 100 <= 12) or first_month // 100 < min(SPRING_FESTIVAL):
        raise ValueError(f"first month {first_month} must be a YYYYMM from {min(SPRING_FESTIVAL)}01 on")
    if final_as_of.year > max(SPRING_FESTIVAL) or final_as_of <= first_of(first_month):
        raise ValueError(f"final as-of {final_as_of} must fall after {first_month} and by {max(SPRING_FESTIVAL)}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: a landing is written once, into an empty directory")
    arrivals_file = Path(arrivals_file) if arrivals_file else out.with_name(out.name + ".arrivals.json")
    if out.resolve() in arrivals_file.resolve().parents:
        raise ValueError(f"the arrivals file {arrivals_file} must lie outside the landing dir {out}")
    cal = Calendar(first_month, final_as_of)
    streams = Streams(seed)
    ref = Reference.load()
    ent = build_enterprises(cal, SCALES[scale], ref, streams)
    projects = build_projects(cal, ent, SCALES[scale], streams)
    name_projects(projects, ent, ref, streams)
    landing = Landing(out, cal)
    out.mkdir(parents=True, exist_ok=True)
    write_stats(landing, ent, projects, streams)
    write_tax(landing, ent, streams)
    accounts = build_accounts(cal, ent, streams)
    write_power(landing, accounts, simulate_power(cal, ent, accounts, streams), streams)
    write_customs(landing, ent, ref, streams)
    write_registers(landing, build_registers(cal, ent, streams), streams)
    arrivals = dict(sorted(landing.arrivals.items()))
    arrivals_file.write_text(json.dumps({
        "seed": seed, "scale": scale, "first_month": first_month, "final_as_of": final_as_of.isoformat(),
        "files": {k: v.isoformat() for k, v in arrivals.items()},
    }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return Result(out, arrivals_file, arrivals, dict(sorted(landing.rows.items())), len(ent.table),
                  len(projects.table), len(accounts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="landing dir to create (must be empty)")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--first-month", type=int, default=202201, help="first month delivered, YYYYMM")
    parser.add_argument("--final-as-of", type=date.fromisoformat, default=date(2025, 1, 20),
                        help="write everything delivered by this day (YYYY-MM-DD)")
    parser.add_argument("--arrivals", type=Path, help="arrival dates JSON (default: <out>.arrivals.json)")
    args = parser.parse_args(argv)
    try:
        result = write_landing(args.out, args.seed, args.scale, args.first_month, args.final_as_of, args.arrivals)
    except (ValueError, FileExistsError) as exc:
        parser.error(str(exc))
    print(f"{len(result.arrivals)} files in {result.landing} ({result.enterprises} enterprises, "
          f"{result.projects} projects, {result.accounts} accounts); arrivals in {result.arrivals_file}")
    for dataset, rows in result.rows.items():
        print(f"  {dataset}: {rows:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
