"""power feed: metering accounts (monthly snapshot) and daily consumption (weekly), UTF-8.

Daily kWh follow the enterprise's true monthly output times its industry's
electricity intensity, split over its accounts, with a monthly noise of each
account's own (its use per unit of output wanders), a weekly rhythm and daily
noise, so that power growth tracks output growth loosely (and the planted
efficiency cases break that link on purpose). Meters fail now and then: a
run of days flagged 缺失 within a week, half of them re-read later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from . import headers, industries, reference
from .enterprises import Population
from .rng import stream
from .scales import Scale
from .schedule import FIRST_DAY, days_in_month, first_monday, month_of
from .writers import Landing, fixed

WEEKDAY = np.array([1.03, 1.03, 1.03, 1.03, 1.03, 0.95, 0.85])  # Monday .. Sunday
NO_ACCOUNT_SHARE = 0.06  # enterprises without an account of their own (they rent or share)
MIXED_METERING_SHARE = 0.08  # of enterprises with several accounts, one account also meters others
UNMATCHED_SHARE = 0.03  # accounts whose holder the grid could not match to a USCC
OUTSIDE_SHARE = 0.02  # accounts of holders outside the industrial directory
ESTIMATED, MISSING = 0.010, 0.004  # shares of 估算 and 缺失 readings
ACCOUNT_MONTH_SD = 0.05  # log sd of an account's monthly use per unit of output
METER_GAP_RATE = 0.004  # share of account-weeks with a meter gap ...
METER_GAP_DAYS = (2, 7)  # ... of this many consecutive days (within the week)
REREAD_EVERY = 4  # every fourth delivery repeats re-read days of the week before ...
REREAD_ANCHOR = first_monday(FIRST_DAY)  # ... counted from the first delivery of 2023, whatever the window


@dataclass
class Accounts:
    table: pd.DataFrame  # number, holder, uscc, county, metered, voltage, opened, ent (-1: outside), planted
    daily_base: np.ndarray  # (accounts, T) expected kWh per day in each month


def _first_day_ordinal(months: np.ndarray) -> np.ndarray:
    """Proleptic ordinal (date.toordinal) of the first day of YYYYMM months."""
    days = pd.to_datetime(pd.Series(months).astype(str), format="%Y%m")
    return (days - pd.Timestamp("1970-01-01")).dt.days.to_numpy() + EPOCH


EPOCH = date(1970, 1, 1).toordinal()


def _day_text(ordinals: np.ndarray) -> list[str]:
    """ISO dates of day ordinals, formatting each distinct day once."""
    uniq, inverse = np.unique(ordinals, return_inverse=True)
    text = np.array([date.fromordinal(int(d)).isoformat() for d in uniq])
    return text[inverse].tolist()


def _opened(rng: np.random.Generator, started: np.ndarray, later: np.ndarray) -> np.ndarray:
    """Account opening dates: before production starts; `later` accounts open during the window."""
    start_days = _first_day_ordinal(started)
    before = start_days - rng.integers(30, 400, len(started))
    during = date(2023, 2, 1).toordinal() + rng.integers(0, 640, len(started))
    return np.where(later & (during > start_days), during, before)


def build_accounts(scale: Scale, pop: Population, seed: int) -> Accounts:
    rng = stream(seed, "power-accounts")
    ent = pop.table
    planted = ent.index[ent["planted"]].to_numpy()  # accounts as cases.py says
    owners = [np.repeat(planted, [len(ent.at[i, "accounts"]) for i in planted])]
    metered = [np.concatenate([np.array(ent.at[i, "accounts"], dtype=object) for i in planted])]

    n_outside = max(2, round(OUTSIDE_SHARE * scale.power_accounts))
    budget = scale.power_accounts - len(owners[0]) - n_outside
    pool = np.flatnonzero(~ent["planted"].to_numpy() & (rng.random(len(ent)) >= NO_ACCOUNT_SHARE))
    first = np.sort(rng.permutation(pool)[: max(0, min(budget, len(pool)))])
    extra_slots = np.concatenate([first, first])  # a second and a third account, bigger firms first
    weight = np.sqrt(ent["level_wan"].to_numpy()[extra_slots])
    n_extra = max(0, min(budget - len(first), len(extra_slots)))
    extra = rng.choice(extra_slots, size=n_extra, replace=False, p=weight / weight.sum()) if n_extra else []
    random_owners = np.sort(np.concatenate([first, extra]).astype(np.int64))
    owners.append(random_owners)
    flags = np.full(len(random_owners), "是", dtype=object)
    counts = pd.Series(random_owners).value_counts().sort_index()
    shared = counts.index[(counts >= 2).to_numpy() & (rng.random(len(counts)) < MIXED_METERING_SHARE)]
    last_of = {e: i for i, e in enumerate(random_owners.tolist())}
    flags[[last_of[e] for e in shared]] = "否"
    metered.append(flags)
    ent_of = np.concatenate(owners + [np.full(n_outside, -1)])
    metered_all = np.concatenate(metered + [np.full(n_outside, "是", dtype=object)])
    n = len(ent_of)
    inside = ent_of >= 0

    # Holder, code and place: the enterprise's, or an outside customer's.
    holder = np.empty(n, dtype=object)
    uscc = np.empty(n, dtype=object)
    county = np.empty(n, dtype=object)
    holder[inside] = ent["name"].to_numpy()[ent_of[inside]]
    uscc[inside] = ent["uscc"].to_numpy()[ent_of[inside]]
    county[inside] = ent["county"].to_numpy()[ent_of[inside]]
    cty = reference.counties()
    county[~inside] = rng.choice(cty["county_code"].to_numpy(), n_outside)
    uscc[~inside] = pop.outside_usccs("power", county[~inside].astype(str))
    holder[~inside] = ("广西" + rng.choice(np.array(reference.TRADE_WORDS), n_outside)
                       + rng.choice(np.array(reference.NON_INDUSTRIAL_TRADES), n_outside) + "有限公司")
    planted_rows = np.isin(ent_of, planted)
    unmatched = rng.choice(np.flatnonzero(inside & ~planted_rows), size=max(1, round(UNMATCHED_SHARE * n)), replace=False)
    uscc[unmatched] = ""

    # How an enterprise's use splits over its accounts; outside customers have their own level.
    share = np.ones(n)
    raw = rng.gamma(2.0, 1.0, n)
    for_ent = pd.Series(raw[inside]).groupby(ent_of[inside]).transform("sum").to_numpy()
    share[inside] = raw[inside] / for_ent
    intensity = ent["industry"].map({c: k.kwh_per_kyuan for c, k in industries.BY_CODE.items()}).to_numpy()
    months = pop.window.months
    dim = np.array([days_in_month(m) for m in months])
    daily_base = np.zeros((n, len(months)))
    e = ent_of[inside]
    daily_base[inside] = (pop.output[e] / 10 * intensity[e, None] * pop.kwh_factor[e]) * share[inside, None] / dim
    season = np.array(industries.SEASONS["standard"])[np.array(months) % 100 - 1]
    outside_daily = rng.uniform(300, 5000, n_outside)
    daily_base[~inside] = outside_daily[:, None] * season
    # Each account's own monthly wander; planted accounts keep their use exactly proportional to output.
    wander = np.stack([stream(seed, "power-month", int(m)).standard_normal(n) for m in months], axis=1)
    daily_base *= np.exp(np.where(planted_rows[:, None], 0.0, ACCOUNT_MONTH_SD * wander - ACCOUNT_MONTH_SD**2 / 2))

    # Voltage by yearly use at the 2023 level (2023 output in 千元 times kWh per 千元).
    yearly_kwh = np.zeros(n)
    yearly_kwh[inside] = ent["level_wan"].to_numpy()[e] * 10 * intensity[e] * share[inside]
    yearly_kwh[~inside] = outside_daily * 365
    voltage = np.select([yearly_kwh < 2e6, yearly_kwh < 2e7, yearly_kwh < 2e8], ["10kV", "35kV", "110kV"], "220kV")
    started = np.where(inside, ent["started"].to_numpy()[np.maximum(ent_of, 0)], 201501)
    is_extra = np.zeros(n, dtype=bool)
    is_extra[inside] = pd.Series(ent_of[inside]).duplicated().to_numpy()
    # Some second and third accounts are opened during the window (a new workshop); planted cases
    # keep theirs from before 2023 so that their kWh growth is their output growth.
    opened = _opened(rng, started, is_extra & (rng.random(n) < 0.2) & ~planted_rows)
    opened = np.where(inside, opened, date(2005, 1, 1).toordinal() + rng.integers(0, 6500, n))

    bodies = (7919 * np.arange(n) + int(rng.integers(10**8))) % 10**8  # distinct account numbers
    table = pd.DataFrame({
        "number": [f"06{b:08d}" for b in bodies.tolist()], "holder": holder, "uscc": uscc, "county": county,
        "metered": metered_all, "voltage": voltage, "opened": opened, "ent": ent_of, "planted": planted_rows,
    })
    order = np.argsort(table["number"].to_numpy(), kind="stable")
    return Accounts(table.iloc[order].reset_index(drop=True), daily_base[order])


def write_power(landing: Landing, pop: Population, accounts: Accounts, seed: int) -> None:
    window = pop.window
    acc = accounts.table
    for monday in window.first_mondays():
        _snapshot(landing, acc, monday)
    blank = acc.loc[acc["uscc"] == "", "number"].tolist()
    outside = acc.loc[acc["ent"] < 0, "number"].tolist()
    if window.first_mondays():
        landing.note(f"power/power_accounts_*.csv: {len(blank)} account(s) with blank 统一社会信用代码 "
                     f"(unmatched), e.g. {', '.join(blank[:3])}")
        landing.note(f"power/power_accounts_*.csv: {len(outside)} account(s) whose USCC is not in the "
                     f"directory, e.g. {', '.join(outside[:3])}")
    numbers = acc["number"].to_numpy()
    opened = acc["opened"].to_numpy()
    previous: dict[str, np.ndarray] | None = None
    rereads: list[str] = []
    for monday in window.mondays():
        k = (monday - REREAD_ANCHOR).days // 7
        days = [monday - timedelta(days=d) for d in range(7, 0, -1)]
        days = [d for d in days if d >= window.start_day]
        rng = stream(seed, "power-week", monday.toordinal())
        cols = np.array([window.index(month_of(d)) for d in days])
        weekday = WEEKDAY[[d.weekday() for d in days]]
        expected = accounts.daily_base[:, cols] * weekday
        measured = expected * np.exp(0.08 * rng.standard_normal(expected.shape) - 0.0032)
        u = rng.random(expected.shape)
        flag = np.where(u < ESTIMATED, "估算", np.where(u > 1 - MISSING, "缺失", "正常"))
        flag[_meter_gaps(rng, acc["planted"].to_numpy(), len(days))] = "缺失"
        kwh = np.rint(np.where(flag == "估算", np.rint(expected), measured) * 100).astype(np.int64)
        day_ord = np.array([d.toordinal() for d in days])
        open_ = opened[:, None] <= day_ord[None, :]
        acc_i, day_i = np.nonzero(open_)  # account-major order
        week = {"acc": acc_i, "day": day_ord[day_i], "kwh": kwh[acc_i, day_i], "flag": flag[acc_i, day_i],
                "expected": expected[acc_i, day_i]}
        rows = dict(week)
        name = f"power_daily_{monday:%Y%m%d}.csv"
        if previous is not None and k % REREAD_EVERY == REREAD_EVERY - 1:
            reread = _rereads(previous, rng)
            rows = {key: np.concatenate([week[key], reread[key]]) for key in week}
            if len(reread["acc"]):
                rereads.append(f"{name} {numbers[reread['acc'][0]]} {date.fromordinal(int(reread['day'][0]))}")
        missing = rows["flag"] == "缺失"
        columns = {
            "用电户号": numbers[rows["acc"]].tolist(),
            "日期": _day_text(rows["day"]),
            "用电量_千瓦时": fixed(rows["kwh"], 2, blank=missing),
            "数据标志": rows["flag"].tolist(),
        }
        landing.write_csv("power", name, columns, headers.POWER_DAILY, arrival=monday, encoding="utf-8")
        previous = week
    if rereads:
        landing.note(f"power/power_daily_*.csv: {len(rereads)} deliveries repeat days of the week before with "
                     f"re-read values, e.g. {rereads[-1]}")


def _meter_gaps(rng: np.random.Generator, planted: np.ndarray, n_days: int) -> np.ndarray:
    """(accounts, days) readings lost to a meter gap: a run of consecutive days of the week."""
    n = len(planted)
    failing = (rng.random(n) < METER_GAP_RATE) & ~planted
    first = rng.integers(0, n_days, n)
    length = rng.integers(METER_GAP_DAYS[0], METER_GAP_DAYS[1] + 1, n)
    day = np.arange(n_days)[None, :]
    return failing[:, None] & (day >= first[:, None]) & (day < (first + length)[:, None])


def _rereads(previous: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Meter re-reads of last week: half the 估算/缺失 days and a few normal ones, now 正常."""
    gaps = np.flatnonzero(previous["flag"] != "正常")
    gaps = gaps[rng.random(len(gaps)) < 0.5]
    normal = np.flatnonzero(previous["flag"] == "正常")
    extra = rng.choice(normal, size=min(len(normal), max(1, len(normal) // 1000)), replace=False)
    pick = np.sort(np.concatenate([gaps, extra]))
    kwh = np.rint(previous["expected"][pick] * np.exp(0.05 * rng.standard_normal(len(pick))) * 100).astype(np.int64)
    return {"acc": previous["acc"][pick], "day": previous["day"][pick], "kwh": kwh,
            "flag": np.full(len(pick), "正常", dtype=object), "expected": previous["expected"][pick]}


def _snapshot(landing: Landing, acc: pd.DataFrame, monday: date) -> None:
    rows = acc.loc[acc["opened"] <= monday.toordinal()]
    columns = {
        "用电户号": rows["number"].tolist(),
        "户名": rows["holder"].tolist(),
        "统一社会信用代码": rows["uscc"].tolist(),
        "行政区划代码": rows["county"].tolist(),
        "独立计量": rows["metered"].tolist(),
        "电压等级": rows["voltage"].tolist(),
        "立户日期": _day_text(rows["opened"].to_numpy()),
    }
    # The grid's system upgrade in 2024 moved 电压等级 before 独立计量.
    order = headers.POWER_ACCOUNTS_ALT if monday.year >= 2024 else headers.POWER_ACCOUNTS
    landing.write_csv("power", f"power_accounts_{monday:%Y%m%d}.csv", columns, order, arrival=monday,
                      encoding="utf-8", bom=True)
