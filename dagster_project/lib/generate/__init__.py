"""Deterministic sample feeds for the landing directory (docs/contract/FEEDS.md), as delivered up to an as-of date.

    generate_feeds(landing, scale="small", seed=20241125, as_of=date(2024, 11, 25))
    generate_feeds(landing, "small", as_of=date(2025, 2, 20), history_start=date(2022, 1, 1))

Flow: a population of enterprises with true monthly figures (enterprises.py),
planted rule cases among them (cases.py), projects (projects.py) and power
accounts (power.py) on top; each feed module then publishes what its
provider would have delivered by the as-of date (schedule.py), with the
deliberate defects of defects.py. Same seed and as-of, same bytes; a file
delivered by a date has the same bytes whatever later as-of the generator runs
with, except the registers (standing lists, rewritten as of the as-of date:
the same rows, cut at it). The summary gives each file's arrival date, so a
replay can land the files of a final run day by day. The random process (what
varies by enterprise, industry, month and year): docs/generator.md.

The data window starts in January 2023. `history_start` (the first of a month
from 2022-01-01 to 2023-01-01) extends it backwards, e.g. to replay Q4 2023
against a Q4 2022 base: the monthly files are then delivered from
`history_start` on (simulated from January of its year, so 累计 columns stay
right), with 2022 levels below 2023 by each enterprise's 2023 growth of the
same month. With the default `history_start`, the output is byte-identical to a
run without it; with an earlier one, every file from 2023 on keeps its bytes
except the first weekly power delivery of 2023 (it then covers the whole week
before) and the registers, which then also list the rows dated from
`history_start` on (their rows from 2023 on stay the same).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .customs import write_customs
from .defects import stats_defects
from .enterprises import build_population
from .power import build_accounts, write_power
from .projects import build_projects
from .registers import write_registers
from .scales import SCALES, get_scale
from .schedule import FIRST_DAY, Window, check_history_start, first_day
from .stats import write_stats
from .tax import write_tax
from .writers import FEEDS, Landing

__all__ = ["SCALES", "GenerationSummary", "generate_feeds"]

DEFAULT_SEED = 20241125
DEFAULT_AS_OF = date(2024, 11, 25)
DEFAULT_HISTORY_START = FIRST_DAY  # 2023-01-01: no history before the policy's base year


@dataclass
class GenerationSummary:
    landing: Path
    scale: str
    seed: int
    as_of: date
    files: list[str]  # relative to the landing dir, sorted
    # File -> the day its provider delivered it: stats and tax for month M on the 15th of M+1, customs
    # on the 10th, power on the Monday in its name, a `_v2` correction V2_DELAY after the file it
    # corrects; a register (a standing list whose rows count by their own dates) on the first day of the
    # data window, its correction on its own day. A replay lands each file on its day.
    arrivals: dict[str, date]
    files_per_feed: dict[str, int]
    rows_per_dataset: dict[str, int]  # data rows over all files of a dataset (all versions)
    enterprises: int  # in the directory population (planted cases included)
    projects: int
    accounts: int
    defects: list[str] = field(default_factory=list)  # deliberate defects: file and key
    # Planted rule cases (cases.py): key -> USCC, and project key -> 项目代码, for tests that
    # check what the pipeline decides about a known case.
    planted: dict[str, str] = field(default_factory=dict)
    planted_projects: dict[str, str] = field(default_factory=dict)
    history_start: date = DEFAULT_HISTORY_START  # first day of the data window


def generate_feeds(
    landing: Path,
    scale: str = "small",
    seed: int = DEFAULT_SEED,
    as_of: date = DEFAULT_AS_OF,
    history_start: date = DEFAULT_HISTORY_START,
) -> GenerationSummary:
    """Write every file the providers would have delivered by `as_of` into `landing/<feed>/`.

    `history_start` moves the start of the data window from 2023-01-01 back to the first of an
    earlier month (2022-01-01 at the earliest); ValueError otherwise.
    """
    spec = get_scale(scale)
    first_month = check_history_start(history_start)
    if as_of < FIRST_DAY:
        raise ValueError(f"as_of {as_of} is before {FIRST_DAY}: the sample is delivered from 2023 on "
                         f"(history_start only adds earlier months to what is delivered)")
    out = Landing(Path(landing))
    out.refuse_if_delivered()

    window = Window(as_of, first_month)
    pop = build_population(spec, seed, window)
    projects = build_projects(spec, pop, window, seed)
    accounts = build_accounts(spec, pop, seed)

    write_stats(out, pop, projects, stats_defects(pop, seed))
    write_power(out, pop, accounts, seed)
    write_tax(out, pop, seed)
    write_customs(out, spec, pop, seed)
    write_registers(out, spec, pop, seed)

    files = sorted(out.files)
    return GenerationSummary(
        landing=Path(landing),
        scale=scale,
        seed=seed,
        as_of=as_of,
        files=files,
        arrivals={f: out.arrivals[f] for f in files},
        files_per_feed={feed: sum(f.startswith(feed + "/") for f in files) for feed in FEEDS},
        rows_per_dataset=dict(sorted(out.rows.items())),
        enterprises=len(pop.table),
        projects=len(projects.table),
        accounts=len(accounts.table),
        defects=out.defects,
        planted=dict(pop.table.loc[pop.table["planted"], ["key", "uscc"]].sort_values("key").values.tolist()),
        planted_projects=dict(
            projects.table.loc[projects.table["key"] != "", ["key", "code"]].sort_values("key").values.tolist()
        ),
        history_start=first_day(first_month),
    )
