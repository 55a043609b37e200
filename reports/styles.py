"""Formats and cell writing shared by the workbooks.

Every value goes through `put`, which picks the typed xlsxwriter call: a `str` is always
written with `write_string`, so text from a feed (an enterprise named `=HYPERLINK(...)`,
`+86...`, `@SUM(..)`) stays text. Formulas are only ever written by `put_formula`, from
templates in this package. The workbooks are opened with `strings_to_formulas`,
`strings_to_numbers` and `strings_to_urls` off as a second line of defence.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal
from importlib import metadata

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

FONT = "等线"  # Office's default CJK font; LibreOffice falls back to an installed CJK font
WAN = Decimal(10_000)

MONEY = "#,##0.00"  # 万元
# One beneficiary's award, 万元: a positive award under 0.005万 (50元, e.g. M24 on a small power
# increment) reads "<0.01" rather than an eligible 0.00; the cell keeps the exact value.
AWARD_MONEY = '[>=0.005]#,##0.00;[>0]"<0.01";0.00'
SIGNED_MONEY = "+#,##0.00;-#,##0.00;0.00"  # a change, 万元
COUNT = "#,##0"
SHARE = "0.0%"
PERCENT_POINTS = "0.00"  # growth in % (8.5 means 8.5%)

STATUS_COLOURS = {  # status -> (fill, font)
    "达标": ("#C6EFCE", "#006100"),
    "进度正常": ("#DDEBF7", "#1F4E78"),
    "滞后": ("#FFC7CE", "#9C0006"),
    "无量化指标": ("#EDEDED", "#595959"),
}
HEADER_FILL = "#1F4E78"
INPUT_FILL = "#FFF2CC"
OVERRIDE_FILL = "#F8CBAD"
TOTAL_FILL = "#D9E1F2"
TABLE_STYLE = "Table Style Light 9"
SUBTITLE = {"font_size": 10, "font_color": "#595959"}  # the grey line under a sheet's title
BODY_PT = 10  # the workbooks' text size: column widths (character units) and text_width are counted at it
NOTE_PT = 9  # notes and explanations

WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "default_date_format": "yyyy-mm-dd",
    "default_format_properties": {"font_name": FONT, "font_size": BODY_PT},
}


def project_version() -> str:
    try:
        return metadata.version("gxindustry")
    except metadata.PackageNotFoundError:
        return "unknown"


def new_workbook(path) -> xlsxwriter.Workbook:
    return xlsxwriter.Workbook(str(path), dict(WORKBOOK_OPTIONS))


def add_sheet(workbook: xlsxwriter.Workbook, name: str):
    """A worksheet where codes written as text (USCC, periods) raise no "number stored as text" flags."""
    ws = workbook.add_worksheet(name)
    ws.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
    return ws


class Styles:
    """Formats of one workbook, created once per distinct set of properties."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.workbook = workbook
        self._cache: dict[tuple, object] = {}

    def get(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.workbook.add_format(
                {"font_name": FONT, "font_size": BODY_PT, "valign": "vcenter", **props})
        return self._cache[key]

    # named formats
    @property
    def title(self):
        return self.get(bold=True, font_size=15, font_color=HEADER_FILL)

    @property
    def subtitle(self):
        return self.get(**SUBTITLE)

    @property
    def wrapped_subtitle(self):
        """A subtitle longer than its merged cells: wrapped, never cut at the print edge."""
        return self.get(**SUBTITLE, text_wrap=True, valign="top")

    @property
    def section(self):
        return self.get(bold=True, font_size=11, font_color=HEADER_FILL, bottom=2, bottom_color=HEADER_FILL)

    @property
    def label(self):
        return self.get(bold=True, bg_color="#F2F2F2", border=1, border_color="#BFBFBF")

    @property
    def info(self):
        return self.get(border=1, border_color="#BFBFBF", text_wrap=True, valign="top")

    @property
    def note(self):
        return self.get(font_size=NOTE_PT, font_color="#404040", text_wrap=True, valign="top")

    @property
    def header(self):
        return self.get(bold=True, font_color="#FFFFFF", bg_color=HEADER_FILL, text_wrap=True, align="center",
                        border=1, border_color="#FFFFFF")

    @property
    def text(self):
        return self.get()

    @property
    def wrap(self):
        return self.get(text_wrap=True, valign="top")

    @property
    def money(self):
        return self.get(num_format=MONEY)

    @property
    def count(self):
        return self.get(num_format=COUNT)

    @property
    def share(self):
        return self.get(num_format=SHARE)

    @property
    def stale(self):
        """The warning that low/high no longer match the edited parameters (empty until then)."""
        return self.get(bold=True, font_color="#C00000", text_wrap=True, valign="top")

    def total(self, num_format: str | None = None):
        props = {"bold": True, "bg_color": TOTAL_FILL, "top": 1, "bottom": 6}
        if num_format:
            props["num_format"] = num_format
        return self.get(**props)

    def status(self, status: str):
        fill, font = STATUS_COLOURS.get(status, ("#FFFFFF", "#000000"))
        return self.get(bg_color=fill, font_color=font, bold=True, align="center", border=1, border_color="#FFFFFF")


def put(ws, row: int, col: int, value, fmt=None) -> None:
    """Write one value with the typed call for its Python type (never a formula)."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, (int, float, Decimal)):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_number(row, col, number, fmt)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, fmt)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def put_formula(ws, row: int, col: int, formula: str, cached, fmt=None) -> None:
    """A formula of ours, with the engine's value stored as its cached result."""
    assert formula.startswith("="), formula
    if isinstance(cached, str):  # a text formula
        ws.write_formula(row, col, formula, fmt, cached)
    else:
        ws.write_formula(row, col, formula, fmt, 0 if cached is None else float(cached))


def wan(yuan) -> float | None:
    """元 (exact decimal) -> 万元 as stored in a cell."""
    return None if yuan is None else float(Decimal(yuan) / WAN)


def text_width(text: str) -> float:
    """Approximate display width in Excel character units (CJK characters count double)."""
    text = str(text)
    if text.isascii():  # codes, numbers, dates: most cells
        return 1.1 * len(text)
    return sum(1.8 if ord(ch) > 0x2E80 else 1.0 for ch in text)


def room_at(width: float, pt: float) -> float:
    """A width in character units as room for text of `pt` points: smaller text fits more of it."""
    return width * BODY_PT / pt


def fit_widths(ws, headers: list[str], rows: list[list], minimum: float = 6, maximum: float = 48,
               first_col: int = 0) -> None:
    """Set each column to the width of its longest header line or value, within bounds. A header
    broken by hand ("差距\n（百分点）") keeps its lines whole; any other header may wrap once."""
    for i, header in enumerate(headers):
        lines = str(header).split("\n")
        widest = max(text_width(line) for line in lines)
        width = widest + 1.5 if len(lines) > 1 else widest / 1.6 + 2
        shown = {f"{value:,.2f}" if isinstance(value, float) else str(value)
                 for row in rows if i < len(row) for value in [row[i]] if value is not None}
        width = max([width, *(text_width(text) + 1.5 for text in shown)])
        ws.set_column(first_col + i, first_col + i, max(minimum, min(maximum, width)))


# What wrapping cannot split: a run of Latin letters, digits and signs with its trailing space (a
# word); any other character (CJK) may end a line.
_WRAP_UNIT = re.compile(r"[\x21-\x7e]+ ?|.")


def lines_needed(text, width: float) -> int:
    """How many lines a wrapped cell of `width` character units needs for `text`: filled word by
    word as Excel and LibreOffice wrap (a word that does not fit starts a new line), not by
    characters, which undercounts lines where Latin words meet the edge."""
    if text is None:
        return 1
    room = max(width - 1, 1)
    total = 0
    for line in str(text).split("\n"):
        lines, used = 1, 0.0
        for unit in _WRAP_UNIT.findall(line):
            w = text_width(unit)
            if used and used + w > room:
                lines, used = lines + 1, 0.0
            if w > room:  # a word longer than the line is broken where it overflows
                lines += math.ceil(w / room) - 1
                w -= (math.ceil(w / room) - 1) * room
            used += w
        total += lines
    return total


def fit_height(ws, row: int, cells: list[tuple[object, float]], line_height: float = 13.0, max_lines: int = 8) -> None:
    """Set a row's height to show wrapped texts: `cells` are (text, column width) pairs."""
    lines = max([1] + [lines_needed(text, width) for text, width in cells])
    if lines > 1:
        ws.set_row(row, line_height * min(lines, max_lines) + 2)


def spanned_headers(ws, row: int, columns: list[tuple[str, int, int]], fmt, height: float = 30) -> None:
    """A header row whose headers each span sheet columns (first, last), merged where they span several."""
    for header, first, last in columns:
        if first == last:
            ws.write_string(row, first, header, fmt)
        else:
            ws.merge_range(row, first, row, last, header, fmt)
    ws.set_row(row, height)


def sheet_ref(sheet: str) -> str:
    """A sheet name as it appears in a formula."""
    return "'" + sheet.replace("'", "''") + "'"


def abs_range(sheet: str, first_row: int, col: int, last_row: int) -> str:
    """`'sheet'!$C$7:$C$40` (0-based rows and columns)."""
    letter = xl_col_to_name(col)
    return f"{sheet_ref(sheet)}!${letter}${first_row + 1}:${letter}${last_row + 1}"


def cell(row: int, col: int, row_abs: bool = False, col_abs: bool = False) -> str:
    return xl_rowcol_to_cell(row, col, row_abs, col_abs)


_BAD_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def sheet_name(text: str) -> str:
    """A valid worksheet name (31 characters, no []:*?/\\, no leading or trailing apostrophe)."""
    return text.translate(_BAD_SHEET_CHARS).strip("' ")[:31].rstrip()


# A4 landscape less the margins below, in column-width units at 100 % (measured: LibreOffice with a
# CJK font prints about 108 units of 10 pt text across the page).
PRINTABLE_WIDTH = 108
MIN_PRINT_SCALE = 80  # cells are 10 pt (notes 9 pt): printed at 8 pt or more


def print_scale(widths: list[float]) -> int:
    """The print scale (%) at which columns of these widths fill one page across, at most 100."""
    return min(100, int(PRINTABLE_WIDTH * 100 / sum(widths)))


def print_setup(ws, repeat_rows: tuple[int, int] | None = None, fit_height: int = 0,
                columns: tuple[int, int] | None = None, widths: list[float] | None = None) -> None:
    """Landscape A4, small margins, centred, page numbers; header rows repeated on every page.

    The sheet is fitted to one page across and `fit_height` pages down (0: as many as needed). With
    `columns` and `widths` (all of the sheet's column widths) only those columns print, and their
    widths must allow a scale of MIN_PRINT_SCALE or more (a layout that would need less is a bug
    here, not something to print; `reports.render_check` measures the printed text size)."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.center_horizontally()
    if columns is not None and widths is not None:
        scale = print_scale(widths[columns[0]:columns[1] + 1])
        if scale < MIN_PRINT_SCALE:
            raise ValueError(f"{ws.get_name()}: printed columns need {scale}% to fit the page (minimum "
                             f"{MIN_PRINT_SCALE}%)")
        ws.print_area(0, columns[0], ws.dim_rowmax or 0, columns[1])
    ws.fit_to_pages(1, fit_height)
    if repeat_rows:
        ws.repeat_rows(*repeat_rows)
    ws.set_header("&L&9&A")
    ws.set_footer("&L&9gxindustry&C&9第 &P 页，共 &N 页")
