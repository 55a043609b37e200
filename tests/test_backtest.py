"""The backtest's arithmetic: which days it replays, how a forecast is scored, what the verdict says."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.lib.forecast.backtest import (TOTAL, Forecast, arrivals_by_name, code_fingerprint, mondays,
                                                  outcome_day, read_arrivals, score)
from dagster_project.lib.forecast.backtest_report import markdown, verdict


def test_mondays_of_a_quarter_and_the_outcome_day():
    weeks = mondays(date(2023, 10, 1), date(2023, 12, 31))
    assert weeks[0] == date(2023, 10, 2) and weeks[-1] == date(2023, 12, 25) and len(weeks) == 13
    assert outcome_day(2023) == date(2024, 1, 15)  # December's statistics have arrived


def forecast(scheme, low, base, high, week=6, method="model", case="c"):
    return Forecast(case, 2024, date(2024, 11, 4), week, method, scheme, low, base, high)


@pytest.mark.parametrize("low, base, high, covered, interval", [
    (90.0, 100.0, 110.0, True, 20.0),  # inside: the width
    (100.0, 105.0, 110.0, True, 10.0),  # on the lower bound: inside
    (101.0, 105.0, 110.0, False, 9.0 + 2 / 0.2 * 1.0),  # 1 below: width + 2/α × 1
    (80.0, 85.0, 99.0, False, 19.0 + 2 / 0.2 * 1.0),  # 1 above
])
def test_coverage_and_interval_score_relative_to_the_outcome(low, base, high, covered, interval):
    [s] = score([forecast("M24", low, base, high)], {("c", 2024, "M24"): Decimal(100)}, alpha=0.2, scored_by="v1")
    assert s.covered is covered
    assert s.base_error == pytest.approx(base / 100 - 1)
    assert s.width == pytest.approx((high - low) / 100)
    assert s.interval_score == pytest.approx(interval / 100)


def test_an_outcome_of_zero_has_no_relative_scores_but_still_coverage():
    [s] = score([forecast("M11", 0.0, 0.0, 0.0)], {("c", 2024, "M11"): Decimal(0)}, alpha=0.2, scored_by="v1")
    assert s.covered and s.base_error is None and s.interval_score is None


def test_the_verdict_reads_each_target_from_the_right_forecasts():
    outcome = {("c", 2024, TOTAL): Decimal(100), ("c", 2024, "M24"): Decimal(100)}
    forecasts = [
        forecast(TOTAL, 90, 104, 110, week=6), forecast(TOTAL, 70, 130, 140, week=6, method="naive"),
        forecast(TOTAL, 50, 80, 90, week=2),  # early weeks do not count for the error target
        forecast(TOTAL, 50, 80, 90, week=2, method="naive"),
        forecast("M24", 95, 100, 105), forecast("M24", 101, 102, 103, week=7),
    ]
    v = verdict(score(forecasts, outcome, alpha=0.2, scored_by="v1"))
    assert v["base error of the total from week 6"] == ("largest |error| 4.0% (+4.0%, c 2024 week 6) over 1 forecasts (target ≤ 5%)", True)
    assert v["80% interval coverage (schemes)"][1] is False  # 1 of 2 scheme forecasts covered: 50%
    assert v["half-width of the total's interval in week 6"] == (
        "median 10.0% over 1 cases, the outcome inside in 1 (target ≤ 15%)", True)
    assert v["interval score of the total vs naive"] == ("better in 50% of 2 weeks (target ≥ 90%)", False)
    table = markdown(score(forecasts, outcome, alpha=0.2, scored_by="v1"), "gxindustry backtest")
    assert "Produced by `gxindustry backtest` (forecast code v1: `backtest.code_fingerprint`)." in table and "| M24 | 2 | 0 |" in table


def test_the_week_table_reads_each_monday_over_the_cases():
    """Median |error| and mean interval score per Monday, beside the per-forecast counts."""
    outcome = {(case, 2024, TOTAL): Decimal(100) for case in ("c1", "c2", "c3")}
    forecasts = [forecast(TOTAL, 90, 104, 110, case="c1"), forecast(TOTAL, 80, 88, 100, case="c2"),
                 forecast(TOTAL, 95, 98, 99, case="c3"),  # outside: IS 0.04 + 10 × 0.01 = 0.14
                 forecast(TOTAL, 70, 100, 130, case="c1", method="naive"),
                 forecast(TOTAL, 70, 100, 130, case="c2", method="naive"),
                 forecast(TOTAL, 70, 100, 130, case="c3", method="naive")]
    table = markdown(score(forecasts, outcome, alpha=0.2, scored_by="v1"), "gxindustry backtest")
    [row] = [line for line in table.splitlines() if line.startswith("| 6 | 3 |")]
    cells = row.strip("| ").split(" | ")
    # median error −2%, median |error| 4% (of 4, 12, 2), max 12%; IS (0.20, 0.20, 0.14) against 0.60 each
    assert cells[2:5] == ["-2.0%", "4.0%", "12.0%"]
    assert cells[-2:] == ["3/3", "0.180 (0.600)"]


def test_the_targets_are_also_judged_per_data_process():
    """A forecast good on the generator and bad on another process must not hide in the pooled verdict."""
    outcome = {(case, 2024, TOTAL): Decimal(100) for case in ("generator-1", "generator-2", "other-process-1")}
    forecasts = [forecast(TOTAL, 95, 101, 105, case="generator-1"), forecast(TOTAL, 95, 97, 110, case="generator-2"),
                 forecast(TOTAL, 110, 120, 130, case="other-process-1")]
    table = markdown(score(forecasts, outcome, alpha=0.2, scored_by="v1"), "gxindustry backtest")
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines() if line.startswith("| ")}
    # the largest error is an under-forecast: its size unsigned, its sign and case beside it
    assert "largest |error| 3.0% (-3.0%, generator-2 2024 week 6) over 2 forecasts (met)" in rows["generator"]
    assert "largest |error| 20.0% (+20.0%, other-process-1 2024 week 6) over 1 forecasts (not met)" in rows["other-process"]
    case_rows = [line for line in table.splitlines() if line.startswith("| other-process-1 | 2024 |")]
    assert len(case_rows) == 1 and "+20.0%*" in case_rows[0]  # outside its interval: marked


def test_arrivals_are_read_flat_or_under_files_and_a_bad_day_is_named(tmp_path):
    flat = tmp_path / "flat.json"
    flat.write_text('{"power/power_daily_20241007.csv": "2024-10-07"}', encoding="utf-8")
    nested = tmp_path / "nested.json"  # what benchmarks/other_process.py writes
    nested.write_text('{"seed": 1, "files": {"power/power_daily_20241007.csv": "2024-10-07"}}', encoding="utf-8")
    expected = {"power/power_daily_20241007.csv": date(2024, 10, 7)}
    assert read_arrivals(flat) == expected
    assert read_arrivals(nested) == expected
    bad = tmp_path / "bad.json"
    bad.write_text('{"files": {"stats/stats_industry_202410.csv": "15/11/2024"}}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json: the delivery day of 'stats/stats_industry_202410\.csv' is '15/11/2024'"):
        read_arrivals(bad)
    empty = tmp_path / "empty.json"
    empty.write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="empty.json: expected"):
        read_arrivals(empty)


def test_the_cli_refuses_a_bad_arrivals_file_before_replaying_anything(tmp_path, capsys):
    from dagster_project.cli import main

    landing = tmp_path / "landing"
    landing.mkdir()
    arrivals = tmp_path / "arrivals.json"
    arrivals.write_text("not json", encoding="utf-8")
    workdir = tmp_path / "work"
    with pytest.raises(SystemExit) as stop:
        main(["backtest", "--seeds", "--source", str(landing), str(arrivals), "--workdir", str(workdir)])
    assert stop.value.code == 2
    assert "arrivals.json: not a readable arrivals JSON" in capsys.readouterr().err
    assert not workdir.exists()


def test_without_an_arrivals_file_each_delivery_arrives_when_its_name_says_it_was_due(tmp_path):
    """The day a live run first counts a delivery, never earlier: a month's statistics on the 15th
    of the next month, customs on the 10th, a weekly power file on its date, a register from the
    start (its rows are cut by their own dates). A correction's day is not in its name: left out,
    named, as is what ingestion would not read as a delivery."""
    for name in ("stats/stats_industry_202410.csv", "stats/stats_industry_202410_v2.csv",
                 "customs/customs_export_202412.csv", "power/power_daily_20241007.csv",
                 "registers/registers_loans.xlsx", "stats/notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    arrivals, left_out = arrivals_by_name(tmp_path)
    assert arrivals == {"stats/stats_industry_202410.csv": date(2024, 11, 15),
                        "customs/customs_export_202412.csv": date(2025, 1, 10),
                        "power/power_daily_20241007.csv": date(2024, 10, 7),
                        "registers/registers_loans.xlsx": date(1970, 1, 1)}
    assert len(left_out) == 2
    assert left_out[0].startswith("stats/notes.txt: ") and "name does not match" in left_out[0]
    assert left_out[1].startswith("stats/stats_industry_202410_v2.csv: a correction")


def test_the_cli_takes_a_landing_dir_and_at_most_one_arrivals_file(tmp_path, capsys):
    from dagster_project.cli import main

    workdir = tmp_path / "work"
    with pytest.raises(SystemExit) as stop:
        main(["backtest", "--seeds", "--source", str(tmp_path), "a.json", "b.json", "--workdir", str(workdir)])
    assert stop.value.code == 2
    assert "--source takes a landing dir and at most one arrivals JSON" in capsys.readouterr().err
    assert not workdir.exists()


def test_runs_side_by_side_are_reported_as_one(tmp_path, capsys):
    """`--scores` reads back what each run wrote (every value as it was, an empty relative score as
    None) and reports the runs together exactly as one run over all their cases would; a file that
    is not a backtest.csv is named with its line, and nothing is written."""
    from dagster_project.cli import main
    from dagster_project.lib.forecast.backtest import read_csv, report, write_csv

    outcome = {("generator-1", 2024, TOTAL): Decimal(100), ("generator-1", 2024, "M11"): Decimal(0),
               ("other-process-1", 2024, TOTAL): Decimal(300)}
    gen = score([forecast(TOTAL, 95, 101, 105, case="generator-1"), forecast("M11", 0, 0, 0, case="generator-1"),
                 forecast(TOTAL, 90, 99, 130, case="generator-1", method="naive")], outcome, alpha=0.2, scored_by="v1")
    other = score([forecast(TOTAL, 310, 320, 330, case="other-process-1", week=7)], outcome, alpha=0.2, scored_by="v1")
    write_csv(gen, tmp_path / "gen.csv")
    write_csv(other, tmp_path / "other.csv")
    assert read_csv(tmp_path / "gen.csv") == gen and gen[1].base_error is None and gen[0].covered is True

    with pytest.raises(SystemExit) as stop:
        main(["backtest", "--scores", str(tmp_path / "gen.csv"), str(tmp_path / "other.csv"),
              "--out", str(tmp_path / "out")])
    assert stop.value.code == 0
    whole = report(gen + other, "x")
    assert (tmp_path / "out" / "backtest.md").read_text(encoding="utf-8").split("\n", 1)[1] == \
        whole.markdown.split("\n", 1)[1]
    assert read_csv(tmp_path / "out" / "backtest.csv") == gen + other
    assert (tmp_path / "out" / "backtest.png").stat().st_size > 0
    capsys.readouterr()

    broken = (tmp_path / "gen.csv").read_text(encoding="utf-8").replace(",True,", ",yes,", 1)
    (tmp_path / "broken.csv").write_text(broken, encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        main(["backtest", "--scores", str(tmp_path / "broken.csv"), "--out", str(tmp_path / "none")])
    assert stop.value.code == 2
    assert f"{tmp_path / 'broken.csv'}, line 2: not a score" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_scores_of_different_forecast_code_are_not_reported_together(tmp_path, capsys):
    """A model and a naive (or two data processes) scored by different code compared are no
    measurement: the published backtest once held naive rows 30 commits older than its model rows.
    `--scores` refuses them, names both versions and writes nothing."""
    from dagster_project.cli import main
    from dagster_project.lib.forecast.backtest import write_csv

    outcome = {("generator-1", 2024, TOTAL): Decimal(100)}
    write_csv(score([forecast(TOTAL, 95, 101, 105, case="generator-1")], outcome, 0.2, "aaaa"), tmp_path / "m.csv")
    write_csv(score([forecast(TOTAL, 90, 99, 130, case="generator-1", method="naive")], outcome, 0.2, "bbbb"),
              tmp_path / "n.csv")
    with pytest.raises(SystemExit) as stop:
        main(["backtest", "--scores", str(tmp_path / "m.csv"), str(tmp_path / "n.csv"), "--out", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert "2 versions of the forecast code (aaaa, bbbb)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_code_fingerprint_follows_the_forecast_and_the_catalogue_not_the_bytecode(tmp_path):
    import shutil

    from dagster_project.lib.forecast import backtest

    lib = Path(backtest.__file__).resolve().parents[1]
    for folder in ("forecast", "measures"):
        shutil.copytree(lib / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    assert code_fingerprint(tmp_path) == code_fingerprint()
    (tmp_path / "forecast" / "__pycache__").mkdir(exist_ok=True)
    (tmp_path / "forecast" / "__pycache__" / "series.cpython-311.pyc").write_bytes(b"compiled")
    assert code_fingerprint(tmp_path) == code_fingerprint()
    catalogue = next((tmp_path / "measures" / "catalogues").glob("*.yaml"))
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + "\n# a change\n", encoding="utf-8")
    changed = code_fingerprint(tmp_path)
    assert changed != code_fingerprint()
    (tmp_path / "forecast" / "series.py").write_text("", encoding="utf-8")
    assert code_fingerprint(tmp_path) not in (changed, code_fingerprint())


def test_the_published_backtest_is_one_code_version_with_both_methods_on_every_monday():
    """docs/backtest/backtest.csv, which the 预测方法 sheet cites: one forecast code scored all of it
    (the one its backtest.md names), and every model forecast has the naive one of its Monday and
    scheme beside it, so that each comparison is like with like."""
    from dagster_project.lib.forecast.backtest import METHODS, read_csv
    from dagster_project.paths import BACKTEST_CSV

    scores = read_csv(BACKTEST_CSV)
    [version] = {s.scored_by for s in scores}
    assert f"forecast code {version}" in (
        BACKTEST_CSV.with_name("backtest.md").read_text(encoding="utf-8"))
    keys = {m: {(s.case, s.year, s.week, s.scheme_id) for s in scores if s.method == m} for m in METHODS}
    assert keys["model"] == keys["naive"] and len(keys["model"]) == len(scores) / 2


def test_kept_replays_are_found_by_case_and_year_and_an_empty_folder_is_named(tmp_path, capsys):
    """`--rescore` takes a year of a case only where every replayed day of it has its snapshot."""
    from dagster_project.cli import main
    from dagster_project.lib.forecast.backtest import kept_replays, replayed_days

    with pytest.raises(ValueError, match="no kept replay"):
        kept_replays(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["backtest", "--rescore", str(tmp_path)])
    assert stop.value.code == 2 and "no kept replay" in capsys.readouterr().err
    for label, years in (("generator-1", [2023, 2024]), ("other-process-2", [2024])):
        folder = tmp_path / "replays" / label / "snapshots"
        folder.mkdir(parents=True)
        for day in replayed_days(years):
            (folder / f"{day}.duckdb").touch()
    (tmp_path / "replays" / "generator-1" / "snapshots" / "2023-12-25.duckdb").unlink()  # a Monday of 2023 lost
    (tmp_path / "replays" / "generator-1" / "snapshots" / "notes.duckdb").touch()
    cases = kept_replays(tmp_path)
    assert [(label, years, len(days)) for label, days, years in cases] == [
        ("generator-1", [2024], 27), ("other-process-2", [2024], 14)]
    with pytest.raises(SystemExit) as stop:
        main(["backtest", "--rescore", str(tmp_path), "--source", str(tmp_path)])
    assert stop.value.code == 2 and "no --source with it" in capsys.readouterr().err
