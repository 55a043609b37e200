"""Expectation suites as data: `expectations/<suite>.yml`, loaded and checked without Great Expectations.

A suite names the asset it checks, its name for finance (`label`, Chinese: the 数据质量 sheet
shows it), how its batches are built, the derived columns it needs and its expectations. Every
expectation has a severity (`blocking` stops everything downstream, `warning` is
reported) and, for rate-type expectations, `mostly` (the share of rows that must pass). Values that
depend on the run are written as `$name` placeholders (see `PLACEHOLDERS`) and resolved per batch.
GX itself is imported only when a suite is turned into a GX suite (`to_gx`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dagster_project.paths import EXPECTATIONS_DIR

SEVERITIES = ("blocking", "warning")
# blocking <-> GX "critical", warning <-> GX "warning" (GX 1.x expectation severities)
GX_SEVERITY = {"blocking": "critical", "warning": "warning"}

# Batch kinds: `file` = one batch per delivered file of a raw dataset (rows as delivered, incl. the
# rows ingestion quarantined); `table` = the whole table named by `table:`; `sql` = a query over the
# warehouse (aggregates, cross-mart comparisons), `$name` parameters bound by DuckDB.
BATCH_KINDS = ("file", "table", "sql")

# The GX expectation types the suites may use. Column-map types give unexpected counts and examples;
# the aggregate ones (median) give an observed value.
EXPECTATION_TYPES = {
    "expect_column_values_to_be_null": "map",
    "expect_column_values_to_not_be_null": "map",
    "expect_column_values_to_be_in_set": "map",
    "expect_column_values_to_be_between": "map",
    "expect_column_values_to_match_regex": "map",
    "expect_column_values_to_be_unique": "map",
    "expect_compound_columns_to_be_unique": "map",
    "expect_column_pair_values_a_to_be_greater_than_b": "map",
    "expect_column_median_to_be_between": "aggregate",
    "expect_table_row_count_to_be_between": "aggregate",
}

# Run-dependent values usable in expectation kwargs (resolved in `Resolver`).
PLACEHOLDERS = {
    "$as_of": "the run's as-of date (datetime, for DATE columns)",
    "$a_year_after_as_of": "the same day a year later (a register date beyond it is a year typed wrong)",
    "$as_of_month": "YYYYMM of the as-of date (int, for month columns)",
    "$last_closed_month": "YYYYMM of the month before the as-of month: the latest month that can be reported",
    "$last_closed_month_start": "the first day of that month (datetime, for DATE month columns)",
    "$file_period": "the delivered file's period: YYYYMM (int) for monthly files, the delivery date (datetime) for weekly ones",
    "$rows_floor": "the suite's min_rows_share of the rows of the dataset's latest earlier delivery (0: nothing to compare)",
    "$county_codes": "GB/T 2260 county codes under Guangxi (seed)",
    "$industry_classes": "GB/T 4754-2017 classes (seed)",
    "$country_codes": "ISO 3166-1 alpha-3 codes (seed)",
}

DERIVATIONS = (
    "uscc",  # uscc_problem: why the USCC fails GB 32100-2015 / GB 11714, NULL when valid or blank
    "directory",  # directory_problem: USCC (non-blank) not in the enterprise directory as of the run
    "stats_industry",  # cumulative, monthly-vs-cumulative and unit checks against the previous report
    "stats_enterprise",  # month fields after the snapshot month, 入统年月 missing for 规上
    "stats_projects",  # month fields after the library month, equipment above investment, a month above the plan
    "power_daily",  # account known, kWh blank iff flagged 缺失
    "tax_vat",  # filing date before the tax period
    "customs_export",  # CNY/USD rate, export date outside the file month
    "loans",  # maturity before disbursement
    "policy_awards",  # chosen without eligible, amount without eligible
    "resend",  # resend_problem: the file repeats an earlier period's delivery byte for byte
)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class SuiteError(ValueError):
    """A suite file that does not follow the format (raised at load time, before anything runs)."""


@dataclass(frozen=True)
class Expectation:
    name: str  # unique within the suite, snake_case
    type: str  # GX expectation type, e.g. expect_column_values_to_be_null
    kwargs: dict[str, Any]
    severity: str  # blocking | warning
    mostly: float | None = None
    label: str = ""  # Chinese label for the workbook's 数据质量 sheet
    description: str = ""
    # a row it names is a suspected unit or digit error that goes into the budget as delivered
    # (named, not refused): 汇总 lists such rows in red (reports/data.py, suspect_rows)
    on_summary: bool = False

    @property
    def column(self) -> str | None:
        if "column" in self.kwargs:
            return self.kwargs["column"]
        if "column_list" in self.kwargs:
            return ",".join(self.kwargs["column_list"])
        if "column_A" in self.kwargs:
            return f"{self.kwargs['column_A']},{self.kwargs['column_B']}"
        return None

    @property
    def is_map(self) -> bool:
        return EXPECTATION_TYPES[self.type] == "map"


@dataclass(frozen=True)
class Suite:
    name: str  # = file stem
    asset: str  # Dagster asset key as a path, e.g. raw/stats_industry
    label: str  # Chinese name for the workbook's 数据质量 sheet, e.g. 规上工业月报
    batch: str  # file | table | sql
    expectations: tuple[Expectation, ...]
    description: str = ""
    table: str | None = None  # batch: table
    sql: str | None = None  # batch: sql
    dataset: str | None = None  # batch: file -> raw table name (feed_dataset)
    derive: tuple[str, ...] = ()
    index_columns: tuple[str, ...] = ()  # columns that identify an unexpected row in the examples
    deps: tuple[str, ...] = ()  # other assets the batch reads (lineage)
    params: dict[str, Any] = field(default_factory=dict)  # tolerances for the derivations

    @property
    def asset_path(self) -> list[str]:
        return self.asset.split("/")

    @property
    def severities(self) -> tuple[str, ...]:
        return tuple(s for s in SEVERITIES if any(e.severity == s for e in self.expectations))

    def check_name(self, severity: str) -> str:
        """The Dagster asset check for this suite's expectations of one severity."""
        return f"{self.name}_{severity}"

    def of_severity(self, severity: str) -> tuple[Expectation, ...]:
        return tuple(e for e in self.expectations if e.severity == severity)


def load_suites(directory: Path = EXPECTATIONS_DIR) -> tuple[Suite, ...]:
    """Every `*.yml` suite of the directory, sorted by name; SuiteError on the first bad file."""
    suites = tuple(load_suite(p) for p in sorted(directory.glob("*.yml")))
    checks = {}
    for s in suites:
        for sev in s.severities:
            key = (s.asset, s.check_name(sev))
            if key in checks:
                raise SuiteError(f"{s.name}: check {key} also defined by {checks[key]}")
            checks[key] = s.name
    return suites


def load_suite(path: Path) -> Suite:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path.name}: not valid YAML: {exc}") from None
    where = path.name
    if not isinstance(data, dict):
        raise SuiteError(f"{where}: expected a mapping at the top level")
    known = {"suite", "label", "asset", "description", "batch", "table", "sql", "dataset", "derive", "index_columns",
             "deps", "params", "expectations"}
    _no_unknown(where, data, known)
    name = _required(where, data, "suite", str)
    if name != path.stem:
        raise SuiteError(f"{where}: suite name {name!r} must equal the file name {path.stem!r}")
    if not _NAME.match(name):
        raise SuiteError(f"{where}: suite name {name!r} must be snake_case")
    batch = _required(where, data, "batch", str)
    if batch not in BATCH_KINDS:
        raise SuiteError(f"{where}: batch {batch!r} is not one of {', '.join(BATCH_KINDS)}")
    asset = _required(where, data, "asset", str)
    label = _required(where, data, "label", str)
    if batch == "file" and not data.get("dataset"):
        raise SuiteError(f"{where}: batch: file needs dataset: <feed>_<dataset>")
    if batch == "table" and not data.get("table"):
        raise SuiteError(f"{where}: batch: table needs table: <schema>.<table>")
    if batch == "sql" and not data.get("sql"):
        raise SuiteError(f"{where}: batch: sql needs sql: <query>")
    derive = tuple(data.get("derive") or ())
    for d in derive:
        if d not in DERIVATIONS:
            raise SuiteError(f"{where}: unknown derivation {d!r} (known: {', '.join(DERIVATIONS)})")
    raw_expectations = data.get("expectations") or []
    if not raw_expectations:
        raise SuiteError(f"{where}: no expectations")
    expectations = tuple(_expectation(where, i, e) for i, e in enumerate(raw_expectations))
    names = [e.name for e in expectations]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SuiteError(f"{where}: expectation names used twice: {', '.join(dupes)}")
    return Suite(
        name=name,
        asset=asset,
        label=label,
        batch=batch,
        expectations=expectations,
        description=str(data.get("description") or "").strip(),
        table=data.get("table"),
        sql=data.get("sql"),
        dataset=data.get("dataset"),
        derive=derive,
        index_columns=tuple(data.get("index_columns") or ()),
        deps=tuple(data.get("deps") or ()),
        params=dict(data.get("params") or {}),
    )


def _expectation(where: str, i: int, e: Any) -> Expectation:
    if not isinstance(e, dict):
        raise SuiteError(f"{where}: expectation #{i + 1} is not a mapping")
    _no_unknown(f"{where} expectation #{i + 1}", e,
                {"name", "type", "column", "kwargs", "severity", "mostly", "label", "description", "on_summary"})
    name = _required(where, e, "name", str)
    where = f"{where} expectation {name!r}"
    if not _NAME.match(name):
        raise SuiteError(f"{where}: name must be snake_case")
    etype = _required(where, e, "type", str)
    if etype not in EXPECTATION_TYPES:
        raise SuiteError(f"{where}: type {etype!r} is not supported (use one of {', '.join(EXPECTATION_TYPES)})")
    severity = _required(where, e, "severity", str)
    if severity not in SEVERITIES:
        raise SuiteError(f"{where}: severity {severity!r} must be blocking or warning")
    kwargs = dict(e.get("kwargs") or {})
    if "column" in e:
        kwargs["column"] = e["column"]
    if etype.startswith("expect_column_pair_"):
        if not (kwargs.get("column_A") and kwargs.get("column_B")):
            raise SuiteError(f"{where}: {etype} needs kwargs.column_A and kwargs.column_B")
    elif etype.startswith("expect_column_") and "column" not in kwargs:
        raise SuiteError(f"{where}: {etype} needs a column")
    if etype == "expect_compound_columns_to_be_unique" and not kwargs.get("column_list"):
        raise SuiteError(f"{where}: {etype} needs kwargs.column_list")
    if "mostly" in kwargs:
        raise SuiteError(f"{where}: give mostly as a field of the expectation, not in kwargs")
    for value in _flat(kwargs):
        if isinstance(value, str) and value.startswith("$") and value not in PLACEHOLDERS:
            raise SuiteError(f"{where}: unknown placeholder {value} (known: {', '.join(PLACEHOLDERS)})")
    mostly = e.get("mostly")
    if mostly is not None:
        if EXPECTATION_TYPES[etype] != "map":
            raise SuiteError(f"{where}: mostly applies to column-map expectations only")
        if not isinstance(mostly, (int, float)) or not 0 < mostly <= 1:
            raise SuiteError(f"{where}: mostly must be a share in (0, 1]")
        mostly = float(mostly)
    on_summary = e.get("on_summary", False)
    if not isinstance(on_summary, bool) or (on_summary and (severity != "warning" or mostly is not None)):
        raise SuiteError(f"{where}: on_summary (true/false) marks a warning that names each row (no mostly)")
    return Expectation(name=name, type=etype, kwargs=kwargs, severity=severity, mostly=mostly,
                       label=str(e.get("label") or ""), description=str(e.get("description") or "").strip(),
                       on_summary=on_summary)


def _flat(value: Any):
    if isinstance(value, dict):
        for v in value.values():
            yield from _flat(v)
    elif isinstance(value, list):
        for v in value:
            yield from _flat(v)
    else:
        yield value


def _required(where: str, data: dict, key: str, kind: type):
    if key not in data or data[key] in (None, ""):
        raise SuiteError(f"{where}: {key} is required")
    if not isinstance(data[key], kind):
        raise SuiteError(f"{where}: {key} must be a {kind.__name__}")
    return data[key]


def _no_unknown(where: str, data: dict, known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise SuiteError(f"{where}: unknown field(s) {', '.join(unknown)}")


def resolve_kwargs(kwargs: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Replace `$name` placeholders by the run's values (lists are resolved element-wise)."""

    def one(v):
        if isinstance(v, str) and v.startswith("$"):
            return values[v]
        if isinstance(v, list):
            return [one(x) for x in v]
        if isinstance(v, dict):
            return {k: one(x) for k, x in v.items()}
        return v

    return {k: one(v) for k, v in kwargs.items()}


def to_gx(suite: Suite, values: dict[str, Any], expectations: tuple[Expectation, ...] | None = None):
    """The GX ExpectationSuite for one batch (placeholders resolved). Imports GX."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    items = []
    for e in expectations or suite.expectations:
        cls = getattr(gxe, "".join(part.capitalize() for part in e.type.split("_")))
        kwargs = resolve_kwargs(e.kwargs, values)
        if e.mostly is not None:
            kwargs["mostly"] = e.mostly
        # Data Docs show the description instead of GX's own sentence: say what, where and how much.
        rule = f"{e.type.removeprefix('expect_')} on {e.column}" if e.column else e.type.removeprefix("expect_")
        share = f", at least {e.mostly:.0%} of rows" if e.mostly is not None else ""
        description = f"[{e.severity}] {e.name}: {e.label} ({rule}{share})" if e.label else f"[{e.severity}] {e.name} ({rule}{share})"
        items.append(cls(**kwargs, severity=GX_SEVERITY[e.severity], description=description,
                         meta={"name": e.name, "severity": e.severity, "label": e.label}))
    return gx.ExpectationSuite(name=suite.name, expectations=items, meta={"asset": suite.asset})
