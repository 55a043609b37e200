"""registers feed: the department's hand-kept workbooks (.xlsx), standing lists as of the as-of date.

Each register holds the rows dated from the start of the data window up to
the as-of date (loans by 放款日期, applications by 举办日期, recognitions by
认定日期, supply links by 首次供货日期: the day the event happened). Rows are
drawn per year and month from streams of their own, so a row is the same
whatever the as-of date or the start of the window; only the cut moves.

Volumes vary by year and month: a register's monthly count is Poisson around
its yearly volume × a monthly profile × a level of the year × a departure of
the month (so Q4's volume and its split over October–December differ from one
year to the next); loans bunch towards the end of quarter-end months, more in
some years than others. docs/generator.md states the process.

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
    Batch("专精特新中小企业", "国家级", "新认定", date(2022, 8, 17), 30),
    Batch("专精特新中小企业", "自治区级", "新认定", date(2022, 6, 22), 350),
    Batch("专精特新中小企业", "市级", "新认定", date(2022, 9, 20), 260),
    Batch("制造业单项冠军", "国家级", "新认定", date(2022, 11, 24), 2),
    Batch("制造业单项冠军", "自治区级", "新认定", date(2022, 12, 16), 25),
    Batch("绿色工厂", "国家级", "新认定", date(2022, 12, 8), 20),
    Batch("龙头企业", "自治区级", "新认定", date(2022, 5, 12), 80),
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
BATCH_SIZE_SD = 0.15  # log sd of a batch's size around its province count (parks excepted)


@dataclass(frozen=True)
class Volume:
    """Rows of a register per year at province scale, and their monthly profile (January first)."""

    per_year: float
    profile: tuple[float, ...]


# Banks lend most at the start of the year and at quarter ends; launch and order events avoid the
# Spring Festival and the summer; first supply links follow the electronics order book.
LOANS = Volume(400, (1.3, 0.8, 1.3, 0.9, 0.9, 1.2, 0.9, 0.8, 1.2, 0.8, 0.9, 1.3))
EVENTS = Volume(100, (1.1, 0.5, 1.0, 1.1, 1.0, 0.9, 0.8, 0.9, 1.2, 1.2, 1.3, 1.0))
LINKS = Volume(90, (0.9, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.1, 1.1, 1.0))
YEAR_SD = 0.15  # log sd of a register's level in a year
MONTH_SD = 0.3  # log sd of a month's departure from it
QUARTER_END_BUNCHING = 2.0  # loans in quarter-end months bunch towards the month's end by up to this much
FAIR_APPLICANTS = 16  # booth-fee applications per fair at province scale (× the fair's size)
FAIR_SD = 0.3  # log sd of a fair's applicants around that
ACTIVITY_SHARES = {"新品发布会": 0.6, "产品订货会": 0.4}  # launch and order events
LAST = date(2024, 12, 31)  # register entries end with the policy year
HAND_TEXT, HAND_SPACE = 0.08, 0.05  # shares of cells typed as text / with a trailing space


def _candidates(pop: Population) -> np.ndarray:
    """Random (non-planted) enterprises producing before 2023, eligible for random register rows."""
    t = pop.table
    return np.flatnonzero((~t["planted"] & (t["started"] < 202301) & (t["exited"] == 0)).to_numpy())


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _years(pop: Population) -> range:
    return range(pop.window.start_day.year, LAST.year + 1)


def _monthly_dates(rng: np.random.Generator, volume: Volume, scale: Scale, year: int,
                   bunching: float = 0.0) -> list[date]:
    """Dates of a year's rows: Poisson counts per month around the register's volume, with the year's
    level and each month's departure; `bunching` pulls quarter-end months' days towards the end."""
    profile = np.array(volume.profile) / np.mean(volume.profile)
    level = np.exp(YEAR_SD * rng.standard_normal() + MONTH_SD * rng.standard_normal(12) - (YEAR_SD**2 + MONTH_SD**2) / 2)
    counts = rng.poisson(volume.per_year / 12 * scale.registers * profile * level)
    tilt = 1 + bunching * rng.random()  # this year's bunching
    out = []
    for month, k in enumerate(counts.tolist(), start=1):
        days = calendar.monthrange(year, month)[1]
        u = rng.random(k) ** (1 / tilt if month % 3 == 0 else 1.0)
        out += [date(year, month, int(d)) for d in np.ceil(np.maximum(u, 1e-9) * days).tolist()]
    return out


def _hand_marks(rng: np.random.Generator, size: int) -> np.ndarray:
    """(size, 2) uniforms that decide a row's text-typed and trailing-space cells (drawn with the row,
    so a row looks the same whatever else the register holds)."""
    return rng.random((size, 2))


def write_registers(landing: Landing, scale: Scale, pop: Population, seed: int) -> None:
    """Write the registers as of the as-of date. A register exists from the first day of the data window
    (its arrival in the summary: a replay may land the final list then, as rows count by their own
    dates); the loan correction arrives on its own day."""
    as_of = pop.window.as_of
    created = datetime(as_of.year, as_of.month, as_of.day, 9, 0)
    kept = pop.window.start_day
    blank_rows = stream(seed, "registers")
    landing.write_xlsx("registers", "registers_recognitions.xlsx",
                       _recognitions(scale, pop, seed, blank_rows), created, arrival=kept)
    loans, correction = _loans(scale, pop, seed, blank_rows)
    landing.write_xlsx("registers", "registers_loans.xlsx", loans, created, arrival=kept)
    if correction is not None:
        landing.write_xlsx("registers", "registers_loans_v2.xlsx", correction, created, arrival=correction_arrival())
        landing.note(f"registers/registers_loans_v2.xlsx: corrects 贷款金额_万元 of the loan "
                     f"{correction.rows[0][0]} {correction.rows[0][1]} {correction.rows[0][3]} (v1 ten times too high)")
    landing.write_xlsx("registers", "registers_applications.xlsx",
                       _applications(scale, pop, seed, blank_rows), created, arrival=kept)
    landing.write_xlsx("registers", "registers_two_high.xlsx", _two_high(pop, as_of), created, arrival=kept)
    landing.write_xlsx("registers", "registers_supply_links.xlsx", _links(scale, pop, seed, blank_rows), created,
                       arrival=kept)
    landing.note("registers/*.xlsx: title rows, stray blank rows, trailing spaces, numbers and dates stored as text")


def correction_arrival() -> date:
    """The day `registers_loans_v2.xlsx` arrives: two weeks after the loan it corrects."""
    return cases.CORRECTED_LOAN[1] + timedelta(days=cases.CORRECTION_DELAY_DAYS)


def _listed(rows: list[list[object]], marks: list[np.ndarray], pop: Population, date_column: int, key,
            ) -> tuple[list[list[object]], list[np.ndarray]]:
    """The rows of the data window dated up to the as-of date (the standing list as of that day), with
    their marks, in the register's order (`key`)."""
    first, as_of = pop.window.start_day, pop.window.as_of
    order = sorted((i for i, r in enumerate(rows) if first <= r[date_column] <= as_of), key=lambda i: key(rows[i]))
    return [rows[i] for i in order], [marks[i] for i in order]


def _hand_kept(rows: list[list[object]], marks: list[np.ndarray], rng: np.random.Generator,
               text_columns: tuple[int, ...], space_columns: tuple[int, ...]) -> list[list[object] | None]:
    """A few cells typed as text or with a trailing space (as each row's marks say), and a couple of
    stray blank rows."""
    out: list[list[object] | None] = []
    for row, (text, space) in zip(rows, marks):
        row = list(row)
        for c in text_columns:
            if row[c] is not None and not isinstance(row[c], str) and text < HAND_TEXT:
                row[c] = row[c].isoformat() if isinstance(row[c], date) else f"{row[c]:.2f}".rstrip("0").rstrip(".")
        for c in space_columns:
            if isinstance(row[c], str) and row[c] and space < HAND_SPACE:
                row[c] += " "
        out.append(row)
    for _ in range(2):
        out.insert(int(rng.integers(0, len(out) + 1)), None)
    return out


def _recognitions(scale: Scale, pop: Population, seed: int, blank_rows: np.random.Generator) -> Sheet:
    t = pop.table
    pool = _candidates(pop)
    level = t["level_wan"].to_numpy()[pool]
    rows, marks = [], []
    for i, b in enumerate(BATCHES):
        if not pop.window.start_day <= b.published <= LAST:
            continue
        rng = stream(seed, "recognitions", i)
        if b.category == "绿色园区":  # a handful, from the real parks
            parks = list(reference.GREEN_PARKS)
            k = min(max(1, round(b.province_count * scale.registers)), len(parks))
            names = [parks.pop(int(rng.integers(len(parks)))) for _ in range(k)]
            rows += [[b.category, b.level, "", name, b.published, b.kind] for name in names]
            marks += list(_hand_marks(rng, len(names)))
            continue
        k = max(1, round(b.province_count * scale.registers * np.exp(BATCH_SIZE_SD * rng.standard_normal())))
        # Specialised SMEs are smaller firms, leading enterprises and champions bigger ones.
        bias = -0.5 if b.category == "专精特新中小企业" else 0.5 if b.category in ("龙头企业", "制造业单项冠军") else 0.0
        w = level**bias
        chosen = rng.choice(pool, size=min(k, len(pool)), replace=False, p=w / w.sum())
        for e in chosen.tolist():
            name = t.at[e, "name"]
            if b.category == "数字化转型典型场景":
                name = short_name(name) + rng.choice(reference.DIGITAL_SCENARIOS) + "场景"
            rows.append([b.category, b.level, t.at[e, "uscc"], name, b.published, b.kind])
        marks += list(_hand_marks(rng, len(chosen)))
    planted = stream(seed, "recognitions-planted")
    for r in cases.RECOGNITIONS:
        e = pop.index_of(r.enterprise)
        rows.append([r.category, r.level, t.at[e, "uscc"], t.at[e, "name"], r.recognised, r.kind])
        marks.append(_hand_marks(planted, 1)[0])
    rows, marks = _listed(rows, marks, pop, 4, key=lambda r: (r[4], r[0], r[1], r[2], r[3]))
    header = list(headers.RECOGNITIONS)
    header[3] = "名称 "  # typed with a trailing space
    return Sheet("认定名单", header, _hand_kept(rows, marks, blank_rows, (4,), (2, 3)), widths=[20, 10, 22, 40, 12, 10])


def _loans(scale: Scale, pop: Population, seed: int, blank_rows: np.random.Generator) -> tuple[Sheet, Sheet | None]:
    t = pop.table
    pool = _candidates(pop)
    rows, marks = [], []
    correction = None
    planted = stream(seed, "loans-planted")
    for p in cases.LOANS:
        e = pop.index_of(p.borrower)
        row = [t.at[e, "uscc"], p.bank, p.product, p.disbursed, _add_months(p.disbursed, p.months), p.amount_wan, p.rate]
        if (p.borrower, p.disbursed) == cases.CORRECTED_LOAN:
            if pop.window.as_of >= correction_arrival():
                correction = Sheet("桂惠贷", list(headers.LOANS), [list(row)], widths=[22, 26, 16, 12, 12, 14, 14])
            row[5] = p.amount_wan * 10  # the extra zero v2 corrects
        rows.append(row)
        marks.append(_hand_marks(planted, 1)[0])
    for year in _years(pop):
        rng = stream(seed, "loans", year)
        days = _monthly_dates(rng, LOANS, scale, year, QUARTER_END_BUNCHING)
        n = len(days)
        borrower = rng.choice(pool, n)
        product = np.where(rng.random(n) < 0.6, reference.INDUSTRY_LOAN, rng.choice(reference.OTHER_LOAN_PRODUCTS, n))
        amount = np.round(500 * np.exp(0.9 * rng.standard_normal(n)), -1).clip(50)
        rate = np.round(rng.uniform(1.6, 4.3, n), 2)
        months = rng.choice([6, 12, 12, 12, 24, 36], n)
        banks = rng.choice(reference.BANKS, n)
        rows += [[t.at[e, "uscc"], bank, prod, d, _add_months(d, int(m)), float(a), float(r)]
                 for e, bank, prod, d, m, a, r in zip(borrower.tolist(), banks, product, days, months, amount, rate)]
        marks += list(_hand_marks(rng, n))
    # The key (borrower, bank, date) is unique in a ledger; planted loans come first and are kept.
    unique = np.flatnonzero(~pd.DataFrame([[r[0], r[1], r[3]] for r in rows]).duplicated().to_numpy()).tolist()
    rows, marks = _listed([rows[i] for i in unique], [marks[i] for i in unique], pop, 3,
                          key=lambda r: (r[3], r[0], r[1]))
    header = list(headers.LOANS)
    header[5] = "贷款金额_万元 "
    as_of = pop.window.as_of
    title = f"桂惠贷放款台账（截至{as_of.year}年{as_of.month}月{as_of.day}日）"
    sheet = Sheet("桂惠贷", header, _hand_kept(rows, marks, blank_rows, (3, 5, 6), (1,)), title=title,
                  widths=[22, 26, 16, 12, 12, 14, 14])
    return sheet, correction


def _applications(scale: Scale, pop: Population, seed: int, blank_rows: np.random.Generator) -> Sheet:
    t = pop.table
    pool = _candidates(pop)
    entries, marks = [], []
    for year in _years(pop):  # launch and order events, held through the year
        rng = stream(seed, "events", year)
        days = _monthly_dates(rng, EVENTS, scale, year)
        n = len(days)
        applicant = rng.choice(pool, n)
        activity = rng.choice(list(ACTIVITY_SHARES), n, p=list(ACTIVITY_SHARES.values()))
        cost = 300_000 * np.exp(0.7 * rng.standard_normal(n))
        cost = np.where(rng.random(n) < 0.7, np.round(cost, -2), np.round(cost, 2))  # mostly whole hundreds
        entries += [[t.at[e, "uscc"], str(act), f"{short_name(t.at[e, 'name'])}{d.year}年{act}", d, round(c, 2)]
                    for e, act, d, c in zip(applicant.tolist(), activity, days, cost.tolist())]
        marks += list(_hand_marks(rng, n))
    for i, (fair, held, size) in enumerate(reference.FAIRS):  # booth fees, per fair
        rng = stream(seed, "fair", i)
        n = rng.poisson(FAIR_APPLICANTS * size * scale.registers * np.exp(FAIR_SD * rng.standard_normal()))
        cost = 60_000 * np.exp(0.6 * rng.standard_normal(n))
        cost = np.where(rng.random(n) < 0.7, np.round(cost, -2), np.round(cost, 2))
        entries += [[t.at[e, "uscc"], "展会", fair, held, round(c, 2)]
                    for e, c in zip(rng.choice(pool, n).tolist(), cost.tolist())]
        marks += list(_hand_marks(rng, n))
    planted = stream(seed, "applications-planted")
    for p in cases.APPLICATIONS:
        e = pop.index_of(p.applicant)
        name = p.event or f"{short_name(t.at[e, 'name'])}{p.held.year}年{p.activity}"
        entries.append([t.at[e, "uscc"], p.activity, name, p.held, float(p.cost_yuan)])
        marks.append(_hand_marks(planted, 1)[0])
    entries, marks = _listed(entries, marks, pop, 3, key=lambda r: (r[3], r[0], r[1], r[2], r[4]))
    # Numbered within the month of the event, so that a number does not depend on earlier months.
    numbered: dict[str, int] = {}
    rows = []
    for r in entries:
        month = f"{r[3]:%Y%m}"
        numbered[month] = numbered.get(month, 0) + 1
        rows.append([f"SB{month}{numbered[month]:04d}", *r])
    title = "工业企业产销活动及展会补助申报登记表"
    return Sheet("申报", list(headers.APPLICATIONS), _hand_kept(rows, marks, blank_rows, (4, 5), (2,)), title=title,
                 widths=[16, 22, 12, 40, 12, 14])


def _two_high(pop: Population, as_of: date) -> Sheet:
    t = pop.table
    listed = t.loc[t["two_high"] & (t["started"] <= as_of.year * 100 + as_of.month)].sort_values("uscc")
    rows = [[u, industries.BY_CODE[c].two_high] for u, c in zip(listed["uscc"], listed["industry"])]
    header = list(headers.TWO_HIGH)
    header[1] = "工序或产品 "
    return Sheet("两高名单", header, rows, widths=[22, 16])


def _links(scale: Scale, pop: Population, seed: int, blank_rows: np.random.Generator) -> Sheet:
    t = pop.table
    pool = _candidates(pop)
    # Mostly electronics suppliers; some material suppliers outside 电子信息 (no M08 award).
    group = t["group"].to_numpy()[pool]
    w = np.select([group == "电子信息", np.isin(group, ["有色金属", "石油化工"])], [9.0, 1.0], 0.0)
    big = t.loc[t["group"] == "电子信息"].nlargest(10, "level_wan")["name"].to_numpy()
    rows, marks = [], []
    for year in _years(pop) if w.sum() else ():
        rng = stream(seed, "links", year)
        days = _monthly_dates(rng, LINKS, scale, year)
        n = len(days)
        suppliers = rng.choice(pool, n, p=w / w.sum())
        buyers = rng.choice(big, n)
        amounts = np.round(200 * np.exp(0.8 * rng.standard_normal(n)), 1)
        year_marks = _hand_marks(rng, n)
        for s, b, d, a, m in zip(suppliers.tolist(), buyers, days, amounts, year_marks):
            if t.at[s, "name"] != b:
                rows.append([t.at[s, "uscc"], b, d, float(a)])
                marks.append(m)
    keys = set(t["key"])
    planted = stream(seed, "links-planted")
    for p in cases.LINKS:
        buyer = t.at[pop.index_of(p.buyer), "name"] if p.buyer in keys else p.buyer
        rows.append([t.at[pop.index_of(p.supplier), "uscc"], buyer, p.first_supply, p.amount_wan])
        marks.append(_hand_marks(planted, 1)[0])
    rows, marks = _listed(rows, marks, pop, 2, key=lambda r: (r[2], r[0], r[1], r[3]))
    title = "重点电子信息企业首次供需对接登记"
    return Sheet("首次供需", list(headers.SUPPLY_LINKS), _hand_kept(rows, marks, blank_rows, (2, 3), (1,)), title=title,
                 widths=[22, 36, 14, 14])
