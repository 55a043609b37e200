"""Blocking data-quality checks stop everything downstream, in the real weekly job.

Week 1: the tiny sample runs through -- every delivered file is validated, dbt, the measures and the
workbooks run. Week 2: the statistics bureau re-delivers November (`stats_industry_202411_v2.csv`)
with the 千元 columns in 元 (× 1000). Only that file is validated; its blocking unit checks fail,
and dbt, the measures and the workbooks do not run: the budget and the workbooks of week 1 stay
as they were.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from dagster_project.lib.generate import generate_feeds
from dagster_project.lib.quality.warehouse import LATEST_VIEW, RESULTS_TABLE

pytestmark = pytest.mark.e2e
AS_OF = "2025-02-01"
DOWNSTREAM = {"warehouse_models", "gx_mart_checks", "policy_measures", "gx_measure_checks", "policy_workbooks"}


def run_weekly():
    from dagster_project.definitions import defs

    job = defs.resolve_job_def("weekly_refresh")
    return job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False,
                                  tags={"gxindustry/as_of": AS_OF})


def started_steps(result) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}


def check_results(result) -> dict[tuple[str, str], object]:
    return {(e.event_specific_data.asset_key.to_user_string(), e.event_specific_data.check_name): e.event_specific_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def in_yuan(src: Path, dst: Path) -> None:
    """The same report with every 千元 column multiplied by 1000 (GB18030, as the bureau sends it)."""
    rows = list(csv.reader(io.StringIO(src.read_bytes().decode("gb18030"), newline="")))
    money = [i for i, h in enumerate(rows[0]) if h.endswith("_千元")]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(rows[0])
    for row in rows[1:]:
        if any(v.strip() for v in row):
            writer.writerow([f"{float(v) * 1000:.1f}" if i in money and v.strip() else v for i, v in enumerate(row)])
    dst.write_bytes(out.getvalue().encode("gb18030"))


def snapshot(tmp: Path) -> dict:
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        budget = con.execute("select * from marts.policy_budget order by all").fetchall()
    workbooks = {p.relative_to(tmp): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in (tmp / "reports").rglob("*.xlsx")}
    return {"budget": budget, "workbooks": workbooks}


@pytest.fixture(scope="module")
def weeks(tmp_path_factory, dbt_manifest):
    tmp = tmp_path_factory.mktemp("dq_blocking")
    generate_feeds(tmp / "landing", scale="tiny", seed=7, as_of=date(2025, 2, 1))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GXINDUSTRY_LANDING", str(tmp / "landing"))
        mp.setenv("GXINDUSTRY_WAREHOUSE", str(tmp / "wh.duckdb"))
        mp.setenv("GXINDUSTRY_REPORTS", str(tmp / "reports"))
        mp.delenv("GXINDUSTRY_AS_OF", raising=False)
        mp.delenv("GXINDUSTRY_PARAMS", raising=False)
        week1 = run_weekly()
        before = snapshot(tmp) if week1.success else None
        stats = tmp / "landing" / "stats"
        in_yuan(stats / "stats_industry_202411.csv", stats / "stats_industry_202411_v2.csv")
        week2 = run_weekly()
        after = snapshot(tmp)
    return tmp, week1, week2, before, after


def test_clean_landing_runs_through_with_every_file_validated(weeks):
    tmp, week1, *_ = weeks
    assert week1.success
    assert DOWNSTREAM <= started_steps(week1)
    checks = check_results(week1)
    blocking = {k: v for k, v in checks.items() if k[1].endswith("_blocking")}
    assert blocking and all(v.passed for v in blocking.values())
    assert checks[("raw/stats_industry", "raw_stats_industry_blocking")].metadata["batches_validated"].value == 25
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.policy_budget").fetchone()[0] > 0
        loaded = {r[0] for r in con.execute("select file_name from raw._manifest").fetchall()}
        validated = {r[0] for r in con.execute(f"select distinct file_name from {RESULTS_TABLE} "
                                               "where file_name is not null").fetchall()}
        marts = {r[0] for r in con.execute(f"select distinct asset from {RESULTS_TABLE} where file_name is null").fetchall()}
    assert validated == loaded
    assert {"marts/fct_enterprise_month", "marts/dim_enterprise", "marts/policy_awards"} <= marts
    assert (tmp / "reports" / "data_docs" / "index.html").is_file()


def test_a_blocking_failure_stops_dbt_measures_and_workbooks(weeks):
    tmp, _, week2, before, after = weeks
    assert not week2.success
    started = started_steps(week2)
    assert "gx_raw_checks" in started
    assert not started & DOWNSTREAM
    failed = [k for k, v in check_results(week2).items() if not v.passed and k[1].endswith("_blocking")]
    assert failed == [("raw/stats_industry", "raw_stats_industry_blocking")]
    # The budget and the workbooks of the last good run stay in place.
    assert before is not None and after == before


def test_the_week_validates_the_weeks_file_and_stores_what_failed(weeks):
    tmp, week1, week2, *_ = weeks
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        files = con.execute(f"select distinct file_name from {RESULTS_TABLE} where run_id = ?", [week2.run_id]).fetchall()
        failed = con.execute(
            f"""select expectation, observed_value, unexpected_count, unexpected_examples from {LATEST_VIEW}
                where file_name = 'stats_industry_202411_v2.csv' and outcome in ('fail', 'warn') order by expectation"""
        ).fetchall()
    assert files == [("stats_industry_202411_v2.csv",)]
    by_name = {r[0]: r for r in failed}
    assert {"unit_median_output", "unit_jump_vs_previous_report"} <= set(by_name)
    assert by_name["unit_median_output"][1].startswith("median ")
    assert by_name["unit_jump_vs_previous_report"][2] > 50
    assert "上次报送（202410：" in by_name["unit_jump_vs_previous_report"][3]


def test_warnings_of_earlier_files_stand_in_a_run_that_validates_nothing_new_for_them(weeks):
    """Week 2 validates only the new correction file; a warning check whose files were all validated
    in week 1 still fails on their warnings, naming them, instead of turning green ("all warning
    expectations met in 0 file(s)"): same inputs, same verdict."""
    _, week1, week2, *_ = weeks
    first, second = check_results(week1), check_results(week2)
    warned = {k: v for k, v in first.items()
              if k[1].endswith("_warning") and not v.passed and "batches_validated" in v.metadata
              and k[0].startswith("raw/") and k[0] != "raw/stats_industry"}
    assert warned  # the sample's defects (invalid USCCs, unmatched accounts) warn in week 1
    for key, before in warned.items():
        after = second[key]
        assert after.metadata["batches_validated"].value == 0
        assert not after.passed and "earlier file(s) still with warnings" in after.description, key
        files = after.metadata["earlier_files_with_warnings"].value.split(", ")
        assert files and all(f.startswith(key[0].split("/")[1]) for f in files)


def run_record(tmp: Path) -> dict:
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        return {"runs": con.execute("select * from marts.policy_runs order by all").fetchall(),
                "history": con.execute("select * from marts.policy_budget_history order by all").fetchall()}


def test_a_run_its_measure_checks_stop_is_not_recorded(weeks):
    """Week 3: the bad November file is taken out of the landing dir, and the applications register
    is re-sent with one Q4 application's cost negative (a typo the raw check only warns about).
    The measures run, their blocking check (amounts non-negative) fails: the run is not recorded —
    `policy_runs` and `policy_budget_history` stay those of week 1, so that the next run is neither
    compared with it ("较上次") nor told it replaced it — and the workbooks of week 1 stay."""
    import openpyxl

    tmp, week1, *_ = weeks
    assert week1.success
    (tmp / "landing" / "stats" / "stats_industry_202411_v2.csv").unlink()
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:  # an application M21 paid
        [(paid,)] = con.execute("""select source_line from marts.fct_applications a
                                   join marts.policy_awards w on w.uscc = a.uscc and w.scheme_id = 'M21'
                                   where w.scenario = 'base' and w.amount_yuan > 0
                                     and a.held_on >= date '2024-10-01' order by source_line limit 1""").fetchall()
    registers = tmp / "landing" / "registers"
    book = openpyxl.load_workbook(registers / "registers_applications.xlsx")
    sheet = book["申报"]
    headers = next(row for row in sheet.iter_rows(values_only=True) if "申报费用_元" in row)
    sheet.cell(paid, headers.index("申报费用_元") + 1).value *= -1
    book.save(registers / "registers_applications_v2.xlsx")
    recorded = run_record(tmp)
    workbooks = snapshot(tmp)["workbooks"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GXINDUSTRY_LANDING", str(tmp / "landing"))
        mp.setenv("GXINDUSTRY_WAREHOUSE", str(tmp / "wh.duckdb"))
        mp.setenv("GXINDUSTRY_REPORTS", str(tmp / "reports"))
        week3 = run_weekly()
    assert not week3.success
    started = started_steps(week3)
    assert {"policy_measures", "gx_measure_checks"} <= started
    assert not started & {"policy_run_record", "policy_workbooks"}
    failed = [k for k, v in check_results(week3).items() if not v.passed and k[1].endswith("_blocking")]
    assert failed == [("marts/policy_awards", "mart_policy_awards_blocking")]
    assert recorded["runs"] and run_record(tmp) == recorded
    assert snapshot(tmp)["workbooks"] == workbooks
