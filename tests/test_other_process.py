"""benchmarks/other_process.py: an independent data process that writes a landing dir per docs/contract/FEEDS.md.

Checked here against the contract as docs/contract/FEEDS.md words it (names, headers, encodings, code lists), the
delivery calendar of docs/contract/OUTPUTS.md, determinism, the real ingestion, and the policy's thresholds being
reachable. The e2e test runs the real refresh on a landing of it.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.lib.forecast.backtest import read_arrivals
from dagster_project.lib.ingest.loader import ingest_feed
from dagster_project.lib.uscc import is_valid

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "dbt_models" / "seeds"
_spec = importlib.util.spec_from_file_location("other_process", REPO / "benchmarks" / "other_process.py")
other_process = importlib.util.module_from_spec(_spec)
sys.modules["other_process"] = other_process
_spec.loader.exec_module(other_process)

FINAL = date(2025, 1, 20)
NAME = re.compile(r"^(?P<feed>[a-z]+)_(?P<dataset>[a-z_]+?)(?:_(?P<period>\d{6}|\d{8}))?(?:_v(?P<v>\d+))?\.(?P<ext>csv|xlsx)$")
# docs/contract/FEEDS.md, dataset by dataset: headers (any order) and the provider's encoding.
CSV_HEADERS = {
    ("stats", "enterprise"): {"统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "规模标志", "入统年月", "投产年月", "退库年月"},
    ("stats", "industry"): {"统一社会信用代码", "报告期", "工业总产值_本月_千元", "工业总产值_累计_千元", "营业收入_本月_千元",
                            "营业收入_累计_千元", "利润总额_累计_千元", "从业人员期末人数"},
    ("stats", "projects"): {"项目代码", "项目名称", "统一社会信用代码", "行政区划代码", "行业代码", "建设性质", "计划总投资_万元",
                            "开工年月", "入库年月", "本月完成投资_万元", "本月设备购置_万元", "项目标签", "竣工年月"},
    ("power", "accounts"): {"用电户号", "户名", "统一社会信用代码", "行政区划代码", "独立计量", "电压等级", "立户日期"},
    ("power", "daily"): {"用电户号", "日期", "用电量_千瓦时", "数据标志"},
    ("tax", "vat"): {"纳税人识别号", "所属期", "开票销售额_元", "应纳增值税额_元", "申报日期"},
    ("customs", "export"): {"报关单号", "项号", "出口日期", "经营单位编码", "统一社会信用代码", "商品编码", "贸易方式", "运抵国",
                            "美元金额", "人民币金额_元"},
}
ENCODING = {"stats": "gb18030", "tax": "gb18030", "power": "utf-8", "customs": "utf-8"}
REGISTERS = {
    "recognitions": ("认定名单", ["名单类别", "级别", "统一社会信用代码", "名称", "认定日期", "认定类型"]),
    "loans": ("桂惠贷", ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"]),
    "applications": ("申报", ["申报编号", "统一社会信用代码", "活动类型", "活动名称", "举办日期", "申报费用_元"]),
    "two_high": ("两高名单", ["统一社会信用代码", "工序或产品"]),
    "supply_links": ("首次供需", ["统一社会信用代码", "采购方名称", "首次供货日期", "合同金额_万元"]),
}
Q4_2024 = ("202410", "202411", "202412")


def seed_codes(file: str, column: str) -> set[str]:
    with open(SEEDS / file, encoding="utf-8") as f:
        return {row[column] for row in csv.DictReader(f)}


def read_csv(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode(ENCODING[path.parent.name] + ("-sig" if path.parent.name in ("power", "customs") else ""))
    return list(csv.DictReader(io.StringIO(text, newline="")))


def register_rows(path: Path, sheet: str, headers: list[str]) -> list[dict[str, object]]:
    ws = load_workbook(path, read_only=True, data_only=True)[sheet]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if headers[0] in [(v or "").strip() if isinstance(v, str) else v for v in r])
    names = [str(v).strip() for v in rows[at]]
    return [dict(zip(names, r)) for r in rows[at + 1:] if any(v not in (None, "") for v in r)]


def as_date(value) -> date:
    return value.date() if hasattr(value, "date") else date.fromisoformat(str(value).strip())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("other") / "landing"
    result = other_process.write_landing(out, seed=5, scale="tiny")
    return out, result


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("other_small") / "landing"
    return out, other_process.write_landing(out, seed=11, scale="small")


def test_every_file_follows_the_naming_rule_headers_and_encoding(tiny):
    landing, result = tiny
    seen = defaultdict(int)
    boms = defaultdict(set)
    for path in sorted(landing.rglob("*")):
        if path.is_dir():
            continue
        feed = path.parent.name
        m = NAME.match(path.name)
        assert m and m["feed"] == feed, path
        seen[(feed, m["dataset"])] += 1
        if feed == "registers":
            assert m["period"] is None and m["ext"] == "xlsx"
            continue
        assert m["ext"] == "csv"
        assert len(m["period"]) == (8 if feed == "power" else 6), path.name
        data = path.read_bytes()
        if ENCODING[feed] == "gb18030":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")  # Chinese text in GB18030 is not UTF-8: the provider's own encoding
            text = data.decode("gb18030")
        else:
            boms[feed].add(data.startswith(b"\xef\xbb\xbf"))
            text = data.decode("utf-8-sig")
        header = next(csv.reader(io.StringIO(text)))
        assert set(header) == CSV_HEADERS[(feed, m["dataset"])] or (
            (feed, m["dataset"]) == ("tax", "vat") and set(header) - CSV_HEADERS[("tax", "vat")] == {"主管税务机关"}
        ), (path.name, header)
    assert set(seen) == set(CSV_HEADERS) | {("registers", r) for r in REGISTERS}
    assert boms["power"] == {True, False} and boms["customs"] == {True, False}  # "sometimes with a BOM"
    # Corrections are part of a real delivery stream.
    assert any("_v2" in name for name in result.arrivals if name.startswith(("tax/", "customs/")))


def test_registers_have_their_sheets_headers_and_one_title_row(tiny):
    landing, _ = tiny
    titled = []
    for dataset, (sheet, headers) in REGISTERS.items():
        wb = load_workbook(landing / "registers" / f"registers_{dataset}.xlsx", read_only=True)
        assert wb.sheetnames == [sheet]
        rows = list(wb[sheet].iter_rows(values_only=True, max_row=3))
        header_at = next(i for i, r in enumerate(rows) if headers[0] in r)
        assert [str(v).strip() for v in rows[header_at][:len(headers)]] == headers
        if header_at:
            titled.append(dataset)
    assert titled == ["applications"]


def test_codes_are_valid_against_the_standards_and_the_seeds(tiny):
    landing, _ = tiny
    counties = seed_codes("ref_gbt2260_guangxi_counties.csv", "county_code")
    classes = seed_codes("ref_gbt4754_classes.csv", "class_code")
    countries = seed_codes("ref_iso3166_countries.csv", "alpha3")
    directory = [r for p in (landing / "stats").glob("stats_enterprise_*.csv") for r in read_csv(p)]
    projects = [r for p in (landing / "stats").glob("stats_projects_*.csv") for r in read_csv(p)]
    assert directory and projects
    for row in directory + projects:
        assert is_valid(row["统一社会信用代码"]) and row["行政区划代码"] in counties and row["行业代码"] in classes
    exports = [r for p in (landing / "customs").glob("*.csv") for r in read_csv(p)]
    assert {r["运抵国"] for r in exports} <= countries
    bad = [r for r in exports if not is_valid(r["统一社会信用代码"])]
    assert len(bad) <= 0.005 * len(exports)  # a mistyped code now and then, as in real feeds
    for row in [r for p in (landing / "power").glob("power_accounts_*.csv") for r in read_csv(p)]:
        assert row["统一社会信用代码"] == "" or is_valid(row["统一社会信用代码"])
        assert row["行政区划代码"] in counties


def test_cumulative_columns_are_consistent_within_each_year(tiny):
    landing, _ = tiny
    by_enterprise = defaultdict(dict)
    for path in sorted((landing / "stats").glob("stats_industry_*.csv")):
        for row in read_csv(path):
            by_enterprise[row["统一社会信用代码"]][int(row["报告期"])] = row
    gaps = checked = 0
    for months in by_enterprise.values():
        for m, row in months.items():
            ytd, this = int(row["工业总产值_累计_千元"]), int(row["工业总产值_本月_千元"])
            assert ytd >= this >= 0 if m % 100 > 1 else ytd >= 0
            before = months.get(m - 1) if m % 100 > 1 else None
            if before:  # January starts the year again; no previous report: nothing to compare
                step = ytd - int(before["工业总产值_累计_千元"])
                assert step >= 0.8 * this - 1
                checked += 1
                gaps += step != this
    assert checked > 500 and gaps / checked < 0.1  # quiet revisions of last month, not a broken column


def test_same_seed_same_bytes_other_seed_other_data(tiny, tmp_path):
    landing, result = tiny
    again = other_process.write_landing(tmp_path / "again", seed=5, scale="tiny")
    assert again.arrivals == result.arrivals

    def digest(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}

    assert digest(landing) == digest(tmp_path / "again")
    other = other_process.write_landing(tmp_path / "other", seed=6, scale="tiny")
    first = "stats/stats_industry_202401.csv"
    assert (landing / first).read_bytes() != (other.landing / first).read_bytes()


def expected_arrival(name: str, first_day: date) -> date:
    """docs/contract/OUTPUTS.md: stats/tax for month M on the 15th of M+1, customs on the 10th; a _v2 a month later;
    power on the date its name carries; registers from the first day of the window."""
    m = NAME.match(name)
    if m["feed"] == "registers":
        return first_day
    period = m["period"]
    if m["feed"] == "power":
        return date(int(period[:4]), int(period[4:6]), int(period[6:]))
    later = 1 + (1 if m["v"] else 0)
    year, month = int(period[:4]), int(period[4:]) + later
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, 10 if m["feed"] == "customs" else 15)


def test_arrivals_follow_the_contract_calendar(tiny):
    landing, result = tiny
    files = {str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file()}
    assert set(result.arrivals) == files
    assert result.arrivals_file == landing.with_name("landing.arrivals.json")
    # the backtest reads the file this process writes (`gxindustry backtest --source L L.arrivals.json`)
    assert read_arrivals(result.arrivals_file) == result.arrivals
    for name, arrives in result.arrivals.items():
        assert arrives == expected_arrival(name.split("/")[1], date(2022, 1, 1)), name
        assert arrives <= FINAL
        if name.startswith("power/"):
            assert arrives.weekday() == 0
    # Everything due by the final as-of is there, and nothing due later.
    for present in ("stats/stats_industry_202412.csv", "tax/tax_vat_202412.csv", "customs/customs_export_202412.csv",
                    "power/power_daily_20250120.csv", "stats/stats_enterprise_202201.csv", "power/power_daily_20220103.csv"):
        assert present in files
    assert not [f for f in files if "_2025" in f and not f.startswith("power/")]
    mondays = sorted(f for f in files if f.startswith("power/power_daily_"))
    assert len(mondays) == (FINAL - date(2022, 1, 3)).days // 7 + 1


def test_a_final_as_of_inside_the_quarter_writes_only_what_had_arrived(tmp_path):
    result = other_process.write_landing(tmp_path / "live", seed=5, scale="tiny", first_month=202301,
                                         final_as_of=date(2024, 11, 25), arrivals_file=tmp_path / "when.json")
    files = set(result.arrivals)
    assert {"stats/stats_industry_202410.csv", "customs/customs_export_202410.csv",
            "power/power_daily_20241125.csv"} <= files
    assert not {"stats/stats_industry_202411.csv", "customs/customs_export_202411.csv"} & files
    assert min(result.arrivals.values()) >= date(2023, 1, 1) and max(result.arrivals.values()) == date(2024, 11, 25)
    assert "stats/stats_industry_202212.csv" not in files
    assert (tmp_path / "when.json").exists()
    loans = register_rows(tmp_path / "live" / "registers" / "registers_loans.xlsx", *REGISTERS["loans"])
    assert max(as_date(r["放款日期"]) for r in loans) <= date(2024, 11, 25)


def test_the_pipeline_ingests_a_tiny_landing_without_refusals(tiny, tmp_path):
    landing, result = tiny
    rows_read = rejected = 0
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        for feed in other_process.FEEDS:
            outcomes = ingest_feed(con, landing, feed)
            assert outcomes and all(o.status == "loaded" for o in outcomes), [o for o in outcomes if o.status != "loaded"]
            rows_read += sum(o.rows_read for o in outcomes)
            rejected += sum(o.rows_rejected for o in outcomes)
        reasons = con.execute("select distinct reason from raw._rejected_rows").fetchall()
    assert rows_read == sum(result.rows.values())
    assert rejected <= 0.001 * rows_read
    assert all(r[0].startswith("invalid USCC") for r in reasons)


def test_the_policy_thresholds_are_reachable_at_small_scale(small):
    """docs/contract/MEASURES.md: M02 (Q4 ≥ 5000万, YoY ≥ 10%; new), M15 (≥ 1000万), M23, M21/M22, M22.new_market, M32."""
    landing, _ = small
    ytd = {}
    for path in (landing / "stats").glob("stats_industry_*.csv"):
        for row in read_csv(path):
            ytd[(row["统一社会信用代码"], row["报告期"])] = Decimal(row["工业总产值_累计_千元"]) * 1000

    def q4(uscc: str, year: int) -> Decimal:
        end = next((ytd[(uscc, f"{year}{m}")] for m in (12, 11, 10) if (uscc, f"{year}{m}") in ytd), Decimal(0))
        return end - ytd.get((uscc, f"{year}09"), Decimal(0))

    usccs = {u for u, _ in ytd}
    growth = [u for u in usccs if q4(u, 2023) > 0 and q4(u, 2024) >= 50_000_000 and q4(u, 2024) >= q4(u, 2023) * Decimal("1.1")]
    assert len(growth) >= 10
    directory = read_csv(landing / "stats" / "stats_enterprise_202412.csv")
    entered = [r for r in directory if r["入统年月"].startswith("2024")]
    assert len(entered) >= 10 and any(r["入统年月"] in Q4_2024 for r in entered)
    new_built = [r for r in directory if r["投产年月"] >= "202310" and q4(r["统一社会信用代码"], 2023) <= 0
                 and q4(r["统一社会信用代码"], 2024) >= 25_000_000]
    assert new_built

    investment = defaultdict(Decimal)
    for m in Q4_2024:
        for row in read_csv(landing / "stats" / f"stats_projects_{m}.csv"):
            investment[row["项目代码"]] += Decimal(row["本月完成投资_万元"])
    assert sum(v >= 1000 for v in investment.values()) >= 10

    regs = landing / "registers"
    loans = register_rows(regs / "registers_loans.xlsx", *REGISTERS["loans"])
    in_q4 = [r for r in loans if date(2024, 10, 1) <= as_date(r["放款日期"]) <= date(2024, 12, 31)]
    assert sum(str(r["产品"]).strip() == "工业流动资金贷" for r in in_q4) >= 3
    apps = register_rows(regs / "registers_applications.xlsx", *REGISTERS["applications"])
    kinds = {str(r["活动类型"]).strip() for r in apps if date(2024, 10, 1) <= as_date(r["举办日期"]) <= date(2024, 12, 31)}
    assert kinds == {"新品发布会", "产品订货会", "展会"}

    shipped = defaultdict(Decimal)
    before = set()
    for path in (landing / "customs").glob("customs_export_*.csv"):
        if "_v" in path.name:
            continue
        for row in read_csv(path):
            day = date.fromisoformat(row["出口日期"])
            key = (row["统一社会信用代码"], row["运抵国"])
            if date(2023, 10, 1) <= day < date(2024, 10, 1):
                before.add(key)
            elif date(2024, 10, 1) <= day <= date(2024, 12, 31):
                shipped[key] += Decimal(row["人民币金额_元"])
    new_market = defaultdict(Decimal)
    for (uscc, dest), value in shipped.items():
        if (uscc, dest) not in before:
            new_market[uscc] += value
    assert sum(v >= 1_000_000 for v in new_market.values()) >= 3


def test_the_process_is_less_kind_than_a_constant_growth_model(tmp_path):
    """Growth varies by month within a year, and the December project push varies by year."""
    cal = other_process.Calendar(202201, FINAL)
    streams = other_process.Streams(3)
    scale = other_process.SCALES["small"]
    ent = other_process.build_enterprises(cal, scale, other_process.Reference.load(), streams)
    jan24, jan23 = cal.index(202401), cal.index(202301)
    steady = (ent.output[:, jan23:jan23 + 24] > 0).all(axis=1) & (ent.table["kind"] == "incumbent").to_numpy()
    yoy = ent.output[steady, jan24:jan24 + 12] / ent.output[steady, jan23:jan23 + 12] - 1
    assert float(sorted(yoy.std(axis=1))[len(yoy) // 2]) > 0.05  # the median enterprise's monthly YoY spread
    projects = other_process.build_projects(cal, ent, scale, streams)
    ratios = [projects.investment[:, cal.index(y * 100 + 12)].sum() / projects.investment[:, cal.index(y * 100 + 11)].sum()
              for y in (2022, 2023, 2024)]
    assert max(ratios) - min(ratios) > 0.1 and min(ratios) > 0.5


def test_cli_writes_a_landing_and_refuses_a_non_empty_dir(tmp_path, capsys):
    out = tmp_path / "cli"
    assert other_process.main(["--out", str(out), "--seed", "2", "--scale", "tiny", "--first-month", "202301",
                               "--final-as-of", "2023-06-30"]) == 0
    assert "arrivals in" in capsys.readouterr().out
    assert json.loads((tmp_path / "cli.arrivals.json").read_text(encoding="utf-8"))["seed"] == 2
    with pytest.raises(SystemExit):
        other_process.main(["--out", str(out), "--seed", "2", "--scale", "tiny"])
    assert "not empty" in capsys.readouterr().err


@pytest.mark.e2e
def test_refresh_in_the_quarter_on_a_tiny_landing_gives_a_budget(tmp_path, dbt_manifest):
    as_of = date(2024, 11, 25)
    other_process.write_landing(tmp_path / "landing", seed=8, scale="tiny", first_month=202201, final_as_of=as_of)
    env = dict(os.environ, DAGSTER_HOME=str(tmp_path / "dagster_home"))
    result = subprocess.run(
        [str(Path(sys.executable).with_name("gxindustry")), "refresh", "--landing", str(tmp_path / "landing"),
         "--warehouse", str(tmp_path / "wh.duckdb"), "--reports", str(tmp_path / "reports"), "--as-of", as_of.isoformat()],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw._file_refusals").fetchone()[0] == 0
        budget = dict(con.execute("select scenario, sum(amount_yuan) from marts.policy_budget group by 1").fetchall())
    assert set(budget) == {"base", "low", "high"} and budget["base"] > 0
    assert (tmp_path / "reports" / as_of.isoformat() / f"budget_forecast_{as_of}.xlsx").exists()
