"""The industrial fixed-asset investment project library and each project's monthly investment.

A project enters the library (入库年月) when it starts or, for a project still
in preparation, before it starts (开工年月 blank), reports every month and
leaves after the month it is completed. Investment follows a hump over the
planned construction period; some projects slip (a thin tail of work after
the planned end) and some finish early (the rest of the work in a final
lump). December carries a year-end push whose size varies by year (the
province's push), by project (its habit) and by project and year; a young
project pushes less on average and more unevenly. Amounts are integers in
1/100 万元. docs/generator.md states the process.

Every random project reaches 2023. With history (a window starting before
2023), projects completed in 2022 are added from streams of their own, about
as many as complete in a year later on, so that the library of 2022 is about
as full as that of 2023 and the projects from 2023 on stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cases
from .enterprises import Population, short_name
from .rng import stream
from .scales import Scale
from .schedule import FIRST_MONTH, Q4_2023, Q4_2024, Window, add_months, ordinal

NATURES = ("新建", "扩建", "改建", "技术改造")
NATURE_WEIGHTS = (0.35, 0.20, 0.10, 0.35)
TAGS = ("双百双新", "千企技改", "重大产业标志性工程", "招商引资", "设备更新重点方向")
NAME_SUFFIX = {"新建": "生产基地建设项目", "扩建": "扩建项目", "改建": "改建项目", "技术改造": "智能化技术改造项目"}
MAX_MONTHS = 36  # longest planned construction period
SLIP = (0.25, 4)  # share of projects finishing late, and by up to this many months
EARLY = (0.15, 3)  # share finishing early, by up to this many months (never under 3 months in all)
SLIP_TAIL = 0.25  # a slipped month's weight against the hump's (which runs 0.3..1.3)
EARLY_LUMP = 0.6  # share of the unbuilt months' work done in an early finisher's last month
# December push: multiplier exp(log(push of the year) × habit × this year's mood); the province's
# push is PUSH_MEDIAN × exp(PUSH_YEAR_SD × z) per year.
PUSH_MEDIAN = 1.5
PUSH_YEAR_SD = 0.12
PUSH_HABIT_SD = 0.4  # a project's own habit (log sd, mean 1), every year
PUSH_MOOD_SD = 0.35  # this year's departure from it (log sd, mean 1)
YOUNG_MONTHS = 6  # a project started fewer months than this before December is young ...
YOUNG_PUSH = (0.0, 1.5)  # ... and its habit is scaled by a uniform draw from this range (mean 0.75)
OUTSIDE_OWNER_SHARE = 0.05  # new companies building their first plant, not yet in the directory
START_SPAN = (202107, 202409)  # random projects start in this span (or in the policy quarter's rush)
RUSH_SHARE = 0.15
# History: projects completing in a month before 2023, per random project (steady-state rate of
# the starts spread over START_SPAN).
HISTORY_COMPLETIONS_PER_MONTH = (1 - RUSH_SHARE) / (ordinal(START_SPAN[1]) - ordinal(START_SPAN[0]) + 1)
HISTORY_FROM = 202201  # history projects complete in 2022, whatever month the window starts in


@dataclass
class Projects:
    table: pd.DataFrame  # key (planted), code, name, uscc, county, industry, nature, plan, started, entered, completed, tags
    invest: np.ndarray  # (p, T) completed investment, 1/100 万元
    equipment: np.ndarray  # (p, T) of which equipment, 1/100 万元
    in_library: np.ndarray  # (p, T)


def _wan(x: np.ndarray | float) -> np.ndarray:
    """万元 -> integer 1/100 万元."""
    return np.rint(np.asarray(x, dtype=float) * 100).astype(np.int64)


def _owners_and_plans(rng: np.random.Generator, n: int, pop: Population, owners_pool: np.ndarray,
                      outside_purpose: str) -> dict[str, np.ndarray]:
    """Owner, place, nature, planned total and construction months of `n` random projects."""
    ent = pop.table
    weight = np.sqrt(ent["level_wan"].to_numpy()[owners_pool])
    owner = rng.choice(owners_pool, size=n, p=weight / weight.sum())
    outside = rng.random(n) < OUTSIDE_OWNER_SHARE
    county = ent["county"].to_numpy()[owner]
    uscc = np.array(ent["uscc"].to_numpy()[owner], dtype=object)
    uscc[outside] = pop.outside_usccs(outside_purpose, county[outside])
    nature = rng.choice(NATURES, size=n, p=NATURE_WEIGHTS)
    renovation = nature == "技术改造"
    plan = np.maximum(12_000 * np.exp(rng.standard_normal(n)) * np.where(renovation, 0.5, 1.0), 500)
    plan = np.where(rng.random(n) < 0.7, np.round(plan, -1), np.round(plan, 2))  # most plans are round figures
    duration = np.where(renovation, rng.integers(6, 19, n), rng.integers(12, MAX_MONTHS + 1, n))
    return {"owner": owner, "county": county, "uscc": uscc, "industry": ent["industry"].to_numpy()[owner],
            "nature": nature, "plan": plan, "duration": duration}


def _random_projects(n: int, pop: Population, window: Window, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = stream(seed, "projects")
    ent = pop.table
    owners_pool = np.flatnonzero(((ent["entered"] > 0) & (ent["exited"] == 0) & ~ent["planted"]).to_numpy())
    p = _owners_and_plans(rng, n, pop, owners_pool, "projects")
    duration = p["duration"]
    start_o = ordinal(START_SPAN[0]) + rng.integers(0, ordinal(START_SPAN[1]) - ordinal(START_SPAN[0]) + 1, n)
    # The policy quarter sees a rush of new starts; a few projects are still in preparation.
    rush = rng.random(n) < RUSH_SHARE
    start_o = np.where(rush, ordinal(202410) + rng.integers(0, 3, n), start_o)
    realised = _realised_durations(rng, duration)
    start_o = np.maximum(start_o, ordinal(202301) - realised + 1)  # every project reaches 2023
    preparing = (rng.random(n) < 0.08) & ~rush
    entered_o = np.where(preparing, ordinal(202301) + rng.integers(0, 24, n),
                         start_o + np.where(rng.random(n) < 0.8, 0, rng.integers(1, 3, n)))
    return _schedule(rng, p, start_o, preparing, entered_o, realised, window, seed, "project-months")


def _history_projects(n: int, pop: Population, window: Window, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Projects completed in 2022 (history only; those completed before the first month delivered never show)."""
    rng = stream(seed, "history-projects")
    ent = pop.table
    owners_pool = np.flatnonzero(((ent["entered"] > 0) & (ent["entered"] < FIRST_MONTH) & (ent["exited"] == 0)
                                  & ~ent["planted"]).to_numpy())
    p = _owners_and_plans(rng, n, pop, owners_pool, "history-projects")
    first, last = ordinal(HISTORY_FROM), ordinal(FIRST_MONTH) - 1
    end_o = first + rng.integers(0, last - first + 1, n)
    realised = _realised_durations(rng, p["duration"])
    start_o = end_o - realised + 1
    entered_o = np.minimum(start_o + np.where(rng.random(n) < 0.8, 0, rng.integers(1, 3, n)), end_o)
    return _schedule(rng, p, start_o, np.zeros(n, dtype=bool), entered_o, realised, window, seed,
                     "history-project-months")


def _realised_durations(rng: np.random.Generator, planned: np.ndarray) -> np.ndarray:
    """Construction months as built: planned, or later, or (never under 3 months) earlier."""
    n = len(planned)
    u = rng.random(n)
    late = rng.integers(1, SLIP[1] + 1, n)
    early = np.minimum(rng.integers(1, EARLY[1] + 1, n), np.maximum(planned - 3, 0))
    return np.where(u < SLIP[0], planned + late, np.where(u > 1 - EARLY[0], planned - early, planned))


def _schedule_shape(planned: np.ndarray, realised: np.ndarray) -> np.ndarray:
    """(p, MAX_MONTHS + SLIP months) share of a project's total investment per construction month: a
    hump over the planned months, a thin tail over slipped ones, the early finisher's lump at its end."""
    k = np.arange(MAX_MONTHS + SLIP[1])[None, :]
    planned, realised = planned[:, None], realised[:, None]
    hump = np.where(k < planned, np.sin(np.pi * (k + 0.5) / planned) + 0.3, 0.0)
    unbuilt = np.where(k >= realised, hump, 0.0).sum(axis=1, keepdims=True)
    shape = np.where(k < np.minimum(planned, realised), hump, 0.0)
    shape += np.where((k >= planned) & (k < realised), SLIP_TAIL, 0.0)
    shape += np.where(k == realised - 1, EARLY_LUMP * unbuilt, 0.0)
    return shape / shape.sum(axis=1, keepdims=True)


def _december_push(rng: np.random.Generator, start_o: np.ndarray, months: np.ndarray, seed: int,
                   push_stream: str) -> np.ndarray:
    """(p, months) multiplier of each project's December investment (1 in other months)."""
    n = len(start_o)
    habit = np.exp(PUSH_HABIT_SD * rng.standard_normal(n) - PUSH_HABIT_SD**2 / 2)
    out = np.ones((n, len(months)))
    for j in np.flatnonzero(months % 100 == 12).tolist():
        year = int(months[j] // 100)
        province = PUSH_MEDIAN * np.exp(PUSH_YEAR_SD * stream(seed, "december-push", year).standard_normal())
        draws = stream(seed, push_stream, year)
        mood = np.exp(PUSH_MOOD_SD * draws.standard_normal(n) - PUSH_MOOD_SD**2 / 2)
        young = (ordinal(int(months[j])) - start_o) < YOUNG_MONTHS
        youth = np.where(young, draws.uniform(*YOUNG_PUSH, n), 1.0)
        out[:, j] = np.exp(np.log(province) * habit * mood * youth)
    return out


def _schedule(rng: np.random.Generator, p: dict[str, np.ndarray], start_o: np.ndarray, preparing: np.ndarray,
              entered_o: np.ndarray, realised: np.ndarray, window: Window, seed: int, month_stream: str,
              ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Monthly investment, equipment and tags of projects, and their table."""
    n = len(start_o)
    plan, nature = p["plan"], p["nature"]
    renovation = nature == "技术改造"
    started = np.where(preparing, 0, add_months(202301, start_o - ordinal(202301)))
    completed = np.where(preparing, 0, add_months(202301, start_o + realised - 1 - ordinal(202301)))

    share_of_total = _schedule_shape(p["duration"], realised)
    total = plan * rng.uniform(0.85, 1.0, n)
    months = np.array(window.months)
    rel = ordinal(months)[None, :] - start_o[:, None]
    active = (rel >= 0) & (rel < realised[:, None]) & ~preparing[:, None]
    base = np.take_along_axis(share_of_total, np.clip(rel, 0, share_of_total.shape[1] - 1), axis=1) * total[:, None]
    z = np.stack([stream(seed, month_stream, int(m)).standard_normal((2, n)) for m in months], axis=-1)
    december = _december_push(rng, start_o, months, seed, month_stream + "-december")
    invest = _wan(np.where(active, base * december * np.exp(0.25 * z[0] - 0.03), 0.0))
    eq_share = np.where(renovation, rng.uniform(0.4, 0.7, n), rng.uniform(0.1, 0.35, n))[:, None]
    equipment = np.minimum(_wan(invest / 100 * eq_share * np.exp(0.2 * z[1])), invest)

    big = plan >= 50_000
    tags = np.stack([
        rng.random(n) < np.where(big, 0.25, 0.08),  # 双百双新
        renovation & (rng.random(n) < 0.45),  # 千企技改
        (plan >= 100_000) & (rng.random(n) < 0.4),  # 重大产业标志性工程
        rng.random(n) < np.where(nature == "新建", 0.35, 0.15),  # 招商引资
        rng.random(n) < np.where(renovation, 0.35, 0.03),  # 设备更新重点方向
    ], axis=1)
    table = pd.DataFrame({
        "key": "", "owner": p["owner"], "uscc": p["uscc"], "county": p["county"],
        "industry": p["industry"],
        "nature": nature, "plan": _wan(plan), "started": started, "entered": add_months(202301, entered_o - ordinal(202301)),
        "completed": completed, "tags": [";".join(t for t, on in zip(TAGS, row) if on) for row in tags.tolist()],
    })
    return table, invest, equipment


def _quarter(values: np.ndarray, months: list[int], quarter: tuple[int, int, int], total: float | None) -> None:
    """Spread a quarter's total (30/30/40) over the quarter's active months, in place."""
    if total is None:
        return
    cols = [months.index(m) for m in quarter if m in months]
    active = [c for c in cols if values[c] > 0]
    weights = np.array([(0.3, 0.3, 0.4)[quarter.index(months[c])] for c in active])
    if active:
        values[active] = total * weights / weights.sum()


def _planted_projects(pop: Population, window: Window) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    months = window.months
    month_arr = np.array(months)
    rows, invest, equipment = [], [], []
    for p in cases.PROJECTS:
        owner = pop.index_of(p.owner)
        values = np.zeros(len(months))
        if p.started is not None:
            values[(month_arr >= p.started) & (month_arr <= (p.completed or 999999))] = p.monthly_wan
            _quarter(values, months, Q4_2023, p.q4b_wan)
            _quarter(values, months, Q4_2024, p.q4_wan)
        invest.append(_wan(values))
        equipment.append(_wan(values * p.equipment_share))
        rows.append({
            "key": p.key, "owner": owner, "uscc": pop.table.at[owner, "uscc"], "county": pop.table.at[owner, "county"],
            "industry": pop.table.at[owner, "industry"], "nature": p.nature, "plan": _wan(p.plan_wan),
            "started": p.started or 0, "entered": p.entered, "completed": p.completed or 0,
            "tags": ";".join(t for t in TAGS if t in p.tags),
        })
    return pd.DataFrame(rows), np.array(invest).reshape(-1, len(months)), np.array(equipment).reshape(-1, len(months))


def build_projects(scale: Scale, pop: Population, window: Window, seed: int) -> Projects:
    planted, p_inv, p_eq = _planted_projects(pop, window)
    random, r_inv, r_eq = _random_projects(max(0, scale.projects - len(planted)), pop, window, seed)
    table = pd.concat([planted, random], ignore_index=True)
    invest = np.concatenate([p_inv, r_inv])
    equipment = np.concatenate([p_eq, r_eq])

    rng = stream(seed, "project-codes")
    n = len(table)
    serial = rng.choice(10**6, size=n, replace=False)
    if window.has_history:
        history_months = ordinal(FIRST_MONTH) - ordinal(HISTORY_FROM)
        n_history = max(1, round(len(random) * HISTORY_COMPLETIONS_PER_MONTH * history_months))
        history, h_inv, h_eq = _history_projects(n_history, pop, window, seed)
        table = pd.concat([table, history], ignore_index=True)
        invest = np.concatenate([invest, h_inv])
        equipment = np.concatenate([equipment, h_eq])
        # Serials of their own stream, none of them already taken.
        candidates = stream(seed, "history-project-codes").choice(10**6, size=n + n_history, replace=False)
        serial = np.concatenate([serial, candidates[~np.isin(candidates, serial)][:n_history]])
    kind = np.where(table["plan"].to_numpy() >= _wan(100_000), "02", "03")  # 核准 for the largest, else 备案
    table["code"] = [
        f"{e // 100}-{c}-{i[:2]}-{k}-{s:06d}"
        for e, c, i, k, s in zip(table["entered"], table["county"], table["industry"], kind, serial.tolist())
    ]
    owner_names = pop.table["name"].to_numpy()[table["owner"].to_numpy()]
    table["name"] = [short_name(o) + NAME_SUFFIX[nat] for o, nat in zip(owner_names, table["nature"])]
    months = np.array(window.months)[None, :]
    completed = table["completed"].to_numpy()[:, None]
    in_library = (months >= table["entered"].to_numpy()[:, None]) & ((completed == 0) | (months <= completed))
    order = np.argsort(table["code"].to_numpy(), kind="stable")
    return Projects(table.iloc[order].reset_index(drop=True), invest[order], equipment[order], in_library[order])
