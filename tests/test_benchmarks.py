"""The benchmark scripts measure what they say: every landed file and record, the same rows both ways."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.generate import generate_feeds
from dagster_project.lib.ingest import FEEDS
from dagster_project.lib.ingest.loader import ingest_feed

REPO = Path(__file__).resolve().parent.parent
AS_OF = date(2024, 11, 18)


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A tiny landing dir and a warehouse with all of it ingested (raw tables only)."""
    folder = tmp_path_factory.mktemp("bench")
    landing = folder / "landing"
    generate_feeds(landing, scale="tiny", as_of=AS_OF)
    with duckdb.connect(str(folder / "wh.duckdb")) as con:
        for feed in FEEDS:
            ingest_feed(con, landing, feed, as_of=AS_OF)
        read, files = con.execute("select sum(rows_read), count(*) from raw._manifest").fetchone()
    return landing, folder / "wh.duckdb", read, files


def test_the_read_floor_reads_every_record_that_ingestion_reads(loaded):
    """The floor is the time to read every landed file once; a floor that skipped a feed, a
    dataset or the files of one encoding would make the ratio to the refresh look better than it is."""
    landing, _, read, files = loaded
    seconds, files_read, records = _script("run").read_floor(landing)
    assert files_read == files == sum(1 for _ in landing.glob("*/*")) and files > 100
    # every record ingestion read, plus at most a title row per file
    assert seconds > 0 and read <= records <= read + files


def test_the_ingestion_benchmark_loads_every_landed_file(loaded, tmp_path):
    landing, warehouse, _, files = loaded
    rows = _script("ingest").ingest_all(landing, tmp_path / "wh.duckdb", AS_OF)
    assert [r["feed"] for r in rows] == list(FEEDS)
    assert sum(r["files"] for r in rows) == files and all(r["seconds"] > 0 for r in rows)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = con.execute("select sum(rows_accepted) from raw._manifest").fetchone()[0]
    assert sum(r["rows"] for r in rows) == stored


def test_the_gx_batching_benchmark_validates_the_same_rows_both_ways(loaded):
    from dagster_project.lib.quality.gx_runner import GxSession

    _, warehouse, _, _ = loaded
    gx_batching = _script("gx_batching")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        suite, per_file = gx_batching.batches(con, "raw_power_daily", 3, AS_OF)
    assert len(per_file) == 3 and suite.index_columns == ()
    result = gx_batching.compare(GxSession("bench-test"), suite, per_file)
    rows = sum(len(frame) for _, frame in per_file)
    assert result["rows"] == result["rows_counted_per_file"] == result["rows_counted_one_batch"] == rows > 0
