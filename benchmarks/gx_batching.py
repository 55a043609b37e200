"""Would one GX validation per dataset be cheaper than one per delivered file? (not part of the tests)

    .venv/bin/python benchmarks/gx_batching.py WAREHOUSE [--suite raw_power_daily] [--files 10]

Builds the batches of the latest `--files` delivered files of the suite's dataset as the raw checks
do (typed, derived columns), then times GX on them two ways in one process: one validation per
file, and one validation of all of them concatenated. Both with GX's counts and examples only (the
first pass of `gx_runner`; the second, which names the rows, runs only where rows fail). The
warehouse is opened read-only: copy one a refresh has loaded (`data/bench/<scale>/run/wh.duckdb`).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dagster_project.lib.quality import warehouse  # noqa: E402  (the repository first on the path)
from dagster_project.lib.quality.derive import Lookups, derive  # noqa: E402
from dagster_project.lib.quality.gx_runner import GxSession  # noqa: E402
from dagster_project.lib.quality.run import DATASET_BY_TABLE, file_period_value, run_values  # noqa: E402
from dagster_project.lib.quality.suites import load_suites  # noqa: E402


def batches(con, suite_name: str, files: int, as_of: date):
    """(suite without index columns, [(values, frame) per file]) for the latest `files` files."""
    suite = next(s for s in load_suites() if s.name == suite_name)
    ds = DATASET_BY_TABLE[suite.dataset]
    deliveries = [warehouse.Delivery(*row) for row in con.execute(
        "select file_name, period, version, available_on from raw._manifest where dataset = ? "
        "order by file_name desc limit ?", [ds.dataset, files]).fetchall()]
    directory, accounts = warehouse.directory(con, as_of), warehouse.accounts(con, as_of)
    out = []
    for d in deliveries:
        extra = {}
        if "stats_industry" in suite.derive:
            extra["previous_reports"] = warehouse.previous_reports(con, int(d.period), as_of)
        frame = derive(warehouse.file_batch(con, ds, d, as_of), suite.derive,
                       Lookups(as_of=as_of, period=d.period, directory=directory, accounts=accounts,
                               params=suite.params, **extra))
        out.append((dict(run_values(as_of), **{"$file_period": file_period_value(ds, d.period)}), frame))
    return replace(suite, index_columns=()), out


def compare(session: GxSession, suite, per_file: list) -> dict:
    """Seconds and rows GX counted, per file and as one batch (the last file's placeholder values:
    a file's period is the one thing a concatenation cannot carry)."""
    session._evaluate(suite, per_file[0][1], per_file[0][0], "warm-up")
    start = time.monotonic()
    counted_per_file = 0
    for i, (values, frame) in enumerate(per_file):
        outcomes, _ = session._evaluate(suite, frame, values, f"file-{i}")
        counted_per_file += _rows_counted(outcomes)
    per_file_seconds = time.monotonic() - start
    together = pd.concat([frame for _, frame in per_file], ignore_index=True)
    start = time.monotonic()
    outcomes, _ = session._evaluate(suite, together, per_file[-1][0], "all")
    one_batch_seconds = time.monotonic() - start
    return {"files": len(per_file), "rows": len(together), "per_file_seconds": per_file_seconds,
            "one_batch_seconds": one_batch_seconds, "rows_counted_per_file": counted_per_file,
            "rows_counted_one_batch": _rows_counted(outcomes)}


def _rows_counted(outcomes) -> int:
    """Rows GX evaluated for the suite's first map expectation (every row of the batch)."""
    return next(o.element_count for o in outcomes if o.element_count is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--suite", default="raw_power_daily")
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2024, 11, 18))
    args = parser.parse_args()
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        suite, per_file = batches(con, args.suite, args.files, args.as_of)
    r = compare(GxSession("gx-batching"), suite, per_file)
    print(f"{args.suite}: {r['files']} files, {r['rows']:,} rows; one validation per file "
          f"{r['per_file_seconds']:.2f} s ({r['per_file_seconds'] / r['files'] * 1000:.0f} ms per file), "
          f"one validation of all {r['one_batch_seconds']:.2f} s")


if __name__ == "__main__":
    main()
