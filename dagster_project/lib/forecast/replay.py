"""Honest replay of a past day: the warehouse exactly as a live run on that day would have built it.

A replay walks forward through a list of as-of dates. Before each, the files a provider had
delivered by that day are landed (hard links into a landing dir of the replay's own, by the
delivery calendar of the data source: `arrivals`); ingestion then runs as of that day (so a
`_vN` correction counts from the first replayed day that saw it), dbt builds as of that day (the
arrival rule of every delivery, register rows dated after the day cut), and what the forecast
and the measures engine read (the marts, and the manifest of the deliveries in use) is copied into
a snapshot file per day. The engine, or any forecast under test, then runs on the snapshots as
often as needed without rebuilding anything.

Nothing here knows about Dagster; the backtest (`backtest.py`) and the replay tests use it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

import duckdb

from dagster_project.lib.dbt_invocation import as_of_environment, dbt_vars
from dagster_project.lib.ingest import FEEDS
from dagster_project.lib.ingest.loader import ingest_feed
from dagster_project.lib.ingest.withdrawals import deliveries_in_use
from dagster_project.lib.measures.engine import ENGINE_INPUTS
from dagster_project.lib.measures.parameters import Parameters
from dagster_project.paths import DBT_PROJECT_DIR


def land_arrived(source: Path, landing: Path, arrivals: Mapping[str, date], as_of: date) -> list[str]:
    """Link every file of `source` delivered by `as_of` into `landing` (once); the names landed now."""
    landed = []
    for name, arrived in sorted(arrivals.items()):
        target = landing / name
        if arrived <= as_of and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source / name, target)
            except OSError:  # another file system
                shutil.copy2(source / name, target)
            landed.append(name)
    return landed


def dbt_build_models(warehouse: Path, as_of: date, params: Parameters, target_path: Path,
                     full_refresh: bool = False) -> None:
    """`dbt build` (seeds and models, no tests) of the engine's input marts and everything they read, as of `as_of`."""
    dbt = Path(sys.executable).with_name("dbt")
    args = [str(dbt), "build", "--exclude-resource-type", "test", "--quiet", "--select", *(f"+{m}" for m in ENGINE_INPUTS),
            "--vars", json.dumps(dbt_vars(params)), "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target_path),
            "--log-path", str(target_path)]
    if full_refresh:
        args.append("--full-refresh")
    with as_of_environment(as_of):
        env = dict(os.environ, GXINDUSTRY_WAREHOUSE=str(warehouse))
        result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"dbt build as of {as_of} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")


def snapshot_inputs(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Copy the engine's input marts (schema `marts`) and the manifest of the deliveries in use
    (`raw._manifest`, where the forecast reads which months were delivered: `Horizon.as_delivered`)
    into a new DuckDB file at `path`. Without the manifest (until 2026-12-06), a forecast on a
    snapshot took every month due as delivered, where the live run of the same day forecast a
    month whose delivery was late: the backtest scored a forecast no Monday's run had made."""
    path.unlink(missing_ok=True)
    deliveries = deliveries_in_use(con)
    con.execute(f"attach '{path}' as snapshot")
    try:
        con.execute("create schema snapshot.marts")
        for table in ENGINE_INPUTS:
            con.execute(f"create table snapshot.marts.{table} as select * from marts.{table}")
        if deliveries is not None:
            con.execute("create schema snapshot.raw")
            con.execute(f"create table snapshot.raw._manifest as select * from {deliveries}")
    finally:
        con.execute("detach snapshot")


def replay(source: Path, arrivals: Mapping[str, date], days: list[date], workdir: Path, params: Parameters,
           progress: Callable[[str], None] = print) -> dict[date, Path]:
    """Replay `days` (ascending) over the files of `source`; the snapshot file of each day.

    `workdir` holds the replay's landing dir, warehouse and snapshots; it must be empty or absent
    (a replay never continues one that another source filled)."""
    if sorted(days) != list(days):
        raise ValueError("replayed days must ascend: a live warehouse only moves forward")
    if workdir.exists() and any(workdir.iterdir()):
        raise ValueError(f"{workdir} is not empty")
    landing, warehouse, snapshots = workdir / "landing", workdir / "warehouse.duckdb", workdir / "snapshots"
    snapshots.mkdir(parents=True)
    out = {}
    for day in days:
        landed = land_arrived(source, landing, arrivals, day)
        with duckdb.connect(str(warehouse)) as con:
            for feed in FEEDS:
                ingest_feed(con, landing, feed, as_of=day)
        dbt_build_models(warehouse, day, params, workdir / "dbt_target")
        out[day] = snapshots / f"{day.isoformat()}.duckdb"
        with duckdb.connect(str(warehouse)) as con:
            snapshot_inputs(con, out[day])
        progress(f"  replayed {day}: {len(landed)} {'file' if len(landed) == 1 else 'files'} arrived since the previous day")
    return out
