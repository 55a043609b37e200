"""The measure catalogue: one declarative YAML file per policy document.

The schema is strict: an unknown key, a parameter without a unit, or a number
with neither a quoted source clause nor the `assumption` flag is an error. A
number parameter may declare the range of values that make sense (`min`, `max`,
inclusive; a rate in [0, 100] %, a cap ≥ 0); values are finite and within it,
in the catalogue and in finance's overrides alike.
A `category` parameter holds the category value(s) a rule or KPI compares a feed column
against (a construction type, an activity type, a recognition level, ...): one text, or a
list of texts, each among its declared `choices` (the values docs/contract/FEEDS.md allows
for that column, named by `choices_from`).
Parameter values are held in the unit the policy states (万元, %, ...);
`Parameters` converts them to what the rules compute with (元, fractions).
"""

from __future__ import annotations

import functools

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

CATALOGUES_DIR = Path(__file__).parent / "catalogues"
DEFAULT_CATALOGUE = CATALOGUES_DIR / "gx-2024q4-industrial-measures.yaml"

# How a value in each unit becomes the quantity the rules use.
UNIT_FACTORS: dict[str, Decimal | None] = {
    "元": Decimal(1),
    "万元": Decimal(10_000),
    "亿元": Decimal(100_000_000),
    "%": Decimal("0.01"),
    "百分点": Decimal("0.01"),
    "倍": Decimal(1),
    "元/千瓦时": Decimal(1),
    "个月": None,
    "天": None,
    "年": None,
    "年月": None,
    "家": None,
    "项": None,
    "个": None,
    "次": None,
    "无": None,
}
Unit = Literal["元", "万元", "亿元", "%", "百分点", "倍", "元/千瓦时", "个月", "天", "年", "年月", "家", "项", "个", "次", "无"]
ParamType = Literal["decimal", "integer", "month", "date", "category"]


class CatalogueError(ValueError):
    """The catalogue or an override file does not follow the schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    start: date
    end: date


class Document(_Strict):
    id: str
    title: str
    source: str
    policy_quarter: Period
    base_quarter: Period
    year: int


class Section(_Strict):
    number: int
    title: str


class Sourced(_Strict):
    """A number is either quoted from the text (`source`) or a flagged assumption."""

    source: str | None = None
    assumption: bool = False
    assumption_note: str | None = None

    @model_validator(mode="after")
    def _sourced(self):
        if not self.source and not self.assumption:
            raise ValueError("needs a quoted `source` clause or `assumption: true`")
        if self.assumption and not self.assumption_note:
            raise ValueError("`assumption: true` needs an `assumption_note`")
        return self


class Parameter(Sourced):
    id: str
    description: str
    value: Decimal | int | str | date | tuple[str, ...] | None
    unit: Unit
    type: ParamType
    nullable: bool = False
    min: Decimal | None = None  # inclusive bounds of a decimal or integer parameter
    max: Decimal | None = None
    choices: tuple[str, ...] | None = None  # the values a category parameter may take
    choices_from: str | None = None  # the FEEDS.md column whose values `choices` lists

    @model_validator(mode="after")
    def _typed(self):
        if (self.type == "category") != (self.choices is not None and self.choices_from is not None):
            raise ValueError(f"{self.id}: `choices` and `choices_from` are for category parameters, which need both")
        if self.type == "category" and self.unit != "无":
            raise ValueError(f"{self.id}: a category parameter has unit 无")
        if (self.min is not None or self.max is not None) and self.type not in ("decimal", "integer"):
            raise ValueError(f"{self.id}: min/max only for decimal and integer parameters")
        for bound in (self.min, self.max):
            if bound is not None and not bound.is_finite():
                raise ValueError(f"{self.id}: min/max must be finite numbers")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{self.id}: min {self.min} is above max {self.max}")
        check_value(self, self.value)
        return self

    @property
    def allowed(self) -> str:
        """The declared range in words, e.g. '0 to 100 %'."""
        if self.type == "category":
            return f"{'、'.join(self.choices)} (FEEDS.md {self.choices_from})"
        low, high = (None if b is None else format(b.normalize(), "f") for b in (self.min, self.max))
        if low is not None and high is not None:
            return f"{low} to {high} {self.unit}"
        if low is not None:
            return f"at least {low} {self.unit}"
        if high is not None:
            return f"at most {high} {self.unit}"
        return f"any finite number ({self.unit})"


# The mart rows a KPI `count` may count, the columns its definition may name, and what one counted
# thing is. A recognition is the entity (enterprise, park or scenario) on a list at a level with
# a type, so the same one entered twice on other dates is one 家, not two (a hand-kept register
# listed an enterprise 新认定 in June and again in December: 8 专精特新 for 7 enterprises). The
# columns are those the forecast's rows still to come carry as well (measures/kpis.py,
# FORECAST_ROWS): while the quarter is open a count is the rows so far plus those.
COUNTED_ROWS: dict[str, tuple[str, frozenset[str], str]] = {
    "recognitions": ("marts.fct_recognitions", frozenset({"list_category", "level", "recognition_type", "recognised_on"}),
                     "(list_category, level, recognition_type, uscc, name)"),
    "projects": ("marts.dim_project", frozenset({"construction_type", "library_entry_month", "start_month"}),
                 "project_code"),
    "enterprises": ("marts.dim_enterprise", frozenset({"above_size_since", "production_start"}), "uscc"),
}
# The rows with a tag list (`tags`: 项目标签, several tags per row), which a count may select by (`tagged`).
TAGGED_ROWS = frozenset({"projects"})
# Date bounds a `count` window may name besides a month parameter: the document's policy year and quarter.
PERIOD_BOUNDS = ("year_start", "quarter_start", "quarter_end")


class DateWindow(_Strict):
    column: str
    start: str  # a month parameter id (its first day) or a period bound
    end: str  # a period bound


class KpiCount(_Strict):
    """A KPI that counts mart rows: each `match` column equals its category parameter's value (one of
    its values, for a list), the rows' tag list holds the tag of the `tagged` category parameter (one
    of its tags, for a list), the `dated` column lies in the window (inclusive), and each `since`
    column is on or after the first day of its month parameter."""

    rows: Literal["recognitions", "projects", "enterprises"]
    match: dict[str, str] = {}  # column -> category parameter id
    tagged: str | None = None  # category parameter id: the tag the rows must carry
    dated: DateWindow
    since: dict[str, str] = {}  # date column -> month parameter id

    @model_validator(mode="after")
    def _columns(self):
        known = COUNTED_ROWS[self.rows][1]
        named = [*self.match, self.dated.column, *self.since]
        unknown = [c for c in named if c not in known]
        if unknown:
            raise ValueError(f"{self.rows} rows have no column {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        if self.tagged and self.rows not in TAGGED_ROWS:
            raise ValueError(f"{self.rows} rows carry no tags to select by (tagged: rows {', '.join(sorted(TAGGED_ROWS))})")
        if self.dated.end not in PERIOD_BOUNDS:
            raise ValueError(f"window end {self.dated.end!r} is not one of {', '.join(PERIOD_BOUNDS)}")
        return self


class Kpi(Sourced):
    id: str
    indicator: str
    unit: str
    target_op: Literal[">=", ">", "≈", "narrows", "positive", "none"]
    target_value: Decimal | None = None
    industry_group: str | None = None  # a growth KPI: the group's output growth, comparable basis
    count: KpiCount | None = None  # a counting KPI

    @model_validator(mode="after")
    def _target(self):
        if (self.target_op in (">=", ">", "≈")) != (self.target_value is not None):
            raise ValueError(f"target_op {self.target_op!r} and target_value {self.target_value!r} do not fit")
        if self.industry_group and self.count:
            raise ValueError(f"{self.id}: a KPI is either an industry group's growth or a count, not both")
        return self


class Scheme(_Strict):
    id: str
    title: str
    beneficiary: Literal["enterprise", "project"]
    funding: Literal["grant", "revolving_fund"]
    exclusive_group: str | None = None


class MonitoringList(_Strict):
    id: str
    title: str
    definition: str


class Measure(_Strict):
    number: int
    id: str
    section: int
    title: str
    kind: Literal["subsidy", "kpi_target", "monitoring_list", "qualitative"]
    clauses: list[str]
    note: str | None = None
    schemes: list[Scheme] = []
    parameters: list[Parameter] = []
    kpis: list[Kpi] = []
    lists: list[MonitoringList] = []

    @model_validator(mode="after")
    def _consistent(self):
        if self.id != f"M{self.number:02d}":
            raise ValueError(f"id {self.id} does not match number {self.number}")
        if not self.clauses:
            raise ValueError("a measure needs at least one quoted clause")
        if (self.kind == "subsidy") != bool(self.schemes):
            raise ValueError("subsidy measures, and only they, have schemes")
        for item in [*self.schemes, *self.parameters, *self.kpis, *self.lists]:
            if not (item.id == self.id or item.id.startswith(self.id + ".")):
                raise ValueError(f"{item.id} does not belong to {self.id}")
        return self


class ForecastSettings(_Strict):
    """How the part of the quarter not reported yet is forecast: parameters `forecast.*`."""

    title: str
    parameters: list[Parameter]

    @model_validator(mode="after")
    def _ids(self):
        for p in self.parameters:
            if not p.id.startswith("forecast."):
                raise ValueError(f"{p.id} is not a forecast setting (forecast.*)")
        return self


class Catalogue(_Strict):
    document: Document
    sections: list[Section]
    measures: list[Measure]
    forecast: ForecastSettings

    @model_validator(mode="after")
    def _unique(self):
        ids = [x.id for m in self.measures for x in [m, *m.schemes, *m.parameters, *m.kpis, *m.lists]]
        ids += [p.id for p in self.forecast.parameters]
        dupes = sorted({i for i in ids if ids.count(i) > 1} - {m.id for m in self.measures if m.schemes})
        if dupes:
            raise ValueError(f"duplicate ids: {', '.join(dupes)}")
        sections = {s.number for s in self.sections}
        for m in self.measures:
            if m.section not in sections:
                raise ValueError(f"{m.id}: unknown section {m.section}")
        for _, kpi in self.kpis:
            if kpi.count:
                self._check_count(kpi.id, kpi.count)
        return self

    def _check_count(self, kpi_id: str, count: KpiCount) -> None:
        """Every parameter a count names exists and has the type its place needs."""
        params = self.parameters
        needs = [(pid, "category", f"match {column}") for column, pid in count.match.items()]
        needs += [(count.tagged, "category", "tagged")] if count.tagged else []
        needs += [(pid, "month", f"since {column}") for column, pid in count.since.items()]
        if count.dated.start not in PERIOD_BOUNDS:
            needs.append((count.dated.start, "month", "window start"))
        for pid, kind, where in needs:
            if pid not in params:
                raise ValueError(f"{kpi_id}: {where} names parameter {pid!r}, which the catalogue lacks")
            if params[pid].type != kind:
                raise ValueError(f"{kpi_id}: {where} needs a {kind} parameter, {pid} is a {params[pid].type}")

    @property
    def parameters(self) -> dict[str, Parameter]:
        """Every parameter: the measures', then the forecast settings."""
        return {p.id: p for p in [*(p for m in self.measures for p in m.parameters), *self.forecast.parameters]}

    @property
    def schemes(self) -> dict[str, Scheme]:
        return {s.id: s for m in self.measures for s in m.schemes}

    @property
    def kpis(self) -> list[tuple[Measure, Kpi]]:
        return [(m, k) for m in self.measures for k in m.kpis]

    def measure(self, measure_id: str) -> Measure:
        return next(m for m in self.measures if m.id == measure_id)


def check_value(param: Parameter, value: object) -> None:
    """Raise ValueError when `value` does not fit the parameter's type."""
    if value is None:
        if not param.nullable:
            raise ValueError(f"{param.id}: a value is required (not nullable)")
        return
    ok = {
        "decimal": isinstance(value, (int, float, Decimal)) and not isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "month": isinstance(value, str) and len(value) == 6 and value.isdigit() and 1 <= int(value[4:]) <= 12,
        "date": isinstance(value, date),
        "category": isinstance(value, (str, tuple)),
    }[param.type]
    if not ok:
        article = "an" if param.type[0] in "aeiou" else "a"
        raise ValueError(f"{param.id}: {value!r} is not {article} {param.type} ({param.unit})")
    if param.type == "category":
        _check_category(param, value)
    if param.type in ("decimal", "integer"):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise ValueError(f"{param.id} = {value}: not a finite number (allowed: {param.allowed})")
        if (param.min is not None and number < param.min) or (param.max is not None and number > param.max):
            raise ValueError(f"{param.id} = {value} is outside the allowed range: {param.allowed}")


def _check_category(param: Parameter, value: str | tuple) -> None:
    """One allowed text, or a non-empty list of distinct allowed texts."""
    if isinstance(value, str) != isinstance(param.value, str):
        shape = "one text" if isinstance(param.value, str) else "a list of texts"
        raise ValueError(f"{param.id}: {value!r} is not {shape} (the rules compare the column with {shape})")
    texts = (value,) if isinstance(value, str) else value
    if not texts:
        raise ValueError(f"{param.id}: an empty list selects nothing (allowed: {param.allowed})")
    for text in texts:
        if not isinstance(text, str) or text not in param.choices:
            raise ValueError(f"{param.id}: {text!r} is not an allowed value: {param.allowed}")
    if len(set(texts)) != len(texts):
        raise ValueError(f"{param.id}: a value is listed twice in {list(texts)}")


def load_catalogue(path: Path = DEFAULT_CATALOGUE) -> Catalogue:
    """The catalogue in `path`, read each time; parsed once per distinct text (a run loads it in
    several steps, ~0.3 s each; the models are frozen)."""
    return _parse(str(path), Path(path).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def _parse(path: str, text: str) -> Catalogue:
    try:
        return Catalogue.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise CatalogueError(f"{path}: {_explain(exc)}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from None


def _explain(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        lines.append(f"{where}: {err['msg']}")
    return "; ".join(lines)
