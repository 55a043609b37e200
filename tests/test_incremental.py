"""A weekly refresh over only the new files (and dbt building only what lies below the sources
that changed) gives the same warehouse as a build from scratch."""

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import dbt
from dagster_project.lib.dbt_selection import plan_build, raw_sources, record_build
from dagster_project.lib.generate import generate_feeds
from dagster_project.lib.incremental import full_refresh_reason
from dagster_project.lib.ingest import FEEDS
from dagster_project.lib.ingest.loader import ingest_feed
from dagster_project.paths import DBT_PROJECT_DIR

pytestmark = pytest.mark.e2e
WEEK_N, WEEK_N1 = date(2024, 11, 18), date(2024, 11, 25)
# Which build wrote a row: differs between week-by-week and from-scratch by design.
BOOKKEEPING = {"fct_power_month": "exclude (built_as_of, built_loaded_to)"}


def refresh(warehouse: Path, landing: Path, as_of: date, weekly: bool = False):
    """Ingest, then build: everything, or (`weekly`) what the pipeline's plan selects (returned)."""
    args = ["build", "--exclude-resource-type", "test", "--quiet"]
    with duckdb.connect(str(warehouse)) as con:
        for feed in FEEDS:
            ingest_feed(con, landing, feed)
        if weekly:
            manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
            reason = full_refresh_reason(con, as_of)
            plan = plan_build(con, as_of, "this project", raw_sources(manifest), reason)
            args += plan.select_args(manifest) + (["--full-refresh"] if reason else [])
    if not weekly or plan.sources != ():
        dbt(args, warehouse, as_of)
    if weekly:
        with duckdb.connect(str(warehouse)) as con:
            record_build(con, f"build as of {as_of}", as_of, plan.loaded_to, "this project")
        return plan
    return None


def marts(warehouse: Path) -> dict[str, list]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        return {t: con.execute(f"select * {BOOKKEEPING.get(t, '')} from marts.{t} order by all").fetchall()
                for t in tables}


def power_readings(warehouse: Path) -> list:
    """The incremental staging model without its build watermark columns."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * exclude (built_as_of, built_loaded_to) from staging.stg_power__daily "
                           "order by all").fetchall()


def test_week_by_week_equals_from_scratch(tmp_path, dbt_manifest):
    generate_feeds(tmp_path / "week_n", scale="tiny", seed=7, as_of=WEEK_N)
    generate_feeds(tmp_path / "week_n1", scale="tiny", seed=7, as_of=WEEK_N1)
    landing = tmp_path / "landing"
    shutil.copytree(tmp_path / "week_n", landing)

    incremental = tmp_path / "incremental.duckdb"
    refresh(incremental, landing, WEEK_N, weekly=True)
    arrived = [p for p in (tmp_path / "week_n1").glob("*/*") if not (landing / p.parent.name / p.name).exists()]
    assert arrived, "week N+1 brings new files"
    for path in arrived:
        shutil.copy(path, landing / path.parent.name / path.name)
    plan = refresh(incremental, landing, WEEK_N1, weekly=True)
    assert plan.sources == ("power_daily",), plan.reason  # one more week of power readings

    scratch = tmp_path / "scratch.duckdb"
    refresh(scratch, landing, WEEK_N1)
    assert marts(incremental) == marts(scratch)
    assert power_readings(incremental) == power_readings(scratch)
    with duckdb.connect(str(incremental), read_only=True) as con:
        builds = con.execute("select count(distinct built_as_of) from staging.stg_power__daily").fetchone()[0]
    assert builds == 2, "the week N+1 build kept week N's readings of days no new delivery carries"
    with duckdb.connect(str(incremental), read_only=True) as con:
        builds = con.execute("select count(distinct built_as_of) from marts.fct_power_month").fetchone()[0]
    assert builds == 2, "the week N+1 build kept week N's months no new delivery touches"
    with duckdb.connect(str(incremental), read_only=True) as con:
        assert con.execute("select count(*) from raw._manifest").fetchone()[0] == len(list(landing.glob("*/*")))


def test_a_corrected_account_snapshot_recomputes_every_month(tmp_path, dbt_manifest):
    """A _v2 snapshot that moves an account to another enterprise changes that account's past
    months too: the week-by-week warehouse still equals one built from scratch."""
    generate_feeds(tmp_path / "week_n", scale="tiny", seed=7, as_of=WEEK_N)
    landing = tmp_path / "landing"
    shutil.copytree(tmp_path / "week_n", landing)
    incremental = tmp_path / "incremental.duckdb"
    refresh(incremental, landing, WEEK_N, weekly=True)

    latest = max((landing / "power").glob("power_accounts_*.csv"))
    lines = latest.read_text(encoding="utf-8-sig").splitlines()
    rows = [line.split(",") for line in lines[1:]]
    moved = next(r for r in rows if r[2])
    moved[2] = next(r[2] for r in rows if r[2] and r[2] != moved[2])  # another enterprise's USCC
    corrected = latest.with_name(latest.stem + "_v2.csv")
    corrected.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n", encoding="utf-8-sig")
    plan = refresh(incremental, landing, WEEK_N, weekly=True)
    assert plan.sources == ("power_accounts",), plan.reason

    scratch = tmp_path / "scratch.duckdb"
    refresh(scratch, landing, WEEK_N)
    assert marts(incremental) == marts(scratch)
    with duckdb.connect(str(incremental), read_only=True) as con:
        months = con.execute("select count(distinct month) from marts.fct_power_month where uscc = ?",
                             [moved[2]]).fetchone()[0]
    assert months > 1, "the moved account's readings count for its new enterprise in every month"
