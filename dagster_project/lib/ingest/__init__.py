"""Ingestion: landed files -> raw schema, one module per feed."""

from . import customs, power, registers, stats, tax
from .spec import Dataset

FEEDS = ("stats", "power", "tax", "customs", "registers")

DATASETS: tuple[Dataset, ...] = stats.DATASETS + power.DATASETS + tax.DATASETS + customs.DATASETS + registers.DATASETS


def datasets_of(feed: str) -> tuple[Dataset, ...]:
    return tuple(d for d in DATASETS if d.feed == feed)


def landing_as_of(landing):
    """Default as-of date: the latest data date among the landed files."""
    from .filenames import latest_data_date

    return latest_data_date(landing, {feed: datasets_of(feed) for feed in FEEDS})
