"""benchmarks/run.py measures what it says: its read floor reads every record a refresh reads."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import duckdb

from dagster_project.lib.generate import generate_feeds
from dagster_project.lib.ingest import FEEDS
from dagster_project.lib.ingest.loader import ingest_feed

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("benchmark_run", REPO / "benchmarks" / "run.py")
benchmark_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark_run)


def test_the_read_floor_reads_every_record_that_ingestion_reads(tmp_path):
    """The floor is the time to read every landed file once; a floor that skipped a feed, a
    dataset or the files of one encoding would make the ratio to the refresh look better than it is."""
    landing = tmp_path / "landing"
    generate_feeds(landing, scale="tiny", as_of=date(2024, 11, 18))
    seconds, files_read, records = benchmark_run.read_floor(landing)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        for feed in FEEDS:
            ingest_feed(con, landing, feed, as_of=date(2024, 11, 18))
        read, files = con.execute("select sum(rows_read), count(*) from raw._manifest").fetchone()
    assert files_read == files == sum(1 for _ in landing.glob("*/*")) and files > 100
    # every record ingestion read, plus at most a title row per file
    assert seconds > 0 and read <= records <= read + files
