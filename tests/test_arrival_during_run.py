"""A delivery that lands while a run is in progress changes nothing in that run's results:
the run's as-of date is fixed when it starts, and staging only sees what had arrived by then.
The file is loaded (nothing is lost) and counts in the next run."""

import shutil
from datetime import date

import duckdb

from conftest import dbt
from dagster_project.lib.ingest.loader import ingest_feed

HEADER = "用电户号,日期,用电量_千瓦时,数据标志\n"


def test_late_delivery_is_loaded_but_only_counts_from_the_next_run(empty_warehouse_template, tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(empty_warehouse_template, warehouse)
    landing = tmp_path / "landing" / "power"
    landing.mkdir(parents=True)
    (landing / "power_daily_20241118.csv").write_text(HEADER + "A1,2024-11-17,100,正常\n", encoding="utf-8")
    run_as_of = date(2024, 11, 18)  # fixed when the run started
    # ... the run is ingesting when next week's delivery lands:
    (landing / "power_daily_20241125.csv").write_text(HEADER + "A1,2024-11-24,999,正常\n", encoding="utf-8")
    with duckdb.connect(str(warehouse)) as con:
        outcomes = ingest_feed(con, tmp_path / "landing", "power")
    assert [o.status for o in outcomes] == ["loaded", "loaded"]

    def staged(as_of: date) -> list:
        dbt(["run", "--select", "stg_power__daily", "--quiet"], warehouse, as_of)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute("select reading_date, kwh from staging.stg_power__daily order by 1").fetchall()

    assert staged(run_as_of) == [(date(2024, 11, 17), 100)]
    assert staged(date(2024, 11, 25)) == [(date(2024, 11, 17), 100), (date(2024, 11, 24), 999)]
