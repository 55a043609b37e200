"""Declarative description of every dataset in docs/contract/FEEDS.md.

A dataset spec says how a delivered file is recognised (feed, dataset, period
kind), decoded (encoding), mapped (Chinese header -> English column) and
checked field by field. The per-feed modules (`stats`, `power`, ...) hold the
specs; `loader` applies them. Nothing here knows about Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum

# What a delivered value must fit so that every later step can hold it (docs/contract/FEEDS.md gives no limits):
# - text: an Excel cell holds 32,767 characters, and the workbooks show names as delivered;
MAX_TEXT_LENGTH = 32_767
# - dates and months: the checks type them as pandas datetime64[ns] (1677-09-21 .. 2262-04-11);
EARLIEST_DATE = date(1678, 1, 1)
LATEST_DATE = date(2261, 12, 31)
# - numbers: dbt stores them as DECIMAL(precision, scale) (`Column.stored`); a value must stay this
#   many digits below the type's limit, so that sums over months and enterprises fit as well.
SUM_HEADROOM_DIGITS = 2
# - codes: a key field must not hold control characters but tab and line ends (a line break in a
#   register's cell is visible), nor Unicode format characters (BOM, zero-width spaces, direction
#   marks): invisible, they make a code that looks right match nothing (an RE2 character class).
INVISIBLE = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\p{Cf}]"
# - codes (Column.code): nor characters that look like ASCII ones and are not — dashes and a minus sign for `-`
#   (Word and input methods type them), full-width forms of ASCII (ＡＢＣ１２３－), the ideographic
#   space: a project code typed with en dashes read as a new project and was paid its whole
#   quarter as increment (+528万 of a `tiny` budget, 2026-12-07). Each with the ASCII character it
#   passes for (the rejected-rows check reads a rejected key as it would read typed in ASCII).
#   Among the dashes: the katakana prolonged sound mark ー (a Japanese input method's dash) and the
#   box-drawing ─, both of which passed as a hyphen in a project code (+1,160万, 2026-12-07).
LOOKALIKE_ASCII = {
    **{dash: "-" for dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"
                             "\u02d7\u2043\u2500\u2501\u2796\u2e3a\u2e3b\u30fc\uff70"},
    **{chr(full): chr(full - 0xFEE0) for full in range(0xFF01, 0xFF5F)},
    "\u3000": " ",
}
LOOKALIKE = "[" + "".join(f"\\x{{{ord(c):04X}}}" for c in LOOKALIKE_ASCII) + "]"  # RE2: LOOKALIKE_ASCII's keys
# - keys: a space that is not the plain one (no-break, thin, narrow, …; the ideographic space is a
#   look-alike above) looks like a space or none and matches no other row: a buyer's name with a
#   no-break space in it made a repeat supply "first" (M08 +20万), a thin space inside a power
#   account sent its week to an account no one holds (2026-12-07). A code holds no space at all.
UNUSUAL_SPACE = r"[\x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}]"
# A number as a provider may write it: ASCII digits, thousands separators in threes, a decimal
# point (no exponent, sign at the end, decimal comma, `inf` or `NaN`). Ingestion and the checks'
# reading of a quarantined row take numbers by this one grammar (number_pattern).
PLAIN_NUMBER = "-?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)"


def number_pattern(whole: bool) -> str:
    """PLAIN_NUMBER for a whole number, or with a decimal part."""
    return PLAIN_NUMBER if whole else PLAIN_NUMBER + r"(\.[0-9]+)?"
# A totals row a clerk adds at the foot of a sheet (合计 in its first or second cell, spaces and a
# colon aside): the sum of the rows above, no record of its own. Rejected as such, it is left out
# of 汇总's red rows, which warn that the rules lost a record (until 2026-12-07 a register's 合计
# row was named there as a rejected enterprise).
TOTALS_LABELS = ("合计", "总计", "小计", "共计", "汇总")  # 汇总: Chinese Excel's label of a table's total row
TOTALS_REASON = "a totals row: the sum of the rows above, not a record of its own; not loaded"
# A `_vN` re-delivery: corrections of one delivery are counted in ones, not in billions.
MAX_VERSION = 99


class Kind(str, Enum):
    """How a field is checked and normalised on ingestion."""

    TEXT = "text"
    USCC = "uscc"  # GB 32100-2015 code incl. check characters
    MONTH = "month"  # YYYYMM
    DATE = "date"  # YYYY-MM-DD
    DECIMAL = "decimal"
    INTEGER = "integer"
    ENUM = "enum"
    COUNTY = "county"  # GB/T 2260 county code under Guangxi
    INDUSTRY = "industry"  # GB/T 4754-2017 class
    COUNTRY = "country"  # ISO 3166-1 alpha-3


class PeriodKind(str, Enum):
    MONTH = "month"  # YYYYMM in the file name: the data month
    DELIVERY_DATE = "delivery_date"  # YYYYMMDD: the delivery date (weekly feeds)
    NONE = "none"  # registers


@dataclass(frozen=True)
class Column:
    header: str  # exactly as in docs/contract/FEEDS.md
    name: str  # raw/staging column name
    kind: Kind = Kind.TEXT
    required: bool = True  # a blank value rejects the row
    values: tuple[str, ...] = ()  # allowed values for Kind.ENUM
    # For Kind.ENUM fields holding a ';'-separated list (project tags).
    list_separator: str | None = None
    # Kind.DECIMAL / Kind.INTEGER: how dbt staging stores the number: `factor` stored units per
    # delivered unit (1000 元 per 千元) and the stored DECIMAL's (precision, scale); an INTEGER is
    # stored as a 32-bit integer, which holds every 9-digit number.
    factor: int = 1
    stored: tuple[int, int] = (18, 2)
    # Kind.DECIMAL: a value of 0 or below rejects the row (a quantity that exists only above 0,
    # where a blank says "none": a 计划总投资 of 0 is not a plan)
    positive: bool = False
    # An identifier typed by hand (a project code, an account or declaration number): a look-alike
    # of an ASCII character in it (LOOKALIKE) rejects the row. Names that are part of a key (a
    # bank, a buyer, a recognised park) are Chinese text, where full-width brackets and dashes are
    # the right characters: not codes.
    code: bool = False

    @property
    def max_abs(self) -> Decimal:
        """Values must be smaller than this in absolute terms (in the delivered unit)."""
        precision, scale = (9, 0) if self.kind is Kind.INTEGER else self.stored
        return Decimal(10) ** (precision - scale - SUM_HEADROOM_DIGITS) / self.factor

    @property
    def max_decimals(self) -> int:
        """Decimal places the stored value keeps, in the delivered unit (5 for 千元 stored in 元 to the fen)."""
        if self.kind is Kind.INTEGER:
            return 0
        return self.stored[1] + len(str(self.factor)) - 1


@dataclass(frozen=True)
class Dataset:
    feed: str
    dataset: str
    period: PeriodKind
    extension: str  # "csv" or "xlsx"
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # supersession key (column names) within the dataset
    encoding: str | None = None  # CSV only: the provider's encoding
    sheet: str | None = None  # xlsx only
    # Days after the end of the data month when a monthly delivery counts as
    # arrived (docs/contract/OUTPUTS.md: stats/tax ~15th, customs ~10th of the next month).
    arrival_day: int | None = None
    description: str = ""
    # A delivery may hold several different rows with one key: two loans of one day from one bank,
    # several 数字化转型典型场景 of one enterprise recognised together (FEEDS.md gives these registers
    # no key). Each is a row in force; a later version's rows with the key replace all of them.
    # Otherwise two different rows with one key in one file are a conflict (loader._shared_keys).
    several_rows_per_key: bool = False

    @property
    def table(self) -> str:
        return f"{self.feed}_{self.dataset}"

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class DeliveredFile:
    """A file name parsed against the naming rule of docs/contract/FEEDS.md."""

    name: str
    dataset: Dataset
    period: str | None
    version: int

    @property
    def base_name(self) -> str:
        stem = f"{self.dataset.feed}_{self.dataset.dataset}"
        return f"{stem}_{self.period}" if self.period else stem

    @property
    def available_on(self) -> date:
        """When this delivery counts as arrived, for the as-of cut."""
        ds = self.dataset
        if ds.period is PeriodKind.DELIVERY_DATE:
            p = self.period
            return date(int(p[:4]), int(p[4:6]), int(p[6:8]))
        if ds.period is PeriodKind.MONTH:
            year, month = int(self.period[:4]), int(self.period[4:6])
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            return date(year, month, ds.arrival_day)
        # Registers are standing lists kept by the department: always present (their rows are cut by
        # their own dates in staging).
        return REGISTERS_AVAILABLE_ON

    def available_from(self, first_seen_as_of: date | None) -> date:
        """When this delivery counts as arrived. A first delivery: by the arrival rule of its name. A
        `_vN` correction arrives on a day its name does not tell: it counts from the as-of date of the
        run that first saw it in the landing dir, and never before the delivery it corrects. A run
        without an as-of date (tests, tools) falls back to the rule."""
        if self.version == 1 or first_seen_as_of is None:
            return self.available_on
        return max(self.available_on, first_seen_as_of)


REGISTERS_AVAILABLE_ON = date(1970, 1, 1)


@dataclass
class FileOutcome:
    """What ingesting one file did (also the manifest row)."""

    file_name: str
    feed: str
    status: str  # loaded | skipped (already loaded) | refused
    message: str = ""
    dataset: str | None = None
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_blank: int = 0
    extra_columns: list[str] = field(default_factory=list)


# Where the dbt staging models decide which row is in force by another key than `Dataset.key`
# (their latest_version() calls): a snapshot's rows compete only within its period, and a
# recognition of a park (no USCC) is identified by its name.
_STAGING_KEYS = {
    "stats_enterprise": ("_dataset_period", "uscc"),
    "stats_projects": ("_dataset_period", "project_code"),
    "registers_recognitions": ("list_category", "level", "coalesce(uscc, name)", "recognition_type", "recognised_on"),
}


def supersession_key(ds: Dataset) -> tuple[str, ...]:
    """SQL expressions over a raw table: rows with equal values are versions of one row."""
    return _STAGING_KEYS.get(ds.table, ds.key)
