"""Deliberate defects of real deliveries: how many, where, and the corrected re-deliveries.

Defects never touch planted cases (cases.py), so the rule cases stay exact.
Each defect is listed in the generator's report (`GenerationSummary.defects`)
with its file and key, so tests and data-quality checks can find it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ..uscc import CHARSET
from .enterprises import Population
from .rng import stream
from .schedule import FIRST_MONTH

# Corrected re-deliveries (`_v2`) of monthly files: data month and days after the base delivery.
STATS_V2_MONTH = 202409
CUSTOMS_V2_MONTH = 202409
V2_DELAY = timedelta(days=10)

# Months whose report carries a quiet revision of the month before (always within the year,
# including the September figure revised in the October report, inside the policy quarter),
# and months with mistyped codes (not quarter ends, so quarter sums stay computable).
# The 2022 months only matter with history (a window starting before 2023).
REVISION_MONTHS = (202204, 202211, 202303, 202306, 202308, 202311, 202402, 202405, 202407, 202410)
TYPO_MONTHS = (202207, 202305, 202308, 202404, 202407)


def how_many(n: int, per: int, minimum: int = 1) -> int:
    """One defect per `per` enterprises, at least `minimum` (so the tiny sample has each)."""
    return max(minimum, n // per)


def corrupt_uscc(code: str) -> str:
    """The same code with a wrong check character (a typo in the last position)."""
    return code[:17] + CHARSET[(CHARSET.index(code[17]) + 1) % len(CHARSET)]


def v2_arrival(base_delivery: date) -> date:
    """A corrected re-delivery arrives V2_DELAY after the file it corrects."""
    return base_delivery + V2_DELAY


def v2_due(base_delivery: date, as_of: date) -> bool:
    return v2_arrival(base_delivery) <= as_of


@dataclass
class StatsDefects:
    """Where the published monthly report differs from the truth."""

    # (n, T) tenths of 千元 missing from the published 本月 and 累计 output of that month: a
    # quiet revision shows up in the next month's 累计, a v2 row corrects it explicitly.
    misreport: np.ndarray
    revised: list[tuple[int, int]]  # (enterprise, month index) revised quietly
    v2_rows: np.ndarray  # enterprises whose STATS_V2_MONTH row is re-delivered corrected
    bad_code: np.ndarray  # (n, T) the row carries a mistyped USCC


def stats_defects(pop: Population, seed: int) -> StatsDefects:
    """Pick the defects month by month, in order, so that earlier months do not depend on the as-of.

    History months (before 2023) keep their own tally of enterprises already given a defect, so
    that the defects from 2023 on are the same whether or not the window has history.
    """
    n = len(pop.table)
    misreport = np.zeros_like(pop.output)
    bad_code = np.zeros_like(pop.reported)
    revised: list[tuple[int, int]] = []
    v2_rows = np.array([], dtype=np.int64)
    planted = pop.table["planted"].to_numpy()
    taken_from_2023 = planted.copy()  # one defect per enterprise, none on planted cases
    taken_history = planted.copy()

    for month in pop.window.months:
        rng = stream(seed, "stats-defects", month)
        t = pop.window.index(month)
        taken = taken_history if month < FIRST_MONTH else taken_from_2023

        def pick(candidates: np.ndarray, k: int) -> np.ndarray:
            pool = np.flatnonzero(candidates & ~taken)
            chosen = np.sort(rng.choice(pool, size=min(k, len(pool)), replace=False))
            taken[chosen] = True
            return chosen

        def shortfall(e: np.ndarray, col: int) -> np.ndarray:
            return np.maximum(np.rint(pop.output[e, col] * rng.uniform(0.03, 0.08, len(e))), 10).astype(np.int64)

        if month in REVISION_MONTHS and t > 0:  # the month before must be in the window
            e = pick(pop.reported[:, t] & pop.reported[:, t - 1] & (pop.output[:, t - 1] > 0), how_many(n, 1500))
            misreport[e, t - 1] = shortfall(e, t - 1)
            revised += [(int(i), t) for i in e]
        if month in TYPO_MONTHS:
            bad_code[pick(pop.reported[:, t], how_many(n, 1500)), t] = True
        if month == STATS_V2_MONTH:
            v2_rows = pick(pop.reported[:, t] & (pop.output[:, t] > 0), how_many(n, 500))
            misreport[v2_rows, t] = shortfall(v2_rows, t)
    return StatsDefects(misreport, revised, v2_rows, bad_code)
