"""Backtest of the weekly forecast: replay past quarters Monday by Monday and score every forecast.

A case is a data source (a landing dir holding the final state of every feed, and the day each
file was delivered) and the years whose Q4 is replayed. For each year the policy document is
shifted to that year (Q4 of the year against Q4 of the year before, every date parameter moved
with it). The replay (replay.py) rebuilds the warehouse as a live run on each Monday of the
quarter would have seen it; the forecast and the rules then run on each Monday's snapshot, once
with the model and once with the naive baseline (missing month = same month last year × the
year-to-date ratio, through the same rules and the same error simulation). The outcome is the
run on the day December's statistics arrive (15 January), when nothing is left to forecast.
The snapshots stay in the run's workdir: `rescore` forecasts and scores them again with the code
of now, which is how a change of the forecast is measured against the run before it.

Per (case, year, Monday, method, scheme or total): base error against the outcome, whether the
outcome lies inside low–high (the 80% interval by default), its width, and the interval score
(Gneiting & Raftery 2007: width + 2/α × how far the outcome falls outside; lower is better),
each relative to the outcome.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project.lib.ingest.stats import ARRIVAL_DAY
from dagster_project.lib.measures.catalogue import Catalogue
from dagster_project.lib.measures.parameters import Parameters
from dagster_project.lib.measures.weekly import forecast_and_evaluate

from . import replay

METHODS = ("model", "naive")
TOTAL = "total"


def shift_catalogue(catalogue: Catalogue, years: int) -> Catalogue:
    """The same document moved by `years`: periods, year, and every month/date/year parameter."""

    def move(d: date) -> date:
        return d.replace(year=d.year + years)

    doc = catalogue.document
    document = doc.model_copy(update={
        "year": doc.year + years,
        "policy_quarter": doc.policy_quarter.model_copy(update={"start": move(doc.policy_quarter.start),
                                                                "end": move(doc.policy_quarter.end)}),
        "base_quarter": doc.base_quarter.model_copy(update={"start": move(doc.base_quarter.start),
                                                            "end": move(doc.base_quarter.end)}),
    })
    measures = []
    for m in catalogue.measures:
        params = []
        for p in m.parameters:
            value = p.value
            if p.type == "month":
                value = f"{int(value[:4]) + years}{value[4:]}"
            elif p.type == "date":
                value = move(value)
            elif p.unit == "年":
                value = value + years
            params.append(p.model_copy(update={"value": value}))
        measures.append(m.model_copy(update={"parameters": params}))
    return catalogue.model_copy(update={"document": document, "measures": measures})


def mondays(start: date, end: date) -> list[date]:
    first = start + timedelta(days=(7 - start.weekday()) % 7)
    return [first + timedelta(weeks=k) for k in range((end - first).days // 7 + 1)]


def outcome_day(year: int) -> date:
    """December's statistics of `year` have arrived: nothing of its Q4 is left to forecast."""
    return date(year + 1, 1, ARRIVAL_DAY)


@dataclass(frozen=True)
class Forecast:
    case: str
    year: int
    as_of: date
    week: int  # 1 = the first Monday of the quarter
    method: str
    scheme_id: str  # or TOTAL
    low: float  # 元
    base: float
    high: float


@dataclass(frozen=True)
class Score:
    case: str
    year: int
    as_of: date
    week: int
    method: str
    scheme_id: str
    outcome_wan: float
    base_wan: float
    low_wan: float
    high_wan: float
    base_error: float | None  # (base − outcome) / outcome; None when the outcome is 0
    covered: bool  # low ≤ outcome ≤ high
    width: float | None  # (high − low) / outcome
    interval_score: float | None  # relative to the outcome
    scored_by: str  # code_fingerprint() of the code that made and scored the forecast


def budget_rows(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Decimal]]:
    """scheme (and TOTAL) -> scenario -> amount in 元, of the run in `con`."""
    out: dict[str, dict[str, Decimal]] = {}
    for scenario, scheme, amount in con.execute("select scenario, scheme_id, amount_yuan from marts.policy_budget").fetchall():
        out.setdefault(scheme, {})[scenario] = amount
    for scenario, amount in con.execute(
            "select scenario, amount_yuan from marts.policy_budget_rollup where level = 'total'").fetchall():
        out.setdefault(TOTAL, {})[scenario] = amount
    return out


def evaluate_snapshot(snapshot: Path, catalogue: Catalogue, params: Parameters, as_of: date,
                      method: str) -> dict[str, dict[str, Decimal]]:
    """Forecast and rules on a copy of a replayed day's snapshot (the snapshot stays as it was)."""
    with tempfile.TemporaryDirectory(prefix="backtest-") as tmp:
        work = Path(tmp) / "day.duckdb"
        shutil.copyfile(snapshot, work)
        with duckdb.connect(str(work)) as con:
            forecast_and_evaluate(con, catalogue, params, as_of, method)
            return budget_rows(con)


def run_case(label: str, source: Path, arrivals: Mapping[str, date], years: list[int], workdir: Path,
             catalogue: Catalogue, overrides: dict | None = None,
             progress: Callable[[str], None] = print) -> tuple[list[Forecast], dict[tuple[int, str], Decimal]]:
    """Replay every Monday of Q4 of each year (and each outcome day) over one source; the forecasts
    of both methods and the outcomes per (year, scheme)."""
    params = Parameters(catalogue, overrides, "backtest") if overrides else Parameters(catalogue)
    snapshots = replay.replay(source, arrivals, replayed_days(years), workdir, params, progress)
    return evaluate_case(label, snapshots, years, catalogue, overrides, progress)


def replayed_days(years: list[int]) -> list[date]:
    """The days a case is replayed on: every Monday of Q4 of each year, and its outcome day."""
    days = []
    for year in sorted(years):
        days += [*mondays(date(year, 10, 1), date(year, 12, 31)), outcome_day(year)]
    return days


def evaluate_case(label: str, snapshots: Mapping[date, Path], years: list[int], catalogue: Catalogue,
                  overrides: dict | None = None, progress: Callable[[str], None] = print,
                  ) -> tuple[list[Forecast], dict[tuple[int, str], Decimal]]:
    """The forecasts of both methods on each replayed Monday's snapshot, and the outcomes per (year,
    scheme) from each outcome day's."""
    forecasts, outcomes = [], {}
    for year in sorted(years):
        shifted = shift_catalogue(catalogue, year - catalogue.document.year)
        year_params = Parameters(shifted, overrides, "backtest") if overrides else Parameters(shifted)
        final = evaluate_snapshot(snapshots[outcome_day(year)], shifted, year_params, outcome_day(year), "model")
        for scheme, amounts in final.items():
            outcomes[(year, scheme)] = amounts["base"]
        for week, day in enumerate(mondays(date(year, 10, 1), date(year, 12, 31)), start=1):
            for method in METHODS:
                result = evaluate_snapshot(snapshots[day], shifted, year_params, day, method)
                forecasts += [Forecast(label, year, day, week, method, scheme, float(a["low"]), float(a["base"]),
                                       float(a["high"])) for scheme, a in result.items()]
            total = {m: next(f for f in reversed(forecasts) if f.method == m and f.scheme_id == TOTAL) for m in METHODS}
            progress(f"  {label} {day}: total model {total['model'].base / 1e4:,.0f}万 "
                     f"naive {total['naive'].base / 1e4:,.0f}万, outcome {float(outcomes[(year, TOTAL)]) / 1e4:,.0f}万")
    return forecasts, outcomes


def kept_replays(workdir: Path) -> list[tuple[str, dict[date, Path], list[int]]]:
    """The cases an earlier `run` replayed into `workdir` and kept: per case its label, the snapshot
    of each replayed day, and the years whose every replayed day has one. A ValueError names the
    folder where there is none."""
    cases = []
    for folder in sorted((workdir / "replays").glob("*/snapshots")):
        snapshots = {}
        for path in folder.glob("*.duckdb"):
            try:
                snapshots[date.fromisoformat(path.stem)] = path
            except ValueError:
                continue
        years = [y for y in sorted({d.year - 1 for d in snapshots})
                 if all(d in snapshots for d in replayed_days([y]))]
        if years:
            cases.append((folder.parent.name, snapshots, years))
    if not cases:
        raise ValueError(f"{workdir}: no kept replay (replays/<case>/snapshots/<day>.duckdb of a Q4's every "
                         "Monday and its outcome day, as `gxindustry backtest --workdir` leaves them)")
    return cases


def rescore(workdir: Path, command: str, catalogue: Catalogue | None = None,
            progress: Callable[[str], None] = print) -> Report:
    """Forecast and score again, with the code and catalogue of now, the snapshots an earlier run
    kept in `workdir`, replaying nothing: a change of the forecast measured against the run before
    it on the same replays, without replaying them (measured 2026-12-07: 25 s against the run's 204 s
    for one `tiny` case and year, about half the run's time at `small`)."""
    from dagster_project.lib.measures.catalogue import load_catalogue

    catalogue = catalogue or load_catalogue()
    forecasts, outcomes = [], {}
    for label, snapshots, years in kept_replays(workdir):
        progress(f"case {label}: scoring the kept replays of Q4 {', '.join(map(str, years))}")
        found, outcome = evaluate_case(label, snapshots, years, catalogue, progress=progress)
        forecasts += found
        outcomes.update({(label, year, scheme): amount for (year, scheme), amount in outcome.items()})
    return _scored(forecasts, outcomes, catalogue, command)


def _scored(forecasts: list[Forecast], outcomes: Mapping[tuple[str, int, str], Decimal], catalogue: Catalogue,
            command: str) -> Report:
    params = Parameters(catalogue)
    alpha = 1 - (float(params.base("forecast.quantile_high")) - float(params.base("forecast.quantile_low")))
    return report(score(forecasts, outcomes, alpha, code_fingerprint()), command)


def code_fingerprint(lib: Path = Path(__file__).resolve().parents[1]) -> str:
    """A hash of what makes and scores the forecasts on a replayed day's snapshot, model and naive
    alike: the forecast's and the rules' code and the measure catalogues (dagster_project/lib/forecast
    and lib/measures). The naive forecast shares the model's draws and error model: until 2026-12-08
    the published backtest put the model's rows of one commit beside naive rows scored 33 changes
    of this code earlier, and in between the naive's M15.increment had moved by up to 6.1亿 on one
    Monday (the projects' common errors shared by age, their own paths drawn by runway). Scores of
    different fingerprints are not reported together (`report`)."""
    digest = hashlib.sha256()
    for path in sorted(p for folder in ("forecast", "measures") for p in (lib / folder).rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(lib).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def score(forecasts: list[Forecast], outcomes: Mapping[tuple[str, int, str], Decimal], alpha: float,
          scored_by: str) -> list[Score]:
    """Each forecast against its outcome; `outcomes` keyed by (case, year, scheme)."""
    out = []
    for f in forecasts:
        y = float(outcomes[(f.case, f.year, f.scheme_id)])
        covered = f.low <= y <= f.high
        interval = (f.high - f.low) + 2 / alpha * (max(f.low - y, 0) + max(y - f.high, 0))
        out.append(Score(f.case, f.year, f.as_of, f.week, f.method, f.scheme_id, y / 1e4, f.base / 1e4, f.low / 1e4,
                         f.high / 1e4, (f.base - y) / y if y else None, covered,
                         (f.high - f.low) / y if y else None, interval / y if y else None, scored_by))
    return out


def write_csv(scores: list[Score], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(asdict(scores[0])))
        writer.writeheader()
        for s in scores:
            writer.writerow(asdict(s))


_PARSE = {"str": str, "int": int, "float": float, "date": date.fromisoformat,
          "bool": {"True": True, "False": False}.__getitem__}


def read_csv(path: Path) -> list[Score]:
    """The scores `write_csv` wrote (a backtest.csv), typed as they were; a ValueError names the file
    and line of a row that is not one."""
    kinds = {f.name: str(f.type) for f in fields(Score)}  # "float | None": empty in the CSV
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != list(kinds):
            raise ValueError(f"{path}: not a backtest.csv (columns {reader.fieldnames}, expected {list(kinds)})")
        scores = []
        for line, row in enumerate(reader, start=2):
            try:
                scores.append(Score(**{name: None if row[name] == "" and kind.endswith("| None")
                                       else _PARSE[kind.split(" |")[0]](row[name]) for name, kind in kinds.items()}))
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"{path}, line {line}: not a score ({e!r})") from None
    return scores


def report(scores: list[Score], command: str) -> "Report":
    """The report of `scores`; a ValueError where they were not all made and scored by the same code
    (`code_fingerprint`): a model and a naive of different code compared are no measurement."""
    from .backtest_report import markdown

    versions = sorted({s.scored_by for s in scores})
    if len(versions) > 1:
        raise ValueError(f"scores made by {len(versions)} versions of the forecast code ({', '.join(versions)}): "
                         "rescore the kept replays with one (--rescore) before reporting them together")
    return Report(scores, markdown(scores, command))


@dataclass
class Report:
    scores: list[Score]
    markdown: str

    def files(self, folder: Path) -> list[Path]:
        return [folder / "backtest.md", folder / "backtest.csv", folder / "backtest.png"]

    def write(self, folder: Path) -> None:
        from .backtest_report import chart

        md, csv_path, png = self.files(folder)
        folder.mkdir(parents=True, exist_ok=True)
        md.write_text(self.markdown, encoding="utf-8")
        write_csv(self.scores, csv_path)
        chart(self.scores, png)


def read_arrivals(path: Path) -> dict[str, date]:
    """The delivery day of every file of a source: a JSON object {"<feed>/<file>": "YYYY-MM-DD"}, or
    a document holding that object under "files" (what benchmarks/other_process.py writes beside
    its landing dir). A ValueError names the file and the entry that is not a date."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable arrivals JSON ({e})") from None
    files = document.get("files", document) if isinstance(document, dict) else None
    if not isinstance(files, dict) or not files:
        raise ValueError(f'{path}: expected {{"<feed>/<file>": "YYYY-MM-DD", ...}} (or that object under "files")')
    arrivals = {}
    for name, day in files.items():
        try:
            arrivals[name] = date.fromisoformat(day)
        except (TypeError, ValueError):
            raise ValueError(f"{path}: the delivery day of {name!r} is {day!r}, not a date YYYY-MM-DD") from None
    return arrivals


def arrivals_by_name(landing: Path) -> tuple[dict[str, date], list[str]]:
    """The delivery day of every file of a landing dir that has no arrivals JSON, by the naming rule
    a live run applies (`DeliveredFile.available_on`: a monthly delivery on its due day, a dated one
    on its date, a register from the start, its rows cut by their own dates), and what is left out:
    a `_vN` correction, whose day of arrival no name tells (taken from its base's due day, a replay
    would see it before it was made), and whatever ingestion would not read as a delivery."""
    from dagster_project.lib.ingest import FEEDS, datasets_of
    from dagster_project.lib.ingest.filenames import FileNameError, parse_name
    from dagster_project.lib.ingest.landing import scan_landing

    arrivals, left_out = {}, []
    for feed, paths in scan_landing(landing, FEEDS).files.items():
        for path in paths:
            name = f"{feed}/{path.name}"
            try:
                delivered = parse_name(path.name, feed, datasets_of(feed))
            except FileNameError as e:
                left_out.append(f"{name}: {e}")
                continue
            if delivered.version > 1:
                left_out.append(f"{name}: a correction, whose delivery day its name does not tell "
                                "(give an arrivals JSON to replay it)")
            else:
                arrivals[name] = delivered.available_on
    return arrivals, sorted(left_out)


def run(seeds: list[int], years: list[int], scale: str, sources: list[tuple[Path, dict[str, date]]], workdir: Path,
        command: str, catalogue: Catalogue | None = None, progress: Callable[[str], None] = print) -> Report:
    """Every case: the generator at each seed (with history from January two years before the first
    year), and each given (landing dir, delivery day per file: read_arrivals); scored and reported."""
    from dagster_project.lib.generate import generate_feeds
    from dagster_project.lib.measures.catalogue import load_catalogue

    catalogue = catalogue or load_catalogue()
    if workdir.exists():
        shutil.rmtree(workdir)
    cases = []
    for seed in seeds:
        source = workdir / "sources" / f"generator-{seed}"
        summary = generate_feeds(source, scale=scale, seed=seed, as_of=outcome_day(max(years)),
                                 history_start=date(min(years) - 1, 1, 1))
        cases.append((f"generator-{seed}", source, summary.arrivals))
    for landing, arrivals in sources:
        cases.append((landing.name, landing, arrivals))
    forecasts, outcomes = [], {}
    for label, source, arrivals in cases:
        progress(f"case {label}: replaying Q4 of {', '.join(map(str, years))}")
        found, outcome = run_case(label, source, arrivals, years, workdir / "replays" / label, catalogue,
                                  progress=progress)
        forecasts += found
        outcomes.update({(label, year, scheme): amount for (year, scheme), amount in outcome.items()})
    return _scored(forecasts, outcomes, catalogue, command)
