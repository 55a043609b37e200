"""Writing delivered files: exact decimal text, CSV in each provider's encoding, xlsx workbooks."""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Sequence

import numpy as np
import xlsxwriter

FEEDS = ("stats", "power", "tax", "customs", "registers")
_DATASET = re.compile(r"(_\d{6}|_\d{8})?(_v\d+)?$")  # <feed>_<dataset>[_<period>][_v<N>]

# Amounts are held as integers in units of 10**-decimals and printed through a
# float division: exact as long as the value stays below 1e13 (the double
# then carries far more than the printed decimals), checked below.
_EXACT_LIMIT = 10**13


def fixed(scaled: np.ndarray, decimals: int, blank: np.ndarray | None = None) -> list[str]:
    """Decimal text with exactly `decimals` places of integers counted in 10**-decimals units."""
    values = np.asarray(scaled, dtype=np.int64)
    if values.size and np.abs(values).max() >= _EXACT_LIMIT * 10**decimals:
        raise ValueError("amount too large to print exactly")
    text = [f"{v:.{decimals}f}" for v in (values / 10**decimals).tolist()]
    if blank is not None:
        for i in np.flatnonzero(blank).tolist():
            text[i] = ""
    return text


def months_text(values: np.ndarray, blank: np.ndarray | None = None) -> list[str]:
    """YYYYMM integers as text; `blank` marks empty cells."""
    text = np.asarray(values).astype(np.int64).astype(str).tolist()
    if blank is not None:
        for i in np.flatnonzero(blank).tolist():
            text[i] = ""
    return text


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def csv_bytes(
    columns: dict[str, Sequence[str]],
    order: Sequence[str],
    *,
    encoding: str,
    bom: bool = False,
    crlf: bool = False,
    quote_all: bool = False,
) -> bytes:
    """A CSV file: header line, then rows; fields quoted only where needed unless `quote_all`."""
    cols = []
    for header in order:
        values = list(columns[header])
        if quote_all:
            values = [_quoted(v) for v in values]
        else:
            # One scan of the whole column decides whether any field needs quoting.
            joined = "\x00".join(values)
            if any(ch in joined for ch in ',"\n\r'):
                values = [_quoted(v) if any(ch in v for ch in ',"\n\r') else v for v in values]
        cols.append(values)
    eol = "\r\n" if crlf else "\n"
    header_line = ",".join(_quoted(h) if quote_all else h for h in order)
    lines = [header_line, *map(",".join, zip(*cols))]
    text = eol.join(lines) + eol
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


@dataclass
class Sheet:
    """One worksheet as department staff keep it."""

    name: str
    header: list[str]  # as written, trailing spaces included
    rows: list[list[object] | None]  # None: a stray blank row; cells: str, int, float, date or None
    title: str | None = None  # a merged title row above the header
    widths: list[int] = field(default_factory=list)


def xlsx_bytes(sheets: list[Sheet], created: datetime) -> bytes:
    """The workbook's bytes; fixed document dates so that equal input gives equal bytes."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": created, "author": "工业和信息化厅", "title": sheets[0].name})
    bold = wb.add_format({"bold": True, "align": "center"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for sheet in sheets:
        ws = wb.add_worksheet(sheet.name)
        for i, width in enumerate(sheet.widths):
            ws.set_column(i, i, width)
        r = 0
        if sheet.title:
            ws.merge_range(0, 0, 0, len(sheet.header) - 1, sheet.title, bold)
            r = 1
        for c, h in enumerate(sheet.header):
            ws.write_string(r, c, h, bold)
        for row in sheet.rows:
            r += 1
            for c, value in enumerate(row or ()):
                # Text is always written as text: a name like =HYPERLINK(...) must stay a name.
                if isinstance(value, str):
                    ws.write_string(r, c, value)
                elif isinstance(value, date):
                    ws.write_datetime(r, c, datetime(value.year, value.month, value.day), date_fmt)
                elif isinstance(value, (int, float)):
                    ws.write_number(r, c, value)
    wb.close()
    return buf.getvalue()


class Landing:
    """The landing directory being filled; keeps the summary of what was written."""

    def __init__(self, root: Path):
        self.root = root
        self.files: list[str] = []
        self.arrivals: dict[str, date] = {}  # file -> the day its provider delivered it
        self.rows: Counter[str] = Counter()
        self.defects: list[str] = []

    def note(self, defect: str) -> None:
        """Record a deliberate defect (file and key) for the summary."""
        self.defects.append(defect)

    def refuse_if_delivered(self) -> None:
        """Deliveries are never overwritten: refuse a landing dir that already holds feed files."""
        existing = sorted(
            str(p.relative_to(self.root))
            for feed in FEEDS
            if (self.root / feed).is_dir()
            for p in (self.root / feed).iterdir()
            if p.is_file()
        )
        if existing:
            shown = ", ".join(existing[:3]) + (" ..." if len(existing) > 3 else "")
            raise ValueError(
                f"landing dir {self.root} already holds {len(existing)} delivered file(s) ({shown}); "
                "generate into an empty directory"
            )

    def write(self, feed: str, name: str, data: bytes, rows: int, arrival: date) -> None:
        """Write one delivered file; `arrival` is the day its provider delivered it."""
        folder = self.root / feed
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        self.files.append(f"{feed}/{name}")
        self.arrivals[f"{feed}/{name}"] = arrival
        self.rows[_DATASET.sub("", name.rsplit(".", 1)[0])] += rows

    def write_csv(self, feed: str, name: str, columns: dict[str, Sequence[str]], order: Sequence[str], *,
                  arrival: date, **fmt) -> None:
        rows = len(next(iter(columns.values())))
        self.write(feed, name, csv_bytes(columns, order, **fmt), rows, arrival)

    def write_xlsx(self, feed: str, name: str, sheet: Sheet, created: datetime, *, arrival: date) -> None:
        rows = sum(1 for r in sheet.rows if r)
        self.write(feed, name, xlsx_bytes([sheet], created), rows, arrival)
