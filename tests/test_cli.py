"""The command line: clear refusals before anything runs."""

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

GXINDUSTRY = str(Path(sys.executable).with_name("gxindustry"))


def run(*args, env_home: Path) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([GXINDUSTRY, *args], capture_output=True, text=True,
                          env=dict(os.environ, DAGSTER_HOME=str(env_home)))


def test_refresh_refuses_an_unknown_parameter_id(tmp_path):
    (tmp_path / "landing" / "power").mkdir(parents=True)
    (tmp_path / "landing" / "power" / "power_daily_20241125.csv").write_text("用电户号,日期,用电量_千瓦时,数据标志\n")
    params = tmp_path / "finance.yaml"
    params.write_text("M02.rat: 2\n", encoding="utf-8")
    result = run("refresh", "--landing", str(tmp_path / "landing"), "--warehouse", str(tmp_path / "wh.duckdb"),
                 "--params", str(params), env_home=tmp_path)
    assert result.returncode == 2
    assert "finance.yaml: unknown parameter id 'M02.rat' (did you mean M02.rate" in result.stderr
    assert not (tmp_path / "wh.duckdb").exists()


def test_refresh_says_the_parameter_overrides_it_runs_with(tmp_path):
    """Finance's file in force is said before the run, each value beside the catalogue's (the
    terminal said nothing of it; only 汇总 did, after the run)."""
    (tmp_path / "empty").mkdir()
    params = tmp_path / "finance.yaml"
    params.write_text("M02.rate: 6\nM02.cap: 60\n", encoding="utf-8")
    result = run("refresh", "--landing", str(tmp_path / "empty"), "--warehouse", str(tmp_path / "wh.duckdb"),
                 "--params", str(params), env_home=tmp_path)
    assert result.stdout == (f"parameter overrides from {params}: M02.rate = 6 % (catalogue: 1); "
                             "M02.cap = 60 万元 (catalogue: 200)\n")


def test_refresh_without_deliveries_says_what_to_do(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("refresh", "--landing", str(tmp_path / "empty"), "--warehouse", str(tmp_path / "wh.duckdb"),
                 env_home=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"gxindustry refresh: no deliveries in {tmp_path / 'empty'} (a feed's files go in "
                             f"<landing>/<feed>/; sample feeds: gxindustry generate --landing {tmp_path / 'empty'})\n")


def test_refresh_from_a_landing_folder_that_is_not_there_says_so_and_leaves_nothing(tmp_path):
    """A mistyped --landing read "no deliveries … run gxindustry generate first", and left the
    warehouse's folder behind with a lock file and logs/."""
    result = run("refresh", "--landing", str(tmp_path / "landnig"), "--warehouse", str(tmp_path / "wh" / "wh.duckdb"),
                 "--reports", str(tmp_path / "reports"), env_home=tmp_path / "home")
    assert result.returncode == 2
    assert result.stderr == (f"gxindustry refresh: there is no landing folder {tmp_path / 'landnig'} (--landing / "
                             f"GXINDUSTRY_LANDING; sample feeds: gxindustry generate --landing {tmp_path / 'landnig'})\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_generate_summarises_what_it_wrote_and_refuses_to_overwrite_it(tmp_path):
    first = run("generate", "--landing", str(tmp_path), "--scale", "tiny", env_home=tmp_path)
    assert first.returncode == 0
    # The summary counts what is on disk: each feed's files, each dataset's data rows.
    power_files = sorted((tmp_path / "power").glob("power_daily_*.csv"))
    daily_rows = sum(len(f.read_text(encoding="utf-8").splitlines()) - 1 for f in power_files)
    power_line = next(line for line in first.stdout.splitlines() if line.strip().startswith("power:"))
    assert power_line.strip().startswith(f"power: {len(list((tmp_path / 'power').iterdir()))} files")
    assert f"power_daily {daily_rows:,}" in power_line
    again = run("generate", "--landing", str(tmp_path), "--scale", "tiny", env_home=tmp_path)
    assert again.returncode == 2 and "gxindustry generate:" in again.stderr


def test_status_tells_freshness_and_the_last_run(tmp_path):
    import duckdb

    from dagster_project.lib.ingest import DATASETS
    from dagster_project.lib.ingest.loader import ensure_raw_tables

    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_tables(con, DATASETS)
        for feed, dataset, period in (("stats", "enterprise", "202410"), ("stats", "industry", "202410"),
                                      ("stats", "projects", "202410"), ("power", "daily", "20241118"),
                                      ("tax", "vat", "202409")):
            con.execute("insert into raw._manifest (file_name, feed, dataset, period, rows_accepted, rows_rejected) "
                        "values (?, ?, ?, ?, 10, 1)", [f"{feed}_{dataset}_{period}.csv", feed, dataset, period])
        # a weekly power file holds the days before its delivery day; one delivered after the as-of is not read
        for reading, available in (("2024-11-17", "2024-11-18"), ("2024-11-30", "2024-12-02")):
            con.execute("insert into raw.power_daily (account_no, reading_date, kwh, _available_on) values ('A', ?, '1', ?)",
                        [reading, available])
        con.execute("create schema marts; create table marts.policy_runs (as_of date, finished_at timestamp, "
                    "params_fingerprint varchar, beneficiaries integer, base_yuan decimal(18,2), low_yuan decimal(18,2),"
                    " high_yuan decimal(18,2))")
        con.execute("insert into marts.policy_runs values ('2024-11-25', '2024-11-25 08:00', 'abc', 7, 1000000, 900000, 1200000)")
    result = run("status", "--warehouse", str(warehouse), "--as-of", "2024-11-25", env_home=tmp_path)
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line[:1].isalpha()}
    assert "ok    up to 2024-10" in lines["stats"]
    assert "ok    up to 2024-11-18; readings to 2024-11-17" in lines["power"]  # the day the workbooks' 数据至 names
    assert "STALE up to 2024-09; expected the month 2024-10 by 2024-11-25" in lines["tax"]
    assert ("as of 2024-11-25: base 100.00万元 (P10–P90 90.00–120.00万元), 7 beneficiaries (distinct enterprises and "
            "projects), parameters abc") in result.stdout
    assert "checks not met" not in result.stdout  # no validation yet
    # without --as-of: the warehouse's own as-of (its last run), not the wall clock, and it says so
    default = run("status", "--warehouse", str(warehouse), env_home=tmp_path)
    assert "freshness as of 2024-11-25: the warehouse's as-of, the as-of of its last run" in default.stdout
    assert default.stdout == result.stdout.replace("the date given (--as-of)",
                                                   "the warehouse's as-of, the as-of of its last run; --live judges "
                                                   "against today's date")
    live = run("status", "--warehouse", str(warehouse), "--live", env_home=tmp_path)
    assert "today's date (--live" in live.stdout and "STALE" in live.stdout.split("stats", 1)[1].split("\n")[0]
    # read by a reader that stops before the end (`gxindustry status | head`; here one that reads
    # nothing, so that the write always fails): no traceback
    import os

    piped = subprocess.run(f"'{GXINDUSTRY}' status --warehouse '{warehouse}' | true", shell=True,
                           capture_output=True, text=True, env=dict(os.environ, DAGSTER_HOME=str(tmp_path)))
    assert piped.stderr == ""

    # a scheduled run that failed after the last good one is said, with its cause; one before it is not
    from dagster_project.lib.alerts import Alert, raise_alert

    for raised, cause in (("2024-11-25T07:00:00", "an older failure"), ("2024-12-02T07:05:00", "as_of '2024/12/02' "
                                                                          "is not a date YYYY-MM-DD")):
        raise_alert(Alert("r", "weekly_refresh", "2024/12/02", ["ingest_power"], error=cause, raised_at=raised),
                    tmp_path / "logs")
    failed = run("status", "--warehouse", str(warehouse), env_home=tmp_path).stdout
    assert "failed since the last good run" in failed
    assert "2024-12-02 07:05 as of 2024/12/02: as_of '2024/12/02' is not a date YYYY-MM-DD" in failed
    assert "an older failure" not in failed

    # checks not met in the latest validation: counted, with where to read them
    with duckdb.connect(str(warehouse)) as con:
        con.execute("""create view marts.dq_check_results_latest as select * from (values
                           ('raw_tax_vat', 'uscc_check_characters', 'warning', false),
                           ('raw_tax_vat', 'uscc_check_characters', 'warning', false),
                           ('raw_tax_vat', 'key_unique', 'warning', true))
                       t(suite, expectation, severity, success)""")
    checked = run("status", "--warehouse", str(warehouse), "--as-of", "2024-11-25", env_home=tmp_path).stdout
    assert ("checks not met in the latest validation of each delivery: 1 warning check(s) (1 expectation(s), "
            "2 result(s) per file or mart)") in checked


def test_status_names_a_measures_run_its_checks_stopped(tmp_path):
    """The measure tables hold a run whose measure checks failed (not recorded in policy_runs):
    status does not give that run's counts as the latest run's, and says it was stopped."""
    import duckdb

    from dagster_project.lib.ingest import DATASETS
    from dagster_project.lib.ingest.loader import ensure_raw_tables

    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_tables(con, DATASETS)
        # a weekly power file holds the days before its delivery day; one delivered after the as-of is not read
        for reading, available in (("2024-11-17", "2024-11-18"), ("2024-11-30", "2024-12-02")):
            con.execute("insert into raw.power_daily (account_no, reading_date, kwh, _available_on) values ('A', ?, '1', ?)",
                        [reading, available])
        con.execute("create schema marts; create table marts.policy_runs (as_of date, finished_at timestamp, "
                    "params_fingerprint varchar, beneficiaries integer, base_yuan decimal(18,2), low_yuan decimal(18,2),"
                    " high_yuan decimal(18,2))")
        con.execute("insert into marts.policy_runs values ('2024-11-25', '2024-11-25 08:00', 'abc', 7, 1000000, 900000, 1200000)")
        con.execute("create table marts.policy_budget_rollup (as_of date, level varchar, key varchar, scenario varchar, "
                    "amount_yuan decimal(18,2), beneficiaries integer, awards integer)")
        con.execute("insert into marts.policy_budget_rollup values ('2024-11-25', 'total', '全部', 'base', 1000000, 7, 9)")
    recorded = run("status", "--warehouse", str(warehouse), env_home=tmp_path).stdout
    assert "latest run, median outcome: 9 awards (scheme × beneficiary) to 7 beneficiaries" in recorded
    assert "stopped" not in recorded
    with duckdb.connect(str(warehouse)) as con:  # the measures of 12-02 ran, their checks failed
        con.execute("update marts.policy_budget_rollup set as_of = '2024-12-02', amount_yuan = 970000, awards = 8")
    stopped = run("status", "--warehouse", str(warehouse), env_home=tmp_path).stdout
    assert "latest run, median outcome" not in stopped
    assert ("the measure tables hold a later run as of 2024-12-02 (base 97.00万元) that its checks stopped: "
            "not recorded") in stopped


def test_a_feed_is_as_fresh_as_its_stalest_monthly_dataset(tmp_path):
    """October's industry report and directory are in, its project library is not: the statistics
    feed is stale, naming the dataset behind (its newest file of another dataset does not stand in)."""
    import duckdb

    from dagster_project.lib.ingest import DATASETS
    from dagster_project.lib.ingest.loader import ensure_raw_tables
    from dagster_project.lib.status import freshness

    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ensure_raw_tables(con, DATASETS)
        for dataset, period in (("enterprise", "202410"), ("industry", "202410"), ("projects", "202409")):
            con.execute("insert into raw._manifest (file_name, feed, dataset, period, rows_accepted, rows_rejected) "
                        "values (?, 'stats', ?, ?, 10, 0)", [f"stats_{dataset}_{period}.csv", dataset, period])
        stats = freshness(con, date(2024, 11, 25))[0]
        assert (stats.feed, stats.files, stats.fresh) == ("stats", 3, False)
        assert stats.note == ("up to 2024-10; expected the month 2024-10 by 2024-11-25 for stats_projects "
                              "(up to 2024-09)")
        stats = freshness(con, date(2024, 11, 14))[0]  # October was not due yet
        assert stats.fresh and stats.note == "up to 2024-10"
        con.execute("delete from raw._manifest where dataset = 'projects'")
        feeds = {f.feed: f for f in freshness(con, date(2024, 11, 14))}
        assert not feeds["stats"].fresh and feeds["stats"].note.endswith("for stats_projects (nothing delivered)")
        # every feed is listed, one that sent nothing too; a register never delivered counts nothing
        assert list(feeds) == ["stats", "power", "tax", "customs", "registers"]
        assert (feeds["tax"].fresh, feeds["tax"].files, feeds["tax"].note) == (
            False, 0, "up to nothing; expected the month 2024-09 by 2024-11-14")
        con.execute("insert into raw._manifest (file_name, feed, dataset) values ('registers_loans.xlsx', 'registers', "
                    "'loans')")
        registers = next(f for f in freshness(con, date(2024, 11, 14)) if f.feed == "registers")
        assert not registers.fresh and registers.note == (
            "ad hoc (registers); nothing delivered for registers_recognitions, registers_applications, "
            "registers_two_high, registers_supply_links")


def test_every_subcommand_has_a_description_defaults_and_examples(tmp_path):
    """Every command `gxindustry --help` lists (a fixed list here had left `withdraw` without a
    description or an example, unseen)."""
    listing = run("--help", env_home=tmp_path).stdout
    commands = re.findall(r"^    ([a-z]+)  ", listing, re.M)
    assert {"generate", "refresh", "demo", "backtest", "prepare", "withdraw", "status", "docs"} <= set(commands)
    for command in commands:
        result = run(command, "--help", env_home=tmp_path)
        assert result.returncode == 0 and "examples:" in result.stdout, command
        if command not in ("demo", "prepare"):
            assert "default" in result.stdout, command


def test_backtest_usage_shows_one_landing_and_its_arrivals_per_source(tmp_path):
    """argparse writes nargs="+" as `X [X ...]`: a tester read it as several landings after one
    --source. The usage says one landing and at most one arrivals JSON."""
    result = run("backtest", "--help", env_home=tmp_path)
    assert "[--source LANDING [ARRIVALS_JSON]]" in result.stdout and "ARRIVALS_JSON ..." not in result.stdout


def test_a_second_refresh_on_the_same_warehouse_refuses_clearly(tmp_path):
    from dagster_project.lib.lock import warehouse_lock

    (tmp_path / "landing" / "power").mkdir(parents=True)
    (tmp_path / "landing" / "power" / "power_daily_20241125.csv").write_text("用电户号,日期,用电量_千瓦时,数据标志\n")
    warehouse = tmp_path / "wh.duckdb"
    with warehouse_lock(warehouse):  # a refresh in progress
        result = run("refresh", "--landing", str(tmp_path / "landing"), "--warehouse", str(warehouse), env_home=tmp_path)
    assert result.returncode == 3
    assert f"another refresh is running on {warehouse}" in result.stderr
    assert not warehouse.exists()


def test_the_manifest_is_reparsed_when_a_project_file_is_newer_and_not_for_dbt_output(tmp_path):
    import os

    from dagster_project.cli import manifest_is_current

    project = tmp_path / "dbt"
    for name in ("dbt_project.yml", "models/marts/dim_a.sql", "target/manifest.json", "target/run-1/x.json",
                 "logs/dbt.log"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x")

    def age(name: str, seconds: int) -> None:
        os.utime(project / name, (1_700_000_000 + seconds,) * 2)

    for name in ("dbt_project.yml", "models/marts/dim_a.sql"):
        age(name, 0)
    age("target/manifest.json", 10)
    age("target/run-1/x.json", 20)
    age("logs/dbt.log", 20)
    assert manifest_is_current(project)
    age("models/marts/dim_a.sql", 11)
    assert not manifest_is_current(project)
    (project / "target" / "manifest.json").unlink()
    assert not manifest_is_current(project)


def _landing_with_one_power_file(tmp_path: Path) -> Path:
    (tmp_path / "landing" / "power").mkdir(parents=True)
    (tmp_path / "landing" / "power" / "power_daily_20241125.csv").write_text("用电户号,日期,用电量_千瓦时,数据标志\n")
    return tmp_path / "landing"


def test_an_as_of_date_outside_the_data_is_refused_before_anything_runs(tmp_path):
    landing, warehouse = _landing_with_one_power_file(tmp_path), tmp_path / "wh.duckdb"
    early = run("refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "2000-01-01",
                env_home=tmp_path)
    assert early.returncode == 2
    assert early.stderr == ("gxindustry refresh: as-of date 2000-01-01 (--as-of / GXINDUSTRY_AS_OF) is before any "
                            "delivery had arrived: the first, power/power_daily_20241125.csv, counts from 2024-11-25\n")
    late = run("refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "2999-01-01",
               env_home=tmp_path)
    assert late.returncode == 2
    assert late.stderr.startswith("gxindustry refresh: as-of date 2999-01-01 (--as-of / GXINDUSTRY_AS_OF) is after "
                                  "today (")
    impossible = run("refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "2024-13-01",
                     env_home=tmp_path)
    assert impossible.returncode == 2  # a usage error, as the others (it was 1)
    assert impossible.stderr == ("gxindustry refresh: as-of date '2024-13-01' (--as-of / GXINDUSTRY_AS_OF) is not a "
                                 "date YYYY-MM-DD: month must be in 1..12\n")
    assert not warehouse.exists()
    for command in (("generate", "--landing", str(tmp_path / "l")), ("status", "--warehouse", str(warehouse))):
        wrong = run(*command, "--as-of", "2024-13-01", env_home=tmp_path)
        assert wrong.returncode == 2
        assert wrong.stderr.endswith(f"gxindustry {command[0]}: error: argument --as-of: '2024-13-01' is not a date "
                                     "YYYY-MM-DD (month must be in 1..12)\n")


def test_status_on_what_is_no_warehouse_says_what_it_is(tmp_path):
    """A folder, a text file or an empty file given as the warehouse was told "being written by a
    running refresh" (DuckDB's open fails for all of them as for its lock), and a DuckDB file that
    no refresh wrote gave a traceback."""
    import duckdb

    (tmp_path / "folder.duckdb").mkdir()
    (tmp_path / "params.yaml").write_text("M02.rate: 5\n", encoding="utf-8")
    (tmp_path / "zero.duckdb").write_bytes(b"")
    for name, said in (("folder.duckdb", "Is a directory"), ("params.yaml", "not a valid DuckDB database file"),
                       ("zero.duckdb", "not a valid DuckDB database file")):
        result = run("status", "--warehouse", str(tmp_path / name), env_home=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith(f"gxindustry status: {tmp_path / name} is not a DuckDB warehouse (IO Error: ")
        assert said in result.stderr
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    result = run("status", "--warehouse", str(tmp_path / "empty.duckdb"), env_home=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"gxindustry status: {tmp_path / 'empty.duckdb'} holds no refresh yet (no raw._manifest; "
                             "run `gxindustry refresh` first)\n")


def test_a_parameter_override_out_of_range_is_refused_before_anything_runs(tmp_path):
    landing, warehouse = _landing_with_one_power_file(tmp_path), tmp_path / "wh.duckdb"
    params = tmp_path / "finance.yaml"
    for value, message in ((".nan", "M02.rate = NaN: not a finite number (allowed: 0 to 100 %)"),
                           ("5000", "M02.rate = 5000 is outside the allowed range: 0 to 100 %"),
                           ("-5", "M02.rate = -5 is outside the allowed range: 0 to 100 %")):
        params.write_text(f"M02.rate: {value}\n", encoding="utf-8")
        result = run("refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--params", str(params),
                     env_home=tmp_path)
        assert (result.returncode, result.stderr) == (2, f"gxindustry refresh: finance.yaml: {message}\n")
    assert not warehouse.exists()


def test_an_unwritable_reports_folder_is_refused_before_anything_runs(tmp_path):
    landing, warehouse = _landing_with_one_power_file(tmp_path), tmp_path / "wh.duckdb"
    (tmp_path / "disk").write_text("a file where the reports' parent folder should be")
    reports = tmp_path / "disk" / "reports"
    result = run("refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--reports", str(reports),
                 env_home=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"gxindustry refresh: cannot write to the reports folder {reports}: Not a directory\n"
    assert not warehouse.exists() and not (tmp_path / "logs").exists()


def test_status_while_a_refresh_writes_the_warehouse_says_so(tmp_path):
    import duckdb

    warehouse = tmp_path / "wh.duckdb"
    warehouse.with_name("wh.duckdb.lock").write_text("4242")
    with duckdb.connect(str(warehouse)):  # a refresh holds DuckDB's one writer
        result = run("status", "--warehouse", str(warehouse), env_home=tmp_path)
    assert result.returncode == 3
    assert result.stderr == (f"gxindustry status: {warehouse} is being written by a running refresh (pid 4242); "
                             "ask again when it has finished\n")


def test_the_module_runs_as_the_command_does(tmp_path):
    result = subprocess.run([sys.executable, "-m", "dagster_project.cli", "refresh", "--help"], capture_output=True,
                            text=True)
    assert result.returncode == 0 and result.stdout.startswith("usage: gxindustry refresh")


def test_a_blocking_failure_names_its_first_rows():
    """The message a failed run prints names the rows behind a blocking expectation (line, key and
    the problem found), not only how many there were."""
    from dagster_project.cli import _first_examples

    examples = ('[{"plan_problem": "本月完成投资 6,000,000 万元 > 计划总投资 9,000 万元", "_line": 2, '
                '"project_code": "2023-450108-32-03-614990"}]')
    assert _first_examples(examples) == ("; e.g. plan_problem=本月完成投资 6,000,000 万元 > 计划总投资 9,000 万元, "
                                         "_line=2, project_code=2023-450108-32-03-614990")
    four = "[" + ",".join(f'{{"_line": {n}}}' for n in range(4)) + "]"
    assert _first_examples(four) == "; e.g. _line=0 | _line=1 | _line=2"
    assert _first_examples(None) == "" and _first_examples("[]") == "" and _first_examples("not json") == ""


def test_docs_on_a_busy_port_says_so_before_building(tmp_path, capsys, monkeypatch):
    """`gxindustry docs` on a port another program holds: a message naming the address and the way
    out, a non-zero exit, and no dbt build first (it used to build for seconds, then end in a
    traceback with exit code 0)."""
    import argparse
    import socket

    from dagster_project.lib import docs_site
    from dagster_project.settings import ENV_REPORTS, ENV_WAREHOUSE

    for var in (ENV_WAREHOUSE, ENV_REPORTS):  # serve_docs sets them; put back what was there
        monkeypatch.setenv(var, "")
    warehouse = tmp_path / "wh.duckdb"
    warehouse.write_bytes(b"")
    monkeypatch.setattr(docs_site, "build_site", lambda *a: pytest.fail("built although the port is taken"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = argparse.Namespace(warehouse=warehouse, reports=tmp_path / "reports", host="127.0.0.1", port=port,
                                  no_serve=False)
        assert docs_site.serve_docs(args) == 4
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err and "Traceback" not in err


def test_a_failed_check_is_printed_with_its_reason():
    """`! check raw/tax_vat:tax_feed_fresh failed (WARN)` alone sent the operator to the full log:
    the check's own description follows it."""
    import io
    import logging
    from types import SimpleNamespace

    import dagster as dg

    from dagster_project.progress import _ProgressHandler

    out = io.StringIO()
    handler = _ProgressHandler(out)
    for description in ("up to nothing; expected the month 2024-10 by 2024-11-25", None):
        data = SimpleNamespace(passed=False, asset_key=dg.AssetKey(["raw", "tax_vat"]), check_name="tax_feed_fresh",
                               severity=dg.AssetCheckSeverity.WARN, description=description)
        record = logging.LogRecord("x", logging.INFO, "", 0, "", None, None)
        record.dagster_event = SimpleNamespace(event_type_value="ASSET_CHECK_EVALUATION", step_key="s",
                                               event_specific_data=data)
        handler.emit(record)
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == ["  ! check raw/tax_vat:tax_feed_fresh failed (WARN): up to nothing; expected the month 2024-10 "
                     "by 2024-11-25",
                     "  ! check raw/tax_vat:tax_feed_fresh failed (WARN)"]


def test_a_failed_runs_causes_are_told_while_another_process_holds_the_warehouse(tmp_path, monkeypatch):
    """A failed dbt step's child may hold the warehouse for a moment after the step ended: the
    causes say so, and wait for it, instead of a traceback that hid the step's own error."""
    from dagster_project import cli
    from dagster_project.settings import Settings

    warehouse = tmp_path / "wh.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); "
                               "print('held', flush=True); time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(cli, "LOCK_RETRIES", 2)
        monkeypatch.setattr(cli, "LOCK_RETRY_SECONDS", 0.1)
        settings = Settings(landing=tmp_path, warehouse=warehouse, reports=tmp_path)
        [cause] = cli._failure_causes(settings, "run-1", [])
    finally:
        holder.kill()
        holder.wait()
    assert cause.startswith("the blocking checks of this run could not be read: ") and "Conflicting lock" in cause
