"""The sample feed generator: file names, encodings, headers, determinism and planted cases."""

from __future__ import annotations

import csv
import hashlib
import io
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dagster_project.lib.generate import generate_feeds
from dagster_project.lib.generate import cases, industries, reference
from dagster_project.lib.uscc import is_valid
from dagster_project.paths import SEEDS_DIR

AS_OF = date(2024, 11, 25)

# Headers written out literally from FEEDS.md.
EXPECTED_HEADERS = {
    "stats_enterprise": ["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "规模标志", "入统年月", "投产年月", "退库年月"],
    "stats_industry": ["统一社会信用代码", "报告期", "工业总产值_本月_千元", "工业总产值_累计_千元", "营业收入_本月_千元",
                       "营业收入_累计_千元", "利润总额_累计_千元", "从业人员期末人数"],
    "stats_projects": ["项目代码", "项目名称", "统一社会信用代码", "行政区划代码", "行业代码", "建设性质", "计划总投资_万元",
                       "开工年月", "入库年月", "本月完成投资_万元", "本月设备购置_万元", "项目标签", "竣工年月"],
    "power_accounts": ["用电户号", "户名", "统一社会信用代码", "行政区划代码", "独立计量", "电压等级", "立户日期"],
    "power_daily": ["用电户号", "日期", "用电量_千瓦时", "数据标志"],
    "tax_vat": ["纳税人识别号", "所属期", "开票销售额_元", "应纳增值税额_元", "申报日期"],
    "customs_export": ["报关单号", "项号", "出口日期", "经营单位编码", "统一社会信用代码", "商品编码", "贸易方式", "运抵国",
                       "美元金额", "人民币金额_元"],
}
EXPECTED_SHEETS = {
    "registers_recognitions.xlsx": ("认定名单", ["名单类别", "级别", "统一社会信用代码", "名称", "认定日期", "认定类型"]),
    "registers_loans.xlsx": ("桂惠贷", ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元",
                                     "年利率_百分比"]),
    "registers_applications.xlsx": ("申报", ["申报编号", "统一社会信用代码", "活动类型", "活动名称", "举办日期", "申报费用_元"]),
    "registers_two_high.xlsx": ("两高名单", ["统一社会信用代码", "工序或产品"]),
    "registers_supply_links.xlsx": ("首次供需", ["统一社会信用代码", "采购方名称", "首次供货日期", "合同金额_万元"]),
}
ENCODING = {"stats": "gb18030", "tax": "gb18030", "power": "utf-8-sig", "customs": "utf-8-sig"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    landing = tmp_path_factory.mktemp("tiny")
    start = time.perf_counter()
    summary = generate_feeds(landing, "tiny", as_of=AS_OF)
    return summary, time.perf_counter() - start


@pytest.fixture(scope="module")
def tiny_after_q4(tmp_path_factory):
    """Q4 2024 fully delivered, to check the planted cases against their rules."""
    return generate_feeds(tmp_path_factory.mktemp("after_q4"), "tiny", as_of=date(2025, 2, 20))


def _months(first: int, last: int) -> list[int]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = m + 1 if m % 100 < 12 else (m // 100 + 1) * 100 + 1
    return out


def _read_csv(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode(ENCODING[path.parent.name])
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _hashes(root: Path, files: list[str]) -> dict[str, str]:
    return {f: hashlib.sha256((root / f).read_bytes()).hexdigest() for f in files}


def test_tiny_is_fast(tiny):
    _, seconds = tiny
    assert seconds < 3


def test_file_names_for_default_as_of(tiny):
    summary, _ = tiny
    months = _months(202301, 202410)  # October's files arrive on 10 and 15 November; November's not yet
    mondays = [date(2023, 1, 2) + timedelta(weeks=k) for k in range(100)]
    mondays = [d for d in mondays if d <= AS_OF]
    assert mondays[-1] == AS_OF
    expected = (
        [f"stats/stats_{ds}_{m}.csv" for ds in ("enterprise", "industry", "projects") for m in months]
        + ["stats/stats_industry_202409_v2.csv"]
        + [f"tax/tax_vat_{m}.csv" for m in months]
        + [f"customs/customs_export_{m}.csv" for m in months]
        + ["customs/customs_export_202409_v2.csv"]
        + [f"power/power_daily_{d:%Y%m%d}.csv" for d in mondays]
        + [f"power/power_accounts_{d:%Y%m%d}.csv" for d in mondays if d.day <= 7]
        + [f"registers/{name}" for name in EXPECTED_SHEETS]
        + ["registers/registers_loans_v2.xlsx"]
    )
    assert summary.files == sorted(expected)
    assert all((summary.landing / f).is_file() for f in summary.files)
    assert summary.files_per_feed["power"] == len(mondays) + 23


def test_encodings(tiny):
    summary, _ = tiny
    boms = {"customs": set(), "power_accounts": set()}
    for f in summary.files:
        path = summary.landing / f
        data = path.read_bytes()
        feed = f.split("/")[0]
        if feed in ("stats", "tax"):
            assert data.decode("gb18030")
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
        elif feed in ("power", "customs"):
            data.decode("utf-8")
            key = "power_accounts" if "accounts" in f else feed
            if key in boms:
                boms[key].add(data.startswith(b"\xef\xbb\xbf"))
    assert boms == {"customs": {True, False}, "power_accounts": {True}}


def test_headers_match_contract(tiny):
    summary, _ = tiny
    in_contract_order = {ds: 0 for ds in EXPECTED_HEADERS}
    reordered = {ds: 0 for ds in EXPECTED_HEADERS}
    for f in summary.files:
        if f.startswith("registers/"):
            continue
        path = summary.landing / f
        header = next(csv.reader(io.StringIO(path.read_bytes().decode(ENCODING[f.split("/")[0]]))))
        dataset = "_".join(path.stem.split("_")[:2])
        expected = EXPECTED_HEADERS[dataset]
        assert sorted(header) == sorted(expected), f
        if header == expected:
            in_contract_order[dataset] += 1
        else:
            reordered[dataset] += 1
    assert all(in_contract_order.values())
    for ds in ("stats_industry", "tax_vat", "customs_export", "power_accounts"):
        assert reordered[ds], f"{ds}: some deliveries should use another column order"


def test_registers_open_with_their_sheets(tiny):
    summary, _ = tiny
    for name, (sheet, expected) in EXPECTED_SHEETS.items():
        wb = load_workbook(summary.landing / "registers" / name, read_only=True)
        assert wb.sheetnames == [sheet]
        rows = list(wb[sheet].iter_rows(values_only=True))
        header_at = next(i for i, r in enumerate(rows) if (r[0] or "").strip() == expected[0])
        assert [(v or "").strip() for v in rows[header_at]] == expected
        assert len(rows) > header_at + 1, f"{name} has no data rows"
        wb.close()


def test_same_seed_same_bytes_other_seed_differs(tiny, tmp_path):
    summary, _ = tiny
    again = generate_feeds(tmp_path / "again", "tiny", as_of=AS_OF)
    assert again.files == summary.files
    assert _hashes(again.landing, again.files) == _hashes(summary.landing, summary.files)
    other = generate_feeds(tmp_path / "other", "tiny", seed=7, as_of=AS_OF)
    assert other.files == summary.files
    differing = [f for f, h in _hashes(other.landing, other.files).items() if h != _hashes(summary.landing, [f])[f]]
    assert len(differing) > len(summary.files) // 2


def test_early_as_of_delivers_only_what_had_arrived(tiny, tmp_path):
    summary, _ = tiny
    early = generate_feeds(tmp_path / "early", "tiny", as_of=date(2023, 12, 20))
    assert not [f for f in early.files if "2024" in f]
    assert "stats/stats_industry_202311.csv" in early.files
    assert "stats/stats_industry_202312.csv" not in early.files
    assert "customs/customs_export_202311.csv" in early.files
    assert "power/power_daily_20231218.csv" in early.files
    # Earlier months do not depend on the as-of date: the same files have the same bytes.
    csvs = [f for f in early.files if f.endswith(".csv")]
    assert _hashes(early.landing, csvs) == _hashes(summary.landing, csvs)
    registers = load_workbook(early.landing / "registers" / "registers_loans.xlsx", read_only=True)["桂惠贷"]
    dates = [r[3] for r in registers.iter_rows(min_row=3, values_only=True) if r[3]]
    assert all(str(d)[:10] <= "2023-12-20" for d in dates)


def test_refuses_a_landing_dir_with_deliveries(tiny):
    summary, _ = tiny
    with pytest.raises(ValueError, match="already holds"):
        generate_feeds(summary.landing, "tiny", as_of=AS_OF)


def test_unknown_scale_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown scale"):
        generate_feeds(tmp_path, "galactic")


def test_codes_and_reference_values(tiny):
    summary, _ = tiny
    root = summary.landing
    directory = _read_csv(root / "stats" / "stats_enterprise_202410.csv")
    assert all(is_valid(r["统一社会信用代码"]) for r in directory)
    counties = set(reference.counties()["county_code"])
    assert {r["行政区划代码"] for r in directory} <= counties
    assert {r["行业代码"] for r in directory} <= set(industries.BY_CODE)
    bad = {
        "stats": [r for m in _months(202301, 202410) for r in _read_csv(root / "stats" / f"stats_industry_{m}.csv")
                  if not is_valid(r["统一社会信用代码"])],
        "tax": [r for m in _months(202301, 202410) for r in _read_csv(root / "tax" / f"tax_vat_{m}.csv")
                if not is_valid(r["纳税人识别号"])],
        "customs": [r for m in _months(202301, 202410) for r in _read_csv(root / "customs" / f"customs_export_{m}.csv")
                    if not is_valid(r["统一社会信用代码"])],
    }
    assert all(bad.values()), "each of stats, tax and customs carries a few mistyped codes"
    lines = _read_csv(root / "customs" / "customs_export_202410.csv")
    assert all(len(r["商品编码"]) == 10 and r["商品编码"].isdigit() for r in lines)
    assert all(len(r["经营单位编码"]) == 10 for r in lines)
    for r in lines:
        rate = float(r["人民币金额_元"]) / float(r["美元金额"])
        assert 7.09 < rate < 7.31


def test_quiet_revision_and_corrected_redelivery(tiny):
    summary, _ = tiny
    root = summary.landing / "stats"
    sep = {r["统一社会信用代码"]: r for r in _read_csv(root / "stats_industry_202409.csv")}
    octo = _read_csv(root / "stats_industry_202410.csv")
    gaps = [r for r in octo if r["统一社会信用代码"] in sep
            and round(float(r["工业总产值_累计_千元"]) - float(sep[r["统一社会信用代码"]]["工业总产值_累计_千元"]), 1)
            != float(r["工业总产值_本月_千元"])]
    assert gaps, "October's 累计 carries a revision of September"
    v2 = _read_csv(root / "stats_industry_202409_v2.csv")
    assert 0 < len(v2) < len(sep)
    assert all(float(r["工业总产值_本月_千元"]) > float(sep[r["统一社会信用代码"]]["工业总产值_本月_千元"]) for r in v2)


def test_power_flags_and_rereads(tiny):
    summary, _ = tiny
    rows = [r for f in summary.files if "power_daily" in f for r in _read_csv(summary.landing / f)]
    assert {r["数据标志"] for r in rows} == {"正常", "估算", "缺失"}
    assert all((r["用电量_千瓦时"] == "") == (r["数据标志"] == "缺失") for r in rows)
    last = _read_csv(summary.landing / "power" / "power_daily_20241125.csv")
    assert min(r["日期"] for r in last) < "2024-11-18", "a delivery repeats re-read days of the week before"
    accounts = _read_csv(summary.landing / "power" / "power_accounts_20241104.csv")
    directory = {r["统一社会信用代码"] for r in _read_csv(summary.landing / "stats" / "stats_enterprise_202410.csv")}
    assert any(r["统一社会信用代码"] == "" for r in accounts)
    assert any(r["统一社会信用代码"] and r["统一社会信用代码"] not in directory for r in accounts)
    assert {"是", "否"} == {r["独立计量"] for r in accounts}


def test_odd_names_survive(tiny):
    summary, _ = tiny
    names = {r["企业名称"] for r in _read_csv(summary.landing / "stats" / "stats_enterprise_202410.csv")}
    assert cases.YES_HYPERLINK in names
    assert any("," in n and '"' in n for n in names)
    assert any(n.startswith("+") for n in names)
    wb = load_workbook(summary.landing / "registers" / "registers_recognitions.xlsx")
    values = [c.value for row in wb["认定名单"].iter_rows() for c in row]
    assert cases.YES_HYPERLINK in values  # stored as text, not as a formula


def _output_wan(root: Path, months: tuple[int, ...]) -> dict[tuple[str, int], float]:
    """Published year-to-date output (万元) by (USCC, month)."""
    return {
        (r["统一社会信用代码"], m): float(r["工业总产值_累计_千元"]) / 10
        for m in months
        for r in _read_csv(root / "stats" / f"stats_industry_{m}.csv")
    }


def test_planted_cases_sit_on_both_sides_of_the_rules(tiny_after_q4):
    root, code = tiny_after_q4.landing, tiny_after_q4.planted
    cum = _output_wan(root, (202309, 202312, 202409, 202412))

    def q4(key: str) -> tuple[float, float]:
        u = code[key]
        return cum.get((u, 202412), 0) - cum.get((u, 202409), 0), cum.get((u, 202312), 0) - cum.get((u, 202309), 0)

    out, base = q4("growth_yes")
    assert out >= 5000 and out / base - 1 >= 0.10
    out, base = q4("growth_low_output")
    assert 4500 <= out < 5000 and out / base - 1 >= 0.10
    out, base = q4("growth_low_yoy")
    assert out >= 5000 and 0 < out / base - 1 < 0.10
    out, base = q4("growth_difficult_yes")
    assert out >= 3000 and 0.06 <= out / base - 1 < 0.10
    assert q4("new_yes")[1] == 0 and q4("new_yes")[0] >= 2500
    assert q4("new_low")[1] == 0 and q4("new_low")[0] < 2500
    assert q4("new_with_base")[1] > 0
    assert cum[(code["exit_risk_output"], 202409)] < 1500 <= cum[(code["exit_safe"], 202409)]
    directory = {r["统一社会信用代码"]: r for r in _read_csv(root / "stats" / "stats_enterprise_202412.csv")}
    assert directory[code["newbuild_q4"]]["入统年月"] == "202410"
    assert directory[code["s2l_q4"]]["投产年月"] < "202301"
    assert directory[code["near_yes"]]["规模标志"] == "临规"
    assert directory[code["exited"]]["退库年月"] == "202407"
    assert len(tiny_after_q4.planted_projects) == len(cases.PROJECTS)


def test_class_codes_exist_in_the_seed():
    seed = SEEDS_DIR / "ref_gbt4754_classes.csv"
    if not seed.exists():
        pytest.skip("ref_gbt4754_classes.csv not written yet")
    with open(seed, encoding="utf-8", newline="") as fh:
        known = {r["class_code"]: r["class_name"] for r in csv.DictReader(fh)}
    assert {c.code: c.name for c in industries.CLASSES} == {c.code: known.get(c.code) for c in industries.CLASSES}
    used = {p.industry for p in cases.ENTERPRISES} | {c for mix in industries.CITY_MIX.values() for c in mix}
    assert used | set(industries.GENERIC_MIX) <= set(industries.BY_CODE)
    groups = {industries.policy_group(c.code) for c in industries.CLASSES}
    assert groups == set(industries.GROUP_TRENDS)


def test_destinations_are_iso_alpha3():
    seed = SEEDS_DIR / "ref_iso3166_countries.csv"
    if not seed.exists():
        pytest.skip("ref_iso3166_countries.csv not written yet")
    with open(seed, encoding="utf-8", newline="") as fh:
        known = {r["alpha3"] for r in csv.DictReader(fh)}
    assert set(reference.DESTINATIONS) | {e.country for e in cases.EXPORTS} <= known
