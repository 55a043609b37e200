"""End to end: generated tiny feeds -> `gxindustry refresh` (the real Dagster graph) -> warehouse.

Expected figures are computed here straight from the delivered files, independently of the
pipeline: CSVs decoded and superseded by hand, the rules of docs/contract/MEASURES.md written out again.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.lib.generate import generate_feeds

pytestmark = pytest.mark.e2e
AFTER_Q4 = date(2025, 2, 1)
IN_Q4 = date(2024, 11, 25)
GXINDUSTRY = str(Path(sys.executable).with_name("gxindustry"))
DIFFICULT_PREFIXES = ("131", "133", "27", "175", "30", "39", "20", "3120")
WAN = Decimal(10_000)


def refresh(tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DAGSTER_HOME=str(tmp / "dagster_home"))
    result = subprocess.run(
        [GXINDUSTRY, "refresh", "--landing", str(tmp / "landing"), "--warehouse", str(tmp / "wh.duckdb"),
         "--reports", str(tmp / "reports"), *extra],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, dbt_manifest):
    tmp = tmp_path_factory.mktemp("e2e")
    summary = generate_feeds(tmp / "landing", scale="tiny", seed=7, as_of=AFTER_Q4)
    first = refresh(tmp, "--as-of", IN_Q4.isoformat())
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        in_quarter = {
            "budget": con.execute("select scenario, sum(amount_yuan) from marts.policy_budget group by 1").fetchall(),
            "raw_rows": con.execute("select count(*) from raw.stats_industry").fetchone()[0],
            "manifest": con.execute("select count(*) from raw._manifest").fetchone()[0],
        }
    second = refresh(tmp)  # default as-of: the latest data date (after Q4); nothing new to ingest
    return tmp, summary, first, second, in_quarter


def read_csv(path: Path, encoding: str) -> list[dict[str, str]]:
    text = path.read_bytes().decode(encoding)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in rows if any((v or "").strip() for v in row.values())]


def superseded(files: list[Path], encoding: str, key) -> dict:
    """Rows by key; a later period or _vN file wins for the keys it repeats."""
    out = {}
    for path in sorted(files, key=lambda p: (p.stem.split("_v")[0], int(p.stem.split("_v")[1]) if "_v" in p.stem else 1)):
        for row in read_csv(path, encoding):
            out[key(row)] = row
    return out


@pytest.fixture(scope="module")
def expected(pipeline):
    tmp, summary, *_ = pipeline
    stats = tmp / "landing" / "stats"
    industry = superseded(list(stats.glob("stats_industry_*.csv")), "gb18030",
                          lambda r: (r["报告期"], r["统一社会信用代码"]))
    ytd = {k: Decimal(r["工业总产值_累计_千元"]) * 1000 for k, r in industry.items()}

    def quarter(uscc: str, year: int) -> Decimal:
        end = next((ytd[(f"{year}{m:02d}", uscc)] for m in (12, 11, 10) if (f"{year}{m:02d}", uscc) in ytd), None)
        return Decimal(0) if end is None else end - ytd.get((f"{year}09", uscc), Decimal(0))

    latest_dir = max(stats.glob("stats_enterprise_*.csv"))
    directory = {r["统一社会信用代码"]: r for r in read_csv(latest_dir, "gb18030")}
    return {"q4": {u: quarter(u, 2024) for u in directory}, "q4b": {u: quarter(u, 2023) for u in directory},
            "directory": directory, "planted": summary.planted}


def test_every_delivered_file_is_in_the_manifest_and_rejections_have_reasons(pipeline):
    tmp, summary, *_ = pipeline
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        manifest = {r[0] for r in con.execute("select file_name from raw._manifest").fetchall()}
        rejected = con.execute("select file_name, line, field, reason from raw._rejected_rows").fetchall()
        counts = con.execute("select sum(rows_read), sum(rows_accepted), sum(rows_rejected) from raw._manifest").fetchone()
    assert manifest == {Path(f).name for f in summary.files}
    assert rejected and all(r[3] for r in rejected)
    assert any(r[2] == "uscc" and r[3].startswith("invalid USCC") for r in rejected)
    assert counts[0] == counts[1] + counts[2]


def test_second_refresh_ingests_nothing_again(pipeline):
    tmp, _, _, second, in_quarter = pipeline
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.stats_industry").fetchone()[0] == in_quarter["raw_rows"]
        assert con.execute("select count(*) from raw._manifest").fetchone()[0] == in_quarter["manifest"]
    # The default as-of is the latest data date: the last Monday power delivery.
    assert "refresh as of 2025-01-27" in second.stdout


def test_second_refresh_rebuilds_what_new_rows_reach_and_carries_the_other_tests(pipeline, monkeypatch):
    """The second run's as-of date brings December's and January's deliveries of every feed but the
    registers, whose files did not change: dbt rebuilds the models of the feeds and of the registers
    with rows dated between the two as-of dates (cut by their own dates, they now show them); the
    other register models are reported not rebuilt, and their tests carry the first run's results,
    so both runs report every model and every test."""
    import dagster as dg

    from dagster_project.lib.dbt_selection import ROW_DATED_SOURCES

    tmp, *_ = pipeline
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        second_as_of = con.execute("select max(as_of) from raw._dbt_builds").fetchone()[0]
        newly_dated = {s for s, column in ROW_DATED_SOURCES.items() if con.execute(
            f"select count(*) from raw.{s} where try_cast({column} as date) > ? and try_cast({column} as date) <= ?",
            [IN_Q4, second_as_of]).fetchone()[0]}
    assert "registers_loans" not in newly_dated, "the kept models below need one register without new dates"
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        second, first = instance.get_runs()  # newest first

        def step_events(run, kind):
            return [e for e in instance.all_logs(run.run_id, of_type=kind) if e.step_key == "warehouse_models"]

        built = {run.run_id: step_events(run, dg.DagsterEventType.ASSET_MATERIALIZATION) for run in (first, second)}
        checks = {run.run_id: step_events(run, dg.DagsterEventType.ASSET_CHECK_EVALUATION) for run in (first, second)}
        plan = [e.user_message for e in instance.all_logs(second.run_id) if "dbt build of" in e.user_message]
    assert len(built[first.run_id]) == len(built[second.run_id]) > 30
    assert len(checks[first.run_id]) == len(checks[second.run_id]) > 100
    assert plan and "stats_industry" in plan[0], plan
    rebuilt_sources = set(plan[0].split(":")[0].removeprefix("dbt build of ").split(", "))
    assert {s for s in rebuilt_sources if s.startswith("registers_")} == newly_dated, plan
    kept = {e.dagster_event.asset_key.path[-1] for e in built[second.run_id]
            if e.dagster_event.event_specific_data.materialization.metadata.get("rebuilt") == dg.BoolMetadataValue(False)}
    assert {"fct_loans", "stg_registers__loans"} <= kept
    assert not {"fct_enterprise_quarter", "stg_stats__industry", "fct_power_month"} & kept
    carried = [e.dagster_event.event_specific_data for e in checks[second.run_id]
               if (e.dagster_event.event_specific_data.description or "").startswith(f"carried over from run {first.run_id}")]
    assert carried and {c.asset_key.path[-1] for c in carried} <= kept


def test_dbt_artifacts_of_the_last_run_sit_next_to_the_warehouse(pipeline):
    from dagster_project.paths import DBT_PROJECT_DIR

    tmp, *_ = pipeline
    target = tmp / "dbt_target" / "wh"
    run_results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    assert run_results["args"]["vars"] == {"new_destination_lookback_months": 12}  # the catalogue's M22 look-back
    staged = (target / "compiled" / "gxindustry" / "models" / "staging" / "stg_stats__industry.sql").read_text("utf-8")
    assert "cast('2025-01-27' as date)" in staged, "the second run's as-of date, in place of the first's"
    started = (tmp / "landing").stat().st_mtime
    left = [p for p in (DBT_PROJECT_DIR / "target").glob("warehouse_models-*") if p.stat().st_mtime >= started]
    assert not left, f"runs left dbt folders in the project: {left}"


def test_v2_supersedes_by_key(pipeline):
    tmp, *_ = pipeline
    v2 = tmp / "landing" / "stats" / "stats_industry_202409_v2.csv"
    [corrected] = read_csv(v2, "gb18030")
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        versions = con.execute("select count(*) from raw.stats_industry where uscc = ? and report_month = '202409'",
                               [corrected["统一社会信用代码"]]).fetchone()[0]
        staged = con.execute("select output_ytd_yuan, source_file from staging.stg_stats__industry "
                             "where uscc = ? and report_month = date '2024-09-01'", [corrected["统一社会信用代码"]]).fetchone()
    assert versions == 2  # both versions kept in raw
    assert staged == (Decimal(corrected["工业总产值_累计_千元"]) * 1000, v2.name)


def test_q4_output_and_yoy_match_the_files(pipeline, expected):
    tmp, *_ = pipeline
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        marts = {r[0]: r[1:] for r in con.execute(
            "select uscc, output_yuan, base_output_yuan, output_yoy from marts.fct_enterprise_quarter "
            "where quarter_start = date '2024-10-01'").fetchall()}
    checked = 0
    for uscc, q4 in expected["q4"].items():
        if uscc in marts and q4 > 0:
            assert marts[uscc][0] == q4, uscc
            q4b = expected["q4b"][uscc]
            if q4b > 0:
                assert marts[uscc][1] == q4b
                assert marts[uscc][2] == pytest.approx(float(q4 / q4b - 1))
            checked += 1
    assert checked >= 40


def _m02_growth(q4: Decimal, q4b: Decimal, difficult: bool) -> Decimal | None:
    factor = Decimal("0.6") if difficult else Decimal(1)
    if q4b > 0 and q4 >= 5000 * WAN * factor and q4 >= q4b * (1 + Decimal("0.1") * factor):
        return min(Decimal("0.01") * (q4 - q4b), 200 * WAN).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return None


def test_m02_growth_awards_match_a_hand_computation(pipeline, expected):
    tmp, *_ = pipeline
    hand = {}
    for uscc, row in expected["directory"].items():
        amount = _m02_growth(expected["q4"][uscc], expected["q4b"][uscc], row["行业代码"].startswith(DIFFICULT_PREFIXES))
        if amount is not None:
            hand[uscc] = amount
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        got = dict(con.execute("select uscc, amount_yuan from marts.policy_awards "
                               "where scheme_id = 'M02.growth' and scenario = 'base' and eligible").fetchall())
    assert got == hand
    planted = expected["planted"]
    assert planted["growth_yes"] in got and planted["growth_difficult_yes"] in got
    assert planted["growth_low_output"] not in got and planted["growth_not_difficult"] not in got


def test_m23_awards_match_the_loan_register(pipeline):
    tmp, *_ = pipeline
    loans = {}
    for name in ("registers_loans.xlsx", "registers_loans_v2.xlsx"):
        path = tmp / "landing" / "registers" / name
        if not path.exists():
            continue
        rows = list(load_workbook(path, read_only=True, data_only=True)["桂惠贷"].iter_rows(values_only=True))
        at = next(i for i, r in enumerate(rows) if "贷款银行" in [str(v or "").strip() for v in r])
        header = [str(v or "").strip() for v in rows[at]]
        for r in rows[at + 1:]:
            if any(v not in (None, "") for v in r):
                rec = dict(zip(header, r))
                key = (str(rec["统一社会信用代码"]).strip(), str(rec["贷款银行"]).strip(), str(rec["放款日期"])[:10])
                loans[key] = rec
    per_enterprise = defaultdict(Decimal)
    for (uscc, _, disbursed), rec in loans.items():
        if str(rec["产品"]).strip() != "工业流动资金贷" or not ("2024-10-01" <= disbursed <= "2024-12-31"):
            continue
        days = (date.fromisoformat(str(rec["到期日期"])[:10]) - date.fromisoformat(disbursed)).days
        rate = min(Decimal("0.02"), Decimal(str(rec["年利率_百分比"]).strip()) / 100)
        per_enterprise[uscc] += Decimal(str(rec["贷款金额_万元"]).strip()) * WAN * rate * min(days, 365) / 365
    hand = {u: min(v, 150 * WAN).quantize(Decimal("0.01"), ROUND_HALF_UP) for u, v in per_enterprise.items()}
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        got = dict(con.execute("select uscc, amount_yuan from marts.policy_awards "
                               "where scheme_id = 'M23' and scenario = 'base' and eligible").fetchall())
    assert hand and got == hand


def test_forecast_inside_the_quarter_and_actuals_after(pipeline):
    tmp, _, _, _, in_quarter = pipeline
    during = dict(in_quarter["budget"])
    assert during["low"] <= during["base"] <= during["high"] and during["low"] < during["high"]
    with duckdb.connect(str(tmp / "wh.duckdb"), read_only=True) as con:
        after = dict(con.execute("select scenario, sum(amount_yuan) from marts.policy_budget group by 1").fetchall())
        per_scheme = con.execute("select count(distinct (beneficiaries, amount_yuan)) from marts.policy_budget "
                                 "group by scheme_id having count(distinct (beneficiaries, amount_yuan)) > 1").fetchall()
        kpis = con.execute("select count(distinct measure_id) from marts.policy_kpis").fetchone()[0]
        budget_measures = {r[0] for r in con.execute("select distinct measure_id from marts.policy_budget").fetchall()}
        kpi_measures = {r[0] for r in con.execute("select distinct measure_id from marts.policy_kpis").fetchall()}
    assert after["low"] == after["base"] == after["high"] and per_scheme == []
    assert kpis >= 25
    assert budget_measures | kpi_measures == {f"M{n:02d}" for n in range(1, 35)}
