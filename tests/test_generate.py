"""The sample feed generator: file names, encodings, headers, determinism and planted cases."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dagster_project.lib.generate import generate_feeds
from dagster_project.lib.generate import cases, industries, reference
from dagster_project.lib.uscc import is_valid
from dagster_project.paths import SEEDS_DIR

AS_OF = date(2024, 11, 25)

# Headers written out literally from docs/contract/FEEDS.md.
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
    return generate_feeds(landing, "tiny", as_of=AS_OF)


@pytest.fixture(scope="module")
def tiny_after_q4(tmp_path_factory):
    """Q4 2024 fully delivered, to check the planted cases against their rules."""
    return generate_feeds(tmp_path_factory.mktemp("after_q4"), "tiny", as_of=date(2025, 2, 20))


HISTORY_START = date(2022, 1, 1)


@pytest.fixture(scope="module")
def tiny_history(tmp_path_factory):
    """The same as tiny_after_q4 with a year of history before 2023 (for backtests of Q4 2023)."""
    landing = tmp_path_factory.mktemp("history")
    return generate_feeds(landing, "tiny", as_of=date(2025, 2, 20), history_start=HISTORY_START)


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


REGISTER_DATE_COLUMN = {"registers_recognitions.xlsx": 4, "registers_loans.xlsx": 3,
                        "registers_applications.xlsx": 4, "registers_supply_links.xlsx": 2}


def _register_rows(path: Path) -> list[tuple]:
    """A register's data rows as stored (title, header and blank rows left out), dates as ISO text."""
    wb = load_workbook(path, read_only=True)
    rows = list(wb[wb.sheetnames[0]].iter_rows(values_only=True))
    wb.close()
    header_at = next(i for i, r in enumerate(rows) if isinstance(r[0], str) and r[0].strip() in ("名单类别", "统一社会信用代码", "申报编号"))
    return [tuple(v.date().isoformat() if hasattr(v, "date") else v for v in r)
            for r in rows[header_at + 1:] if any(v is not None for v in r)]


def test_file_names_for_default_as_of(tiny):
    summary = tiny
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
    summary = tiny
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
    summary = tiny
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
    summary = tiny
    for name, (sheet, expected) in EXPECTED_SHEETS.items():
        wb = load_workbook(summary.landing / "registers" / name, read_only=True)
        assert wb.sheetnames == [sheet]
        rows = list(wb[sheet].iter_rows(values_only=True))
        header_at = next(i for i, r in enumerate(rows) if (r[0] or "").strip() == expected[0])
        assert [(v or "").strip() for v in rows[header_at]] == expected
        assert len(rows) > header_at + 1, f"{name} has no data rows"
        wb.close()


def test_same_seed_same_bytes_other_seed_differs(tiny, tmp_path):
    summary = tiny
    again = generate_feeds(tmp_path / "again", "tiny", as_of=AS_OF)
    assert again.files == summary.files
    assert _hashes(again.landing, again.files) == _hashes(summary.landing, summary.files)
    other = generate_feeds(tmp_path / "other", "tiny", seed=7, as_of=AS_OF)
    assert other.files == summary.files
    differing = [f for f, h in _hashes(other.landing, other.files).items() if h != _hashes(summary.landing, [f])[f]]
    assert len(differing) > len(summary.files) // 2


def test_early_as_of_delivers_only_what_had_arrived(tiny, tmp_path):
    summary = tiny
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
    summary = tiny
    with pytest.raises(ValueError, match="already holds"):
        generate_feeds(summary.landing, "tiny", as_of=AS_OF)


def test_unknown_scale_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown scale"):
        generate_feeds(tmp_path, "galactic")


def test_codes_and_reference_values(tiny):
    summary = tiny
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
    summary = tiny
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
    summary = tiny
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
    summary = tiny
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


@pytest.mark.parametrize("run", ["tiny_after_q4", "tiny_history"])
def test_planted_cases_sit_on_both_sides_of_the_rules(run, request):
    tiny_after_q4 = request.getfixturevalue(run)
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


# --- history before 2023 (generate_feeds(history_start=...)) ---------------------------------------

# Digests of the files of the default window (tiny, default seed), per feed: SHA-256 over
# "<file> <SHA-256 of its bytes>" lines in file order, so that history_start's default changes nothing
# and the output stays put. If you change the generator's output on purpose, recompute them with
# _feed_digests (last: the process of docs/generator.md).
STORED_DIGESTS = {
    AS_OF: {
        "stats": "55e4b09aaa4a646eecd9d8411edf5422fc7490a7fceca8e1d25d020fce5eb4a2",
        "power": "534f88ff7dece7ff9214642a28dd2086f2d13d425dc1d3c37bf48e99d5180d09",
        "tax": "e0f815c963e1114dd275c3e8f3fe854e418f04804188bfec40a15863fa9cad95",
        "customs": "3499a5105a6ad5abb59c395632625688b67af5cacca95f6c53a753578e1b9d6a",
        "registers": "4aef5df90189e468188ad220273cf3533bb48ee510885215969938e7af2a50c2",
    },
    date(2023, 12, 20): {
        "stats": "8849d5713ce39981b8608c1aa79befc56f8b2b3a631135a9cbf992e75a1c987d",
        "power": "3bd38eb55258f2792276bdb08855773b9c25c4ede0cfaa3e96140327490e9965",
        "tax": "675b257390705e28988792c27a06afa2193077273fe4fed71505fbe8c66f8d94",
        "customs": "e06739f2b71045877b4a191a136a4cfa65adc242bd1825ce19d9b005acfe1784",
        "registers": "03c9d45209df0d2ab4de4db90520513ebd7de1bca4aa6c0ea46ae9b678cfddac",
    },
}


def _feed_digests(root: Path, files: list[str]) -> dict[str, str]:
    hashes = _hashes(root, files)
    out = {}
    for feed in ("stats", "power", "tax", "customs", "registers"):
        h = hashlib.sha256()
        for f in sorted(hashes):
            if f.startswith(feed + "/"):
                h.update(f"{f} {hashes[f]}\n".encode())
        out[feed] = h.hexdigest()
    return out


def test_default_history_start_changes_nothing(tiny, tmp_path):
    summary = tiny
    assert summary.history_start == date(2023, 1, 1)
    assert _feed_digests(summary.landing, summary.files) == STORED_DIGESTS[AS_OF]
    explicit = generate_feeds(tmp_path / "explicit", "tiny", as_of=AS_OF, history_start=date(2023, 1, 1))
    assert explicit.files == summary.files
    assert _hashes(explicit.landing, explicit.files) == _hashes(summary.landing, summary.files)
    assert explicit.defects == summary.defects
    early = generate_feeds(tmp_path / "early", "tiny", as_of=date(2023, 12, 20), history_start=date(2023, 1, 1))
    assert _feed_digests(early.landing, early.files) == STORED_DIGESTS[date(2023, 12, 20)]


@pytest.mark.parametrize("bad, message", [
    (date(2023, 2, 1), "after 2023-01-01"),
    (date(2024, 1, 1), "after 2023-01-01"),
    (date(2022, 3, 15), "first day of a month"),
    (date(2021, 12, 1), "before 2022-01-01"),
    ("2022-01-01", "must be a date"),
])
def test_history_start_is_validated(bad, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        generate_feeds(tmp_path, "tiny", history_start=bad)
    assert not list(tmp_path.iterdir()), "nothing is written when the arguments are refused"


def test_history_adds_2022_files(tiny_history, tiny_after_q4):
    summary = tiny_history
    assert summary.history_start == HISTORY_START
    months = _months(202201, 202212)
    mondays = [date(2022, 1, 3) + timedelta(weeks=k) for k in range(52)]
    assert mondays[-1] == date(2022, 12, 26)
    added = (
        [f"stats/stats_{ds}_{m}.csv" for ds in ("enterprise", "industry", "projects") for m in months]
        + [f"tax/tax_vat_{m}.csv" for m in months]
        + [f"customs/customs_export_{m}.csv" for m in months]
        + [f"power/power_daily_{d:%Y%m%d}.csv" for d in mondays]
        + [f"power/power_accounts_{d:%Y%m%d}.csv" for d in mondays if d.day <= 7]
    )
    assert summary.files == sorted(tiny_after_q4.files + added)
    assert "stats/stats_industry_202210.csv" in summary.files
    first = _read_csv(summary.landing / "power" / "power_daily_20220103.csv")
    assert {r["日期"] for r in first} == {"2022-01-01", "2022-01-02"}
    assert summary.projects > tiny_after_q4.projects, "projects completed in 2022 join the library"


def test_history_keeps_2023_and_2024(tiny_history, tiny_after_q4):
    """Every file of the default run is there with the same bytes, except the first weekly power
    delivery of 2023, which now covers the whole last week of 2022, and the registers, which now
    also list 2022 (their rows from 2023 on are the same)."""
    summary = tiny_history
    default = _hashes(tiny_after_q4.landing, tiny_after_q4.files)
    again = _hashes(summary.landing, tiny_after_q4.files)
    changed = [f for f in default if again[f] != default[f]]
    assert changed[0] == "power/power_daily_20230102.csv"
    assert {"registers/registers_loans.xlsx", "registers/registers_recognitions.xlsx"} <= set(changed[1:])
    assert all(f.startswith("registers/") for f in changed[1:])
    for f in [f for f in default if Path(f).name in REGISTER_DATE_COLUMN]:
        column = REGISTER_DATE_COLUMN[Path(f).name]
        with_history = _register_rows(summary.landing / f)
        assert (f in changed) == any(str(r[column]) < "2023" for r in with_history), f
        assert [r for r in with_history if str(r[column]) >= "2023"] == _register_rows(tiny_after_q4.landing / f)
    days = {r["日期"] for r in _read_csv(summary.landing / "power" / "power_daily_20230102.csv")}
    assert days == {f"2022-12-{d}" for d in range(26, 32)} | {"2023-01-01"}
    # Defects of files both runs deliver are the same (the power summaries count all deliveries).
    def kept(defects: list[str]) -> list[str]:
        return [d for d in defects if "2022" not in d.split(":")[0] and "*" not in d.split(":")[0]]

    assert kept(summary.defects) == kept(tiny_after_q4.defects)
    assert kept(tiny_after_q4.defects)


def _industry(root: Path, month: int) -> dict[str, dict[str, str]]:
    return {r["统一社会信用代码"]: r for r in _read_csv(root / "stats" / f"stats_industry_{month}.csv")}


def test_history_year_to_date_resets_each_january(tiny_history):
    summary = tiny_history
    root = summary.landing
    reports = {m: _industry(root, m) for m in _months(202201, 202301)}
    revised = {d.split(" of ")[1].split(" ")[0] for d in summary.defects
               if d.startswith("stats/stats_industry_2022") and "quiet revision" in d}
    assert revised, "history months carry quiet revisions too"
    full_year = set.intersection(*(set(reports[m]) for m in _months(202201, 202212)))
    assert len(full_year) >= 30
    checked = 0
    for code in full_year:
        months_sum = sum(round(float(reports[m][code]["工业总产值_本月_千元"]) * 10) for m in _months(202201, 202212))
        december = round(float(reports[202212][code]["工业总产值_累计_千元"]) * 10)
        if code in revised:
            assert december > months_sum  # the revised month's 本月 stays short
        else:
            assert december == months_sum, code
            checked += 1
    assert checked >= 30
    january = reports[202301]
    assert all(r["工业总产值_累计_千元"] == r["工业总产值_本月_千元"] for r in january.values())
    assert all(r["工业总产值_累计_千元"] == r["工业总产值_本月_千元"] for r in reports[202201].values())


def test_history_levels_and_seasonality_are_plausible(tiny_history):
    summary = tiny_history
    root = summary.landing
    cum = {m: {u: float(r["工业总产值_累计_千元"]) for u, r in _industry(root, m).items()}
           for m in (202209, 202212, 202309, 202312)}
    both = [u for u in cum[202212] if u in cum[202209] and u in cum[202312] and u in cum[202309]]
    ratios = [(cum[202312][u] - cum[202309][u]) / (cum[202212][u] - cum[202209][u]) for u in both]
    assert len(ratios) >= 30
    plausible = [r for r in ratios if 0.7 < r < 1.5]
    assert len(plausible) >= 0.9 * len(ratios)
    assert 0.9 < sorted(ratios)[len(ratios) // 2] < 1.15
    # Same seasonality: monthly totals of 2022 follow those of 2023.
    totals = {m: sum(float(r["工业总产值_本月_千元"]) for r in _industry(root, m).values())
              for m in _months(202201, 202312)}
    shape_2022 = [totals[202200 + k] / totals[202201] for k in range(1, 13)]
    shape_2023 = [totals[202300 + k] / totals[202301] for k in range(1, 13)]
    assert all(abs(a / b - 1) < 0.2 for a, b in zip(shape_2022, shape_2023))
    assert shape_2022[1] < shape_2022[0] < shape_2022[11]  # February dip, December push


def test_history_directory_and_rates(tiny_history):
    summary = tiny_history
    root = summary.landing
    d2022 = _read_csv(root / "stats" / "stats_enterprise_202212.csv")
    d2023 = _read_csv(root / "stats" / "stats_enterprise_202312.csv")
    assert d2022 and all(r["规模标志"] == "规上" and r["入统年月"] <= "202212" for r in d2022)
    assert {r["统一社会信用代码"] for r in d2022} == set(_industry(root, 202212))
    entered_2023 = {r["统一社会信用代码"] for r in d2023 if r["入统年月"].startswith("2023")}
    tracked_2023 = {r["统一社会信用代码"] for r in d2023 if r["规模标志"] == "临规"}
    assert entered_2023 and tracked_2023
    assert not (entered_2023 | tracked_2023) & {r["统一社会信用代码"] for r in d2022}, "they still start in 2023"
    for m in _months(202201, 202212):
        lines = _read_csv(root / "customs" / f"customs_export_{m}.csv")
        assert lines, m
        assert all(6.3 < float(r["人民币金额_元"]) / float(r["美元金额"]) < 7.2 for r in lines)
    done_2023 = summary.planted_projects["done_2023"]  # 开工 202210, 入库 202211
    library = {m: {r["项目代码"]: r for r in _read_csv(root / "stats" / f"stats_projects_{m}.csv")}
               for m in _months(202201, 202412)}
    assert done_2023 not in library[202210]
    assert library[202211][done_2023]["开工年月"] == "202210"
    assert float(library[202212][done_2023]["本月完成投资_万元"]) > 0
    # A project leaves the library after its completion month, history projects included.
    for m, rows in library.items():
        for code, r in rows.items():
            assert r["竣工年月"] in ("", str(m)), (m, code)
            if r["竣工年月"]:
                assert all(code not in library[later] for later in library if later > m)
    completed_2022 = {c for m in _months(202201, 202212) for c, r in library[m].items() if r["竣工年月"]}
    assert completed_2022, "projects completed in 2022 show in the 2022 library"
    accounts = _read_csv(root / "power" / "power_accounts_20220103.csv")
    assert accounts and all(r["立户日期"] <= "2022-01-03" for r in accounts)


def test_history_start_later_in_2022(tiny_history, tmp_path):
    """A window starting mid-2022 delivers from then on; its 累计 still count from January."""
    summary = tiny_history
    later = generate_feeds(tmp_path / "later", "tiny", as_of=date(2025, 2, 20), history_start=date(2022, 7, 1))
    assert later.history_start == date(2022, 7, 1)
    assert "stats/stats_industry_202207.csv" in later.files
    assert "stats/stats_industry_202206.csv" not in later.files
    assert min(f for f in later.files if "power_daily" in f) == "power/power_daily_20220704.csv"
    assert set(later.files) <= set(summary.files)
    differing = [f for f in later.files if _hashes(later.landing, [f]) != _hashes(summary.landing, [f])]
    # Only the first (partial) power week and the re-read week that repeats its days differ, and the
    # registers, which list rows from the window's first day on.
    assert [f for f in differing if not f.startswith("registers/")] == [
        "power/power_daily_20220704.csv", "power/power_daily_20220711.csv"]
    for name, column in REGISTER_DATE_COLUMN.items():
        rows = _register_rows(later.landing / "registers" / name)
        assert rows and min(str(r[column]) for r in rows) >= "2022-07-01"
        assert rows == [r for r in _register_rows(summary.landing / "registers" / name) if str(r[column]) >= "2022-07-01"]


# --- arrival dates (GenerationSummary.arrivals) ------------------------------------------------------

def _provider_calendar(f: str, window_start: date) -> date:
    """The day a file arrives by the providers' calendar (docs/contract/OUTPUTS.md), worked out from its name alone."""
    feed, name = f.split("/")[0], Path(f).stem
    if feed == "registers":  # standing lists from the window's start; the loan correction two weeks after the loan
        return date(2024, 10, 23) if name.endswith("_v2") else window_start
    period = name.removesuffix("_v2").rsplit("_", 1)[1]
    if len(period) == 8:  # power: the Monday in the name
        arrival = date(int(period[:4]), int(period[4:6]), int(period[6:]))
    else:
        year, month = divmod(int(period), 100)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        arrival = date(year, month, 10 if feed == "customs" else 15)
    return arrival + timedelta(days=10) if name.endswith("_v2") else arrival


@pytest.mark.parametrize("run", ["tiny", "tiny_after_q4", "tiny_history"])
def test_every_file_has_its_arrival_by_the_providers_calendar(run, request):
    summary = request.getfixturevalue(run)
    assert list(summary.arrivals) == summary.files
    assert summary.arrivals == {f: _provider_calendar(f, summary.history_start) for f in summary.files}
    assert max(summary.arrivals.values()) <= summary.as_of


@pytest.mark.parametrize("as_of", [date(2024, 10, d) for d in (9, 10, 14, 15, 20, 21, 22, 23, 24, 25)])
def test_a_run_as_of_a_day_writes_exactly_the_files_arrived_by_then(as_of, tiny_after_q4, tmp_path):
    """Around every kind of arrival (customs 10th, stats and tax 15th, customs v2 20th, power Monday 21st,
    loan correction 23rd, stats v2 25th): a run as of the day before lacks the file, a run as of the day
    has it, with the bytes of the final run (registers aside: they are rewritten as of the day)."""
    final = tiny_after_q4
    run = generate_feeds(tmp_path, "tiny", as_of=as_of)
    assert run.files == sorted(f for f, arrived in final.arrivals.items() if arrived <= as_of)
    assert run.arrivals == {f: final.arrivals[f] for f in run.files}
    data = [f for f in run.files if not f.startswith("registers/")]
    assert _hashes(run.landing, data) == _hashes(final.landing, data)


def test_registers_are_standing_lists_cut_by_their_own_dates(tiny_after_q4, tmp_path):
    """A register written as of a day holds exactly the rows of the final register dated up to that day."""
    early = generate_feeds(tmp_path, "tiny", as_of=date(2024, 10, 20))
    for name, column in REGISTER_DATE_COLUMN.items():
        rows = _register_rows(early.landing / "registers" / name)
        final = _register_rows(tiny_after_q4.landing / "registers" / name)
        assert rows == [r for r in final if str(r[column]) <= "2024-10-20"], name
        assert any(str(r[column]) > "2024-10-20" for r in final), f"{name}: rows come in after the day"


# --- the process: what varies, and what stays planted ------------------------------------------------

@pytest.fixture(scope="module")
def small_process():
    """The true series of the small sample with history (no files written)."""
    from dagster_project.lib.generate.enterprises import build_population
    from dagster_project.lib.generate.projects import build_projects
    from dagster_project.lib.generate.scales import get_scale
    from dagster_project.lib.generate.schedule import Window

    window = Window(date(2025, 1, 20), 202201)
    pop = build_population(get_scale("small"), 20241125, window)
    return pop, build_projects(get_scale("small"), pop, window, 20241125)


def _yoy(pop, year: int):
    """(established random enterprises, 12) year-on-year output growth of each month of `year`."""
    import numpy as np

    t = pop.table
    rows = np.flatnonzero(((t["cohort"] == "established") & ~t["planted"]).to_numpy())
    cols = [pop.window.index(year * 100 + m) for m in range(1, 13)]
    base = [pop.window.index((year - 1) * 100 + m) for m in range(1, 13)]
    return rows, pop.output[np.ix_(rows, cols)] / pop.output[np.ix_(rows, base)] - 1


def test_growth_of_an_enterprise_moves_by_month_and_year(small_process):
    import numpy as np

    pop, _ = small_process
    _, g23 = _yoy(pop, 2023)
    _, g24 = _yoy(pop, 2024)
    for g in (g23, g24):
        # Within a year, growth drifts (AR) rather than only scattering around one constant: what is
        # left after the enterprise's mean for the year agrees more between neighbouring months.
        demeaned = g - g.mean(axis=1, keepdims=True)
        lag1 = np.mean(demeaned[:, 1:] * demeaned[:, :-1]) / np.mean(demeaned**2)
        lag6 = np.mean(demeaned[:, 6:] * demeaned[:, :-6]) / np.mean(demeaned**2)
        assert lag1 > lag6 + 0.2, (lag1, lag6)
    # An enterprise's growth persists from one year to the next, but only in part.
    r = np.corrcoef(g23.mean(axis=1), g24.mean(axis=1))[0, 1]
    assert 0.2 < r < 0.9, r
    assert np.median(np.abs(g24.mean(axis=1) - g23.mean(axis=1))) > 0.04


def test_industry_shocks_move_an_industry_together(small_process):
    import numpy as np

    pop, _ = small_process
    rows, g = _yoy(pop, 2024)
    log_g = np.log1p(g) - np.log1p(g).mean(axis=1, keepdims=True)
    group = pop.table["group"].to_numpy()[rows]
    corr = np.corrcoef(log_g)
    same = group[:, None] == group[None, :]
    off_diagonal = ~np.eye(len(rows), dtype=bool)
    within, between = corr[same & off_diagonal].mean(), corr[~same].mean()
    assert within > 0.15 and within > between + 0.1, (within, between)


def test_december_push_varies_by_project_and_year(small_process):
    import numpy as np

    from dagster_project.lib.generate import projects as p
    from dagster_project.lib.generate.rng import stream
    from dagster_project.lib.generate.schedule import ordinal

    pop, projects = small_process
    # The push itself: by project, by year, and smaller on average for a young project.
    start = ordinal(202001) + np.arange(2000) % 46  # started 2020-01 .. 2023-10
    months = np.array([202312, 202412])
    push = np.log(p._december_push(stream(1, "test"), start, months, 1, "test-december"))
    old = start <= ordinal(202306)
    assert np.quantile(push[old, 0], 0.9) > 1.5 * np.quantile(push[old, 0], 0.1) > 0
    assert np.corrcoef(push[old, 0], push[old, 1])[0, 1] > 0.2, "a project's habit persists"
    assert np.median(np.abs(push[old, 1] - push[old, 0])) > 0.05, "but its push differs by year"
    young = start > ordinal(202306)
    assert push[young, 0].mean() < 0.9 * push[old, 0].mean()
    assert push[young, 0].std() > push[old, 0].std()
    # In the sample: a year-end push in every year, of different sizes.
    random = (projects.table["key"] == "").to_numpy()
    idx = pop.window.index
    for year in (2022, 2023, 2024):
        nov, dec = projects.invest[random, idx(year * 100 + 11)], projects.invest[random, idx(year * 100 + 12)]
        ratio = np.log(dec[(nov > 0) & (dec > 0)] / nov[(nov > 0) & (dec > 0)])
        assert np.median(ratio) > 0.15 and np.subtract(*np.quantile(ratio, [0.75, 0.25])) > 0.4, year


def test_projects_slip_or_finish_early(small_process):
    import numpy as np

    from dagster_project.lib.generate import projects as p
    from dagster_project.lib.generate.rng import stream

    planned = np.full(4000, 20)
    realised = p._realised_durations(stream(1, "test"), planned)
    assert 0.2 < (realised > planned).mean() < 0.3 and 0.1 < (realised < planned).mean() < 0.2
    shape = p._schedule_shape(planned[:3], np.array([20, 23, 17]))
    assert np.allclose(shape.sum(axis=1), 1)
    assert (shape[1, 20:23] > 0).all() and shape[1, 20] < shape[0, 19], "a slipped project trickles on"
    assert shape[2, 16] > 2 * shape[0, 16] and (shape[2, 17:] == 0).all(), "an early finisher ends in a lump"


def test_planted_cases_take_none_of_the_randomness(tmp_path):
    """Q4 2024 output of the planted cases is their hand-worked target, whatever the seed."""
    for seed in (20241125, 7):
        summary = generate_feeds(tmp_path / str(seed), "tiny", seed=seed, as_of=date(2025, 1, 15))
        cum = _output_wan(summary.landing, (202409, 202412))
        for case in cases.ENTERPRISES:
            if case.q4_wan is None or case.entered is None or case.entered > 202410:
                continue
            code = summary.planted[case.key]
            q4 = cum[(code, 202412)] - cum.get((code, 202409), 0)
            assert q4 == pytest.approx(case.q4_wan, abs=0.05), (seed, case.key)


def test_exports_carry_one_off_shipments_and_recurring_new_markets(small_process):
    import numpy as np

    from dagster_project.lib.generate import customs
    from dagster_project.lib.generate.scales import get_scale

    pop, _ = small_process
    ex = customs._exporters(get_scale("small"), pop, 20241125)
    one_offs = ex.one_offs
    assert len(one_offs) >= 20
    planted = np.isin(ex.ent, [pop.index_of(e.exporter) for e in cases.EXPORTS])
    assert not planted[one_offs["exp"].to_numpy()].any(), "planted exporters keep their exact shipments"
    for exp, country in zip(one_offs["exp"], one_offs["country"]):
        assert country not in ex.dest[exp, : ex.regular[exp] + 1], "never a destination it serves otherwise"
    assert not one_offs.duplicated(["exp", "country"]).any(), "never repeated"
    month = 202410
    lines = customs._month_lines(ex, pop, month, 20241125)
    shipped = one_offs[(one_offs["month"] == month)
                       & (pop.output[ex.ent[one_offs["exp"].to_numpy()], pop.window.index(month)] > 0)]
    for exp, country, cents in zip(shipped["exp"], shipped["country"], shipped["cny_cents"]):
        there = lines[(lines["exp"] == exp) & (lines["country"] == country)]
        assert there["cny_cents"].tolist() == [cents]
    # Recurring new markets start in every year, most often in the policy quarter.
    started = ex.added_from[ex.added_from > 0]
    assert {2022, 2023, 2024} <= set((started // 100).tolist())
    assert np.isin(started, [202410, 202411, 202412]).mean() > 3 / 30


def test_meter_gaps_are_runs_of_missing_days(tiny):
    summary = tiny
    longest = 0
    for f in summary.files:
        if "power_daily" not in f:
            continue
        missing: dict[str, list[str]] = {}
        for r in _read_csv(summary.landing / f):
            if r["数据标志"] == "缺失":
                missing.setdefault(r["用电户号"], []).append(r["日期"])
        for days in missing.values():
            ordinals = sorted({date.fromisoformat(d).toordinal() for d in days})
            run = 1
            for a, b in zip(ordinals, ordinals[1:]):
                run = run + 1 if b == a + 1 else 1
                longest = max(longest, run)
    assert longest >= 3, "some meters fail for several days in a row"


def test_register_volumes_and_timing_vary_by_year():
    import numpy as np

    from dagster_project.lib.generate.registers import LOANS, QUARTER_END_BUNCHING, _monthly_dates
    from dagster_project.lib.generate.rng import stream
    from dagster_project.lib.generate.scales import get_scale

    province = get_scale("province")
    q4, october_share = {}, {}
    for seed in range(1, 6):
        for year in (2023, 2024):
            days = _monthly_dates(stream(seed, "loans", year), LOANS, province, year, QUARTER_END_BUNCHING)
            months = np.array([d.month for d in days])
            q4[seed, year] = int((months >= 10).sum())
            october_share[seed, year] = (months == 10).sum() / max(1, q4[seed, year])
    ratio = np.array([q4[s, 2024] / q4[s, 2023] for s in range(1, 6)])
    assert ratio.std() > 0.1 and np.abs(ratio - 1).max() > 0.1, ratio
    assert np.mean([abs(october_share[s, 2024] - october_share[s, 2023]) for s in range(1, 6)]) > 0.04
