"""The measure catalogue: schema, coverage of docs/contract/MEASURES.md, overrides, and no literals in the rules."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from dagster_project.lib.measures import kpis, lists, schemes
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
SCHEME_IDS = {"M02.growth", "M02.new", "M02.small_to_large", "M08", "M11", "M15.increment", "M15.major",
              "M15.new_start", "M20", "M21", "M22.fair", "M22.new_market", "M23", "M24"}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_all_34_measures_with_clauses(catalogue):
    assert [m.number for m in catalogue.measures] == list(range(1, 35))
    assert all(m.clauses for m in catalogue.measures)


def test_clauses_and_sources_are_quoted_from_the_policy_text(catalogue):
    text = re.sub(r"\s", "", (Path(__file__).parents[1] / "docs/policy/gx-2024q4-industrial-measures.zh.txt")
                  .read_text(encoding="utf-8"))
    quotes = [c for m in catalogue.measures for c in m.clauses]
    quotes += [x.source for m in catalogue.measures for x in [*m.parameters, *m.kpis] if x.source]
    missing = [q for q in quotes if re.sub(r"\s", "", q) not in text]
    assert not missing


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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("M02.rates: 1\n", "unknown parameter id 'M02.rates'"),
        ("M02.rate: high\n", "M02.rate: 'high' is not a decimal (%)"),
        ("M22.lookback_months: 6.5\n", "M22.lookback_months: 6.5 is not a integer"),
        ("M02.cap: null\n", "M02.cap: a value is required"),
        ("- M02.rate\n", "expected a mapping"),
        ("M02.rate: .nan\n", "bad.yaml: M02.rate = NaN: not a finite number (allowed: 0 to 100 %)"),
        ("M02.rate: .inf\n", "bad.yaml: M02.rate = Infinity: not a finite number (allowed: 0 to 100 %)"),
        ("M02.rate: 5000\n", "bad.yaml: M02.rate = 5000 is outside the allowed range: 0 to 100 %"),
        ("M02.rate: -5\n", "bad.yaml: M02.rate = -5 is outside the allowed range: 0 to 100 %"),
        ("M24.cap: -1\n", "bad.yaml: M24.cap = -1 is outside the allowed range: at least 0 万元"),
        ("M22.lookback_months: 0\n", "bad.yaml: M22.lookback_months = 0 is outside the allowed range: 1 to 120 个月"),
    ],
)
def test_bad_overrides_are_rejected(tmp_path, catalogue, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match=re.escape(message)):
        Parameters.from_file(catalogue, path)


def test_every_number_parameter_of_a_measure_declares_its_range(catalogue):
    """Finance's overrides are checked against these: a rate in [0, 100] %, a cap or threshold >= 0.
    (The forecast settings may declare ranges the same way; their values are checked finite.)"""
    numbers = [p for m in catalogue.measures for p in m.parameters if p.type in ("decimal", "integer")]
    assert [p.id for p in numbers if p.min is None and p.max is None] == []
    for p in numbers:
        if p.unit in ("%", "百分点") and not p.id.endswith("growth"):
            assert (p.min, p.max) == (0, 100), p.id
        if p.unit in ("元", "万元", "亿元"):
            assert p.min == 0, p.id
    edges = Parameters(catalogue, {"M02.rate": 0, "M20.rate": 100, "M24.cap": 0, "M02.min_growth": -100}, "edges.yaml")
    assert edges.base("M20.rate") == 1


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
