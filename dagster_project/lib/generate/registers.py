"""registers feed: the department's hand-kept workbooks (.xlsx), rows dated up to the as-of date.

Kept by hand, they carry what hand-kept sheets carry: a merged title row above
the header in some sheets, stray blank rows, trailing spaces in headers and
values, numbers and dates stored as text in a few cells.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from . import cases, headers, industries, reference
from .enterprises import Population, short_name
from .rng import stream
from .scales import Scale
from .writers import Landing, Sheet


@dataclass(frozen=True)
class Batch:
    """One published list: category, level, kind, date, size at province scale."""

    category: str
    level: str
    kind: str
    published: date
    province_count: int


BATCHES: tuple[Batch, ...] = (
    Batch("专精特新中小企业", "国家级", "新认定", date(2023, 7, 26), 40),
    Batch("专精特新中小企业", "国家级", "新认定", date(2024, 8, 16), 35),
    Batch("专精特新中小企业", "国家级", "复核", date(2024, 8, 16), 20),
    Batch("专精特新中小企业", "自治区级", "新认定", date(2023, 6, 20), 400),
    Batch("专精特新中小企业", "自治区级", "新认定", date(2024, 6, 18), 520),
    Batch("专精特新中小企业", "自治区级", "复核", date(2024, 6, 18), 150),
    Batch("专精特新中小企业", "自治区级", "新认定", date(2024, 12, 10), 150),
    Batch("专精特新中小企业", "市级", "新认定", date(2023, 9, 12), 300),
    Batch("专精特新中小企业", "市级", "新认定", date(2024, 9, 10), 320),
    Batch("制造业单项冠军", "国家级", "新认定", date(2023, 12, 5), 3),
    Batch("制造业单项冠军", "国家级", "复核", date(2023, 12, 5), 2),
    Batch("制造业单项冠军", "自治区级", "新认定", date(2023, 11, 20), 30),
    Batch("制造业单项冠军", "自治区级", "新认定", date(2024, 10, 28), 35),
    Batch("制造业单项冠军", "自治区级", "复核", date(2024, 10, 28), 38),
    Batch("绿色工厂", "国家级", "新认定", date(2023, 11, 28), 25),
    Batch("绿色工厂", "国家级", "新认定", date(2024, 9, 26), 18),
    Batch("绿色工厂", "自治区级", "新认定", date(2024, 5, 20), 80),
    Batch("绿色工厂", "市级", "新认定", date(2023, 8, 15), 60),
    Batch("绿色园区", "国家级", "新认定", date(2024, 9, 26), 2),
    Batch("绿色园区", "自治区级", "新认定", date(2024, 5, 20), 3),
    Batch("数字化转型典型场景", "自治区级", "新认定", date(2024, 8, 15), 110),
    Batch("数字化转型典型场景", "市级", "新认定", date(2023, 10, 18), 60),
    Batch("龙头企业", "自治区级", "新认定", date(2023, 3, 28), 100),
    Batch("龙头企业", "自治区级", "复核", date(2024, 4, 10), 60),
    Batch("龙头企业", "市级", "新认定", date(2024, 4, 10), 150),
)
LOANS_PER_PROVINCE = 800
APPLICATIONS_PER_PROVINCE = 300
LINKS_PER_PROVINCE = 150
ACTIVITY_WEIGHTS = {"新品发布会": 0.35, "产品订货会": 0.25, "展会": 0.40}
FIRST, LAST = date(2023, 1, 1), date(2024, 12, 31)  # register entries are dated in the policy years


def _count(scale: Scale, province: int) -> int:
    return max(1, round(province * scale.registers))


def _random_dates(rng: np.random.Generator, size: int, first: date = FIRST, last: date = LAST) -> list[date]:
    days = rng.integers(first.toordinal(), last.toordinal() + 1, size)
    return [date.fromordinal(int(d)) for d in days]


def _candidates(pop: Population) -> np.ndarray:
    """Random (non-planted) enterprises producing before 2023, eligible for random register rows."""
    t = pop.table
    return np.flatnonzero((~t["planted"] & (t["started"] < 202301) & (t["exited"] == 0)).to_numpy())


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def write_registers(landing: Landing, scale: Scale, pop: Population, seed: int) -> None:
    as_of = pop.window.as_of
    created = datetime(as_of.year, as_of.month, as_of.day, 9, 0)
    rng = stream(seed, "registers")
    landing.write_xlsx("registers", "registers_recognitions.xlsx", _recognitions(scale, pop, rng, as_of), created)
    loans, correction = _loans(scale, pop, rng, as_of)
    landing.write_xlsx("registers", "registers_loans.xlsx", loans, created)
    if correction is not None:
        landing.write_xlsx("registers", "registers_loans_v2.xlsx", correction, created)
        landing.note(f"registers/registers_loans_v2.xlsx: corrects 贷款金额_万元 of the loan "
                     f"{correction.rows[0][0]} {correction.rows[0][1]} {correction.rows[0][3]} (v1 ten times too high)")
    landing.write_xlsx("registers", "registers_applications.xlsx", _applications(scale, pop, rng, as_of), created)
    landing.write_xlsx("registers", "registers_two_high.xlsx", _two_high(pop, as_of), created)
    landing.write_xlsx("registers", "registers_supply_links.xlsx", _links(scale, pop, rng, as_of), created)
    landing.note("registers/*.xlsx: title rows, stray blank rows, trailing spaces, numbers and dates stored as text")


def _hand_kept(rows: list[list[object]], rng: np.random.Generator, text_columns: tuple[int, ...],
               space_columns: tuple[int, ...]) -> list[list[object] | None]:
    """A few cells typed as text or with a trailing space, and a couple of stray blank rows."""
    out: list[list[object] | None] = []
    for row in rows:
        row = list(row)
        for c in text_columns:
            if row[c] is not None and not isinstance(row[c], str) and rng.random() < 0.08:
                row[c] = row[c].isoformat() if isinstance(row[c], date) else f"{row[c]:.2f}".rstrip("0").rstrip(".")
        for c in space_columns:
            if isinstance(row[c], str) and row[c] and rng.random() < 0.05:
                row[c] += " "
        out.append(row)
    for _ in range(2):
        out.insert(int(rng.integers(0, len(out) + 1)), None)
    return out


def _recognitions(scale: Scale, pop: Population, rng: np.random.Generator, as_of: date) -> Sheet:
    t = pop.table
    pool = _candidates(pop)
    level = t["level_wan"].to_numpy()[pool]
    parks = list(reference.GREEN_PARKS)
    rows = []
    for b in BATCHES:
        k = _count(scale, b.province_count)
        if b.category == "绿色园区":
            names = [parks.pop(int(rng.integers(len(parks)))) for _ in range(min(k, len(parks)))]
            rows += [[b.category, b.level, "", name, b.published, b.kind] for name in names]
            continue
        # Specialised SMEs are smaller firms, leading enterprises and champions bigger ones.
        bias = -0.5 if b.category == "专精特新中小企业" else 0.5 if b.category in ("龙头企业", "制造业单项冠军") else 0.0
        w = level**bias
        chosen = rng.choice(pool, size=min(k, len(pool)), replace=False, p=w / w.sum())
        for e in chosen.tolist():
            name = t.at[e, "name"]
            if b.category == "数字化转型典型场景":
                name = short_name(name) + rng.choice(reference.DIGITAL_SCENARIOS) + "场景"
            rows.append([b.category, b.level, t.at[e, "uscc"], name, b.published, b.kind])
    for r in cases.RECOGNITIONS:
        e = pop.index_of(r.enterprise)
        rows.append([r.category, r.level, t.at[e, "uscc"], t.at[e, "name"], r.recognised, r.kind])
    rows = sorted((r for r in rows if r[4] <= as_of), key=lambda r: (r[4], r[0], r[1], r[2]))
    header = list(headers.RECOGNITIONS)
    header[3] = "名称 "  # typed with a trailing space
    return Sheet("认定名单", header, _hand_kept(rows, rng, (4,), (2, 3)), widths=[20, 10, 22, 40, 12, 10])


def _loans(scale: Scale, pop: Population, rng: np.random.Generator, as_of: date) -> tuple[Sheet, Sheet | None]:
    t = pop.table
    n = _count(scale, LOANS_PER_PROVINCE)
    borrower = rng.choice(_candidates(pop), n)
    product = np.where(rng.random(n) < 0.6, reference.INDUSTRY_LOAN, rng.choice(reference.OTHER_LOAN_PRODUCTS, n))
    amount = np.round(500 * np.exp(0.9 * rng.standard_normal(n)), -1).clip(50)
    rate = np.round(rng.uniform(1.6, 4.3, n), 2)
    months = rng.choice([6, 12, 12, 12, 24, 36], n)
    banks = rng.choice(reference.BANKS, n)
    random_rows = [
        [t.at[e, "uscc"], bank, prod, d, _add_months(d, int(m)), float(a), float(r)]
        for e, bank, prod, d, m, a, r in zip(borrower.tolist(), banks, product, _random_dates(rng, n), months, amount, rate)
    ]
    rows = []
    correction = None
    for p in cases.LOANS:
        e = pop.index_of(p.borrower)
        row = [t.at[e, "uscc"], p.bank, p.product, p.disbursed, _add_months(p.disbursed, p.months), p.amount_wan, p.rate]
        if (p.borrower, p.disbursed) == cases.CORRECTED_LOAN:
            if as_of >= p.disbursed + timedelta(days=cases.CORRECTION_DELAY_DAYS):
                correction = Sheet("桂惠贷", list(headers.LOANS), [list(row)], widths=[22, 26, 16, 12, 12, 14, 14])
            row[5] = p.amount_wan * 10  # the extra zero v2 corrects
        rows.append(row)
    # The key (borrower, bank, date) is unique in a ledger; planted loans come first and are kept.
    frame = pd.DataFrame(rows + random_rows).drop_duplicates(subset=[0, 1, 3])
    rows = sorted((r for r in frame.values.tolist() if r[3] <= as_of), key=lambda r: (r[3], r[0], r[1]))
    header = list(headers.LOANS)
    header[5] = "贷款金额_万元 "
    title = f"桂惠贷放款台账（截至{as_of.year}年{as_of.month}月{as_of.day}日）"
    sheet = Sheet("桂惠贷", header, _hand_kept(rows, rng, (3, 5, 6), (1,)), title=title,
                  widths=[22, 26, 16, 12, 12, 14, 14])
    return sheet, correction


def _applications(scale: Scale, pop: Population, rng: np.random.Generator, as_of: date) -> Sheet:
    t = pop.table
    n = _count(scale, APPLICATIONS_PER_PROVINCE)
    applicant = rng.choice(_candidates(pop), n)
    activity = rng.choice(list(ACTIVITY_WEIGHTS), n, p=list(ACTIVITY_WEIGHTS.values()))
    fair = rng.integers(0, len(reference.FAIRS), n)
    own_date = _random_dates(rng, n, date(2023, 3, 1))
    cost = np.where(activity == "展会", 60_000 * np.exp(0.6 * rng.standard_normal(n)),
                    300_000 * np.exp(0.7 * rng.standard_normal(n)))
    cost = np.where(rng.random(n) < 0.7, np.round(cost, -2), np.round(cost, 2))  # mostly whole hundreds
    entries = []
    for e, act, f, d, c in zip(applicant.tolist(), activity, fair.tolist(), own_date, cost.tolist()):
        name, held = reference.FAIRS[f] if act == "展会" else (f"{short_name(t.at[e, 'name'])}{d.year}年{act}", d)
        entries.append([t.at[e, "uscc"], str(act), name, held, round(c, 2)])
    for p in cases.APPLICATIONS:
        e = pop.index_of(p.applicant)
        name = p.event or f"{short_name(t.at[e, 'name'])}{p.held.year}年{p.activity}"
        entries.append([t.at[e, "uscc"], p.activity, name, p.held, float(p.cost_yuan)])
    entries = sorted((r for r in entries if r[3] <= as_of), key=lambda r: (r[3], r[0], r[1]))
    rows = [[f"SB{r[3]:%Y%m}{i + 1:04d}", *r] for i, r in enumerate(entries)]
    title = "工业企业产销活动及展会补助申报登记表"
    return Sheet("申报", list(headers.APPLICATIONS), _hand_kept(rows, rng, (4, 5), (2,)), title=title,
                 widths=[16, 22, 12, 40, 12, 14])


def _two_high(pop: Population, as_of: date) -> Sheet:
    t = pop.table
    listed = t.loc[t["two_high"] & (t["started"] <= as_of.year * 100 + as_of.month)].sort_values("uscc")
    rows = [[u, industries.BY_CODE[c].two_high] for u, c in zip(listed["uscc"], listed["industry"])]
    header = list(headers.TWO_HIGH)
    header[1] = "工序或产品 "
    return Sheet("两高名单", header, rows, widths=[22, 16])


def _links(scale: Scale, pop: Population, rng: np.random.Generator, as_of: date) -> Sheet:
    t = pop.table
    pool = _candidates(pop)
    # Mostly electronics suppliers; some material suppliers outside 电子信息 (no M08 award).
    group = t["group"].to_numpy()[pool]
    w = np.select([group == "电子信息", np.isin(group, ["有色金属", "石油化工"])], [9.0, 1.0], 0.0)
    n = _count(scale, LINKS_PER_PROVINCE) if w.sum() else 0
    suppliers = rng.choice(pool, n, p=w / w.sum()) if n else np.array([], dtype=np.int64)
    big = t.loc[t["group"] == "电子信息"].nlargest(10, "level_wan")["name"].to_numpy()
    buyers = rng.choice(big, n)
    days = _random_dates(rng, n, date(2023, 6, 1))
    amounts = np.round(200 * np.exp(0.8 * rng.standard_normal(n)), 1)
    rows = [[t.at[s, "uscc"], b, d, float(a)]
            for s, b, d, a in zip(suppliers.tolist(), buyers, days, amounts) if t.at[s, "name"] != b]
    keys = set(t["key"])
    for p in cases.LINKS:
        buyer = t.at[pop.index_of(p.buyer), "name"] if p.buyer in keys else p.buyer
        rows.append([t.at[pop.index_of(p.supplier), "uscc"], buyer, p.first_supply, p.amount_wan])
    rows = sorted((r for r in rows if r[2] <= as_of), key=lambda r: (r[2], r[0], r[1]))
    title = "重点电子信息企业首次供需对接登记"
    return Sheet("首次供需", list(headers.SUPPLY_LINKS), _hand_kept(rows, rng, (2, 3), (1,)), title=title,
                 widths=[22, 36, 14, 14])
