"""Decode a delivered file into a header and text columns with their line numbers.

File-level problems (undecodable bytes, empty file, missing sheet or header)
raise `FileRefused` with a message naming the file and the line; row-level
problems are left to the validator so that good rows still load.

CSV files are split by Arrow's CSV reader when every record is one physical
line (no quote characters, no lone CR): then the n-th non-empty line after the
header is the n-th row, and line numbers come from the newline positions.
Anything else (quoted fields, ragged rows) goes through Python's csv module,
which is about twenty times slower but tracks records over quoted newlines.
Both give the same table: values trimmed, blank values NULL, blank rows counted
and dropped. A row with more or fewer fields than the header (an unquoted comma
shifts every value after it) is kept with its field count, for the loader to
reject. A column without a header that holds values is named by its position
("(column 9)"), so that it is kept as an extra column rather than dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from .spec import Dataset, Kind


class FileRefused(ValueError):
    """The file as a whole cannot be ingested; it stays in the landing dir untouched."""


@dataclass
class TextTable:
    headers: list[str]  # trimmed, as found in the file
    columns: list[pa.Array]  # one string array per header position; blank values are NULL
    lines: pa.Array  # int64: line (CSV) or sheet row (xlsx) where each row starts
    blank_rows: int
    # CSV rows whose field count is not the header's: row index -> fields found
    ragged: dict[int, int] = field(default_factory=dict)
    # Workbook cells whose text is not what the cell holds (an Excel error, a percentage, a formula
    # without its result): (row index, header position) -> why the field is rejected
    cell_problems: dict[tuple[int, int], str] = field(default_factory=dict)
    # Rows rejected as a whole (a CSV record over several lines that is no well-formed quoted value,
    # a hidden row of a sheet): row index -> why none of it loads
    broken: dict[int, str] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return len(self.lines)

    def row(self, i: int) -> list[str | None]:
        return [column[i].as_py() for column in self.columns]

    @property
    def rows(self) -> list[list[str | None]]:
        return [list(values) for values in zip(*(c.to_pylist() for c in self.columns))] if self.columns else []

    @classmethod
    def from_rows(cls, headers: list[str], rows: list[list[str | None]], lines: list[int], blank_rows: int,
                  ragged: dict[int, int] | None = None,
                  cell_problems: dict[tuple[int, int], str] | None = None,
                  broken: dict[int, str] | None = None) -> TextTable:
        """Rows as parsed (possibly ragged, listed in `ragged`): values past the header are dropped,
        missing ones are NULL."""
        columns = [pa.array([row[i] if i < len(row) else None for row in rows], type=pa.string())
                   for i in range(len(headers))]
        return cls(_name_blank_headers(headers, columns), columns, pa.array(lines, type=pa.int64()), blank_rows,
                   ragged or {}, cell_problems or {}, broken or {})


def _name_blank_headers(headers: list[str], columns: list[pa.Array]) -> list[str]:
    """A blank header over a column that holds values gets its position as name; over an empty
    column (a trailing comma on every line) it stays blank and the column is ignored."""
    return [h or (f"(column {i + 1})" if i < len(columns) and columns[i].null_count < len(columns[i]) else "")
            for i, h in enumerate(headers)]


# Encodings a misdelivered file is likely to be in, to make the refusal message useful.
_OTHER_ENCODINGS = ("utf-8-sig", "gb18030")
ZIP_SIGNATURE = b"PK\x03\x04"  # how an .xlsx (a zip archive) begins
GZIP_SIGNATURE = b"\x1f\x8b"  # how a gzip-compressed file begins
DOS_END_OF_FILE = b"\x1a"


def read_file(path: Path, dataset: Dataset, data: bytes) -> TextTable:
    if not data.strip():
        raise FileRefused(f"{path.name}: empty file")
    if dataset.extension == "csv":
        return _read_csv(path, dataset, data)
    return _read_xlsx(path, dataset, data)


def _read_csv(path: Path, dataset: Dataset, data: bytes) -> TextTable:
    if data.startswith(ZIP_SIGNATURE):
        raise FileRefused(f"{path.name}: a zip archive (an .xlsx workbook renamed .csv?), not comma-separated "
                          "text: ask the provider for the CSV file")
    if data.startswith(GZIP_SIGNATURE):
        raise FileRefused(f"{path.name}: gzip-compressed, not comma-separated text: ask the provider for the "
                          "uncompressed CSV file")
    # A DOS end-of-file mark (Ctrl-Z) after the last line is no data: a complete report that ended
    # with one was refused as cut off, and sent again it would have been the same bytes
    data = data[:-1] if data.endswith(DOS_END_OF_FILE) else data
    if data.endswith(b"\x00"):  # a disk or a transfer padded it with zero bytes (4,096 after a report)
        padding = len(data) - len(data.rstrip(b"\x00"))
        raise FileRefused(f"{path.name}: ends in {padding:,} zero bytes (NUL), padding left by a disk or a "
                          "transfer, not text: ask the provider to send the file again")
    if data.startswith(codecs.BOM_UTF8) and not dataset.encoding.startswith("utf"):
        raise FileRefused(_byte_order_mark_problem(path, dataset, data))
    try:
        text = data.decode(dataset.encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = _guess_encoding(data, dataset.encoding)
        encoding = _encoding_name(dataset.encoding)
        raise FileRefused(
            f"{path.name}: line {line}: bytes not valid {encoding} (the {dataset.feed} provider sends {encoding}){hint}"
        ) from None
    table = _split_one_record_per_line(text) or _split_with_csv_module(path, text)
    problem = _cut_off(text, table)
    if problem:
        raise FileRefused(f"{path.name}: truncated: {problem}; the file looks cut off, ask the provider to send it "
                          "again")
    return table


def _cut_off(text: str, table: TextTable) -> str | None:
    """Why a file seems cut off in transfer, or None. Its last row would load with a cut value (13
    employees read as 1) and the rows after the cut would be missing without a word. RFC 4180
    allows a last line without a line end, and hand-made files often have one, so only what a
    complete file cannot look like counts: the last line ending inside a quoted field, or without
    the CRLF that ends every other line (writers that use CRLF end every line with it), or with
    fewer fields than the header."""
    if text.endswith(("\n", "\r")):
        return None
    line = text.count("\n") + 1
    if text.rsplit("\n", 1)[-1].count('"') % 2:
        return f"the last line (line {line}) ends inside a quoted field"
    # every other line, not the first alone: a CRLF header over LF rows is a file put together by
    # two writers, complete without a last line end (refused as cut off until 2026-12-07)
    if "\n" in text and text.count("\r\n") == text.count("\n"):
        return f"the last line (line {line}) has no line end, while the others end with CRLF"
    last = table.num_rows - 1
    if last >= 0 and table.lines[last].as_py() == line and table.ragged.get(last, len(table.headers)) < len(
            table.headers):
        return f"the last line (line {line}) has no line end and only {table.ragged[last]} of {len(table.headers)} fields"
    return None


def _split_one_record_per_line(text: str) -> TextTable | None:
    """Arrow's reader on a file whose records are exactly its non-empty lines; None if it is not one."""
    if '"' in text or text.count("\r") != text.count("\r\n"):
        return None
    utf8 = text.encode("utf-8")
    if not utf8.endswith(b"\n"):
        utf8 += b"\n"  # Arrow cannot skip a header line that has no line end
    first_end = utf8.find(b"\n")
    header_line = utf8[:first_end].rstrip(b"\r").decode("utf-8")
    if not header_line:
        return None
    header_fields = [h.strip().lstrip("\ufeff") for h in header_line.split(",")]
    names = [f"c{i}" for i in range(len(header_fields))]
    try:
        parsed = pa_csv.read_csv(
            io.BytesIO(utf8),
            # One thread: the loader reads in a background thread, and Arrow's multi-threaded
            # reader run from one failed intermittently ("a chunk failed converting for an unknown
            # reason", once in ~250 province files); the loader's writes run meanwhile anyway.
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pa_csv.ParseOptions(quote_char=False, ignore_empty_lines=True),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                  strings_can_be_null=False),
        )
    except pa.ArrowInvalid:  # a row with more or fewer fields than the header
        return None
    # Physical lines: starts after each newline; a line is empty when it holds nothing but its CR.
    raw = np.frombuffer(utf8, dtype=np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    last_is_cr = raw[np.maximum(ends - 1, 0)] == ord("\r")
    empty = (lengths == 0) | ((lengths == 1) & last_is_cr)
    data_lines = np.flatnonzero(~empty[1:]) + 2  # 1-based, after the header line
    empty_lines = int(empty[1:].sum())  # blank rows too, as the csv module counts them
    if len(data_lines) != parsed.num_rows:
        return None
    columns = [_blank_to_null(pc.utf8_trim_whitespace(parsed.column(i).combine_chunks())) for i in range(len(names))]
    blank = np.ones(parsed.num_rows, dtype=bool)
    for column in columns:
        blank &= column.is_null().to_numpy(zero_copy_only=False)
    keep = pa.array(~blank)
    kept = [c.filter(keep) for c in columns]
    return TextTable(_name_blank_headers(header_fields, kept), kept, pa.array(data_lines[~blank], type=pa.int64()),
                     empty_lines + int(blank.sum()))


def _blank_to_null(column: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)


def _split_with_csv_module(path: Path, text: str) -> TextTable:
    reader = csv.reader(io.StringIO(text, newline=""))
    headers: list[str] | None = None
    rows: list[list[str | None]] = []
    lines: list[int] = []
    ragged: dict[int, int] = {}
    broken: dict[int, str] = {}
    physical: list[str] | None = None
    blank = 0
    start = last_end = 1
    try:
        for record in reader:
            if headers is None:
                headers = [h.strip().lstrip("\ufeff") for h in record]
            elif not any(v.strip() for v in record):
                blank += 1
            else:
                if len(record) != len(headers):
                    ragged[len(rows)] = len(record)
                elif reader.line_num > start:  # a quoted value over several lines, or a quote gone astray
                    physical = physical or io.StringIO(text, newline="").readlines()
                    if not _well_quoted("".join(physical[start - 1:reader.line_num])):
                        broken[len(rows)] = (f"a quote opened on line {start} closes inside a value on line "
                                             f"{reader.line_num}: lines {start}–{reader.line_num} read as one "
                                             "record, none of it is loaded")
                rows.append([_clean(v) for v in record])
                lines.append(start)
                last_end = reader.line_num
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRefused(f"{path.name}: line {reader.line_num}: malformed CSV ({exc})") from None
    if headers is None:
        raise FileRefused(f"{path.name}: empty file")
    if lines and last_end > lines[-1] and _odd_quotes(text, lines[-1]):
        # the last record opened a quote that nothing closed: every line after it became one value
        raise FileRefused(f"{path.name}: line {lines[-1]}: a quote opened there is never closed, so lines "
                          f"{lines[-1]}–{last_end} would be read as one value; ask the provider to send it again")
    return TextTable.from_rows(headers, rows, lines, blank, ragged, broken=broken)


def _well_quoted(record: str) -> bool:
    """Whether a record's quoted values each close where a value ends (RFC 4180). The reader takes
    text after a closing quote into the value: a name typed `"十四五”…` (an ASCII quote opening it,
    a Chinese one closing) ran on to the quote in the next line's `"智能化"`, and the two lines
    loaded as one project with the next one's figures, the other project gone (−98.6万 of a tiny
    budget, 2026-12-07)."""
    try:
        for _ in csv.reader(io.StringIO(record, newline=""), strict=True):
            pass
    except csv.Error:
        return False
    return True


def _odd_quotes(text: str, from_line: int) -> bool:
    """Whether the text from line `from_line` on holds an odd number of double quotes: a record
    whose quoted fields all close holds an even number (an escaped quote is two)."""
    lines = io.StringIO(text, newline="")  # split as the CSV reader counts lines (CR, LF or CRLF)
    return sum(line.count('"') for number, line in enumerate(lines, start=1) if number >= from_line) % 2 == 1


def _encoding_name(codec: str) -> str:
    """An encoding as FEEDS.md names it: Python's utf-8-sig (UTF-8, a BOM or not) is UTF-8."""
    return codec.upper().replace("-SIG", "")


def _byte_order_mark_problem(path: Path, dataset: Dataset, data: bytes) -> str:
    """A UTF-8 byte-order mark before a file whose provider sends another encoding: a program that
    saves "as UTF-8" put it there, before UTF-8 text or before text still in the provider's encoding.
    Decoded as GB18030 the mark is the character 锘 and more: "bytes not valid GB18030" named no cause."""
    encoding = _encoding_name(dataset.encoding)
    start = f"{path.name}: starts with a UTF-8 byte-order mark (EF BB BF), but the {dataset.feed} provider sends {encoding}"
    for codec, what in ((dataset.encoding, f"the text after the mark is {encoding}; ask the provider to save it "
                                           "again without the mark"),
                        ("utf-8", f"the file was saved as UTF-8; ask the provider to send it in {encoding}")):
        try:
            data[len(codecs.BOM_UTF8):].decode(codec)
        except UnicodeDecodeError:
            continue
        return f"{start}: {what}"
    return f"{start}: the text after the mark is neither; ask the provider to send the file again in {encoding}"


def _guess_encoding(data: bytes, expected: str) -> str:
    for enc in _OTHER_ENCODINGS:
        if enc != expected:
            try:
                data.decode(enc)
            except UnicodeDecodeError:
                continue
            return f"; it decodes as {_encoding_name(enc)}: was it sent in the wrong encoding?"
    return ""


def _clean(value: str) -> str | None:
    value = value.strip()
    return value or None


# An OLE2 compound file: an Excel 97–2003 workbook (.xls), not the zip archive of an .xlsx.
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# Significant digits Excel keeps of a number (IEEE doubles as Excel shows and stores them).
EXCEL_DIGITS = 15


def _read_xlsx(path: Path, dataset: Dataset, data: bytes) -> TextTable:
    from openpyxl import load_workbook

    if data.startswith(OLE2_SIGNATURE):
        raise FileRefused(f"{path.name}: an Excel 97-2003 workbook (.xls) named .xlsx: save it as an Excel "
                          "workbook (.xlsx) and send it again")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt archives
        what = "" if data.startswith(ZIP_SIGNATURE) else "; its bytes are no zip archive (a CSV or text file named .xlsx?)"
        raise FileRefused(f"{path.name}: not a readable .xlsx workbook ({exc.__class__.__name__}: {exc}){what}") from None
    try:
        # a sheet name with a space before or after it is the sheet, as a header is its name trimmed
        # ('桂惠贷 ' was refused as "sheet '桂惠贷' not found (sheets: 桂惠贷 )", 2026-12-07)
        trimmed = [name for name in wb.sheetnames if name.strip() == dataset.sheet]
        sheet = dataset.sheet if dataset.sheet in wb.sheetnames else (trimmed[0] if len(trimmed) == 1 else None)
        if sheet is None:
            raise FileRefused(f"{path.name}: sheet {dataset.sheet!r} not found "
                              f"(sheets: {', '.join(repr(name) for name in wb.sheetnames)})")
        if wb[sheet].sheet_state != "visible":  # an old tab put away, the register kept on a copy
            visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
            raise FileRefused(f"{path.name}: sheet {dataset.sheet!r} is hidden (visible sheets: "
                              f"{', '.join(visible) or 'none'}); unhide the sheet that holds the register, "
                              f"named {dataset.sheet!r}, and hide or delete the others")
        sheet_rows = list(_all_rows(wb[sheet]))
        hidden, filtered, merged = _row_marks_and_merged_cells(wb[sheet])
        all_rows = [[_cell_text(c.value) for c in row] for row in sheet_rows]
        problems = {(i, j): why for i, row in enumerate(sheet_rows) for j, c in enumerate(row)
                    if (why := _cell_problem(c))}
        problems.update(_covered_by_merged_cells(merged, all_rows))
        struck = _struck_through(sheet_rows, problems)
    finally:
        wb.close()
    problems.update(_formulas_without_results(data, sheet, all_rows))
    # Hand-kept sheets may have a title row (often merged cells) or a block of notes above the
    # header: the header is the row among the first 20 holding the most of the dataset's headers
    # (the first of equals). A note such as 填报单位 | … | 统一社会信用代码 | … holds one of them.
    wanted = set(dataset.headers)
    found = [len(wanted & {(v or "").strip() for v in row}) for row in all_rows[:20]]
    header_at = max(range(len(found)), key=lambda i: (found[i], -i)) if any(found) else None
    if header_at is None:
        raise FileRefused(
            f"{path.name}: sheet {dataset.sheet!r}: no header row with the expected columns "
            f"({', '.join(dataset.headers)}) in the first 20 rows"
        )
    headers = [(v or "").strip() for v in all_rows[header_at]]
    problems.update(_codes_in_number_cells(dataset, headers, sheet_rows[header_at + 1:], header_at + 1))
    rows: list[list[str | None]] = []
    lines: list[int] = []
    cell_problems: dict[tuple[int, int], str] = {}
    broken: dict[int, str] = {}
    by_row: dict[int, dict[int, str]] = {}
    for (i, j), why in problems.items():
        by_row.setdefault(i, {})[j] = why
    blank = 0
    for i, row in enumerate(all_rows[header_at + 1:], start=header_at + 1):
        flagged = by_row.get(i, {})
        if not any(v for v in row) and not flagged:
            blank += 1
            continue
        cell_problems.update({(len(rows), j): why for j, why in flagged.items()})
        if i in struck:
            broken[len(rows)] = STRUCK_ROW_REASON
        elif i + 1 in hidden and filtered:
            broken[len(rows)] = ("a row hidden by the sheet's filter: the register was saved filtered; clear the "
                                 "filter so that every record shows, and send it again")
        elif i + 1 in hidden:
            broken[len(rows)] = ("a hidden row: the register shows it to no one who opens it; unhide it if it "
                                 "is a record, delete it if not")
        rows.append(list(row))
        lines.append(i + 1)  # sheet rows count from 1
    # Cells are where they are in a sheet (no shifting): a value right of the header row is a
    # column without a header, kept as such.
    width = max([len(headers), *(len(r) for r in rows)])
    return TextTable.from_rows(headers + [""] * (width - len(headers)), rows, lines, blank,
                               cell_problems=cell_problems, broken=broken)


STRUCK_ROW_REASON = ("every value of the row is struck through: the register shows it voided (作废); delete "
                     "the row if it is void, remove the strikethrough if it is a record")
STRUCK_CELL_REASON = ("a struck-through value: the register shows it voided (作废); type the value in force "
                      "without the strikethrough")


def _struck_through(sheet_rows: list, problems: dict[tuple[int, int], str]) -> set[int]:
    """The rows (index into `sheet_rows`) whose every value is struck through; a struck-through
    value in a row that also holds plain ones is added to `problems`. A clerk voids a record by
    striking it through: such a loan loaded as a record (issue 15's "left as they are": FEEDS.md
    is silent, and a hidden row is rejected, 2026-12-07). Read-only openpyxl reads each cell's font."""
    struck = set()
    for i, row in enumerate(sheet_rows):
        valued = [(j, bool(c.font is not None and c.font.strike)) for j, c in enumerate(row)
                  if c.value is not None and str(c.value).strip()]
        if valued and all(strike for _, strike in valued):
            struck.add(i)
        else:
            problems.update({(i, j): STRUCK_CELL_REASON for j, strike in valued if strike and (i, j) not in problems})
    return struck


def _all_rows(ws):
    """Every row of a read-only sheet. openpyxl reads as far as the sheet's `<dimension>` tag says,
    which a program may leave stale (A1:G10 over 24 rows: Excel and LibreOffice show all 24):
    a loans register lost 12 of its loans so, with nothing said (2026-12-07); reset, the sheet is
    read to its last row."""
    ws.reset_dimensions()
    return ws.iter_rows()


def _row_marks_and_merged_cells(ws) -> tuple[set[int], bool, list[str]]:
    """The sheet row numbers (from 1) marked hidden, whether the sheet was saved with a filter on,
    and its merged ranges (`A25:A33`). Read-only openpyxl reads no row formats or merges: the
    sheet's XML says them (`<row r="7" hidden="1">`, `<autoFilter><filterColumn>`, `<mergeCell>`).
    A hidden loan loaded with nothing said, while a hidden sheet is refused (2026-12-07): what the
    clerk hid is not what the register shows. A filter hides rows too, and its rows are rejected the
    same way, the reason naming the filter: "a hidden row" sent a clerk looking for rows no one had
    hidden (13 loans of a `tiny` register, M23 −179万)."""
    from xml.etree.ElementTree import iterparse

    hidden, number, filtered, merged = set(), 0, False, []
    with ws.parent._archive.open(ws._worksheet_path) as xml:
        for _, element in iterparse(xml):
            if element.tag.endswith("}row"):
                number = int(element.get("r") or number + 1)  # `r` may be left out: the row after the last
                if element.get("hidden") in ("1", "true"):
                    hidden.add(number)
                element.clear()
            elif element.tag.endswith("}filterColumn"):
                filtered = True
            elif element.tag.endswith("}mergeCell") and element.get("ref"):
                merged.append(element.get("ref"))
    return hidden, filtered, merged


def _covered_by_merged_cells(merged: list[str], values: list[list[str | None]]) -> dict[tuple[int, int], str]:
    """(row, column) -> why, for the cells a merged range covers beyond its first, where that first
    cell holds a value. The sheet shows the value across the whole range; the file holds it in the
    first cell only, so the rows below a USCC merged over an enterprise's three recognitions read
    as blank: rejected as "required value missing" (the clerk sees the value on screen), or, where
    the field is optional (a recognition's USCC: blank = a park), loaded as parks without a word
    (issue 15's damaged-delivery pass, 2026-12-07). A merged title above the header row is no data
    and stays unread (only rows under the header become records), and a row that holds nothing but
    the covered cell is a blank row under a range merged too far, not a record."""
    from openpyxl.utils.cell import range_boundaries

    found = {}
    for ref in merged:
        first_col, first_row, last_col, last_row = range_boundaries(ref)
        row, col = first_row - 1, first_col - 1
        if row >= len(values) or col >= len(values[row]) or values[row][col] is None:
            continue
        why = (f"part of the merged cell {ref}: the sheet shows {values[row][col]} here, the file holds it only in "
               f"its first cell; unmerge the cells and fill in every row")
        found.update({(i - 1, j - 1): why for i in range(first_row, min(last_row, len(values)) + 1)
                      if i == first_row or any(v is not None for v in values[i - 1])
                      for j in range(first_col, last_col + 1) if (i, j) != (first_row, first_col)})
    return found


def _cell_problem(cell) -> str | None:
    """Why a cell's value is not the value the sheet shows, or None."""
    if cell.data_type == "e":  # openpyxl reads an error as its text: #N/A would load as a name
        return f"the cell holds the Excel error {cell.value}"
    value = cell.value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and _shows_per_cent(cell.number_format or ""):
        shown = _cell_text(Decimal(repr(value)) * 100)
        return (f"a percentage cell: it shows {shown}% and holds {_cell_text(value)}; enter the number of "
                f"per cent ({shown}) in a plain number cell")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and _shows_a_scaled_number(cell.number_format or ""):
        return (f"a cell formatted to show another number than it holds ({cell.number_format}; it holds "
                f"{_cell_text(value)}): type the number in the column's unit in a plain number cell")
    return None


def _codes_in_number_cells(dataset: Dataset, headers: list[str], sheet_rows: list, first: int) -> dict[tuple[int, int], str]:
    """(row, column) -> why, for a code (a USCC or a hand-typed identifier) in a number cell that
    holds a double of more than 15 digits: Excel keeps 15 significant digits of a number, so the
    USCC 914505211234567893 typed into a number cell is stored as 9.14505211234568E+17. Rejected
    until 2026-12-07 as "invalid USCC: check character …", which sent the clerk to the wrong digit.
    A whole number written exactly (a program's integer cell) is the code as delivered."""
    columns = {c.header: c for c in dataset.columns}
    number_codes = [j for j, header in enumerate(headers)
                    if (c := columns.get(header)) is not None and (c.kind is Kind.USCC or c.code)]
    found = {}
    for i, row in enumerate(sheet_rows, start=first):
        for j in number_codes:
            value = row[j].value if j < len(row) else None
            if isinstance(value, float) and abs(value) >= 10 ** EXCEL_DIGITS:
                found[(i, j)] = (f"a number cell ({_cell_text(value)}): Excel keeps only {EXCEL_DIGITS} digits of a "
                                 "number, so the code is not what was typed; type it into a text cell (文本 format, "
                                 "or a ' before it)")
    return found


def _shows_per_cent(number_format: str) -> bool:
    """Whether Excel shows a number in this format × 100: a `%` outside quotes (`0.00"%"` shows 3.26
    as 3.26%, a literal sign), not escaped (`0.00\\%`) and not in brackets (`[Red]`, `[$-804]`). A
    register formatted `0.00"%"` holds the number of per cent FEEDS.md asks for: until 2026-12-07
    its every loan was rejected as "a percentage cell", with advice to type 326 for 3.26."""
    return any(("plain", "%") in _format_tokens(section) for section in _format_sections(number_format))


def _shows_a_scaled_number(number_format: str) -> bool:
    """Whether a format shows a number other than the cell holds: a decimal point typed as a literal
    (`0!.0000"万"` shows 5000000 as 500.0000万, a common way to show 元 as 万 in Chinese sheets) or
    a comma after the last digit (`0,,` shows thousands or millions). A loan typed in 元 under such a
    format looks right on screen and is read ×10,000: 50万 in 元 passes every plausibility bound as
    50亿 (issue 15's damaged-delivery pass, 2026-12-07). A literal suffix alone (`0.00"万元"`) shows
    the number held."""
    for section in _format_sections(number_format):
        tokens = _format_tokens(section)
        digits = [k for k, (kind, _) in enumerate(tokens) if kind == "digit"]
        if not digits:
            continue
        if any(kind == "literal" and "." in text for kind, text in tokens[digits[0]:digits[-1]]):
            return True
        after = tokens[digits[-1] + 1:]
        if after and after[0] == ("plain", ","):
            return True
    return False


def _format_sections(number_format: str) -> list[str]:
    """A number format's sections (positive; negative; zero; text), split at `;` outside quotes."""
    sections, current, quoted, escaped = [], "", False, False
    for ch in number_format:
        if escaped:
            escaped = False
        elif ch in "\\!" and not quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            sections.append(current)
            current = ""
            continue
        current += ch
    return [*sections, current]


def _format_tokens(section: str) -> list[tuple[str, str]]:
    """A format section as (kind, text): `digit` (0 # ?), `literal` (quoted, or escaped with \\ or !),
    `bracket` ([Red], [$-804]) and `plain` (any other character)."""
    tokens, k = [], 0
    while k < len(section):
        ch = section[k]
        if ch == '"':
            end = section.find('"', k + 1)
            end = len(section) if end < 0 else end
            tokens.append(("literal", section[k + 1:end]))
            k = end + 1
        elif ch in "\\!" and k + 1 < len(section):
            tokens.append(("literal", section[k + 1]))
            k += 2
        elif ch == "[":
            end = section.find("]", k + 1)
            end = len(section) if end < 0 else end
            tokens.append(("bracket", section[k:end + 1]))
            k = end + 1
        else:
            tokens.append(("digit" if ch in "0#?" else "plain", ch))
            k += 1
    return tokens


def _formulas_without_results(data: bytes, sheet: str, values: list[list[str | None]]) -> dict[tuple[int, int], str]:
    """(row, column) -> why, for formula cells the workbook holds no result for (a program that
    writes formulas without calculating them): read as blank, an optional field would be empty."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        return {(i, j): (f"a formula without a saved result ({c.value}): open the workbook in Excel or "
                         "LibreOffice and save it, so that the result is stored")
                for i, row in enumerate(_all_rows(wb[sheet])) for j, c in enumerate(row)
                if c.data_type == "f" and (i >= len(values) or j >= len(values[i]) or values[i][j] is None)}
    finally:
        wb.close()


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
    if isinstance(value, (float, Decimal)):
        # A double as Excel shows it: 15 significant digits, Excel's own precision (it keeps no more
        # of what is typed). A formula's result such as 3.6500000000000004 is the 3.65 the sheet
        # shows; taken whole it was rejected for "more than 4 decimal places" and an award was lost.
        d = Decimal(format(value, ".15g")) if isinstance(value, float) else value
        return format(d.to_integral_value() if d == d.to_integral_value() else d.normalize(), "f")
    return _clean(str(value))
