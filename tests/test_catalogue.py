"""The measure catalogue: schema, coverage of docs/contract/MEASURES.md, overrides, and no literals in the rules."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from dagster_project.lib.measures import kpis, lists, quantities, schemes
from dagster_project.lib.measures.catalogue import DEFAULT_CATALOGUE, CatalogueError, load_catalogue
from dagster_project.lib.measures.parameters import Parameters

MEASURES_MD_PARAMETERS = {
    "M02.min_output": (5000, "万元"), "M02.min_growth": (10, "%"), "M02.difficult_factor": (Decimal("0.6"), "倍"),
    "M02.rate": (1, "%"), "M02.cap": (200, "万元"), "M02.min_output_new": (2500, "万元"), "M02.new_amount": (30, "万元"),
    "M02.small_to_large_amount": (10, "万元"), "M08.per_link": (20, "万元"), "M08.cap": (50, "万元"),
    "M11.share": (2, "%"), "M15.increment_rate": (5, "%"), "M15.major_rate": (1, "%"),
    "M15.new_start_amount": (100, "万元"), "M15.new_start_amount_renovation": (50, "万元"), "M20.rate": (8, "%"),
    "M20.cap": (1000, "万元"), "M22.lookback_months": (12, "个月"), "M24.rate": (Decimal("0.03"), "元/千瓦时"),
    "M24.cap": (None, "万元"), "M01.near_threshold_share": (80, "%"),
}
MEASURES_MD_KPIS = {
    "M01.expand", "M01.ramp_up", "M01.turnaround", "M03.steel", "M03.nonferrous", "M04.auto", "M04.machinery",
    "M05.building_materials", "M05.petrochemical", "M06.textile", "M06.pharma", "M07.food", "M08.electronics",
    "M09.paper", "M09.wood", "M09.consumer_goods", "M13.new_projects", "M14.q4_investment", "M16.new_renovation",
    "M17.green_factories", "M17.green_parks", "M19.digital_scenarios", "M27.specialised", "M29.champions_new",
    "M29.champions_review", "M32.new_above_size", "M32.new_above_size_newly_built",
}
DOCS = Path(__file__).parents[1] / "docs"
SCHEME_IDS = {"M02.growth", "M02.new", "M02.small_to_large", "M08", "M11", "M15.increment", "M15.major",
              "M15.new_start", "M20", "M21", "M22.fair", "M22.new_market", "M23", "M24"}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_all_34_measures_with_clauses(catalogue):
    assert [m.number for m in catalogue.measures] == list(range(1, 35))
    assert all(m.clauses for m in catalogue.measures)


def test_clauses_and_sources_are_quoted_from_the_policy_text(catalogue):
    """A source is a quote of the policy text, or (prefixed `MEASURES.md：`) of the contract's measure rules."""
    text = re.sub(r"\s", "", (DOCS / "policy/gx-2024q4-industrial-measures.zh.txt").read_text(encoding="utf-8"))
    contract = re.sub(r"\s", "", (DOCS / "contract/MEASURES.md").read_text(encoding="utf-8"))
    quotes = [c for m in catalogue.measures for c in m.clauses]
    quotes += [x.source for m in catalogue.measures for x in [*m.parameters, *m.kpis] if x.source]
    missing = [q for q in quotes if re.sub(r"\s", "", q.removeprefix("MEASURES.md：")) not in
               (contract if q.startswith("MEASURES.md：") else text)]
    assert not missing


def _feeds_values(column: str) -> list[str]:
    """The backquoted values FEEDS.md lists for a column (its table row `| column | ... |`); for a list
    column (项目标签: "`;`-separated tags from: `双百双新`, ...") the values after "from:"."""
    rows = [line for line in (DOCS / "contract/FEEDS.md").read_text(encoding="utf-8").splitlines()
            if line.startswith(f"| {column} |")]
    assert len(rows) == 1, column
    return re.findall(r"`([^`]+)`", rows[0].split("from:")[-1])


def test_category_choices_are_the_values_feeds_md_allows(catalogue):
    categories = [p for p in catalogue.parameters.values() if p.type == "category"]
    assert len(categories) >= 19
    for p in categories:
        assert list(p.choices) == _feeds_values(p.choices_from), p.id


def test_measures_md_parameters_kpis_and_schemes_are_all_there(catalogue):
    params = catalogue.parameters
    for pid, (value, unit) in MEASURES_MD_PARAMETERS.items():
        assert params[pid].unit == unit, pid
        assert (params[pid].value is None and value is None) or Decimal(str(params[pid].value)) == Decimal(str(value)), pid
    assert {k.id for _, k in catalogue.kpis} == MEASURES_MD_KPIS
    assert set(catalogue.schemes) == SCHEME_IDS == set(schemes.SCHEMES)
    assert catalogue.schemes["M11"].funding == "revolving_fund"
    assert [s.exclusive_group for s in catalogue.measure("M15").schemes] == ["M15.choice"] * 3


def _broken(tmp_path, edit) -> Path:
    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _param(data, pid):
    return next(p for m in data["measures"] for p in m.get("parameters", []) if p["id"] == pid)


def _kpi(data, kpi_id):
    return next(k for m in data["measures"] for k in m.get("kpis", []) if k["id"] == kpi_id)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["measures"][1].update(threshold=5), "threshold"),
        (lambda d: _param(d, "M02.min_output").pop("unit"), "unit"),
        (lambda d: _param(d, "M02.min_output").pop("source"), "needs a quoted `source` clause or `assumption: true`"),
        (lambda d: _param(d, "M02.min_output").update(unit="千克"), "unit"),
        (lambda d: _param(d, "M02.min_output").update(value="lots"), "is not a decimal"),
        (lambda d: d["measures"].pop(5) and d["measures"][5].update(number=6), "does not match number"),
        (lambda d: _param(d, "M02.rate").update(value=120), "M02.rate = 120 is outside the allowed range: 0 to 100 %"),
        (lambda d: _param(d, "M02.cap").update(value=-1), "M02.cap = -1 is outside the allowed range: at least 0 万元"),
        (lambda d: _param(d, "M02.rate").update(min=5, max=1), "M02.rate: min 5 is above max 1"),
        (lambda d: _param(d, "M01.new_production_since").update(min=1), "min/max only for decimal and integer"),
        (lambda d: _param(d, "M15.new_start_new_build").update(value="新 建"),
         "M15.new_start_new_build: '新 建' is not an allowed value: 新建、扩建、改建、技术改造 (FEEDS.md 建设性质)"),
        (lambda d: _param(d, "M21.activity_types").update(value=["新品发布会", "路演"]),
         "M21.activity_types: '路演' is not an allowed value: 新品发布会、产品订货会、展会 (FEEDS.md 活动类型)"),
        (lambda d: _param(d, "M21.activity_types").update(value=[]), "M21.activity_types: an empty list selects nothing"),
        (lambda d: _param(d, "M21.activity_types").update(value=["展会", "展会"]),
         "M21.activity_types: a value is listed twice"),
        (lambda d: _param(d, "M23.loan_product").pop("choices"), "M23.loan_product: `choices` and `choices_from`"),
        (lambda d: _param(d, "M02.rate").update(choices=["x"], choices_from="y"), "M02.rate: `choices` and `choices_from`"),
        (lambda d: _param(d, "M23.loan_product").update(unit="元"), "M23.loan_product: a category parameter has unit 无"),
        (lambda d: _kpi(d, "M29.champions_review")["count"]["match"].update(level="M29.levels"),
         "M29.champions_review: match level names parameter 'M29.levels', which the catalogue lacks"),
        (lambda d: _kpi(d, "M29.champions_review")["count"]["match"].update(level="M17.window_start"),
         "M29.champions_review: match level needs a category parameter, M17.window_start is a month"),
        (lambda d: _kpi(d, "M17.green_parks")["count"]["dated"].update(start="M17.level"),
         "M17.green_parks: window start needs a month parameter, M17.level is a category"),
        (lambda d: _param(d, "M20.project_tag").update(value="设备更新"),
         "M20.project_tag: '设备更新' is not an allowed value: 双百双新、千企技改、重大产业标志性工程、招商引资、设备更新重点方向 (FEEDS.md 项目标签)"),
        # a tag list is not one category value: `match` would compare the whole list
        (lambda d: _kpi(d, "M13.new_projects")["count"].update(match={"tags": "M13.project_tag"}),
         "projects rows have no column tags"),
        (lambda d: _kpi(d, "M17.green_parks")["count"].update(tagged="M17.green_park_category"),
         "recognitions rows carry no tags to select by"),
        (lambda d: _kpi(d, "M16.new_renovation")["count"].update(tagged="M16.tag"),
         "M16.new_renovation: tagged names parameter 'M16.tag', which the catalogue lacks"),
        (lambda d: _kpi(d, "M16.new_renovation")["count"].update(tagged="M17.window_start"),
         "M16.new_renovation: tagged needs a category parameter, M17.window_start is a month"),
        (lambda d: _kpi(d, "M13.new_projects")["count"].update(flags=["has_tag_shuangbai_shuangxin"]),
         "flags: Extra inputs are not permitted"),
        (lambda d: _kpi(d, "M09.paper").update(count=_kpi(d, "M13.new_projects")["count"]),
         "M09.paper: a KPI is either an industry group's growth or a count"),
    ],
)
def test_schema_errors_are_reported(tmp_path, edit, message):
    with pytest.raises(CatalogueError, match=re.escape(message)):
        load_catalogue(_broken(tmp_path, edit))


def test_overrides_are_typed_and_recorded(tmp_path, catalogue):
    path = tmp_path / "finance.yaml"
    path.write_text("M02.rate: 1.5\nM24.cap: 100\nM22.lookback_months: 6\n", encoding="utf-8")
    params = Parameters.from_file(catalogue, path)
    assert params.base("M02.rate") == Decimal("0.015")
    assert params.base("M24.cap") == Decimal(1_000_000)
    assert params.base("M22.lookback_months") == 6
    assert params.get("M02.rate").origin == "override: finance.yaml"
    assert params.get("M02.cap").origin == "catalogue"
    assert params.fingerprint() != Parameters(catalogue).fingerprint()


def test_category_overrides_are_bound_as_text_or_list(tmp_path, catalogue):
    """Finance may narrow or widen a category among the values FEEDS.md allows; the rules bind the list."""
    path = tmp_path / "finance.yaml"
    path.write_text("M21.activity_types: [新品发布会]\nM29.review_type: 新认定\n", encoding="utf-8")
    params = Parameters.from_file(catalogue, path)
    assert params.base("M21.activity_types") == ["新品发布会"]
    assert params.base("M29.review_type") == "新认定"
    assert params.get("M21.activity_types").origin == "override: finance.yaml"
    assert Parameters(catalogue).display("M21.activity_types") == "新品发布会、产品订货会"
    assert params.fingerprint() != Parameters(catalogue).fingerprint()


def test_project_tag_overrides_among_the_feeds_md_tags(tmp_path, catalogue):
    """Which tag a measure selects is a category parameter: any tag FEEDS.md allows for 项目标签."""
    defaults = Parameters(catalogue)
    assert {pid: defaults.base(pid) for pid in ("M11.project_tag", "M13.project_tag", "M16.project_tag",
                                                "M20.project_tag")} == {
        "M11.project_tag": "双百双新", "M13.project_tag": "双百双新", "M16.project_tag": "千企技改",
        "M20.project_tag": "设备更新重点方向"}
    path = tmp_path / "finance.yaml"
    path.write_text("M20.project_tag: 千企技改\nM13.project_tag: 重大产业标志性工程\n", encoding="utf-8")
    params = Parameters.from_file(catalogue, path)
    assert params.base("M20.project_tag") == "千企技改" and params.base("M13.project_tag") == "重大产业标志性工程"
    assert params.get("M20.project_tag").origin == "override: finance.yaml"
    assert params.get("M11.project_tag").origin == "catalogue"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("M02.rates: 1\n", "unknown parameter id 'M02.rates' (did you mean M02.rate"),
        ("no.such_parameter: 1\n", "unknown parameter id 'no.such_parameter' (the ids are listed on the 参数 sheet)"),
        ("M02.rate: high\n", "M02.rate: 'high' is not a decimal (%)"),
        ("M22.lookback_months: 6.5\n", "M22.lookback_months: 6.5 is not an integer"),
        ("M02.cap: null\n", "M02.cap: a value is required"),
        ("- M02.rate\n", "expected a mapping"),
        ("M02.rate: .nan\n", "bad.yaml: M02.rate = NaN: not a finite number (allowed: 0 to 100 %)"),
        ("M02.rate: .inf\n", "bad.yaml: M02.rate = Infinity: not a finite number (allowed: 0 to 100 %)"),
        ("M02.rate: 5000\n", "bad.yaml: M02.rate = 5000 is outside the allowed range: 0 to 100 %"),
        ("M02.rate: -5\n", "bad.yaml: M02.rate = -5 is outside the allowed range: 0 to 100 %"),
        ("M24.cap: -1\n", "bad.yaml: M24.cap = -1 is outside the allowed range: at least 0 万元"),
        ("M22.lookback_months: 0\n", "bad.yaml: M22.lookback_months = 0 is outside the allowed range: 1 to 120 个月"),
        ("forecast.draws: 0\n", "bad.yaml: forecast.draws = 0 is outside the allowed range: 50 to 10000 次"),
        # one draw's "range" is one number: it was printed on 汇总 as an 80% range (2026-12-07)
        ("forecast.draws: 49\n", "bad.yaml: forecast.draws = 49 is outside the allowed range: 50 to 10000 次"),
        ("forecast.quantile_high: 120\n", "bad.yaml: forecast.quantile_high = 120 is outside the allowed range: 50 to 100 %"),
        # OUTPUTS.md: low ≤ base ≤ high, base the median: a low quantile of 95 stored low > high, then crashed
        ("forecast.quantile_low: 95\n", "bad.yaml: forecast.quantile_low = 95 is outside the allowed range: 0 to 50 %"),
        ("forecast.quantile_high: 49.9\n",
         "bad.yaml: forecast.quantile_high = 49.9 is outside the allowed range: 50 to 100 %"),
        # YAML 1.1 read these as 40, 128, 100 and 90, and kept the last of two values, without a word
        ("M22.new_market_cap: 050\n", "'050' is an ambiguous number"),
        ("M02.cap: 0200\n", "'0200' is an ambiguous number"),
        ("M20.rate: 0x64\n", "'0x64' is an ambiguous number"),
        ("M20.rate: 1:30\n", "'1:30' is an ambiguous number"),
        ("M02.rate: 1.5\nM02.cap: 100\nM02.rate: 1\n", "'M02.rate' is given twice (line 3): keep one"),
        ("forecast.untested_step_spread: -50\n",
         "bad.yaml: forecast.untested_step_spread = -50 is outside the allowed range: 0 to 500 %"),
        ("M21.activity_types: [新品发布会, 路演]\n",
         "bad.yaml: M21.activity_types: '路演' is not an allowed value: 新品发布会、产品订货会、展会 (FEEDS.md 活动类型)"),
        ("M21.activity_types: 新品发布会\n", "bad.yaml: M21.activity_types: '新品发布会' is not a list of texts"),
        ("M15.new_start_new_build: [新建, 扩建]\n", "bad.yaml: M15.new_start_new_build: ('新建', '扩建') is not one text"),
        ("M29.review_type: 3\n", "bad.yaml: M29.review_type: 3 is not a category"),
        ("M23.loan_product: 个人消费贷\n",
         "bad.yaml: M23.loan_product: '个人消费贷' is not an allowed value: 工业流动资金贷 (FEEDS.md 产品)"),
        ("M20.project_tag: 设备更新重点领域\n",
         "bad.yaml: M20.project_tag: '设备更新重点领域' is not an allowed value: 双百双新、千企技改、重大产业标志性工程、招商引资、设备更新重点方向 (FEEDS.md 项目标签)"),
        ("M13.project_tag: 双百双新;千企技改\n", "bad.yaml: M13.project_tag: '双百双新;千企技改' is not an allowed value"),
        ("M11.project_tag: [双百双新, 招商引资]\n", "bad.yaml: M11.project_tag: ('双百双新', '招商引资') is not one text"),
    ],
)
def test_bad_overrides_are_rejected(tmp_path, catalogue, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match=re.escape(message)):
        Parameters.from_file(catalogue, path)


def test_every_number_parameter_of_a_measure_declares_its_range(catalogue):
    """Finance's overrides are checked against these: a rate in [0, 100] %, a cap or threshold >= 0.
    (The forecast settings: the next test.)"""
    numbers = [p for m in catalogue.measures for p in m.parameters if p.type in ("decimal", "integer")]
    assert [p.id for p in numbers if p.min is None and p.max is None] == []
    for p in numbers:
        if p.unit in ("%", "百分点") and not p.id.endswith("growth"):
            assert (p.min, p.max) == (0, 100), p.id
        if p.unit in ("元", "万元", "亿元"):
            assert p.min == 0, p.id
    edges = Parameters(catalogue, {"M02.rate": 0, "M20.rate": 100, "M24.cap": 0, "M02.min_growth": -100}, "edges.yaml")
    assert edges.base("M20.rate") == 1


def test_every_forecast_setting_declares_its_range(catalogue):
    """An override of a forecast setting (`--params`) is checked before anything runs: no draws, a
    quantile of 120 %, a negative spread or a window longer than a year stop with a message instead
    of a crash or a nonsense range after the ingestion."""
    settings = [p for pid, p in catalogue.parameters.items() if pid.startswith("forecast.") and p.type in ("decimal", "integer")]
    assert len(settings) >= 20
    assert [p.id for p in settings if p.min is None and p.max is None] == []
    for p in settings:
        if p.id == "forecast.plan_bounds_to":
            assert p.min == 100, p.id  # a project within its plan is bounded by it
        elif p.id == "forecast.quantile_low":
            assert (p.min, p.max) == (0, 50), p.id  # low ≤ base (the median)
        elif p.id == "forecast.quantile_high":
            assert (p.min, p.max) == (50, 100), p.id  # base ≤ high
        elif p.unit == "%":
            assert p.min == 0, p.id
        ages = ("forecast.young_project_months", "forecast.old_project_months", "forecast.ramp_up_months")
        if p.unit == "个月" and p.id.endswith("_months") and p.id not in ("forecast.training_months",
                                                                        "forecast.late_report_months", *ages):
            assert (p.min, p.max) == (1, 12), p.id  # windows within a year
        if p.id in ages:
            assert (p.min, p.max) == (0, 120), p.id  # ages since 开工 or 投产, not windows; 0: no such class
        if p.id == "forecast.late_report_months":
            assert (p.min, p.max) == (0, 12), p.id  # 0: a month not reported is a stop (the rule before)
        if p.id.startswith("forecast.runway_"):
            assert p.min == 0 and p.max is not None, p.id  # 0: one class of planned projects


def test_no_parameter_value_is_written_as_a_literal_in_the_rules(catalogue):
    """Every threshold, rate and cap comes from the catalogue: the rule modules hold no number
    equal to a parameter value (in the stated unit or converted), 0 and 1 aside."""
    params = Parameters(catalogue)
    forbidden = set()
    for entry in params:
        if entry.parameter.id.startswith("forecast."):
            continue  # the forecast's settings: read by lib/forecast/settings.py (test below), not by the rules
        if isinstance(entry.value, (int, Decimal)) or (isinstance(entry.value, str) and entry.value.isdigit()):
            forbidden.add(Decimal(str(entry.value)))
            forbidden.add(Decimal(str(params.base(entry.parameter.id))))
    forbidden -= {Decimal(0), Decimal(1)}
    files = [Path(m.__file__) for m in schemes.MODULES] + [Path(kpis.__file__), Path(lists.__file__)]
    found = []
    for path in files:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for number in re.findall(r"(?<![\w.%])\d+(?:\.\d+)?(?![\w.])", line):
                if Decimal(number) in forbidden:
                    found.append(f"{path.name}:{lineno}: {number}")
    assert not found


def _code_texts(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant in a module, docstrings aside (f-string parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def _category_literals(catalogue, files: list[Path]) -> list[str]:
    """Texts in the code that are a value FEEDS.md allows for a column some category parameter is
    compared with, as a word of its own (not inside a longer Chinese label such as 新建投产)."""
    values = {v for p in catalogue.parameters.values() if p.type == "category" for v in p.choices}
    words = [re.compile(rf"(?<![\u4e00-\u9fff]){re.escape(v)}(?![\u4e00-\u9fff])") for v in sorted(values)]
    return [f"{path.name}:{line}: {text.strip()[:60]}" for path in files for line, text in _code_texts(path)
            if any(w.search(text) for w in words)]


def test_no_category_value_is_written_as_a_literal_in_the_rules(catalogue):
    """Every category value a rule or KPI compares with comes from a category parameter."""
    files = [Path(m.__file__) for m in schemes.MODULES] + [Path(kpis.__file__), Path(lists.__file__),
                                                           Path(quantities.__file__)]
    assert _category_literals(catalogue, files) == []


def test_the_category_literal_check_finds_a_literal(tmp_path, catalogue):
    """The check above fails on a rule that writes a category value in its SQL (docstrings aside)."""
    rule = tmp_path / "rule.py"
    rule.write_text('"""技术改造 projects."""\n\n\ndef f(x):\n    return f"where construction_type = \'技术改造\' '
                    'and {x}"\n\n\nLABEL = "新建投产"\n', encoding="utf-8")
    assert _category_literals(catalogue, [rule]) == ["rule.py:5: where construction_type = '技术改造' and"]


def test_every_forecast_setting_is_read_from_the_catalogue(catalogue):
    """The forecast takes each `forecast.*` parameter, and nothing else, from the parameters in force."""
    from dagster_project.lib.forecast.settings import ForecastSettings

    read = []

    class Recording(Parameters):
        def base(self, pid):
            read.append(pid)
            return super().base(pid)

    settings = ForecastSettings.from_parameters(Recording(catalogue, {"forecast.draws": 123}, "test"))
    assert sorted(read) == sorted(p for p in catalogue.parameters if p.startswith("forecast."))
    assert settings.draws == 123
