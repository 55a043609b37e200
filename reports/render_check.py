"""Print the workbooks as finance would and measure the result: pages per sheet and the smallest text.

    .venv/bin/python -m reports.render_check [--warehouse FILE] [--out DIR] [--dpi 60] [--screenshots docs/img]
    .venv/bin/python -m reports.render_check data/reports/2024-11-25/*.xlsx [--out DIR]

Writes both workbooks from the warehouse's latest measures run (or takes the workbooks given, as a
run wrote them: their 数据质量 sheet holds that run's check results), prints them with headless
LibreOffice (recalculating profile) to PDF, renders every page to PNG (`pdftoppm`) in `--out`
for a person to look at, and reports, per sheet, the pages it takes and the smallest text size
printed on them. Exits 1 when a sheet prints text below MIN_TEXT_PT or takes more pages than
MAX_PAGES allows. Needs libreoffice-calc, poppler-utils and a CJK font (fonts-noto-cjk).

The sheet of each page is read from the page header (`&A`, the sheet name, top left); text sizes
from `pdftotext -bbox`: a word's box is about 1.157 times its point size in the CJK font
LibreOffice uses (calibrated on the 9 pt page header printed at 100 %).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

from .libreoffice import convert

MIN_TEXT_PT = 8.0
# --screenshots: the README's pictures, (workbook stem prefix, sheet, page of that sheet, file name)
SCREENSHOTS = (("budget_forecast", "汇总", 1, "budget_forecast.png"),
               ("budget_forecast", "预测区间", 1, "budget_forecast_fan.png"),
               ("budget_forecast", "预测方法", 1, "budget_forecast_method.png"),
               ("budget_forecast", "M24 ", 2, "budget_forecast_measure.png"),
               ("kpi_report", "指标总览", 1, "kpi_report.png"),
               ("kpi_report", "数据质量", 1, "kpi_report_quality.png"))
BOX_PER_PT = 1.157
HEADER_BAND_PT = 36  # the page header sits in the top margin and ends above this
FOOTER_BAND_PT = 40
# sheets whose rows are per beneficiary may take as many pages as they need, others not; 参数 has one
# row per catalogue parameter, at least 13 to a page: its budget grows with the catalogue
MAX_PAGES = {"汇总": 3, "按城市": 1, "按行业": 1, "预测区间": 9, "预测方法": 3, "指标总览": 6, "行业增速": 2}
# 汇总's red rows (注意：…, data missing or rejected) take the notes' room on page 1: the notes then
# begin a page of their own
WARNING_MARK = "注意："
PAGES_WITH_WARNINGS = {"汇总": 1}
PARAMETERS_PER_PAGE = 13
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


@dataclass
class SheetPrint:
    first_page: int = 0  # 1-based page of the PDF where the sheet starts
    pages: int = 0
    smallest_pt: float = 99.0
    smallest_text: str = ""
    warned: bool = False  # holds a red row (WARNING_MARK)


@dataclass
class PrintReport:
    workbook: Path
    pdf: Path
    pngs: list[Path] = field(default_factory=list)
    sheets: dict[str, SheetPrint] = field(default_factory=dict)

    def problems(self) -> list[str]:
        out = []
        max_pages = dict(MAX_PAGES, 参数=-(-_catalogue_parameters() // PARAMETERS_PER_PAGE))
        for name, sheet in self.sheets.items():
            if sheet.smallest_pt < MIN_TEXT_PT:
                out.append(f"{self.workbook.name} {name}: text printed at {sheet.smallest_pt:.1f} pt "
                           f"({sheet.smallest_text!r}), less than {MIN_TEXT_PT} pt")
            allowed = max_pages.get(name, sheet.pages) + (PAGES_WITH_WARNINGS.get(name, 0) if sheet.warned else 0)
            if sheet.pages > allowed:
                out.append(f"{self.workbook.name} {name}: {sheet.pages} pages (at most {allowed})")
        return out


def _catalogue_parameters() -> int:
    from dagster_project.lib.measures.catalogue import load_catalogue
    from dagster_project.lib.measures.parameters import Parameters

    return len(list(Parameters(load_catalogue())))


def tools_missing() -> list[str]:
    from .libreoffice import soffice

    missing = [] if soffice() else ["libreoffice-calc"]
    missing += [pkg for exe, pkg in (("pdftoppm", "poppler-utils"), ("pdftotext", "poppler-utils"))
                if not shutil.which(exe) and pkg not in missing]
    if shutil.which("fc-list"):
        found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip()
        if not found:
            missing.append("fonts-noto-cjk")
    return missing


def measure(pdf: Path) -> dict[str, SheetPrint]:
    """Pages and smallest text per sheet of a printed workbook."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    sheets: dict[str, SheetPrint] = defaultdict(SheetPrint)
    for number, (_, height, body) in enumerate(_PAGE.findall(xml), 1):
        words = [(float(y0), float(y1), unescape(text)) for _, y0, _, y1, text in _WORD.findall(body)]
        header = [text for _, y1, text in words if y1 < HEADER_BAND_PT]
        name = " ".join(header) if header else "?"
        sheet = sheets[name]
        sheet.first_page = sheet.first_page or number
        sheet.pages += 1
        for y0, y1, text in words:
            if y1 < HEADER_BAND_PT or y0 > float(height) - FOOTER_BAND_PT:
                continue
            sheet.warned = sheet.warned or text.startswith(WARNING_MARK)
            size = (y1 - y0) / BOX_PER_PT
            if size < sheet.smallest_pt:
                sheet.smallest_pt, sheet.smallest_text = size, text
    return dict(sheets)


def render(workbook: Path, outdir: Path, dpi: int = 60) -> PrintReport:
    """Print `workbook` to PDF in `outdir`, every page to `<stem>-NNN.png`, and measure it."""
    outdir.mkdir(parents=True, exist_ok=True)
    pdf = convert(workbook, outdir, "pdf", timeout=300)
    for old in outdir.glob(f"{workbook.stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(outdir / workbook.stem)], check=True,
                   capture_output=True)
    return PrintReport(workbook, pdf, sorted(outdir.glob(f"{workbook.stem}-*.png")), measure(pdf))


def main(argv: list[str] | None = None) -> int:
    import duckdb

    from dagster_project.lib.measures.catalogue import load_catalogue
    from dagster_project.lib.measures.parameters import Parameters
    from dagster_project.paths import DEFAULT_DATA_DIR

    from .budget_workbook import write_budget_workbook
    from .kpi_workbook import write_kpi_workbook

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=DEFAULT_DATA_DIR / "warehouse.duckdb")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "gxindustry-print")
    parser.add_argument("--dpi", type=int, default=60)
    parser.add_argument("--screenshots", type=Path, help="also copy the README's pages there (docs/img)")
    parser.add_argument("workbooks", nargs="*", type=Path,
                        help="xlsx files to print as they are (e.g. a run's, data/reports/<as-of>/*.xlsx); "
                             "default: both workbooks written afresh from --warehouse")
    args = parser.parse_args(argv)
    not_workbooks = [str(p) for p in args.workbooks if not p.is_file() or p.suffix != ".xlsx"]
    if not_workbooks:
        print(f"render_check: not an .xlsx file: {', '.join(not_workbooks)}", file=sys.stderr)
        return 2
    missing = tools_missing()
    if missing:
        print(f"render_check: install {' '.join(missing)} first (apt-get install -y ...)", file=sys.stderr)
        return 2
    if args.workbooks:
        reports = [render(book, args.out, args.dpi) for book in args.workbooks]
    else:
        catalogue = load_catalogue()
        with duckdb.connect(str(args.warehouse), read_only=True) as con, tempfile.TemporaryDirectory() as tmp:
            as_of = con.execute("select max(as_of) from marts.policy_awards").fetchone()[0]
            books = [write_budget_workbook(con, catalogue, Parameters(catalogue), Path(tmp), as_of),
                     write_kpi_workbook(con, catalogue, Path(tmp), as_of)]
            reports = [render(book, args.out, args.dpi) for book in books]
    problems = []
    for report in reports:
        print(f"{report.workbook.name}: {sum(s.pages for s in report.sheets.values())} pages -> {args.out}")
        for name, sheet in report.sheets.items():
            print(f"  {name:<28} {sheet.pages:>3} page(s), smallest text {sheet.smallest_pt:4.1f} pt")
        problems += report.problems()
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    if args.screenshots:
        for report in reports:
            for prefix, sheet, page, name in SCREENSHOTS:
                found = [s for n, s in report.sheets.items() if n.startswith(sheet)]
                if report.workbook.stem.startswith(prefix) and found and found[0].pages >= page:
                    png = report.pngs[found[0].first_page + page - 2]
                    args.screenshots.mkdir(parents=True, exist_ok=True)
                    print(shutil.copyfile(png, args.screenshots / name))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
