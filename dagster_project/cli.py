"""`gxindustry`: generate sample feeds, refresh the warehouse, run the demo (docs/contract/OUTPUTS.md)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

from dagster_project.paths import DBT_PROJECT_DIR, DEFAULT_DATA_DIR, PROJECT_ROOT
from dagster_project.settings import ENV_AS_OF, ENV_LANDING, ENV_PARAMS, ENV_REPORTS, ENV_WAREHOUSE, Settings

DEFAULT_AS_OF = date(2024, 11, 25)  # docs/contract/OUTPUTS.md: a Monday in the middle of the policy quarter
DEFAULT_SCALE = "small"
DEFAULT_SEED = 20241125


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written (line breaks kept). An option of one or two values (the
    second optional; argparse has no such nargs) shows its metavar tuple as `A [B]`, not argparse's
    `A [B ...]` for nargs="+", which reads as any number of values (a tester passed two landings
    after one --source)."""

    def _format_args(self, action, default_metavar):
        if action.nargs == "+" and isinstance(action.metavar, tuple) and len(action.metavar) == 2:
            return "%s [%s]" % action.metavar
        return super()._format_args(action, default_metavar)


def _sub(sub, name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=summary, description=f"{summary}.\n\n{description}",
                          epilog="examples:\n" + examples, formatter_class=_HelpFormatter)


def main(argv: list[str] | None = None) -> None:
    try:
        _main(argv)
    except BrokenPipeError:
        # the reader stopped reading (`gxindustry status | head`): no traceback over its output;
        # Python's own flush of stdout at exit would raise again, so stdout goes to /dev/null
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None


def _iso_date(text: str) -> date:
    """An --as-of value: a date YYYY-MM-DD, or argparse's usage error naming what is wrong with it."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD ({exc})") from None


def _main(argv: list[str] | None) -> None:
    parser = argparse.ArgumentParser(
        prog="gxindustry", formatter_class=_HelpFormatter,
        description="Guangxi Q4 2024 industrial-policy warehouse: sample feeds, the weekly refresh "
                    "(ingest -> dbt -> checks -> measures -> workbooks), status and local docs.",
        epilog="`gxindustry COMMAND --help` describes each command, its defaults and examples.\n"
               f"Paths default to ${ENV_LANDING}, ${ENV_WAREHOUSE}, ${ENV_REPORTS}, then data/ in the repository;\n"
               "Dagster's run history to $DAGSTER_HOME, then data/dagster_home in the repository.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = _sub(sub, "generate", "write sample feeds that follow docs/contract/FEEDS.md",
               "Deterministic synthetic deliveries (statistics, tax, customs, power, registers) from 2023-01 up to\n"
               "the as-of date, into <landing>/<feed>/. Refuses to write over deliveries already there.",
               "  gxindustry generate --landing /tmp/landing\n"
               "  gxindustry generate --landing /tmp/landing --scale province --as-of 2024-12-02")
    gen.add_argument("--landing", type=Path, required=True, help="landing dir to write into (required)")
    gen.add_argument("--scale", choices=("tiny", "small", "province", "national"), default=DEFAULT_SCALE,
                     help=f"how many enterprises: tiny ~100, small ~1,500, province, national (default: {DEFAULT_SCALE})")
    gen.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})")
    gen.add_argument("--as-of", type=_iso_date, default=DEFAULT_AS_OF,
                     help=f"last delivery date generated, YYYY-MM-DD (default: {DEFAULT_AS_OF})")

    ref = _sub(sub, "refresh", "ingest -> dbt -> checks -> measures -> workbooks, in-process",
               "Runs the weekly_refresh job (the same Dagster graph the schedule runs) on the landing dir and\n"
               "writes <reports>/<as_of>/budget_forecast_<as_of>.xlsx and kpi_report_<as_of>.xlsx.\n"
               "Progress prints one line per step; the full log goes to <warehouse dir>/logs/.",
               "  gxindustry refresh\n"
               "  gxindustry refresh --landing /srv/landing --warehouse /srv/wh.duckdb --as-of 2024-11-25\n"
               "  gxindustry refresh --params finance.yaml --city-packs")
    _refresh_options(ref)

    demo = _sub(sub, "demo", "generate the default sample (if not there yet), then refresh",
                f"Writes the '{DEFAULT_SCALE}' sample (seed {DEFAULT_SEED}, as of {DEFAULT_AS_OF}) into the landing dir "
                "unless deliveries\nare already there, then runs `refresh` on it.",
                "  gxindustry demo\n  gxindustry demo --landing /tmp/l --warehouse /tmp/wh.duckdb --reports /tmp/r")
    _path_options(demo)

    bt = _sub(sub, "backtest", "replay Q4 2023 and Q4 2024 Monday by Monday and score the forecast against the naive one",
              "Generates feeds with two years of history per seed (and takes other sources given with --source),\n"
              "replays every Monday of Q4 of each year as a live run would have seen it, runs the forecast and\n"
              "the naive baseline through the rules, and scores both against the outcome (docs/forecast.md).",
              "  gxindustry backtest --seeds 1 --years 2024 --scale tiny\n"
              "  gxindustry backtest --out docs/backtest   # 5 seeds x 2 years, about an hour at small\n"
              "  gxindustry backtest --seeds --source /data/other /data/other.arrivals.json\n"
              "  gxindustry backtest --seeds --source /data/other   # delivery days from the file names\n"
              "  gxindustry backtest --seeds --source /data/a /data/a.arrivals.json --source /data/b /data/b.arrivals.json\n"
              "  gxindustry backtest --scores gen/backtest.csv other/backtest.csv --out docs/backtest\n"
              "  gxindustry backtest --rescore data/backtest --out /tmp/after   # a forecast change, same replays")
    bt.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3, 4, 5],
                    help="generator seeds (default: 1 2 3 4 5; none: only the --source data)")
    bt.add_argument("--years", type=int, nargs="+", default=[2023, 2024],
                    help="years whose Q4 is replayed (default: 2023 2024)")
    bt.add_argument("--scale", choices=("tiny", "small", "province"), default=DEFAULT_SCALE,
                    help=f"generator scale (default: {DEFAULT_SCALE})")
    bt.add_argument("--source", nargs="+", action="append", metavar=("LANDING", "ARRIVALS_JSON"),
                    help="also replay the landing dir of another data source; the delivery day of each file is "
                         "in ARRIVALS_JSON ({\"feed/file\": \"YYYY-MM-DD\"}) or, without it, the day its name "
                         "says it was due (corrections _vN left out: their day is not in their names); "
                         "one landing per --source, repeat --source for more")
    bt.add_argument("--workdir", type=Path, default=DEFAULT_DATA_DIR / "backtest",
                    help="replays, warehouses and snapshots (emptied first; default: data/backtest)")
    bt.add_argument("--out", type=Path, help="write backtest.md, backtest.csv and backtest.png into this folder")
    bt.add_argument("--rescore", type=Path, metavar="WORKDIR",
                    help="replay nothing: forecast and score again, with this code and catalogue, the replays an "
                         "earlier run kept in its --workdir (its replays skipped: 25 s against 204 s for one tiny case, "
                         "about half the time at small; the folder is read, not changed)")
    bt.add_argument("--scores", type=Path, nargs="+", metavar="BACKTEST_CSV",
                    help="replay nothing: report together the scores of earlier runs (their backtest.csv), e.g. "
                         "the generator's seeds and the other sources run side by side")
    _sub(sub, "prepare", "parse the dbt project (writes the manifest Dagster loads)",
         "Runs `dbt parse` into dbt_models/target/. scripts/setup.sh runs it; refresh runs it when a dbt file\n"
         "is newer than the manifest.", "  gxindustry prepare")

    _withdraw_options(_sub(
        sub, "withdraw", "withdraw a loaded delivery (its rows stay in raw, unused)",
        "Records in raw._withdrawals that a delivery is withdrawn: from the next refresh on its rows are\n"
        "used nowhere (raw is append-only: they stay, with file and line) and a blocking failure of it is\n"
        "cleared. Removing the file from the landing dir does the same at the next refresh. To replace the\n"
        "data, send the corrected file as _vN; --reinstate takes a withdrawal back (docs/operations.md,\n"
        "\"Withdrawing a bad delivery\").",
        "  gxindustry withdraw stats_industry_202410.csv --reason \"header only; the bureau re-sends it\"\n"
        "  gxindustry withdraw stats_industry_202410.csv --reinstate --reason \"it was right after all\""))

    st = _sub(sub, "status", "deliveries, feed freshness and the last runs of a warehouse",
              "Freshness is judged against the warehouse's own as-of date (the as-of of its last run): a\n"
              "warehouse refreshed for 2024-11-25 is judged by what should have arrived by 2024-11-25.\n"
              "--live judges against today's date instead, as the weekly schedule does.",
              "  gxindustry status\n  gxindustry status --warehouse /srv/wh.duckdb --live\n"
              "  gxindustry status --as-of 2024-12-02")
    st.add_argument("--warehouse", type=Path, help=f"DuckDB file (default: ${ENV_WAREHOUSE}, then data/warehouse.duckdb)")
    when = st.add_mutually_exclusive_group()
    when.add_argument("--as-of", type=_iso_date,
                      help="judge freshness as of this date (default: the warehouse's as-of)")
    when.add_argument("--live", action="store_true", help="judge freshness against today's date (the schedule's view)")

    docs = _sub(sub, "docs", "build and serve dbt docs and the Great Expectations Data Docs locally",
                "Generates dbt's documentation (models, tests, lineage; the warehouse's catalogue) and serves it\n"
                "with the Data Docs of <reports>/data_docs/ on one local web server: nothing is loaded from the\n"
                "internet. Stop it with Ctrl-C.",
                "  gxindustry docs                # build, then serve on http://127.0.0.1:8080/\n"
                "  gxindustry docs --port 8090    # another port\n"
                "  gxindustry docs --no-serve     # build only, open docs_site/index.html from disk")
    docs.add_argument("--warehouse", type=Path, help=f"DuckDB file (default: ${ENV_WAREHOUSE}, then data/warehouse.duckdb)")
    docs.add_argument("--reports", type=Path, help=f"reports dir holding data_docs/ (default: ${ENV_REPORTS}, then data/reports)")
    docs.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    docs.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    docs.add_argument("--no-serve", action="store_true", help="build the site and print where it is, do not serve")

    args = parser.parse_args(argv)
    if args.command == "generate":
        raise SystemExit(generate(args.landing, args.scale, args.seed, args.as_of))
    if args.command == "prepare":
        prepare_dbt(force=True)
        return
    if args.command == "demo":
        settings = _settings_from_args(args)
        if not _has_deliveries(settings.landing):
            generate(settings.landing, DEFAULT_SCALE, DEFAULT_SEED, DEFAULT_AS_OF)
        else:
            print(f"sample feeds already in {settings.landing}; refreshing over them")
        raise SystemExit(refresh(settings))
    if args.command == "refresh":
        raise SystemExit(refresh(_settings_from_args(args), city_packs=args.city_packs))
    if args.command == "backtest":
        raise SystemExit(backtest(args))
    if args.command == "status":
        raise SystemExit(status(args))
    if args.command == "withdraw":
        raise SystemExit(withdraw(args))
    if args.command == "docs":
        from dagster_project.lib.docs_site import serve_docs

        raise SystemExit(serve_docs(args))


def _path_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--landing", type=Path, help=f"landing dir (default: ${ENV_LANDING}, then data/landing)")
    p.add_argument("--warehouse", type=Path, help=f"DuckDB file (default: ${ENV_WAREHOUSE}, then data/warehouse.duckdb)")
    p.add_argument("--reports", type=Path, help=f"reports dir (default: ${ENV_REPORTS}, then data/reports)")


def _refresh_options(p: argparse.ArgumentParser) -> None:
    _path_options(p)
    p.add_argument("--params", type=Path, help=f"YAML parameter overrides (default: ${ENV_PARAMS}, then none)")
    p.add_argument("--as-of", help=f"the pipeline's today, YYYY-MM-DD (default: ${ENV_AS_OF}, then the latest "
                                   "data date landed)")
    p.add_argument("--city-packs", action="store_true",
                   help="also write both workbooks filtered to each prefecture (<reports>/<as_of>/cities/)")


def _withdraw_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="the delivered file, by name (stats_industry_202410.csv) or path in the landing dir")
    p.add_argument("--reason", required=True, help="why (kept in raw._withdrawals)")
    p.add_argument("--reinstate", action="store_true", help="take back an earlier withdrawal of the file")
    p.add_argument("--warehouse", type=Path, help=f"DuckDB file (default: ${ENV_WAREHOUSE}, then data/warehouse.duckdb)")


def _settings_from_args(args: argparse.Namespace) -> Settings:
    """The run's settings from the command's options (a command without one takes the environment's);
    a value that is no setting (an as-of date that is no date) is a usage error: exit 2."""
    for var, option in (
        (ENV_LANDING, "landing"),
        (ENV_WAREHOUSE, "warehouse"),
        (ENV_REPORTS, "reports"),
        (ENV_PARAMS, "params"),
        (ENV_AS_OF, "as_of"),
    ):
        value = getattr(args, option, None)
        if value:
            os.environ[var] = str(value)
    try:
        return Settings.from_env()
    except ValueError as exc:
        print(f"gxindustry {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def generate(landing: Path, scale: str, seed: int, as_of: date) -> int:
    from dagster_project.lib.generate import generate_feeds

    try:
        summary = generate_feeds(landing, scale=scale, seed=seed, as_of=as_of)
    except ValueError as exc:
        print(f"gxindustry generate: {exc}", file=sys.stderr)
        return 2
    print(f"generated {len(summary.files)} files ({scale}, seed {seed}, as of {as_of}) in {landing}")
    for feed, files in summary.files_per_feed.items():
        rows = ", ".join(f"{dataset} {count:,}" for dataset, count in summary.rows_per_dataset.items()
                         if dataset.startswith(f"{feed}_"))
        print(f"  {feed}: {files} files, data rows: {rows}")
    return 0


def _has_deliveries(landing: Path) -> bool:
    return landing.is_dir() and any(p.is_file() for p in landing.glob("*/*"))


def prepare_dbt(force: bool = False) -> None:
    """Run `dbt parse` when the manifest is missing or older than the dbt project files."""
    if not force and manifest_is_current(DBT_PROJECT_DIR):
        return
    from dagster_project.lib.dbt_invocation import dbt_vars
    from dagster_project.lib.measures.catalogue import load_catalogue
    from dagster_project.lib.measures.parameters import Parameters

    env = dict(os.environ)
    env.setdefault(ENV_WAREHOUSE, str(DEFAULT_DATA_DIR / "warehouse.duckdb"))  # parse does not open it
    dbt = Path(sys.executable).with_name("dbt")
    # The vars of a run without parameter overrides, so that such a run can reuse this parse.
    vars_ = json.dumps(dbt_vars(Parameters.from_file(load_catalogue(), None)))
    result = subprocess.run(
        [str(dbt), "parse", "--vars", vars_, "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"gxindustry: dbt parse failed:\n{result.stdout}{result.stderr}")


def manifest_is_current(project_dir: Path) -> bool:
    """Whether `target/manifest.json` is newer than every file of the project (what dbt writes
    there, `target/`, `logs/` and `dbt_packages/`, is not looked into)."""
    from dagster_project.lib.dbt_selection import project_files

    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists():
        return False
    return manifest.stat().st_mtime >= max(p.stat().st_mtime for p in project_files(project_dir))


def dagster_instance():
    """The persistent instance in DAGSTER_HOME (default <repo>/data/dagster_home), so CLI runs
    show in the Dagster UI started on the same home."""
    from dagster import DagsterInstance

    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DATA_DIR / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return DagsterInstance.get()


def refresh(settings: Settings, city_packs: bool = False) -> int:
    from dagster_project.lib.lock import WarehouseBusy, warehouse_lock

    if not settings.landing.is_dir():  # said before the lock, which creates the warehouse's folder
        print(f"gxindustry refresh: there is no landing folder {settings.landing} (--landing / {ENV_LANDING}; "
              f"sample feeds: gxindustry generate --landing {settings.landing})", file=sys.stderr)
        return 2
    try:
        with warehouse_lock(settings.warehouse):
            return _refresh(settings, city_packs)
    except WarehouseBusy as exc:
        print(f"gxindustry refresh: {exc}", file=sys.stderr)
        return 3


def _refresh(settings: Settings, city_packs: bool) -> int:
    from dagster_project.lib.ingest import landing_span

    settings.export()
    problem = _check_params(settings) or _check_writable(settings)
    if problem:
        print(f"gxindustry refresh: {problem}", file=sys.stderr)
        return 2
    span = landing_span(settings.landing, _withdrawn_names(settings.warehouse))
    if span is None:
        print(f"gxindustry refresh: no deliveries in {settings.landing} (a feed's files go in <landing>/<feed>/; "
              f"sample feeds: gxindustry generate --landing {settings.landing})", file=sys.stderr)
        return 2
    as_of, problem = _run_as_of(settings.as_of, *span)
    if problem:
        print(f"gxindustry refresh: {problem}", file=sys.stderr)
        return 2
    prepare_dbt()
    from dagster_project.defs.resources import AS_OF_TAG
    from dagster_project.definitions import defs

    log = settings.warehouse.parent / "logs" / f"refresh_{datetime.now():%Y%m%d_%H%M%S}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"refresh as of {as_of}: landing {settings.landing} -> warehouse {settings.warehouse}")
    print(f"full log (dbt output included): {log}", flush=True)
    started = datetime.now()
    job = defs.resolve_job_def("weekly_refresh")
    with open(log, "w", encoding="utf-8") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        result = job.execute_in_process(
            run_config={
                "loggers": {"progress": {}, "console": {"config": {"log_level": "INFO"}}},
                "ops": {"policy_workbooks": {"config": {"city_packs": city_packs}}},
            },
            instance=dagster_instance(),
            tags={AS_OF_TAG: as_of.isoformat()},
            raise_on_error=False,
        )
        gc.collect()  # what a failed writer left open complains when collected: into the log, not the terminal
    if not result.success:
        failed = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        names = ", ".join(e.step_key for e in failed) or "run"
        print(f"gxindustry refresh: FAILED in {names} (run {result.run_id})", file=sys.stderr)
        for cause in _failure_causes(settings, result.run_id, failed):
            print(f"  {cause}", file=sys.stderr)
        print(f"  full log: {log}", file=sys.stderr)
        return 1
    _print_summary(settings, as_of, started)
    return 0


# Beyond this many days after the latest delivery, an as-of date is worth a warning (power arrives weekly).
STALE_AS_OF_DAYS = 7


def _run_as_of(given: date | None, first, last) -> tuple[date | None, str | None]:
    """The run's as-of date (`given`, or the latest delivery's arrival) and why it is refused, if it
    is. The data's span is from the first delivery's arrival (`first`, a DeliveredFile) to today:
    before it nothing has arrived (a run would still evaluate the registers and the policy on no
    data); after today no delivery can have arrived. After the latest delivery by more than a
    week, the run goes on with a warning: the feeds will be reported stale."""
    if given is None:
        return last.available_on, None
    today = date.today()
    if given > today:
        return None, (f"as-of date {given} (--as-of / {ENV_AS_OF}) is after today ({today}): "
                      "no delivery can have arrived by then")
    if given < first.available_on:
        return None, (f"as-of date {given} (--as-of / {ENV_AS_OF}) is before any delivery had arrived: the first, "
                      f"{first.dataset.feed}/{first.name}, counts from {first.available_on}")
    gap = (given - last.available_on).days
    if gap > STALE_AS_OF_DAYS:
        print(f"gxindustry refresh: warning: as-of date {given} is {gap} days after the latest delivery "
              f"({last.dataset.feed}/{last.name}, {last.available_on}): the run uses what had arrived by then "
              "and reports the feeds as stale", file=sys.stderr)
    return given, None


def _check_writable(settings: Settings) -> str | None:
    """Refuse before anything runs when the reports or the warehouse folder cannot be written."""
    import tempfile

    for what, folder in (("reports folder", settings.reports), ("warehouse folder", settings.warehouse.parent),
                         ("log folder", settings.warehouse.parent / "logs")):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".gxindustry-write-test-"):
                pass
        except OSError as exc:
            return f"cannot write to the {what} {folder}: {exc.strerror or exc}"
    return None


def _withdrawn_names(warehouse: Path) -> set[str]:
    """Files withdrawn in this warehouse (they do not count for the default as-of date)."""
    import duckdb

    from dagster_project.lib.ingest.withdrawals import withdrawn_names

    if not warehouse.exists():
        return set()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return withdrawn_names(con)


MAX_CAUSES = 10


# After a failed step, how often and how long apart the warehouse is tried for the run's checks.
LOCK_RETRIES, LOCK_RETRY_SECONDS = 10, 1.0


def _failure_causes(settings: Settings, run_id: str, failed: list) -> list[str]:
    """What made the run fail, in words: each failed step's own error, the blocking expectations
    not met in this run (file, expectation, what was observed), dbt's errors."""
    import duckdb

    from dagster_project.lib.quality.warehouse import blocking_failures_of_run

    causes = []
    for event in failed:
        error = event.step_failure_data.error
        while error.cause is not None:  # the user code's own exception, not Dagster's wrapper
            error = error.cause
        message = " ".join(error.message.split())
        if message.startswith("dagster."):  # Dagster's own error class says nothing to the user
            message = message.split(": ", 1)[-1]
        causes.append(f"{event.step_key}: {message[:500]}")
    rows = []
    for attempt in range(LOCK_RETRIES):
        try:
            with duckdb.connect(str(settings.warehouse), read_only=True) as con:
                rows = blocking_failures_of_run(con, run_id)
            break
        except duckdb.IOException as exc:
            # A failed step's child (dbt) may hold the warehouse for a moment after the step ended:
            # its lock raised a traceback here that hid the step's own error (2026-12-07).
            if attempt == LOCK_RETRIES - 1:
                causes.append(f"the blocking checks of this run could not be read: {' '.join(str(exc).split())[:300]}; "
                              "once no run is active: select * from marts.dq_check_results_latest where outcome = 'fail'")
            else:
                time.sleep(LOCK_RETRY_SECONDS)
    causes += [f"blocking: {asset} {name}: {expectation} ({label}): {observed}{_first_examples(examples)}"
               for asset, name, expectation, label, observed, examples in rows[:MAX_CAUSES]]
    if len(rows) > MAX_CAUSES:
        causes.append(f"… {len(rows) - MAX_CAUSES} more: select * from marts.dq_check_results_latest "
                      "where outcome = 'fail'")
    if any(e.step_key == "warehouse_models" for e in failed):
        causes += _dbt_errors(settings.dbt_target / "run_results.json")
    return causes


MAX_EXAMPLES = 3


def _first_examples(examples: str | None) -> str:
    """The first rows a failed expectation names (line, key, the problem found), as `; e.g. k=v, …`."""
    try:
        rows = json.loads(examples) if examples else []
    except ValueError:
        return ""
    shown = [", ".join(f"{k}={v}" for k, v in row.items()) for row in rows[:MAX_EXAMPLES] if isinstance(row, dict)]
    return f"; e.g. {' | '.join(shown)}" if shown else ""


def _dbt_errors(run_results: Path) -> list[str]:
    try:
        results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    return [f"dbt {r['unique_id']}: {(r.get('message') or '').strip().splitlines()[0][:500]}"
            for r in results if r.get("status") in ("error", "fail")][:MAX_CAUSES]


def _check_params(settings: Settings) -> str | None:
    """Refuse a bad override file before anything runs: unknown ids and wrong types are errors.
    A good one is said on the terminal, each override beside the catalogue's value it replaces."""
    from dagster_project.lib.measures.catalogue import CatalogueError, load_catalogue
    from dagster_project.lib.measures.parameters import Parameters

    if settings.params and not settings.params.is_file():
        return f"parameter file {settings.params} not found"
    try:
        params = Parameters.from_file(load_catalogue(), settings.params)
    except CatalogueError as exc:
        return str(exc)
    overrides = [p for p in params if p.origin != "catalogue"]
    if overrides:
        said = "; ".join(f"{p.parameter.id} = {p.text} {p.parameter.unit} (catalogue: {p.parameter.value})"
                         for p in overrides)
        print(f"parameter overrides from {settings.params}: {said}")
    return None


def _print_summary(settings: Settings, as_of: date, started: datetime) -> None:
    import duckdb

    from dagster_project.lib.ingest.withdrawals import DELIVERIES, withdrawn_deliveries
    from dagster_project.lib.money import wan_text

    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        files = con.execute(
            f"""select feed, count(*), sum(rows_accepted), sum(rows_rejected) from {DELIVERIES}
                group by feed order by feed"""
        ).fetchall()
        # What this run found in the landing dir and did not load (refused, or not read at all).
        refused = con.execute(
            """select coalesce(feed, ''), case when feed is null or starts_with(file_name, feed || '/')
                                               then file_name else feed || '/' || file_name end, reason
               from raw._file_refusals where last_seen_at >= ? order by 1, 2""", [started]).fetchall()
        withdrawn = withdrawn_deliveries(con)
        budget = con.execute(
            "select scenario, awards, beneficiaries, amount_yuan from marts.policy_budget_rollup where level = 'total'"
        ).fetchall()
        draws = con.execute("select draws from forecast.runs").fetchone()[0]
    print(f"\nwarehouse {settings.warehouse}")
    print(f"{'feed':<10} {'files':>6} {'rows accepted':>14} {'rows rejected':>14}")
    for feed, n, accepted, rejected in files:
        print(f"{feed:<10} {n:>6} {accepted:>14} {rejected:>14}")
    if refused:
        print(f"\n{len(refused)} file(s) refused or not read (left untouched in the landing dir):")
        for _, name, reason in refused:
            print(f"  {name}: {reason}")
    _print_withdrawn(withdrawn)
    print("rejected rows and their reasons: select * from raw._rejected_rows")
    totals = {scenario: (awards, beneficiaries, amount) for scenario, awards, beneficiaries, amount in budget}
    if totals:
        awards, beneficiaries, base = totals["base"]
        spread = (f"P10–P90 {wan_text(totals['low'][2])}–{wan_text(totals['high'][2])}万元 over {draws} "
                  "simulated outcomes" if draws > 1 else "the quarter is fully reported: no forecast")
        print(f"\nbudget estimate: median {wan_text(base)}万元 ({spread}), {awards} awards (scheme × beneficiary) "
              f"to {beneficiaries} beneficiaries (distinct enterprises and projects) in the median outcome, as 汇总 "
              "counts them; by scheme: select * from marts.policy_budget")
    workbooks = sorted((settings.reports / as_of.isoformat()).glob("*.xlsx"))
    if workbooks:
        print("workbooks:\n" + "\n".join(f"  {path}" for path in workbooks))


def backtest(args: argparse.Namespace) -> int:
    """Replay the forecast on generated (and given) sources and report its scores."""
    from dagster_project.lib.forecast import backtest as bt

    command = "gxindustry backtest " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "gxindustry backtest"
    if args.scores and args.rescore:
        print("gxindustry backtest: --scores reports earlier runs' scores, --rescore scores kept replays again: "
              "one of them", file=sys.stderr)
        return 2
    if (args.scores or args.rescore) and args.source:
        print(f"gxindustry backtest: {'--scores' if args.scores else '--rescore'} replays nothing: no --source with it",
              file=sys.stderr)
        return 2
    try:
        earlier = [s for path in args.scores for s in bt.read_csv(path)] if args.scores else None
        cases = bt.kept_replays(args.rescore) if args.rescore else None
    except (OSError, ValueError) as e:
        print(f"gxindustry backtest: {e}", file=sys.stderr)
        return 2
    if earlier is not None:
        try:
            together = bt.report(earlier, command)
        except ValueError as e:
            print(f"gxindustry backtest: {', '.join(map(str, args.scores))}: {e}", file=sys.stderr)
            return 2
        return _backtest_report(together, args.out)
    if cases is not None:
        print(f"{args.rescore}: {len(cases)} kept replays: "
              + ", ".join(f"{label} (Q4 {', '.join(map(str, years))})" for label, _, years in cases))
        return _backtest_report(bt.rescore(args.rescore, command), args.out)
    if wrong := [" ".join(paths) for paths in args.source or [] if len(paths) > 2]:
        print(f"gxindustry backtest: --source takes a landing dir and at most one arrivals JSON, "
              f"not {'; '.join(wrong)}", file=sys.stderr)
        return 2
    if missing := [paths[0] for paths in args.source or [] if not Path(paths[0]).is_dir()]:
        print(f"gxindustry backtest: not a landing dir: {', '.join(missing)}", file=sys.stderr)
        return 2
    sources = []
    try:
        for landing, *arrivals_json in args.source or []:
            if arrivals_json:
                sources.append((Path(landing), bt.read_arrivals(Path(arrivals_json[0]))))
                continue
            arrivals, left_out = bt.arrivals_by_name(Path(landing))
            print(f"{landing}: no arrivals JSON: {len(arrivals)} files replayed from the day their names say "
                  f"they were due; {len(left_out)} left out" + "".join(f"\n  {reason}" for reason in left_out))
            sources.append((Path(landing), arrivals))
    except ValueError as e:
        print(f"gxindustry backtest: {e}", file=sys.stderr)
        return 2
    prepare_dbt()
    return _backtest_report(bt.run(args.seeds, args.years, args.scale, sources, args.workdir, command), args.out)


def _backtest_report(report, out: Path | None) -> int:
    print(report.markdown)
    if out:
        report.write(out)
        print(f"written: {', '.join(str(p) for p in report.files(out))}")
    return 0


def _existing_warehouse(args: argparse.Namespace, command: str) -> Path | None:
    """The warehouse of `--warehouse` or the environment; None (said on stderr) when there is none."""
    if args.warehouse:
        os.environ[ENV_WAREHOUSE] = str(args.warehouse)
    warehouse = Settings.from_env().warehouse
    if not warehouse.exists():
        print(f"gxindustry {command}: no warehouse at {warehouse} (run `gxindustry refresh` first)", file=sys.stderr)
        return None
    return warehouse


def withdraw(args: argparse.Namespace) -> int:
    """Record that a loaded delivery is withdrawn (or reinstated): the next refresh leaves its rows
    out of everything; they stay in raw, and the landing dir is not touched."""
    import duckdb

    from dagster_project.lib.ingest import DATASETS
    from dagster_project.lib.ingest.loader import ensure_raw_tables
    from dagster_project.lib.ingest.withdrawals import WithdrawalError, reinstate
    from dagster_project.lib.ingest.withdrawals import withdraw as record_withdrawal
    from dagster_project.lib.lock import WarehouseBusy, warehouse_lock

    warehouse = _existing_warehouse(args, "withdraw")
    if warehouse is None:
        return 2
    name = Path(args.file).name
    try:
        with warehouse_lock(warehouse), duckdb.connect(str(warehouse)) as con:
            ensure_raw_tables(con, DATASETS)
            con.begin()
            change = (reinstate if args.reinstate else record_withdrawal)(con, name, args.reason)
            con.commit()
    except WarehouseBusy as exc:
        print(f"gxindustry withdraw: {exc}", file=sys.stderr)
        return 3
    except WithdrawalError as exc:
        print(f"gxindustry withdraw: {exc}", file=sys.stderr)
        return 2
    effect = ("its rows are used again" if args.reinstate
              else "its rows stay in raw and are no longer used; a blocking failure of it is cleared")
    print(f"{change.action} {change.feed}/{change.file_name}: {change.reason}\n"
          f"from the next refresh on, {effect} (raw._withdrawals)")
    return 0


def _print_withdrawn(withdrawn: list[tuple]) -> None:
    """The withdrawn deliveries, (feed, file, source, reason) rows of raw._withdrawn."""
    if withdrawn:
        print(f"\n{len(withdrawn)} delivery(ies) withdrawn (rows kept in raw, not used; select * from raw._withdrawn):")
        for feed, name, source, reason in withdrawn:
            print(f"  {feed}/{name}: by {source}: {reason}")


def status(args: argparse.Namespace) -> int:
    import duckdb

    from dagster_project.lib.money import wan_text
    from dagster_project.lib.alerts import alerts_since
    from dagster_project.lib.ingest.withdrawals import withdrawn_deliveries
    from dagster_project.lib.status import (checks_not_met, current_beneficiaries, freshness, last_runs, unrecorded_run,
                                            warehouse_as_of)

    warehouse = _existing_warehouse(args, "status")
    if warehouse is None:
        return 2
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        if "Conflicting lock" in str(exc):  # DuckDB has one writer, and a reader cannot open a file being written
            print(f"gxindustry status: {warehouse} is being written by a running refresh{_lock_holder(warehouse)}; "
                  "ask again when it has finished", file=sys.stderr)
            return 3
        # a folder, a text file, an empty file: said as what it is, not as a refresh holding it
        print(f"gxindustry status: {warehouse} is not a DuckDB warehouse ({' '.join(str(exc).split())})",
              file=sys.stderr)
        return 2
    with con:
        if not con.execute("select count(*) from duckdb_tables() where schema_name = 'raw' "
                           "and table_name = '_manifest'").fetchone()[0]:
            print(f"gxindustry status: {warehouse} holds no refresh yet (no raw._manifest; run `gxindustry refresh` "
                  "first)", file=sys.stderr)
            return 2
        if args.live:
            as_of, basis = date.today(), "today's date (--live: what the weekly schedule expects by now)"
        elif args.as_of:
            as_of, basis = args.as_of, "the date given (--as-of)"
        else:
            as_of, source = warehouse_as_of(con)
            basis = f"the warehouse's as-of, {source}; --live judges against today's date"
            if as_of is None:
                as_of, basis = date.today(), "today's date (the warehouse has no dated delivery yet)"
        feeds = freshness(con, as_of)
        runs = last_runs(con)
        refused = con.execute("select count(*) from raw._file_refusals").fetchone()[0]
        withdrawn = withdrawn_deliveries(con)
        awarded = current_beneficiaries(con)
        stopped = unrecorded_run(con)
        not_met = checks_not_met(con)
    print(f"warehouse {warehouse}\nfreshness as of {as_of}: {basis}\n")
    print(f"{'feed':<10} {'files':>6} {'accepted':>10} {'rejected':>9}  freshness")
    for f in feeds:
        print(f"{f.feed:<10} {f.files:>6,} {f.rows_accepted:>10,} {f.rows_rejected:>9,}  {'ok   ' if f.fresh else 'STALE'} {f.note}")
    print(f"\nfiles refused: {refused:,} (select * from raw._file_refusals)")
    if not_met:
        said = ", ".join(f"{checks} {severity} check(s) ({expectations} expectation(s), {results} result(s) per file "
                         "or mart)" for severity, (checks, expectations, results) in sorted(not_met.items()))
        print(f"checks not met in the latest validation of each delivery: {said} (a warning does not stop a run; "
              "the KPI workbook's 数据质量 lists them; select * from marts.dq_check_results_latest where not success)")
    _print_withdrawn(withdrawn)
    print("\nlast runs:" if runs else "\nno measures run yet")
    for as_of_run, finished, fingerprint, n, base, low, high in runs:
        print(f"  {finished:%Y-%m-%d %H:%M} as of {as_of_run}: base {wan_text(base)}万元 "
              f"(P10–P90 {wan_text(low)}–{wan_text(high)}万元), {n:,} beneficiaries (distinct enterprises and projects), "
              f"parameters {fingerprint}")
    if awarded:
        awards, beneficiaries = awarded
        print(f"latest run, median outcome: {awards:,} awards (scheme × beneficiary) to {beneficiaries:,} beneficiaries "
              "(distinct enterprises and projects), as 汇总 counts them")
    if stopped:
        print(f"the measure tables hold a later run as of {stopped[0]} (base {wan_text(stopped[1])}万元) that its checks "
              "stopped: not recorded, not compared with, no workbooks (see the run's log; refresh once the cause is fixed)")
    # runs of the schedule or the UI that failed since (the daemon's failure sensor logs them)
    failed = alerts_since(warehouse.parent / "logs", runs[0][1] if runs else None)
    if failed:
        print(f"\nfailed since the last good run ({warehouse.parent / 'logs' / 'alerts.log'}):")
        for alert in failed:
            print(f"  {alert.raised_at.replace('T', ' ')[:16]} as of {alert.as_of or '?'}: "
                  f"{alert.error or ', '.join(alert.failed_steps) or 'no cause recorded'}")
    return 0


def _lock_holder(warehouse: Path) -> str:
    """' (pid N)' of the refresh holding the warehouse lock, if it says."""
    try:
        pid = warehouse.with_name(warehouse.name + ".lock").read_text(encoding="ascii").strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


if __name__ == "__main__":  # `python -m dagster_project.cli`, as well as the `gxindustry` script
    main()
