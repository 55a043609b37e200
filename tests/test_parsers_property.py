"""Property-based tests of the file readers: whatever a provider writes, we read it back."""

import csv
import io
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dagster_project.lib.ingest import stats, tax
from dagster_project.lib.ingest.readers import (
    _cell_text,
    _split_one_record_per_line,
    _split_with_csv_module,
    read_file,
)

# Text a provider may put in a field: Chinese, ASCII, quotes, commas, spaces, newlines.
field = st.text(alphabet=st.sampled_from(list("企业名称广西南宁有限公司,\"' ab=+@1.\n")), max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(field, min_size=8, max_size=8), min_size=1, max_size=6), st.sampled_from(["\n", "\r\n"]))
def test_csv_round_trip_in_gb18030(rows, newline):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(stats.ENTERPRISE.headers)
    writer.writerows(rows)
    table = read_file(Path("stats_enterprise_202410.csv"), stats.ENTERPRISE, buffer.getvalue().encode("gb18030"))
    expected = [[(v.strip() or None) for v in row] for row in rows if any(v.strip() for v in row)]
    assert table.rows == expected
    lines = table.lines.to_pylist()
    assert len(lines) == len(expected) and lines == sorted(set(lines))
    assert table.headers == list(stats.ENTERPRISE.headers)


# Unquoted text: what the fast (Arrow) splitter accepts. Blank and whitespace-only lines, ragged
# rows, CRLF and Chinese spaces are where it could disagree with Python's csv module.
plain_field = st.text(alphabet=st.sampled_from(list("企业广西 ab1.\u3000\t")), max_size=6)
plain_line = st.one_of(
    st.lists(plain_field, min_size=3, max_size=3).map(",".join),  # a regular row
    st.just(""), st.just("  "), st.just(",,"),  # blank lines of each kind
    st.lists(plain_field, min_size=1, max_size=4).map(",".join),  # possibly ragged
)


@settings(max_examples=150, deadline=None)
@given(st.lists(plain_line, max_size=8), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_fast_splitter_agrees_with_the_csv_module(lines, newline, final_newline):
    text = newline.join(["甲, 乙 ,丙", *lines]) + (newline if final_newline else "")
    slow = _split_with_csv_module(Path("x.csv"), text)
    fast = _split_one_record_per_line(text)
    ragged = any(line and line.count(",") != 2 for line in lines)  # a whitespace-only line is one field
    assert (fast is None) == ragged  # only ragged files need the slow path
    if ragged:
        return
    assert (fast.headers, fast.rows, fast.lines.to_pylist(), fast.blank_rows) == \
        (slow.headers, slow.rows, slow.lines.to_pylist(), slow.blank_rows)


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(tax.VAT.headers)))
def test_header_order_does_not_matter(order):
    text = ",".join(order) + "\n" + ",".join(f"v{i}" for i in range(len(order))) + "\n"
    table = read_file(Path("tax_vat_202410.csv"), tax.VAT, text.encode("gb18030"))
    assert dict(zip(table.headers, table.rows[0])) == {h: f"v{i}" for i, h in enumerate(order)}


@given(st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False))
def test_numbers_from_excel_cells_keep_their_value(value):
    assert Decimal(_cell_text(float(value))) == Decimal(repr(float(value)))
    assert _cell_text(int(value)) == str(int(value))
