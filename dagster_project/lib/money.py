"""Money for display: exact 元 in, 万元 out, rounded once, half up, to 0.01万元.

Every surface (workbook text, CLI, Dagster metadata) shows an amount through `wan_text`, so
56.305万元 reads 56.31 everywhere, as Excel and LibreOffice show the cell holding the exact value.
Python's own formatting of a float or Decimal rounds half to even (or the binary float below it)
and would show 56.30.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

WAN = Decimal(10_000)
HUNDREDTH = Decimal("0.01")


def to_wan(yuan) -> Decimal:
    """元 (exact) -> 万元 rounded half up to 0.01."""
    return (Decimal(str(yuan)) / WAN).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def wan_text(yuan, sign: bool = False) -> str:
    """`563050` -> `56.31`; with `sign`, `+56.31` / `-56.31` / `0.00`."""
    value = to_wan(yuan)
    return f"{value:+,.2f}" if sign and value != 0 else f"{value:,.2f}"
