"""Decode a delivered file into a header and text rows with their line numbers.

File-level problems (undecodable bytes, empty file, missing sheet or header)
raise `FileRefused` with a message naming the file and the line; row-level
problems are left to the validator so that good rows still load.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from .spec import Dataset


class FileRefused(ValueError):
    """The file as a whole cannot be ingested; it stays in the landing dir untouched."""


@dataclass
class TextTable:
    headers: list[str]  # trimmed, as found in the file
    rows: list[list[str | None]]  # one list per data row, aligned with headers; blanks are None
    lines: list[int]  # line (CSV) or sheet row (xlsx) where each row starts
    blank_rows: int


# Encodings a misdelivered file is likely to be in, to make the refusal message useful.
_OTHER_ENCODINGS = ("utf-8-sig", "gb18030")


def read_file(path: Path, dataset: Dataset, data: bytes) -> TextTable:
    if not data.strip():
        raise FileRefused(f"{path.name}: empty file")
    if dataset.extension == "csv":
        return _read_csv(path, dataset, data)
    return _read_xlsx(path, dataset, data)


def _read_csv(path: Path, dataset: Dataset, data: bytes) -> TextTable:
    try:
        text = data.decode(dataset.encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = _guess_encoding(data, dataset.encoding)
        raise FileRefused(
            f"{path.name}: line {line}: bytes not valid {dataset.encoding.upper()} "
            f"(the {dataset.feed} provider sends {dataset.encoding.upper()}){hint}"
        ) from None
    if not text.endswith(("\n", "\r")):
        # A file cut off mid-row is refused rather than loaded with a partial last row.
        last = text.rsplit("\n", 1)[-1]
        if last.count('"') % 2:
            raise FileRefused(f"{path.name}: truncated: the last line ends inside a quoted field")
    reader = csv.reader(io.StringIO(text, newline=""))
    headers: list[str] | None = None
    rows: list[list[str | None]] = []
    lines: list[int] = []
    blank = 0
    start = 1
    try:
        for record in reader:
            if headers is None:
                headers = [h.strip().lstrip("\ufeff") for h in record]
            elif not any(v.strip() for v in record):
                blank += 1
            else:
                rows.append([_clean(v) for v in record])
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRefused(f"{path.name}: line {reader.line_num}: malformed CSV ({exc})") from None
    if headers is None:
        raise FileRefused(f"{path.name}: empty file")
    return TextTable(headers, rows, lines, blank)


def _guess_encoding(data: bytes, expected: str) -> str:
    for enc in _OTHER_ENCODINGS:
        if enc != expected:
            try:
                data.decode(enc)
            except UnicodeDecodeError:
                continue
            return f"; it decodes as {enc.upper().replace('-SIG', '')}: was it sent in the wrong encoding?"
    return ""


def _clean(value: str) -> str | None:
    value = value.strip()
    return value or None


def _read_xlsx(path: Path, dataset: Dataset, data: bytes) -> TextTable:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt archives
        raise FileRefused(f"{path.name}: not a readable .xlsx workbook ({exc.__class__.__name__}: {exc})") from None
    try:
        if dataset.sheet not in wb.sheetnames:
            raise FileRefused(f"{path.name}: sheet {dataset.sheet!r} not found (sheets: {', '.join(wb.sheetnames)})")
        ws = wb[dataset.sheet]
        all_rows = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    # Hand-kept sheets may have a title row (often merged cells) above the header:
    # the header is the first row holding at least one required header.
    wanted = {c.header for c in dataset.columns if c.required}
    header_at = next(
        (i for i, row in enumerate(all_rows[:20]) if wanted & {(v or "").strip() for v in row}),
        None,
    )
    if header_at is None:
        raise FileRefused(
            f"{path.name}: sheet {dataset.sheet!r}: no header row with the expected columns "
            f"({', '.join(dataset.headers)}) in the first 20 rows"
        )
    headers = [(v or "").strip() for v in all_rows[header_at]]
    rows: list[list[str | None]] = []
    lines: list[int] = []
    blank = 0
    for offset, row in enumerate(all_rows[header_at + 1 :], start=header_at + 2):
        if not any(v for v in row):
            blank += 1
            continue
        rows.append(list(row) + [None] * (len(headers) - len(row)))
        lines.append(offset)
    return TextTable(headers, rows, lines, blank)


def _cell_text(value: object) -> str | None:
    """Normalise a cell to the text a CSV would hold (numbers stored as text look the same)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # repr is the shortest text that round-trips the stored double: 3.45 stays 3.45.
        d = Decimal(repr(value))
        return format(d.to_integral_value() if d == d.to_integral_value() else d.normalize(), "f")
    return _clean(str(value))
