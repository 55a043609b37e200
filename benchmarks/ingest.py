"""Time ingestion alone, per feed, on a landing dir (not part of the test suite).

    .venv/bin/python benchmarks/ingest.py [--landing data/bench/province/week_n] [--as-of 2024-11-18]

Loads every feed into a new warehouse in a temporary folder, as a refresh's ingestion steps do
(without Dagster, GX or dbt), and prints per feed the seconds, the files loaded and the rows
stored. Compare two versions of the code on the same landing dir by running each one's copy of
this script back to back: this virtual machine's speed drifts by 10-30% within an hour.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dagster_project.lib.ingest import FEEDS  # noqa: E402  (the repository first on the path)
from dagster_project.lib.ingest.loader import ingest_feed  # noqa: E402


def ingest_all(landing: Path, warehouse: Path, as_of: date) -> list[dict]:
    """Per feed: seconds, files loaded and rows stored, ingesting into `warehouse` (new)."""
    out = []
    with duckdb.connect(str(warehouse)) as con:
        for feed in FEEDS:
            start = time.monotonic()
            outcomes = ingest_feed(con, landing, feed, as_of=as_of, now=datetime.combine(as_of, datetime.min.time()))
            seconds = time.monotonic() - start
            loaded = [o for o in outcomes if o.status == "loaded"]
            out.append({"feed": feed, "seconds": seconds, "files": len(loaded),
                        "rows": sum(o.rows_accepted for o in loaded)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, default=REPO / "data" / "bench" / "province" / "week_n")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2024, 11, 18))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = ingest_all(args.landing, Path(folder) / "warehouse.duckdb", args.as_of)
    for r in rows:
        print(f"{r['feed']:<10} {r['seconds']:6.1f} s  {r['files']:4d} files  {r['rows']:>11,} rows")
    print(f"{'all':<10} {sum(r['seconds'] for r in rows):6.1f} s  {sum(r['files'] for r in rows):4d} files  "
          f"{sum(r['rows'] for r in rows):>11,} rows")


if __name__ == "__main__":
    main()
