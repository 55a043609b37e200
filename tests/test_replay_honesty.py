"""A replay of a past day sees nothing after it: any feed, any register, any correction.

The same replay runs twice over the files of one source: once as delivered, once with everything
that arrived after the day poisoned (amounts tripled, re-reads of earlier power days with other
values, register rows dated after the day with huge amounts). What the measures engine reads on
that day must not differ by a single value, and neither must the forecast and the budget made from
it. A third warehouse gets every poisoned file at once and is built as of the day, as `refresh
--as-of` on a full landing dir would: the as-of cut alone must hide the same rows.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import openpyxl
import pytest

from dagster_project.lib.forecast import replay
from dagster_project.lib.generate import generate_feeds
from dagster_project.lib.ingest import FEEDS, datasets_of
from dagster_project.lib.ingest.loader import ingest_feed
from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.engine import ENGINE_INPUTS
from dagster_project.lib.measures.parameters import Parameters
from dagster_project.lib.measures.weekly import forecast_and_evaluate

pytestmark = pytest.mark.e2e

DAY = date(2024, 11, 11)  # a Monday in the quarter: September reported, October not yet
MONEY_HEADERS = ("千元", "万元", "_元", "千瓦时", "美元")
# Bookkeeping of the incremental models: when they were built, not what they hold.
BOOKKEEPING = {"fct_power_month": "exclude (built_as_of, built_loaded_to)"}
# Per register: the date of a row, an amount, and a field that keeps each added row's key distinct.
REGISTER_DATES = {"registers_loans.xlsx": ("放款日期", "贷款金额_万元", "贷款银行"),
                  "registers_applications.xlsx": ("举办日期", "申报费用_元", "申报编号"),
                  "registers_supply_links.xlsx": ("首次供货日期", "合同金额_万元", "采购方名称")}


def _encoding(feed: str) -> str:
    return datasets_of(feed)[0].encoding or "utf-8"


def _poison_csv(path: Path, feed: str, extra_rows: list[list[str]] | None = None) -> None:
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode(_encoding(feed)) if bom else raw.decode(_encoding(feed))
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    money = [i for i, h in enumerate(header) if any(h.endswith(m) for m in MONEY_HEADERS)]
    for row in body:
        for i in money:
            try:
                row[i] = str(round(float(row[i]) * 3, 2))
            except (ValueError, IndexError):
                pass
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body, *(extra_rows or [])])
    data = out.getvalue().encode(_encoding(feed))
    path.write_bytes((b"\xef\xbb\xbf" + data) if bom else data)


def _earlier_power_rows(source: Path, arrivals: dict[str, date]) -> list[list[str]]:
    """Readings of days before DAY, as a later delivery would re-read them (other quantities)."""
    name = max(n for n, d in arrivals.items() if n.startswith("power/power_daily_") and d <= DAY)
    rows = list(csv.reader(io.StringIO((source / name).read_bytes().decode("utf-8-sig"))))
    header = rows[0]
    kwh = header.index("用电量_千瓦时")
    again = []
    for row in rows[1:50]:
        if row[kwh]:
            row = list(row)
            row[kwh] = str(round(float(row[kwh]) * 7 + 1, 3))
            again.append(row)
    return again


def _poison_register(path: Path) -> None:
    date_header, amount_header, key_header = REGISTER_DATES[path.name]
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    def cells(r: int) -> list[str]:
        return [str(c.value).strip() if c.value is not None else "" for c in ws[r]]

    header_row = next(r for r in range(1, 6) if date_header in cells(r))
    headers = cells(header_row)
    template = [c.value for c in ws[header_row + 1]]
    for k in range(1, 20):
        row = list(template)
        row[headers.index(date_header)] = (DAY + timedelta(days=k)).isoformat()
        row[headers.index(amount_header)] = 999_999
        row[headers.index(key_header)] = f"{row[headers.index(key_header)]}-{k}"
        ws.append(row)
    wb.save(path)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    base = tmp_path_factory.mktemp("replay-honesty")
    clean = base / "clean"
    summary = generate_feeds(clean, scale="tiny", seed=3, as_of=date(2025, 1, 20), history_start=date(2023, 1, 1))
    poisoned = base / "poisoned"
    shutil.copytree(clean, poisoned)
    later = [n for n, d in summary.arrivals.items() if d > DAY]
    assert any(n.startswith("stats/") for n in later) and any(n.startswith("power/power_daily") for n in later)
    re_reads = _earlier_power_rows(clean, summary.arrivals)
    for name in later:
        feed = name.split("/")[0]
        if name.endswith(".csv"):
            _poison_csv(poisoned / name, feed, re_reads if name.startswith("power/power_daily_") else None)
    for name in REGISTER_DATES:
        _poison_register(poisoned / "registers" / name)
    return base, summary.arrivals


def _tables(snapshot: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return {t: con.execute(f"select * {BOOKKEEPING.get(t, '')} from marts.{t} order by all").fetchall()
                for t in ENGINE_INPUTS}


def _budget(snapshot: Path, tmp: Path) -> list[tuple]:
    work = tmp / f"{snapshot.parent.parent.name}.duckdb"
    shutil.copyfile(snapshot, work)
    catalogue = load_catalogue()
    with duckdb.connect(str(work)) as con:
        forecast_and_evaluate(con, catalogue, Parameters(catalogue, {"forecast.draws": 50}, "test"), DAY)
        return con.execute("select * from marts.policy_budget_draws order by all").fetchall()


def test_a_replayed_day_reads_nothing_that_arrived_or_happened_after_it(sources, tmp_path):
    base, arrivals = sources
    params = Parameters(load_catalogue())
    clean = replay.replay(base / "clean", arrivals, [DAY], tmp_path / "clean", params)[DAY]
    poisoned = replay.replay(base / "poisoned", arrivals, [DAY], tmp_path / "poisoned", params)[DAY]
    seen, with_poison = _tables(clean), _tables(poisoned)
    assert sum(len(rows) for rows in seen.values()) > 1000, "the day must have data for the test to mean anything"
    for table in ENGINE_INPUTS:
        assert with_poison[table] == seen[table], f"marts.{table} as of {DAY} saw a row from after that day"
    assert _budget(poisoned, tmp_path) == _budget(clean, tmp_path)


def test_the_as_of_cut_alone_hides_what_arrived_later(sources, tmp_path):
    """Everything landed at once (corrections included, all due before the day) and built as of the day."""
    base, arrivals = sources
    params = Parameters(load_catalogue())
    clean = replay.replay(base / "clean", arrivals, [DAY], tmp_path / "clean", params)[DAY]
    warehouse = tmp_path / "at-once.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        for feed in FEEDS:
            ingest_feed(con, base / "poisoned", feed, as_of=DAY)
        # The poison is in raw: only the as-of cut can keep it out of the marts.
        later_loans = con.execute("select count(*) from raw.registers_loans where disbursed_on > ?",
                                  [DAY.isoformat()]).fetchone()[0]
        later_stats = con.execute("select count(*) from raw.stats_industry where _available_on > ?", [DAY]).fetchone()[0]
        re_read = con.execute("select count(*) from raw.power_daily where _available_on > ? and reading_date <= ?",
                              [DAY, DAY.isoformat()]).fetchone()[0]
        assert later_loans >= 19 and later_stats > 0 and re_read > 0
    replay.dbt_build_models(warehouse, DAY, params, tmp_path / "dbt_target")
    with duckdb.connect(str(warehouse)) as con:
        replay.snapshot_inputs(con, tmp_path / "at-once-snapshot.duckdb")
    assert _tables(tmp_path / "at-once-snapshot.duckdb") == _tables(clean)


def test_a_forecast_on_a_replayed_days_snapshot_is_the_forecast_of_that_days_live_run(sources, tmp_path):
    """September's project library arrives late, after the day: the live run of the day forecasts
    September's projects from August (`Horizon.as_delivered`, which reads the manifest). The
    backtest forecasts on the day's snapshot; it must make the same forecast, draw for draw. (Until
    2026-12-06 the snapshot held the marts alone, and its forecast took September as delivered and
    every project as stopped.)"""
    base, arrivals = sources
    late = "stats/stats_projects_202409.csv"
    assert late in arrivals
    delayed = {**arrivals, late: DAY + timedelta(days=9)}
    snapshot = replay.replay(base / "clean", delayed, [DAY], tmp_path / "late", Parameters(load_catalogue()))[DAY]
    catalogue = load_catalogue()
    budgets = {}
    for name, path in (("live", tmp_path / "late" / "warehouse.duckdb"), ("snapshot", snapshot)):
        work = tmp_path / f"{name}-forecast.duckdb"
        shutil.copyfile(path, work)
        with duckdb.connect(str(work)) as con:
            forecast_and_evaluate(con, catalogue, Parameters(catalogue, {"forecast.draws": 50}, "test"), DAY)
            budgets[name] = con.execute("select * from marts.policy_budget_draws order by all").fetchall()
            projects = con.execute("select count(distinct project_code) from forecast.project_draws").fetchone()[0]
        assert projects > 0, "the projects that reported August must be forecast"
    assert budgets["snapshot"] == budgets["live"]


def test_every_reported_figure_is_its_own_distribution(sources, tmp_path):
    """On the replayed day (quarter open): low ≤ base ≤ high in every budget and roll-up row, simulated
    beneficiaries never listed, probabilities in [0, 1], a rerun replaces its day in the history."""
    base, arrivals = sources
    snapshot = replay.replay(base / "clean", arrivals, [DAY], tmp_path / "clean", Parameters(load_catalogue()))[DAY]
    work = tmp_path / "day.duckdb"
    shutil.copyfile(snapshot, work)
    catalogue = load_catalogue()
    params = Parameters(catalogue, {"forecast.draws": 60}, "test")
    with duckdb.connect(str(work)) as con:
        for _ in range(2):
            result = forecast_and_evaluate(con, catalogue, params, DAY)
        assert result.draws == 60
        for table, key in (("policy_budget", "scheme_id"), ("policy_budget_rollup", "level, key"),
                           ("policy_budget_components", "scheme_id, component")):
            rows = con.execute(f"""select {key}, min(amount_yuan) filter (where scenario = 'low') <=
                                          min(amount_yuan) filter (where scenario = 'base') and
                                          min(amount_yuan) filter (where scenario = 'base') <=
                                          min(amount_yuan) filter (where scenario = 'high')
                                   from marts.{table} group by all""").fetchall()
            assert rows and all(r[-1] for r in rows), table
        spread = con.execute("select sum(amount_yuan) filter (where scenario = 'high') - sum(amount_yuan) "
                             "filter (where scenario = 'low') from marts.policy_budget").fetchone()[0]
        assert spread > 0, "mid-quarter, the forecast must carry uncertainty"
        assert con.execute("select count(*) from marts.policy_awards where starts_with(coalesce(project_code, uscc), '~')"
                           ).fetchone()[0] == 0
        assert con.execute("select min(p_eligible) >= 0 and max(p_eligible) <= 1 and bool_and(p_chosen <= p_eligible) "
                           "from marts.policy_award_forecast").fetchone()[0]
        history = con.execute("select as_of, count(*) from marts.policy_budget_history group by all").fetchall()
        assert history == [(DAY, con.execute("select count(*) from marts.policy_budget").fetchone()[0])]
        total = dict(con.execute("select scenario, amount_yuan from marts.policy_budget_rollup where level = 'total'"
                                 ).fetchall())
        draws_total = sorted(r[0] for r in con.execute(
            "select sum(amount_yuan) from marts.policy_budget_draws group by draw").fetchall())
        assert total["base"] == draws_total[29] and total["low"] == draws_total[5] and total["high"] == draws_total[53]


def test_scoring_kept_replays_again_gives_the_scores_of_the_run_that_kept_them(sources, tmp_path, monkeypatch):
    """`gxindustry backtest --rescore` measures a forecast change on the replays of an earlier run:
    with the code unchanged it must reach that run's scores exactly (the same snapshots, the same
    draws), or a change it measures is partly its own doing. One Monday of Q4 2024 stands for the
    quarter, to keep the replay short."""
    from dagster_project.lib.forecast import backtest as bt

    base, arrivals = sources
    monkeypatch.setattr(bt, "mondays", lambda start, end: [DAY] if start.year == DAY.year else [])
    catalogue = load_catalogue()
    forecasts, outcomes = bt.run_case("clean", base / "clean", arrivals, [2024], tmp_path / "replays" / "clean",
                                      catalogue, progress=lambda _: None)
    assert {f.method for f in forecasts} == set(bt.METHODS) and outcomes[(2024, bt.TOTAL)] > 0
    ran = bt._scored(forecasts, {("clean", y, s): v for (y, s), v in outcomes.items()}, catalogue, "x").scores

    assert [(label, sorted(days), years) for label, days, years in bt.kept_replays(tmp_path)] == [
        ("clean", [DAY, bt.outcome_day(2024)], [2024])]
    again = bt.rescore(tmp_path, "x", progress=lambda _: None).scores
    assert again == ran
