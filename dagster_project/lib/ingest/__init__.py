"""Ingestion: landed files -> raw schema, one module per feed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from . import customs, power, registers, stats, tax
from .spec import Dataset, DeliveredFile

FEEDS = ("stats", "power", "tax", "customs", "registers")

DATASETS: tuple[Dataset, ...] = stats.DATASETS + power.DATASETS + tax.DATASETS + customs.DATASETS + registers.DATASETS


def datasets_of(feed: str) -> tuple[Dataset, ...]:
    return tuple(d for d in DATASETS if d.feed == feed)


def landing_as_of(landing: Path, withdrawn: Iterable[str] = ()) -> date | None:
    """Default as-of date: the latest arrival date among the dated deliveries in the landing dir
    that ingestion loads. A stray, a file ingestion refuses (name, period, bytes, header), a file
    whose every row it rejects and a withdrawn delivery do not count (a weekly power file whose
    every 日期 was typed 2024/12/02 dated a run 2024-12-02 and moved its budget by −112万, until
    2026-12-07)."""
    latest = next(_loadable(landing, withdrawn, newest_first=True), None)
    return latest.available_on if latest else None


def landing_span(landing: Path, withdrawn: Iterable[str] = ()) -> tuple[DeliveredFile, DeliveredFile] | None:
    """The first and the last delivery to arrive, among those `landing_as_of` counts."""
    first = next(_loadable(landing, withdrawn, newest_first=False), None)
    last = next(_loadable(landing, withdrawn, newest_first=True), None)
    return (first, last) if first and last else None


def _loadable(landing: Path, withdrawn: Iterable[str], newest_first: bool) -> Iterator[DeliveredFile]:
    """Dated, well-named regular files in arrival order, each yielded only once it is known that
    ingestion would load it (so usually one file is read)."""
    from .filenames import FileNameError, PeriodBounds, parse_name
    from .landing import scan_landing
    from .loader import nothing_loads
    from .spec import PeriodKind

    skip = set(withdrawn)
    bounds = PeriodBounds.of_policy()
    candidates = []
    for feed, paths in scan_landing(landing, FEEDS).files.items():
        for path in paths:
            try:
                delivered = parse_name(path.name, feed, datasets_of(feed), bounds)
            except FileNameError:
                continue
            if delivered.dataset.period is not PeriodKind.NONE and path.name not in skip:
                candidates.append((delivered.available_on, path.name, path, delivered))
    for _, _, path, delivered in sorted(candidates, reverse=newest_first):
        if nothing_loads(path, delivered) is None:
            yield delivered
