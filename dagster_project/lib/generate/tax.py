"""tax feed: monthly VAT returns (GB18030, every field quoted).

Every producing enterprise files, whether or not the statistics bureau tracks
it yet, plus a few taxpayers outside the directory. Invoiced sales roughly
track revenue (×0.9..1.1); returns are filed in the first half of the next month.
"""

from __future__ import annotations

import numpy as np

from . import headers
from .defects import TYPO_MONTHS, corrupt_uscc, how_many
from .enterprises import Population
from .rng import stream
from .schedule import TAX_DAY, add_months, delivery_date
from .writers import Landing, fixed

ZERO_VAT_SHARE = 0.05  # returns with no VAT due (input tax carried forward)


def write_tax(landing: Landing, pop: Population, seed: int) -> None:
    rng = stream(seed, "tax")
    n = len(pop.table)
    vat_rate = rng.uniform(0.015, 0.05, n)  # effective VAT burden on sales
    n_outside = how_many(n, 100, minimum=2)
    outside_codes = np.array(pop.outside_usccs("tax", rng.choice(pop.table["county"].to_numpy(), n_outside)))
    outside_sales = rng.uniform(2e5, 3e6, n_outside)  # 元 per month
    codes = np.concatenate([pop.table["uscc"].to_numpy(), outside_codes])
    planted = np.concatenate([pop.table["planted"].to_numpy(), np.zeros(n_outside, dtype=bool)])

    for month in pop.window.delivered_months(TAX_DAY):
        t = pop.window.index(month)
        m_rng = stream(seed, "tax-month", month)
        # Revenue in tenths of 千元 = 100 元; amounts below are in cents.
        sales = np.concatenate([pop.revenue[:, t] * 10_000.0, outside_sales * 100])
        sales = np.rint(sales * m_rng.uniform(0.9, 1.1, len(sales))).astype(np.int64)
        rate = np.concatenate([vat_rate, m_rng.uniform(0.01, 0.03, n_outside)])  # outside: traders
        vat = np.where(m_rng.random(len(sales)) < ZERO_VAT_SHARE, 0, np.rint(sales * rate)).astype(np.int64)
        filed_month = add_months(month, 1)
        filed_day = m_rng.integers(1, TAX_DAY + 1, len(sales))
        rows = np.flatnonzero(sales > 0)
        rows = rows[np.argsort(codes[rows], kind="stable")]
        published = codes[rows].copy()
        name = f"tax_vat_{month}.csv"
        if month in TYPO_MONTHS:
            pool = np.flatnonzero(~planted[rows])
            for i in m_rng.choice(pool, size=min(len(pool), how_many(n, 1500)), replace=False).tolist():
                landing.note(f"tax/{name}: mistyped 纳税人识别号 {corrupt_uscc(published[i])} (is {published[i]})")
                published[i] = corrupt_uscc(published[i])
        columns = {
            "纳税人识别号": published.tolist(),
            "所属期": [str(month)] * len(rows),
            "开票销售额_元": fixed(sales[rows], 2),
            "应纳增值税额_元": fixed(vat[rows], 2),
            "申报日期": [f"{filed_month // 100}-{filed_month % 100:02d}-{d:02d}" for d in filed_day[rows].tolist()],
        }
        order = headers.TAX_VAT_ALT if month % 100 % 3 == 0 else headers.TAX_VAT
        landing.write_csv("tax", name, columns, order, arrival=delivery_date(month, TAX_DAY), encoding="gb18030",
                          crlf=True, quote_all=True)

