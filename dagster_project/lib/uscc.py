"""Unified social credit codes (统一社会信用代码), GB 32100-2015.

Layout of the 18 characters: registration authority (1), organisation type
(1), administrative division (6), organisation code (9, GB 11714 with its own
check digit), check character (1).
"""

from __future__ import annotations

import re
from functools import lru_cache

# GB 32100-2015 table 1: the 31 characters allowed (no I, O, S, V, Z).
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
# Weight of position i is 3**i mod 31 (GB 32100-2015, 5.2).
WEIGHTS = [pow(3, i, 31) for i in range(17)]
# GB 11714-1997 weights for the 8 body characters of an organisation code.
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

_SHAPE = re.compile(r"^[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}$")


def check_character(first17: str) -> str:
    """The 18th character for the first 17."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def org_check_digit(body8: str) -> str:
    """GB 11714 check digit of an organisation code body (8 characters)."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, ORG_WEIGHTS))
    digit = 11 - total % 11
    return {10: "X", 11: "0"}.get(digit, str(digit))


@lru_cache(maxsize=1 << 20)  # the same enterprises recur in every file of every feed
def uscc_problem(code: str | None) -> str | None:
    """Why ``code`` is not a valid USCC, or None when it is."""
    if code is None or code == "":
        return "blank"
    if len(code) != 18:
        return f"length {len(code)}, expected 18"
    if not _SHAPE.match(code):
        return "characters outside GB 32100-2015 charset or non-digit division code"
    if org_check_digit(code[8:16]) != code[16]:
        return f"organisation-code check digit {code[16]!r}, expected {org_check_digit(code[8:16])!r}"
    if check_character(code[:17]) != code[17]:
        return f"check character {code[17]!r}, expected {check_character(code[:17])!r}"
    return None


def is_valid(code: str | None) -> bool:
    return uscc_problem(code) is None


def make_uscc(division: str, org_body8: str, authority: str = "9", org_type: str = "1") -> str:
    """Build a valid code from its parts (used by the sample generator and tests)."""
    first16 = authority + org_type + division + org_body8
    first17 = first16 + org_check_digit(org_body8)
    return first17 + check_character(first17)
