"""customs feed: monthly export declaration lines (UTF-8, every other month with a BOM).

About one enterprise in six exports a share of its revenue, each month in a
few declarations of one to several lines. An exporter ships to a few regular
destinations; half of them add a recurring new market between mid-2022 and
the end of 2024 (in a month drawn from weights of the seed's own, tripled in
the policy quarter), built up over three months. Now and then an exporter
makes a one-off shipment to a destination it never serves before or after (a
single large line, not repeated). Values are drawn in yuan, converted to whole
US cents at the month's customs rate, and the yuan column is derived back from
the dollars, as customs does. docs/generator.md states the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from . import cases, headers, industries, reference
from .defects import CUSTOMS_V2_MONTH, TYPO_MONTHS, corrupt_uscc, how_many, v2_arrival, v2_due
from .enterprises import Population
from .rng import stream
from .scales import Scale
from .schedule import CUSTOMS_DAY, Q4_2024, add_months, days_in_month, delivery_date, ordinal
from .writers import Landing, fixed

SLOTS = 6  # up to five regular destinations and one added later
NEW_DESTINATION_SHARE = 0.5  # exporters adding a recurring destination ...
NEW_MARKET_MONTHS = (202207, 202412)  # ... from a month in this span, drawn with weights exp(sd × z) ...
NEW_MARKET_MONTH_SD = 0.5
POLICY_QUARTER_BOOST = 3.0  # ... of which the policy quarter's months are tripled
NEW_MARKET_RAMP = 3  # months a new market takes to reach its full share
SHIPPING_MONTH_SHARE = 0.85  # an exporter ships in most months, not all
# One-off shipments to a destination the exporter serves at no other time: per exporter and month,
# over a fixed span of months (so that a month's shipments do not depend on the window), with a
# log-normal value in 万元 (median, log sd).
ONE_OFF_RATE = 0.015
ONE_OFF_SPAN = (202201, 202512)
ONE_OFF_WAN = (60.0, 0.8)
ONE_OFF_MAX = 6  # at most this many per exporter (each to its own destination)


@dataclass
class Exporters:
    ent: np.ndarray  # enterprise index
    code: np.ndarray  # 经营单位编码
    office: np.ndarray  # 关区 code in the declaration numbers
    mode: np.ndarray  # main trade mode
    hs: np.ndarray  # commodity code
    share: np.ndarray  # share of revenue exported
    decl_rate: np.ndarray  # extra declarations per month (Poisson mean)
    dest: np.ndarray  # (x, SLOTS) destination per slot
    weight: np.ndarray  # (x, SLOTS) slot weights, 0 for unused slots
    regular: np.ndarray  # number of regular destinations (the first slots)
    added_from: np.ndarray  # month from which slot `regular` is served (0: never)
    one_offs: pd.DataFrame  # exp, month, day, country, cny_cents: one-off shipments


def _exporters(scale: Scale, pop: Population, seed: int) -> Exporters:
    rng = stream(seed, "customs")
    ent_idx = np.flatnonzero(pop.table["exporter"].to_numpy())
    t = pop.table.iloc[ent_idx]
    x = len(ent_idx)
    city = t["city"].to_numpy()
    # 经营单位编码: city (4) + economic zone (1) + enterprise nature (1) + serial within the city (4).
    within_city = pd.Series(city).groupby(city).cumcount().to_numpy() + rng.integers(1, 5000)
    zone = rng.choice(np.array(["9", "2", "3", "6"]), x, p=[0.6, 0.2, 0.15, 0.05])
    nature = rng.choice(np.array(["1", "3", "4", "6"]), x, p=[0.1, 0.15, 0.1, 0.65])
    code = [f"{c[:4]}{z}{n}{s % 10_000:04d}" for c, z, n, s in zip(city, zone, nature, within_city.tolist())]
    modes = list(reference.TRADE_MODES)
    mode = rng.choice(modes, x, p=np.array(list(reference.TRADE_MODES.values())))

    # Destinations: weighted sampling without replacement via Gumbel keys; planted countries are
    # kept off an exporter's regular list so that its planted shipments stay the only ones there.
    countries = np.array(list(reference.DESTINATIONS))
    keys = np.log(np.array(list(reference.DESTINATIONS.values())))[None, :] + rng.gumbel(size=(x, len(countries)))
    for p in cases.EXPORTS:
        keys[np.searchsorted(ent_idx, pop.index_of(p.exporter)), countries == p.country] = -np.inf
    order = countries[np.argsort(-keys, axis=1)]
    dest = order[:, :SLOTS]
    regular = rng.integers(1, SLOTS, x)  # 1..5 regular destinations
    slot = np.arange(SLOTS)[None, :]
    weight = np.where(slot < regular[:, None], rng.exponential(1.0, (x, SLOTS)), 0.0)
    # The added destination takes the slot after the regular ones (there is always one free).
    planted = np.isin(ent_idx, [pop.index_of(p.exporter) for p in cases.EXPORTS])
    adds = (rng.random(x) < NEW_DESTINATION_SHARE) & ~planted  # planted new markets are exact
    months, p_month = _new_market_months(seed)
    added_from = np.where(adds, rng.choice(months, x, p=p_month), 0)
    weight[np.arange(x), regular] = np.where(adds, rng.exponential(0.5, x), 0.0)

    size = np.clip((t["level_wan"].to_numpy() / 9000) ** 0.3, 0.3, 3.0)
    return Exporters(
        ent=ent_idx,
        code=np.array(code),
        office=np.array([reference.CUSTOMS_OFFICE[c] for c in city]),
        mode=mode,
        hs=t["industry"].map({c: k.hs_code for c, k in industries.BY_CODE.items()}).to_numpy(),
        share=rng.uniform(0.05, 0.5, x),
        decl_rate=np.maximum(scale.lines_per_exporter_month / 2.2 - 1, 0) * size,
        dest=dest,
        weight=weight,
        regular=regular,
        added_from=added_from,
        one_offs=_one_offs(order[:, SLOTS:], planted, seed),
    )


def _span(first: int, last: int) -> np.ndarray:
    return add_months(first, np.arange(ordinal(last) - ordinal(first) + 1))


def _new_market_months(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The months a recurring new market can start in, and their probabilities."""
    months = _span(*NEW_MARKET_MONTHS)
    weight = np.exp(NEW_MARKET_MONTH_SD * stream(seed, "new-market-months").standard_normal(len(months)))
    weight *= np.where(np.isin(months, Q4_2024), POLICY_QUARTER_BOOST, 1.0)
    return months, weight / weight.sum()


def _one_offs(spare: np.ndarray, planted: np.ndarray, seed: int) -> pd.DataFrame:
    """One-off shipments of every exporter over ONE_OFF_SPAN, each to a destination of its own from
    `spare` (the exporter's countries after its regular and added ones). Planted exporters have none."""
    rng = stream(seed, "customs-one-offs")
    months = _span(*ONE_OFF_SPAN)
    x = len(spare)
    count = np.where(planted, 0, np.minimum(rng.poisson(ONE_OFF_RATE * len(months), x), ONE_OFF_MAX))
    exp = np.repeat(np.arange(x), count)
    nth = np.arange(len(exp)) - np.repeat(np.cumsum(count) - count, count)
    month = rng.choice(months, len(exp))
    median, sd = ONE_OFF_WAN
    return pd.DataFrame({
        "exp": exp, "month": month, "day": rng.integers(1, 29, len(exp)), "country": spare[exp, nth],
        "cny_cents": np.rint(median * np.exp(sd * rng.standard_normal(len(exp))) * 1_000_000),
    })


def _month_lines(ex: Exporters, pop: Population, month: int, seed: int) -> pd.DataFrame:
    """Declarations and their lines of one month, before numbering."""
    rng = stream(seed, "customs-month", month)
    t = pop.window.index(month)
    x = len(ex.ent)
    ships = (pop.output[ex.ent, t] > 0) & (rng.random(x) < SHIPPING_MONTH_SHARE)
    value = pop.revenue[ex.ent, t] * 10_000.0 * ex.share * np.exp(0.3 * rng.standard_normal(x))  # cents
    n_decl = np.where(ships, 1 + rng.poisson(ex.decl_rate), 0)
    d_exp = np.repeat(np.arange(x), n_decl)
    # Regular destinations always; the added one from its month on.
    slots = np.arange(SLOTS)[None, :]
    added = ((ex.added_from > 0) & (ex.added_from <= month))[:, None]
    since = ordinal(month) - ordinal(np.maximum(ex.added_from, 1))
    ramp = np.where(slots == ex.regular[:, None], np.minimum((since + 1) / NEW_MARKET_RAMP, 1.0)[:, None], 1.0)
    w = np.where((slots < ex.regular[:, None]) | (added & (slots == ex.regular[:, None])), ex.weight * ramp, 0.0)
    cum = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
    slot = (rng.random(len(d_exp))[:, None] > cum[d_exp]).sum(axis=1)
    d_weight = rng.exponential(1.0, len(d_exp))
    d_value = value[d_exp] * d_weight / np.bincount(d_exp, d_weight, minlength=x)[d_exp]
    items = 1 + np.minimum(rng.poisson(1.2, len(d_exp)), 8)
    line_decl = np.repeat(np.arange(len(d_exp)), items)
    i_weight = rng.exponential(1.0, len(line_decl))
    i_value = d_value[line_decl] * i_weight / np.bincount(line_decl, i_weight)[line_decl]
    mode = np.where(rng.random(len(d_exp)) < 0.8, ex.mode[d_exp], rng.choice(list(reference.TRADE_MODES), len(d_exp)))
    decl = pd.DataFrame({
        "exp": d_exp, "day": rng.integers(1, days_in_month(month) + 1, len(d_exp)),
        "country": ex.dest[d_exp, np.minimum(slot, SLOTS - 1)], "mode": mode,
    })
    one_offs = ex.one_offs.loc[ex.one_offs["month"] == month, ["exp", "day", "country", "cny_cents"]]
    one_offs = one_offs.loc[pop.output[ex.ent[one_offs["exp"].to_numpy()], t] > 0].assign(mode="0110")
    single = pd.concat([f for f in (one_offs, _planted_declarations(ex, pop, month)) if len(f)]
                       or [one_offs], ignore_index=True)
    lines = decl.iloc[line_decl].reset_index().rename(columns={"index": "decl"})
    lines["cny_cents"] = np.rint(i_value)
    if len(single):
        single["decl"] = np.arange(len(single)) + len(decl)
        lines = pd.concat([lines, single], ignore_index=True)
    return lines[lines["cny_cents"] >= 100]  # drop lines under one yuan


def _planted_declarations(ex: Exporters, pop: Population, month: int) -> pd.DataFrame:
    row_of = {e: i for i, e in enumerate(ex.ent.tolist())}
    rows = [
        {"exp": row_of[pop.index_of(p.exporter)], "day": p.day, "country": p.country, "mode": "0110",
         "cny_cents": p.cny_wan * 1_000_000}
        for p in cases.EXPORTS if p.month == month
    ]
    return pd.DataFrame(rows, columns=["exp", "day", "country", "mode", "cny_cents"])


def write_customs(landing: Landing, scale: Scale, pop: Population, seed: int) -> None:
    ex = _exporters(scale, pop, seed)
    codes = pop.table["uscc"].to_numpy()
    planted_exp = np.isin(ex.ent, [pop.index_of(p.exporter) for p in cases.EXPORTS])
    counters: dict[tuple[str, int], int] = {}
    n = len(pop.table)
    window = pop.window
    # Months simulated but not delivered (a window starting after January) still number declarations,
    # so that a month's numbers do not depend on the window's first month.
    undelivered = [m for m in window.months if m < window.first_month]
    for month in undelivered + window.delivered_months(CUSTOMS_DAY):
        rng = stream(seed, "customs-numbers", month)
        lines = _month_lines(ex, pop, month, seed)
        year = month // 100
        # Number the declarations office by office in date order, with gaps (other firms' declarations).
        decls = lines.drop_duplicates("decl")[["decl", "exp", "day"]].copy()
        decls["office"] = ex.office[decls["exp"].to_numpy()]
        decls = decls.sort_values(["day", "office", "decl"], kind="stable")
        gaps = rng.integers(1, 40, len(decls))
        decls["serial"] = pd.Series(gaps, index=decls.index).groupby(decls["office"]).cumsum()
        start = decls["office"].map(lambda o: counters.get((o, year), 0))
        decls["number"] = [f"{o}{year}0{s:09d}" for o, s in zip(decls["office"], (start + decls["serial"]).tolist())]
        for office, top in (start + decls["serial"]).groupby(decls["office"]).max().items():
            counters[(office, year)] = int(top)
        if month < window.first_month:
            continue
        lines = lines.merge(decls[["decl", "number"]], on="decl").sort_values(["day", "number"], kind="stable")
        lines["item"] = lines.groupby("decl").cumcount() + 1

        rate = reference.usd_cny_1e4(month)
        usd = np.rint(lines["cny_cents"].to_numpy() * 10_000 / rate).astype(np.int64)
        cny = (usd * rate + 5_000) // 10_000
        exp = lines["exp"].to_numpy()
        uscc = codes[ex.ent[exp]].astype(object)
        name = f"customs_export_{month}.csv"
        if month in TYPO_MONTHS:
            pool = np.flatnonzero(~planted_exp[exp])
            for i in rng.choice(pool, size=min(len(pool), how_many(n, 1500)), replace=False).tolist():
                landing.note(f"customs/{name}: mistyped 统一社会信用代码 {corrupt_uscc(uscc[i])} on "
                             f"{lines['number'].iat[i]}/{lines['item'].iat[i]} (is {uscc[i]})")
                uscc[i] = corrupt_uscc(uscc[i])
        columns = {
            "报关单号": lines["number"].tolist(),
            "项号": lines["item"].astype(str).tolist(),
            "出口日期": [f"{year}-{month % 100:02d}-{d:02d}" for d in lines["day"].tolist()],
            "经营单位编码": ex.code[exp].tolist(),
            "统一社会信用代码": uscc.tolist(),
            "商品编码": ex.hs[exp].tolist(),
            "贸易方式": lines["mode"].tolist(),
            "运抵国": lines["country"].tolist(),
            "美元金额": fixed(usd, 2),
            "人民币金额_元": fixed(cny, 2),
        }
        if month == CUSTOMS_V2_MONTH:
            _misprint_and_correct(landing, columns, usd, cny, ~planted_exp[exp], rng, month, n, pop.window.as_of)
        order = headers.CUSTOMS_EXPORT_ALT if month % 100 % 3 == 1 else headers.CUSTOMS_EXPORT
        landing.write_csv("customs", name, columns, order, arrival=delivery_date(month, CUSTOMS_DAY), encoding="utf-8",
                          bom=month % 2 == 1)


def _misprint_and_correct(
    landing: Landing, columns: dict[str, list[str]], usd: np.ndarray, cny: np.ndarray,
    eligible: np.ndarray, rng: np.random.Generator, month: int, n: int, as_of: date,
) -> None:
    """Make a few amounts of `columns` (v1) ten times too high and deliver them corrected in a v2 file."""
    fix = np.sort(rng.choice(np.flatnonzero(eligible), size=min(int(eligible.sum()), how_many(n, 1000, 2)), replace=False))
    v2 = {h: [columns[h][i] for i in fix.tolist()] for h in columns}
    columns["美元金额"] = fixed(np.where(np.isin(np.arange(len(usd)), fix), usd * 10, usd), 2)
    columns["人民币金额_元"] = fixed(np.where(np.isin(np.arange(len(cny)), fix), cny * 10, cny), 2)
    base = delivery_date(month, CUSTOMS_DAY)
    if len(fix) and v2_due(base, as_of):
        name = f"customs_export_{month}_v2.csv"
        landing.write_csv("customs", name, v2, headers.CUSTOMS_EXPORT, arrival=v2_arrival(base), encoding="utf-8")
        for i in fix.tolist():
            landing.note(f"customs/{name}: corrects 美元金额/人民币金额_元 of {columns['报关单号'][i]}/"
                         f"{columns['项号'][i]} (v1 ten times too high)")
