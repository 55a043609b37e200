"""The naming rule of docs/contract/FEEDS.md: `<feed>_<dataset>_<period>[_v<N>].<ext>`.

Strict: ASCII digits only (a full-width ０-９ is a digit to Python, not to DuckDB), a period that
can hold data (not after today, not before the policy's history) and a bounded `_vN`. A name that
passes is safe to store and to cast everywhere downstream.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from .spec import MAX_VERSION, Dataset, DeliveredFile, PeriodKind

_NAME = re.compile(
    r"^(?P<feed>[a-z]+)_(?P<dataset>[a-z_]+?)(?:_(?P<period>\d{6}|\d{8}))?(?:_v(?P<version>\d+))?\.(?P<ext>[a-z]+)$",
    re.ASCII,
)


class FileNameError(ValueError):
    """A landed file whose name does not follow the rule (reported, left alone)."""


@dataclass(frozen=True)
class PeriodBounds:
    """The periods a delivery can carry: from the first month of the policy's history to today."""

    earliest: date
    today: date

    @classmethod
    def of_policy(cls, today: date | None = None) -> PeriodBounds:
        """The policy's history starts in January of the year before its base year (2022-01 for the
        2024 measures): the base quarter's year and the year before it, which the forecast of the
        base year and a backtest of it read."""
        from dagster_project.lib.measures.catalogue import load_catalogue

        base_year = load_catalogue().document.base_quarter.start.year
        return cls(date(base_year - 1, 1, 1), today or date.today())


def _spaces_shown(name: str) -> str:
    """`name` with each space and invisible character written as <U+XXXX>: a name refused for a
    space after `.csv` read exactly like a good one (2026-12-07)."""
    return "".join(f"<U+{ord(ch):04X}>" if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs") else ch
                   for ch in name)


def parse_name(name: str, feed_dir: str, datasets: tuple[Dataset, ...], bounds: PeriodBounds | None = None,
               ) -> DeliveredFile:
    m = _NAME.match(name)
    if not m:
        raise FileNameError(f"{feed_dir}/{_spaces_shown(name)}: name does not match "
                            "<feed>_<dataset>_<period>[_v<N>].<ext> (lower-case ASCII letters, ASCII digits)")
    feed, dataset_name, period, version, ext = m.group("feed", "dataset", "period", "version", "ext")
    if feed != feed_dir:
        raise FileNameError(f"{feed_dir}/{name}: feed prefix {feed!r} does not match its folder {feed_dir!r}")
    dataset = next((d for d in datasets if d.dataset == dataset_name), None)
    if dataset is None:
        known = ", ".join(d.dataset for d in datasets)
        raise FileNameError(f"{feed_dir}/{name}: unknown dataset {dataset_name!r} (known: {known})")
    if ext != dataset.extension:
        raise FileNameError(f"{feed_dir}/{name}: extension .{ext}, expected .{dataset.extension}")
    expected = {PeriodKind.MONTH: 6, PeriodKind.DELIVERY_DATE: 8, PeriodKind.NONE: 0}[dataset.period]
    if len(period or "") != expected:
        what = {6: "a YYYYMM period", 8: "a YYYYMMDD delivery date", 0: "no period"}[expected]
        raise FileNameError(f"{feed_dir}/{name}: {dataset.table} files carry {what}")
    if period:
        start = _period_start(period)
        if start is None:
            raise FileNameError(f"{feed_dir}/{name}: period {period} is not a real month/date")
        bounds = bounds or PeriodBounds.of_policy()
        if start > bounds.today:
            raise FileNameError(f"{feed_dir}/{name}: period {period} is after today ({bounds.today}): "
                                "no delivery can carry it yet")
        if start < bounds.earliest:
            raise FileNameError(f"{feed_dir}/{name}: period {period} is before the policy's history, which "
                                f"starts in {bounds.earliest:%Y-%m}")
    if version is not None and not 2 <= int(version) <= MAX_VERSION:
        raise FileNameError(f"{feed_dir}/{name}: re-delivery suffix must be _v2 to _v{MAX_VERSION}")
    if version is not None and version != str(int(version)):  # _v02 beside _v2: two files, one version
        raise FileNameError(f"{feed_dir}/{name}: re-delivery suffix _v{version} has a leading zero: "
                            f"write _v{int(version)}")
    return DeliveredFile(name=name, dataset=dataset, period=period, version=int(version or 1))


def _period_start(period: str) -> date | None:
    """The first day a period covers (the month's first, or the delivery date); None if not a real one."""
    try:
        return date(int(period[:4]), int(period[4:6]), int(period[6:8]) if len(period) == 8 else 1)
    except ValueError:
        return None
