"""The naming rule of FEEDS.md: `<feed>_<dataset>_<period>[_v<N>].<ext>`."""

from __future__ import annotations

import re
from datetime import date

from .spec import Dataset, DeliveredFile, PeriodKind

_NAME = re.compile(
    r"^(?P<feed>[a-z]+)_(?P<dataset>[a-z_]+?)(?:_(?P<period>\d{6}|\d{8}))?(?:_v(?P<version>\d+))?\.(?P<ext>[a-z]+)$"
)


class FileNameError(ValueError):
    """A landed file whose name does not follow the rule (reported, left alone)."""


def parse_name(name: str, feed_dir: str, datasets: tuple[Dataset, ...]) -> DeliveredFile:
    m = _NAME.match(name)
    if not m:
        raise FileNameError(f"{feed_dir}/{name}: name does not match <feed>_<dataset>_<period>[_v<N>].<ext>")
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
    if period and not _valid_period(period):
        raise FileNameError(f"{feed_dir}/{name}: period {period} is not a real month/date")
    if version is not None and int(version) < 2:
        raise FileNameError(f"{feed_dir}/{name}: re-delivery suffix must be _v2 or higher")
    return DeliveredFile(name=name, dataset=dataset, period=period, version=int(version or 1))


def _valid_period(period: str) -> bool:
    try:
        date(int(period[:4]), int(period[4:6]), int(period[6:8]) if len(period) == 8 else 1)
    except ValueError:
        return False
    return True


def latest_data_date(landing, feeds_datasets: dict[str, tuple[Dataset, ...]]) -> date | None:
    """The latest arrival date of any dated delivery in the landing dir (OUTPUTS.md's default as-of)."""
    latest = None
    for feed, datasets in feeds_datasets.items():
        folder = landing / feed
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                delivered = parse_name(path.name, feed, datasets)
            except FileNameError:
                continue
            if delivered.dataset.period is not PeriodKind.NONE:
                latest = max(latest or delivered.available_on, delivered.available_on)
    return latest
