"""`budget_forecast_<as_of>.xlsx`: the subsidy budget for finance, with live formulas.

Sheets: 汇总 (headline, per measure and scheme base/low/high in 万元 with the change since the
previous run, totals, chart, as-of, data cut-off, notes), 按城市, 按行业 (with charts), 预测区间
(a fan chart per scheme), 预测方法 (the method in plain words and its measured accuracy), one sheet
per subsidy measure (the beneficiaries with their quantities, amount, probability and reason
trace), 参数 (every catalogue parameter; rates and caps of the live schemes are unlocked input
cells with defined names).

Figures. Every row of 汇总, 按城市 and 按行业 shows its own distribution as the engine wrote it: a
scheme's low/base/high from `marts.policy_budget`, a total's (funding, overall, measure, city,
industry group) from `marts.policy_budget_rollup` (reports/data.py). A total's median is not the
sum of its rows' medians.

Live formulas. For a scheme in `schemes.LIVE` every row of a measure sheet eligible in the
beneficiary's median scenario holds `=ROUND(MIN(<rate> × basis, IF(<cap>="", 9.99E+307, <cap>)), 2)
/ 10000` (万元), the rate and cap being the defined names of the 参数 cells, converted from the unit
shown (`% ÷ 100`, `万元 × 10000`); beside it the engine's amount (static) and the row's adjustment
`=ROUND((amount − engine amount) × 10000, 2) / 10000` (0 at the engine's rates, exactly). Every
aggregate row's base is `= engine median + adjustment`, the adjustment being the SUMIFS of the
adjustments of the rows it covers that are counted in the base (基准计入预算 = 是): at the engine's
rates base = the engine's median to the last bit; after an edit it moves by the change of the
listed beneficiaries' amounts. Cached results are the engine's values.
Static: low/high (flagged stale after an edit), fixed-amount schemes, M23's per-loan interest,
which scheme an M15 project claims, eligibility itself (thresholds are not live).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from xlsxwriter.utility import xl_col_to_name

from dagster_project.lib.measures.catalogue import UNIT_FACTORS, Catalogue, Measure, Scheme
from dagster_project.lib.measures.engine import UNASSIGNED_CITY
from dagster_project.lib.measures.parameters import Parameters
from dagster_project.lib.measures.rules import LiveFormula, bind_name
from dagster_project.lib.measures.schemes import LIVE
from dagster_project.lib.money import wan_text

from . import data, forecast_sheets
from .safe_write import as_of_dir, atomic_path
from .styles import (
    AWARD_MONEY, COUNT, FONT, HEADER_FILL, INPUT_FILL, MONEY, NOTE_PT, OVERRIDE_FILL, SHARE, SIGNED_MONEY,
    TABLE_STYLE, Styles,
    abs_range, add_sheet, cell, fit_height, lines_needed, new_workbook, print_setup, project_version, put,
    put_formula, room_at, sheet_name, spanned_headers, text_width, wan,
)
from .wording import plain

SUMMARY = "汇总"
BY_CITY = "按城市"
BY_GROUP = "按行业"
PARAMETERS = "参数"
NOT_IN_DIRECTORY = "（未在企业名录中）"  # a project owner or beneficiary whose USCC the directory does not list
FUNDING = {"grant": "无偿补助", "revolving_fund": "周转资金"}
YES, NO = "是", "否"
NO_CAP = "9.99E+307"
# 汇总, the table by scheme: the printed columns, then the engine's median and the adjustment the base adds up
C_AWARDS, C_BASE, C_LOW, C_HIGH, C_CHANGE, C_HOW, C_ENGINE, C_ADJUST = 5, 6, 7, 8, 9, 10, 11, 12
SUMMARY_WIDTHS = (5, 20, 15, 20, 8, 7, 10.5, 10.5, 10.5, 9, 8, 12, 12)
SUMMARY_PRINTED = C_HOW  # the last printed column
HEADLINE_ROW = 3  # 汇总: the headline block's first row, under the title
HEADLINE_ROWS = 7
SIGNOFF_ROWS = 4  # 审核签字: its title and three lines
PARAMETER_WIDTHS = (27, 26, 8, 7, 46, 6, 24, 14, 24, 8)  # 参数编号 holds the longest ids whole (finance types them into --params)
PARAMETERS_PRINTED = 6  # 参数编号 … 工作假设; the columns to their right are for Excel users
STALE_ROW = 6  # a measure sheet's row holding the stale flag; its table header is the row below
ENGINE_HEADER = "引擎中位数（万元）"
# a measure sheet's headers that tests and readers look for
AMOUNT_HEADER = "基准金额\n（万元）"
P_ELIGIBLE_HEADER = "符合条件\n概率"
EXPECTED_HEADER = "期望金额\n（万元）"
ADJUST_HEADER = "表内调整（万元）"
COMPONENT_LABELS = {"reported": "已知对象（登记在册）", "forecast_new": "预计季末前新增"}


def budget_path(reports_dir: Path, as_of: date, city_code: str | None = None) -> Path:
    folder = as_of_dir(reports_dir, as_of)
    if city_code:
        return folder / "cities" / f"budget_forecast_{as_of.isoformat()}_{city_code}.xlsx"
    return folder / f"budget_forecast_{as_of.isoformat()}.xlsx"


def defined_name(pid: str) -> str:
    """The workbook name of a parameter cell: `M02.rate` -> `M02_rate`."""
    return bind_name(pid)


# ----------------------------------------------------------------------------- data


@dataclass
class Row:
    """One (scheme, beneficiary) eligible in one of its representative scenarios or in some draw."""

    scheme_id: str
    measure_id: str
    uscc: str
    project_code: str | None
    enterprise_name: str | None
    project_name: str | None
    construction_type: str | None
    planned_investment: Decimal | None
    city_code: str
    city: str
    group: str
    base_eligible: bool
    base_chosen: bool
    base_amount: Decimal
    low_counted: Decimal
    high_counted: Decimal
    basis: Decimal | None
    q4b_output: Decimal | None
    q4_output_reported: Decimal | None
    months_reported: int | None
    reason: str | None
    p_eligible: float
    expected: Decimal


def _rows(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, as_of: date, city_code: str | None) -> list[Row]:
    """The beneficiaries of every scheme: eligible in their median, P10 or P90 scenario
    (marts.policy_awards) or in any draw (marts.policy_award_forecast, p_eligible > 0)."""
    q4_start = catalogue.document.policy_quarter.start
    result = con.execute(
        """
        with a as (
            select * from marts.policy_awards
            where as_of = $as_of and ($city::varchar is null or city_code = $city::varchar)
        ),
        f as (select * from marts.policy_award_forecast where as_of = $as_of and p_eligible > 0),
        per_key as (
            select scheme_id, any_value(measure_id) as measure_id, uscc, project_code,
                   any_value(city_code) as city_code, any_value(industry_group) as industry_group,
                   bool_or(eligible) as eligible_somewhere,
                   coalesce(bool_or(eligible) filter (where scenario = 'base'), false) as base_eligible,
                   coalesce(bool_or(chosen) filter (where scenario = 'base'), false) as base_chosen,
                   coalesce(sum(amount_yuan) filter (where scenario = 'base'), 0) as base_amount,
                   coalesce(sum(amount_yuan) filter (where scenario = 'low' and chosen), 0) as low_counted,
                   coalesce(sum(amount_yuan) filter (where scenario = 'high' and chosen), 0) as high_counted,
                   any_value(reason) filter (where scenario = 'base') as reason
            from a group by scheme_id, uscc, project_code
        ),
        listed as (
            select k.*, coalesce(f.p_eligible, 0) as p_eligible, coalesce(f.expected_amount_yuan, 0) as expected
            from per_key k
            left join f on f.scheme_id = k.scheme_id and f.uscc = k.uscc
                       and f.project_code is not distinct from k.project_code
            where k.eligible_somewhere or f.scheme_id is not null
        ),
        regions as (select city_code, any_value(city_name) as city_name from marts.dim_region group by city_code)
        select k.scheme_id, k.measure_id, k.uscc, k.project_code, e.enterprise_name, p.project_name,
               p.construction_type, p.planned_investment_yuan, k.city_code, coalesce(r.city_name, k.city_code),
               coalesce(k.industry_group, $other), k.base_eligible, k.base_chosen, k.base_amount,
               k.low_counted, k.high_counted, b.basis, q.base_output_yuan, q.output_yuan, q.months_reported, k.reason,
               k.p_eligible, k.expected
        from listed k
        left join marts.policy_award_basis b
               on b.scenario = 'base' and b.scheme_id = k.scheme_id and b.uscc = k.uscc
              and b.project_code is not distinct from k.project_code
        left join marts.dim_enterprise e on e.uscc = k.uscc
        left join marts.dim_project p on p.project_code = k.project_code
        left join regions r on r.city_code = k.city_code
        left join marts.fct_enterprise_quarter q on q.uscc = k.uscc and q.quarter_start = $q4_start
        """,
        {"as_of": as_of, "city": city_code, "other": data.OTHER_GROUP, "q4_start": q4_start},
    ).fetchall()
    rows = [Row(*r) for r in result]
    order = {sid: i for i, sid in enumerate(catalogue.schemes)}
    # per scheme: the rows counted in the base by amount, then the others by how much they may still get
    rows.sort(key=lambda r: (order[r.scheme_id], not r.base_chosen, -r.base_amount if r.base_chosen else 0,
                             -r.expected, -r.p_eligible, -r.base_amount, r.uscc, r.project_code or ""))
    return rows


def _row_sums(rows: list[Row], key) -> dict[str, data.Figure]:
    """Figures as sums over listed rows, each beneficiary in its own median/P10/P90 scenario (a
    prefecture's pack: the engine has no per-scheme distribution within one prefecture)."""
    sums: dict[str, list] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), 0, set()])
    for row in rows:
        s = sums[key(row)]
        if row.base_chosen:
            s[0] += row.base_amount
            s[3] += 1
            s[4].add(row.project_code or row.uscc)
        s[1] += row.low_counted
        s[2] += row.high_counted
    return {k: data.Figure(b, lo, hi, n, len(who)) for k, (b, lo, hi, n, who) in sums.items()}


def _figures(con: duckdb.DuckDBPyConnection, as_of: date, rows: list[Row], schemes: dict[str, Scheme],
             city_code: str | None) -> dict[tuple[str, str], data.Figure]:
    """(level, key) -> the figures every aggregate row shows; a prefecture's pack: its own total from
    the roll-up (level city), the rest as sums over its listed beneficiaries."""
    engine = data.budget_figures(con, as_of)
    if city_code is None:
        return engine
    out = {("total", data.TOTAL): engine.get(("city", city_code), data.ZERO)}
    for level, key in (("scheme", lambda r: r.scheme_id), ("measure", lambda r: r.measure_id),
                       ("funding", lambda r: schemes[r.scheme_id].funding), ("industry_group", lambda r: r.group)):
        out.update({(level, k): f for k, f in _row_sums(rows, key).items()})
    return out


# ----------------------------------------------------------------------------- measure sheets


@dataclass
class MeasureSheet:
    """Where a measure's table landed: what the summary formulas refer to."""

    measure: Measure
    name: str
    first: int | None  # first data row (0-based), None when no rows
    last: int | None
    col: dict[str, int]

    def range(self, key: str) -> str:
        return abs_range(self.name, self.first, self.col[key], self.last)


def _to_engine_unit(pid: str, params: Parameters) -> str:
    """What turns a parameter cell, held in the unit shown, into 元 / a fraction: `/100`, `*10000` or nothing."""
    factor = UNIT_FACTORS[params.get(pid).parameter.unit]
    if factor is None or factor == 1:
        return ""
    if factor < 1:
        return f"/{int(1 / factor)}"
    return f"*{int(factor)}"


def amount_formula(live: LiveFormula, params: Parameters, basis_ref: str) -> str:
    """`=ROUND(MIN(rate × basis, cap), 2) / 10000` in 万元; a blank cap cell means no cap.

    The rate is multiplied by the basis before the unit is converted (`M02_rate*L7/100`), so that the
    double arithmetic lands on the same cent as the engine's exact decimals."""
    rate = f"{defined_name(live.rate)}*{basis_ref}{_to_engine_unit(live.rate, params)}"
    if live.cap is None:
        return f"=ROUND({rate},2)/10000"
    cap = defined_name(live.cap)
    return f'=ROUND(MIN({rate},IF({cap}="",{NO_CAP},{cap}{_to_engine_unit(live.cap, params)})),2)/10000'


def adjustment_formula(amount_ref: str, engine_ref: str) -> str:
    """The row's amount at the sheet's rates less the engine's, in 万元, rounded to the 元 cent so that
    it is exactly 0 at the engine's rates (the two doubles may differ in their last bit)."""
    return f"=ROUND(({amount_ref}-{engine_ref})*10000,2)/10000"


def _live_note(measure: Measure, params: Parameters) -> str:
    parts = []
    for scheme in measure.schemes:
        live = LIVE.get(scheme.id)
        if live is None:
            continue
        product = f"{defined_name(live.rate)}（{params.get(live.rate).parameter.unit}）× {live.basis_label}"
        if live.cap:
            cap = f"{defined_name(live.cap)}（{params.get(live.cap).parameter.unit}，空白为无上限）"
            parts.append(f"{scheme.id}：ROUND(MIN({product}，{cap}), 2)")
        else:
            parts.append(f"{scheme.id}：ROUND({product}, 2)")
    statics = [s.id for s in measure.schemes if s.id not in LIVE]
    note = ""
    if parts:
        note = "基准金额为公式（随「参数」表黄色单元格重算）：" + "；".join(parts) + "。"
    if statics:
        note += f"{'、'.join(statics)} 为测算引擎的固定值。"
    return note + "低/高情景为引擎固定值；基准计入预算 = 否 的行不计入合计。"


def _budget_line(measure: Measure, figures: dict[tuple[str, str], data.Figure],
                 components: dict[str, dict[str, data.Component]] | None, labels: tuple[str, str],
                 quarter_closed: bool) -> str:
    """What the measure's schemes add up to (their own distributions), and for schemes with
    beneficiaries still to come, the part already known apart from the part expected by quarter end."""
    low, high = labels
    parts = []
    for scheme in measure.schemes:
        f = figures.get(("scheme", scheme.id), data.ZERO)
        text = (f"{scheme.id} 基准 {wan_text(f.base)} 万元" if quarter_closed else
                f"{scheme.id} 中位数 {wan_text(f.base)} 万元（{low}–{high} {wan_text(f.low)}–{wan_text(f.high)}）")
        split = (components or {}).get(scheme.id, {})
        new = split.get("forecast_new")
        if new is not None and new.high > 0:
            known = split.get("reported", data.Component(Decimal(0), Decimal(0), Decimal(0), 0))
            text += (f"，其中{COMPONENT_LABELS['reported']} {wan_text(known.base)} 万元（{known.beneficiaries} 笔），"
                     f"{COMPONENT_LABELS['forecast_new']} {wan_text(new.base)} 万元（{low}–{high} "
                     f"{wan_text(new.low)}–{wan_text(new.high)}，约 {new.beneficiaries} 笔，尚未登记或报送，不在下表）")
        parts.append(text)
    return "本措施预算（各方案自身分布，见「汇总」）：" + "；".join(parts) + "。"


def _basis_unit(measure: Measure) -> str | None:
    """The unit of the measure's calculation basis (`四季度产值增量（元）` -> 元), None when mixed or none."""
    units = {LIVE[s.id].basis_label.rsplit("（", 1)[-1].rstrip("）") for s in measure.schemes if s.id in LIVE}
    return units.pop() if len(units) == 1 else None


_EXACT_YUAN = re.compile(r"（[\d,]+\.\d\d元）$")


def _calculation(reason: str | None) -> str | None:
    """What prints of the engine's trace `conditions → calculation`: the calculation, without the
    exact 元 the amount column already shows (the whole trace stays in the 测算依据 column), but
    for an amount that reads 0.00万元: there the 元 say what the column's "<0.01" is."""
    if not reason or " → " not in reason:
        return reason
    calculation = reason.rsplit(" → ", 1)[1]
    under_a_cent = "= 0.00万元（" in calculation and not calculation.endswith("（0.00元）")
    return calculation if under_a_cent else _EXACT_YUAN.sub("", calculation)


def stale_flag_formula(params: Parameters) -> str:
    """A cell that stays empty while every live parameter cell holds the value the engine used, and
    says that low/high are stale once one is edited (base recalculates, low/high do not)."""
    live_ids = sorted({pid for live in LIVE.values() for pid in (live.rate, live.cap) if pid})
    tests = []
    for pid in live_ids:
        value = params.get(pid).value
        name = defined_name(pid)
        tests.append(f'{name}<>""' if value is None else f'{name}<>{Decimal(str(value)):f}')
    return f'=IF(OR({",".join(tests)}),"{STALE_TEXT}","")'


STALE_TEXT = ("注意：「参数」表中的费率或上限已在表内修改。基准金额已按新参数重算（引擎中位数 + 所列对象金额的变化）；"
              "低情景、高情景仍是修改前测算引擎的结果，未随之变化，需用参数覆盖文件重新测算（gxindustry refresh --params）"
              "后才一致。")


@dataclass
class SheetContext:
    """What every measure sheet needs besides its rows."""

    params: Parameters
    parameter_names: dict[str, str]
    figures: dict[tuple[str, str], data.Figure]
    components: dict[str, dict[str, data.Component]] | None
    labels: tuple[str, str]  # ("P10", "P90")
    quarter_closed: bool
    used_names: set[str] = field(default_factory=set)


def _unambiguous_names(rows: list[Row]) -> dict[tuple[str, str], str]:
    """The printed name of each project and enterprise whose name another one of the sheet shares,
    with its code after it: the printed columns hold names, the codes are to their right, and two
    projects named 防城港同创铜业智能化技术改造项目 printed with different amounts could not be told
    apart (2026-12-07). Other names print as they are."""
    codes: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        if row.project_code and row.project_name:
            codes.setdefault(("project", row.project_name), set()).add(row.project_code)
        if row.uscc and row.enterprise_name:
            codes.setdefault(("enterprise", row.enterprise_name), set()).add(row.uscc)
    return {(kind, code): f"{name}（{code}）" for (kind, name), shared in codes.items() if len(shared) > 1
            for code in shared}


def _write_measure_sheet(wb, st: Styles, measure: Measure, rows: list[Row], ctx: SheetContext) -> MeasureSheet:
    name = sheet_name(f"{measure.id} {measure.title}")
    while name in ctx.used_names:
        name = sheet_name(name[:28] + f"_{len(ctx.used_names)}")
    ctx.used_names.add(name)
    ws = add_sheet(wb, name)
    params = ctx.params
    schemes = {s.id: s for s in measure.schemes}
    per_project = any(s.beneficiary == "project" for s in measure.schemes)
    unit = _basis_unit(measure)

    # (key, header, number format, width); the printed columns come first, the others to their right.
    # 方案编号 as wide as the measure's longest scheme id (M02.small_to_large was cut at 13), the
    # calculation narrower by as much: the page keeps its width and its type size.
    scheme_width = max(13.0, max(text_width(s.id) for s in measure.schemes) + 1.5)
    columns: list[tuple[str, str, str | None, float]] = [("scheme", "方案编号", None, scheme_width)]
    if per_project:
        columns += [("project_name", "项目名称", None, 16), ("enterprise", "企业名称", None, 14)]
    else:
        columns += [("enterprise", "企业名称", None, 21)]
    columns += [("city", "城市", None, 7), ("basis", f"计算基数（{unit}）" if unit else "计算基数", COUNT, 14),
                ("amount", AMOUNT_HEADER, AWARD_MONEY, 9), ("p_eligible", P_ELIGIBLE_HEADER, SHARE, 7),
                ("expected", EXPECTED_HEADER, AWARD_MONEY, 9), ("chosen", "计入基准预算", None, 6),
                ("calculation", "计算式（基准情景）", None, (30 if per_project else 36) - (scheme_width - 13))]
    printed = len(columns)
    columns += [("low", "低情景计入（万元）", AWARD_MONEY, 10), ("high", "高情景计入（万元）", AWARD_MONEY, 10),
                ("engine", "引擎基准金额（万元）", AWARD_MONEY, 11), ("adjust", ADJUST_HEADER, MONEY, 10),
                ("scheme_title", "方案名称", None, 16)]
    if per_project:
        columns += [("project_code", "项目代码", None, 14)]
    columns += [("uscc", "统一社会信用代码", None, 21), ("group", "行业组", None, 11), ("funding", "资金性质", None, 9)]
    if per_project:
        columns += [("construction", "建设性质", None, 9), ("planned", "计划总投资（万元）", MONEY, 12)]
    else:
        columns += [("q4b", "上年四季度产值（万元）", MONEY, 13), ("q4", "四季度已报产值（万元）", MONEY, 13),
                    ("months", "已报月数", COUNT, 8)]
    columns += [("basis_label", "计算基数口径", None, 20), ("eligible", "基准符合条件", None, 9),
                ("reason", "测算依据（基准情景；引擎测算时的参数）", None, 72)]
    col = {key: i for i, (key, *_) in enumerate(columns)}
    headers = [h for _, h, *_ in columns]
    widths = {key: w for key, _, _, w in columns}
    wrapped = ("project_name", "enterprise", "calculation")  # the printed texts; the others stay on one line

    # title block: spans the printed columns
    last_col = len(columns) - 1
    last_printed = printed - 1
    page_width = sum(w for _, _, _, w in columns[:printed])
    ws.merge_range(0, 0, 0, last_printed, f"{measure.id} {measure.title}", st.title)
    low, high = ctx.labels
    notes = ["政策原文：" + "；".join(measure.clauses),
             "测算口径：" + (plain(measure.note, ctx.parameter_names) or "—"),
             _live_note(measure, params),
             _budget_line(measure, ctx.figures, ctx.components, ctx.labels, ctx.quarter_closed)]
    for r, text in enumerate(notes, 1):
        ws.merge_range(r, 0, r, last_printed, text, st.note)
        fit_height(ws, r, [(text, page_width)], line_height=12)
    if ctx.quarter_closed:
        layout = ("金额单位：万元（“<0.01”为不足 50 元的正数金额）；计算基数的单位见其列标题。绿色底纹的基准金额为公式。"
                  "先列计入基准预算的对象（打印范围），其后为未计入基准的对象。四季度已结束：每行为实际结果，符合条件概率为 100% 或 0。")
    else:
        layout = ("每行为该对象在其自身中位情景下的评估（金额、是否计入、计算式）；符合条件概率 = 全部模拟中该对象"
                  "符合条件的比例，期望金额 = 各次模拟计入金额的平均值（不符合条件计 0）。各行之和不等于方案合计："
                  f"方案合计取方案自身分布的中位数（见「汇总」）。先列计入基准预算的对象（打印范围，按金额），其后为"
                  f"仅在部分模拟中符合条件的对象（按期望金额）。低、高情景列为该对象在其 {low}、{high} 情景下计入的金额。"
                  "金额单位：万元（“<0.01”为不足 50 元的正数金额）；绿色底纹的基准金额为公式。")
    ws.merge_range(5, 0, 5, last_printed, layout,
                   st.get(font_size=9, bold=True, font_color="#1F4E78", text_wrap=True, valign="top"))
    fit_height(ws, 5, [(layout, page_width)], line_height=12)
    ws.merge_range(STALE_ROW, 0, STALE_ROW, last_printed, "", st.stale)
    put_formula(ws, STALE_ROW, 0, stale_flag_formula(params), "", st.stale)
    header_row = STALE_ROW + 1

    rows = sorted(rows, key=lambda r: not r.base_chosen)  # stable: the engine's order within each part
    shown_names = _unambiguous_names(rows)
    out_rows = []
    for row in rows:
        scheme = schemes[row.scheme_id]
        live = LIVE.get(row.scheme_id)
        reason = plain(row.reason)
        values = {
            "scheme": row.scheme_id, "scheme_title": scheme.title,
            "project_name": shown_names.get(("project", row.project_code), row.project_name),
            "project_code": row.project_code,
            "enterprise": shown_names.get(("enterprise", row.uscc), row.enterprise_name or NOT_IN_DIRECTORY),
            "uscc": row.uscc,
            "city": row.city, "group": row.group, "funding": FUNDING[scheme.funding],
            "construction": row.construction_type, "planned": wan(row.planned_investment),
            "q4b": wan(row.q4b_output), "q4": wan(row.q4_output_reported), "months": row.months_reported,
            "basis": None if row.basis is None else float(row.basis),
            "basis_label": live.basis_label if live else ("逐笔贴息（固定值）" if row.scheme_id == "M23" else "固定金额"),
            "eligible": YES if row.base_eligible else NO, "chosen": YES if row.base_chosen else NO,
            "amount": wan(row.base_amount), "low": wan(row.low_counted), "high": wan(row.high_counted),
            "p_eligible": row.p_eligible, "expected": wan(row.expected), "engine": None, "adjust": None,
            "calculation": _calculation(reason), "reason": reason,
        }
        out_rows.append((row, live, [values[key] for key, *_ in columns]))

    if not out_rows:
        for i, h in enumerate(headers):
            ws.write_string(header_row, i, h, st.header)
        ws.set_row(header_row, 30)
        ws.merge_range(header_row + 1, 0, header_row + 1, last_printed, "截至测算基准日，无符合条件的对象。", st.note)
        for key, c in col.items():
            ws.set_column(c, c, widths[key])
        ws.freeze_panes(header_row + 1, 0)
        print_setup(ws, repeat_rows=(header_row, header_row), columns=(0, last_printed),
                    widths=[w for *_, w in columns])
        return MeasureSheet(measure, name, None, None, col)

    first, last = header_row + 1, header_row + len(out_rows)
    formats = {key: st.get(num_format=fmt, valign="top") if fmt else st.get(valign="top") for key, _, fmt, _ in columns}
    for key in wrapped:
        formats[key] = st.get(text_wrap=True, valign="top")
    live_fmt = st.get(num_format=AWARD_MONEY, bg_color="#EAF1DD", valign="top")
    basis_cents = st.get(num_format=MONEY, valign="top")
    for i, (row, live, values) in enumerate(out_rows):
        r = first + i
        for c, value in enumerate(values):
            put(ws, r, c, value, formats[columns[c][0]])
        if row.basis is not None and row.basis != row.basis.to_integral_value():  # 元 with cents
            put(ws, r, col["basis"], row.basis, basis_cents)
        # the calculation is mostly digits, which print narrower than text_width() assumes
        fit_height(ws, r, [(values[col[k]], widths[k] * (1.2 if k == "calculation" else 1)) for k in wrapped
                           if k in col], line_height=13)
        if live is not None and row.base_eligible and row.basis is not None:
            amount = cell(r, col["amount"])
            put_formula(ws, r, col["amount"], amount_formula(live, params, cell(r, col["basis"])),
                        wan(row.base_amount), live_fmt)
            put(ws, r, col["engine"], wan(row.base_amount), formats["engine"])
            put_formula(ws, r, col["adjust"], adjustment_formula(amount, cell(r, col["engine"])), 0,
                        formats["adjust"])
    ws.add_table(header_row, 0, last, last_col, {
        "name": f"T_{measure.id}", "style": TABLE_STYLE, "autofilter": True,
        "columns": [{"header": h} for h in headers],
    })
    ws.set_row(header_row, 30)
    # header cells written after add_table keep the table's names and get our style
    for i, h in enumerate(headers):
        ws.write_string(header_row, i, h, st.header)
    for key, c in col.items():
        ws.set_column(c, c, widths[key])
    ws.freeze_panes(header_row + 1, col["enterprise"] + 1 if not per_project else col["project_name"] + 1)
    counted = sum(r.base_chosen for r, _, _ in out_rows)
    print_setup(ws, repeat_rows=(header_row, header_row), columns=(0, last_printed),
                widths=[w for *_, w in columns])
    ws.print_area(0, 0, header_row + max(counted, 1), last_printed)
    return MeasureSheet(measure, name, first, last, col)


# ----------------------------------------------------------------------------- parameters sheet


def _write_parameters(wb, st: Styles, catalogue: Catalogue, params: Parameters,
                      parameter_names: dict[str, str]) -> None:
    ws = add_sheet(wb, PARAMETERS)
    live_ids = {pid for live in LIVE.values() for pid in (live.rate, live.cap) if pid}
    headers = ["参数编号", "说明", "取值", "单位", "依据（政策原文或假设说明）", "工作假设", "措施", "取值来源",
               "定义名称", "表内联动"]
    value_col = headers.index("取值")
    ws.merge_range(0, 0, 0, PARAMETERS_PRINTED - 1, "参数（测算口径）", st.title)
    notes = [
        "填写约定：取值一律按“单位”列填写——% 填百分数（1 表示 1%），万元 填万元数，元/千瓦时 填元；公式内自动换算"
        "（% ÷ 100，万元 × 10000）。上限留空表示无上限。",
        "黄色单元格（表内联动 = 是）可直接修改：各措施表的基准金额及 汇总、按城市、按行业 的基准合计随之重算。"
        "橙色表示该取值来自参数覆盖文件。",
        "其他参数（门槛、时间窗口、预测设置等）决定是否符合条件或模拟方式，表内修改不生效，需以 "
        "`gxindustry refresh --params 文件` 重新测算。本表已保护（无密码），仅输入单元格可编辑。",
    ]
    printed_width = sum(PARAMETER_WIDTHS[:PARAMETERS_PRINTED])
    for i, text in enumerate(notes):
        ws.merge_range(1 + i, 0, 1 + i, PARAMETERS_PRINTED - 1, text, st.note)
        fit_height(ws, 1 + i, [(text, printed_width)], line_height=12)
    ws.merge_range(4, 0, 4, PARAMETERS_PRINTED - 1, "", st.stale)
    put_formula(ws, 4, 0, stale_flag_formula(params), "", st.stale)
    header_row = 5
    input_fmt = st.get(bg_color=INPUT_FILL, border=1, border_color="#BF9000", locked=False, bold=True, valign="top")
    override_fmt = st.get(bg_color=OVERRIDE_FILL, border=1, border_color="#C55A11", locked=False, bold=True,
                          valign="top")
    override_locked = st.get(bg_color=OVERRIDE_FILL, valign="top")
    override_text = st.get(bg_color=OVERRIDE_FILL, valign="top", text_wrap=True)
    date_fmt = st.get(num_format="yyyy-mm-dd", valign="top")
    top = st.get(valign="top")
    wrap = st.get(valign="top", text_wrap=True)
    small = st.get(valign="top", text_wrap=True, font_size=9)
    rows = []
    owners = {m.id: f"{m.id} {m.title}" for m in catalogue.measures}
    owners["forecast"] = catalogue.forecast.title
    for i, entry in enumerate(params):
        p = entry.parameter
        r = header_row + 1 + i
        overridden = entry.origin.startswith("override")
        live = p.id in live_ids
        if live:
            fmt = override_fmt if overridden else input_fmt
        elif p.type == "category":  # a text (工业流动资金贷, 数字化转型典型场景) wraps, never cut off
            fmt = override_text if overridden else wrap
        else:
            fmt = override_locked if overridden else (date_fmt if p.type == "date" else top)
        origin = "覆盖文件：" + entry.origin.split(":", 1)[1].strip() if overridden else "目录默认值"
        values = [p.id, p.description, entry.text if p.type == "category" else entry.value, p.unit, plain(p.source or p.assumption_note, parameter_names),
                  YES if p.assumption else NO, owners[p.id.split(".")[0]], origin, defined_name(p.id),
                  YES if live else NO]
        for c, value in enumerate(values):
            put(ws, r, c, value, fmt if c == value_col else (small if c == 4 else (wrap if c in (1, 6) else top)))
        fit_height(ws, r, [(values[1], PARAMETER_WIDTHS[1]), (values[4], PARAMETER_WIDTHS[4] * 1.1),
                           (values[6], PARAMETER_WIDTHS[6])]
                   + ([(values[2], PARAMETER_WIDTHS[2])] if p.type == "category" else []))
        wb.define_name(defined_name(p.id), f"={PARAMETERS}!${xl_col_to_name(value_col)}${r + 1}")
        if live:
            is_pct = p.unit in ("%", "百分点")
            ws.data_validation(r, value_col, r, value_col, {
                "validate": "decimal", "criteria": "between", "minimum": 0,
                "maximum": 100 if is_pct else 1e12, "ignore_blank": True,
                "input_title": p.id, "input_message": (f"单位：{p.unit}" + ("（1 表示 1%）" if is_pct else "")
                                                       + ("；留空表示无上限" if p.nullable else ""))[:255],
                "error_title": "取值无效", "error_message": f"请填写不小于 0 的数值（单位：{p.unit}）",
            })
        rows.append(values)
    last = header_row + len(rows)
    ws.add_table(header_row, 0, last, len(headers) - 1, {
        "name": "T_parameters", "style": TABLE_STYLE, "columns": [{"header": h} for h in headers]})
    for i, h in enumerate(headers):
        ws.write_string(header_row, i, h, st.header)
    ws.set_row(header_row, 22)
    for c, width in enumerate(PARAMETER_WIDTHS):
        ws.set_column(c, c, width)
    ws.freeze_panes(header_row + 1, 1)
    ws.protect("", {"autofilter": True, "sort": False, "format_columns": True, "format_rows": True})
    print_setup(ws, repeat_rows=(header_row, header_row), columns=(0, PARAMETERS_PRINTED - 1),
                widths=list(PARAMETER_WIDTHS))


# ----------------------------------------------------------------------------- summary sheets


def _sumifs(sheets: list[MeasureSheet], criteria: list[tuple[str, str]]) -> str:
    """Σ over every measure table of the rows' adjustments counted in the base, with extra criteria."""
    terms = []
    for s in sheets:
        if s.first is None:
            continue
        args = [s.range("adjust"), s.range("chosen"), f'"{YES}"']
        for key, value in criteria:
            args += [s.range(key), value]
        terms.append(f"SUMIFS({','.join(args)})")
    return "=" + ("+".join(terms) if terms else "0")


def _live_base(ws, r: int, base_col: int, engine_col: int, adjust_col: int, figure: data.Figure,
               adjustment: str | None, base_fmt, side_fmt) -> None:
    """An aggregate row's base: `= engine median + adjustment`, the engine's median beside it (static)
    and the adjustment formula (or 0 where no listed row is live)."""
    put(ws, r, engine_col, wan(figure.base), side_fmt)
    if adjustment is None:
        put(ws, r, adjust_col, 0, side_fmt)
    else:
        put_formula(ws, r, adjust_col, adjustment, 0, side_fmt)
    put_formula(ws, r, base_col, f"={cell(r, engine_col)}+{cell(r, adjust_col)}", wan(figure.base), base_fmt)


def _write_info(ws, st: Styles, width: int, title: str, as_of: date, params: Parameters,
                cutoffs: list[data.FeedCutoff], notes: list[str], phase: str | None,
                gaps: list[tuple[str, str]]) -> tuple[int, int | None]:
    """The title, the run's line and the data's cut-off; `phase`: None once the quarter is reported;
    `gaps`: (label, text) of each red row naming months the rules read with nothing delivered.
    Returns the next free row and, where red rows take the notes' room on page 1, the notes' first
    row (they then begin page 2, whole, rather than run over into it)."""
    overrides = [p for p in params if p.origin.startswith("override")]
    params_text = "目录默认值" if not overrides else \
        f"含覆盖文件 {overrides[0].origin.split(':', 1)[1].strip()} 的 {len(overrides)} 项取值"
    ws.merge_range(0, 0, 0, width, title, st.title)
    ws.set_row(0, 24)
    ws.merge_range(1, 0, 1, width, (
        f"测算基准日 {as_of}（{'四季度已结束，实际数' if phase is None else phase + '，预测数'}）｜参数集 "
        f"{params.fingerprint()}（{params_text}）｜gxindustry {project_version()}｜生成于 "
        f"{datetime.now():%Y-%m-%d %H:%M}｜单位：万元"), st.subtitle)
    r = HEADLINE_ROW + HEADLINE_ROWS + 1
    ws.merge_range(r, 0, r, width, "数据截止（截至测算基准日已到达的数据）", st.section)
    for c in cutoffs:
        r += 1
        ws.merge_range(r, 0, r, 2, c.label, st.label)
        ws.merge_range(r, 3, r, width, c.text, st.info)
        # a register's line names each register's latest date: it wraps on a narrow page
        fit_height(ws, r, [(c.text, sum(SUMMARY_WIDTHS[3:width + 1]))], line_height=12.5)
    for label, text in gaps:  # the rules took those months as 0: finance must not take the amounts as they are
        r += 1
        ws.merge_range(r, 0, r, 2, label, st.get(bold=True, font_color="#C00000", border=1,
                                                 border_color="#BFBFBF", valign="vcenter"))
        ws.merge_range(r, 3, r, width, text, st.get(font_color="#C00000", text_wrap=True, valign="vcenter", border=1,
                                                    border_color="#BFBFBF"))
        fit_height(ws, r, [(text, sum(SUMMARY_WIDTHS[3:width + 1]))], line_height=12.5)
    r += 2
    notes_row = r if gaps else None
    ws.merge_range(r, 0, r, width, "情景与口径说明", st.section)
    printed_width = sum(SUMMARY_WIDTHS[:width + 1])
    for i, text in enumerate(notes, 1):
        r += 1
        ws.merge_range(r, 0, r, width, f"{i}. {text}", st.note)
        fit_height(ws, r, [(f"{i}. {text}", room_at(printed_width, NOTE_PT))], line_height=12.5)
    return r + 2, notes_row


def _data_gaps(con, as_of: date, base_quarter_start: date) -> list[tuple[str, str]]:
    """The red rows of 汇总 for months the rules read that have nothing delivered (the checks
    `mart_base_periods` and `mart_policy_periods`) and for rows of known enterprises and projects
    rejected from them (`mart_rejected_policy_rows`) or from the registers
    (`mart_rejected_register_rows`), for quarters that are a year to date (`mart_quarter_spans`), for
    days without any power reading since the base quarter (`data.missing_power_days`), for
    accounts with days without a row between their readings (`data.accounts_with_days_without_a_row`), for
    unfinished projects gone from the latest library (`data.projects_gone_from_the_library`), for
    enterprises missing from the latest monthly report (`data.enterprises_missing_from_the_latest_report`), for
    registers and weekly datasets never delivered (`data.undelivered_datasets`), for
    files refused whole (`data.refused_files`), for deliveries with columns FEEDS.md does not
    define (`data.files_with_extra_columns`), for deliveries
    most of whose rows were rejected (`data.broadly_rejected_files`), and for rows loaded as delivered that a check marked
    `on_summary` names (suspected unit or digit errors: `data.suspect_rows`)."""
    gaps = []
    base = data.missing_periods(con, as_of, "mart_base_periods")
    if base:  # the rules then compare Q4 with nothing
        gaps.append(("注意：基期数据缺失", (
            f"以下月份没有交付数据，共 {base}。依赖上年四季度或新市场回看期的方案（同比增长、增量、新市场）按缺失月份为 0 "
            "测算：企业视为无基期、项目四季度投资全部计为增量、出口目的地全部视为新市场，相关金额不可信。请补齐上述数据后重新测算。")))
    this_year = data.missing_periods(con, as_of, "mart_policy_periods")
    if this_year:  # the rules then take a month due and missing as reported, and empty
        gaps.append(("注意：本年数据缺失", (
            f"以下月份按到达规则截至测算基准日应已交付，仓库中却没有数据，共 {this_year}。数据集最近的月份缺失时，"
            "该月起按预测计（与到期之前的测算相同）；更早的月份缺失时按 0 计（如项目当月投资和设备购置），相关金额偏低。"
            "请补交后重新测算。")))
    rejected = data.rejected_rows(con, as_of, "mart_rejected_policy_rows")
    if rejected:  # the rules then take that enterprise's or project's month as not reported
        gaps.append(("注意：数据行被拒收", (
            f"以下企业或项目的统计行或海关出口行被拒收，也没有更正版补交，共 {rejected}。这些企业或项目的该月按未报送计"
            "（海关行：该笔出口按未发生计）：当月金额按 0 计，最新一期的行被拒收的不再预测，相关金额偏低。"
            "请更正后以更正版（_v2）补交，再重新测算（拒收明细见 KPI 报告「数据质量」）。")))
    registers = data.rejected_rows(con, as_of, "mart_rejected_register_rows")
    if registers:  # the rules then do not see the loan, application, recognition, link or 两高 listing
        gaps.append(("注意：登记表行被拒收", (
            f"以下登记表的行被拒收，登记表也没有更正版补交该企业，共 {registers}。这些行不计入测算：贷款、活动申报、认定、"
            "首次供需按未登记计（相关奖补偏低）；两高名单的行被拒收时，该企业不按两高名单排除（相关奖补可能偏高）；"
            "被拒收的是更正版（如 registers_loans_v2.xlsx）的行时，更正前的行继续计入（相关奖补可能偏高，也可能偏低）。"
            "请更正登记表后以更正版（如 registers_applications_v2.xlsx）补交，再重新测算（拒收明细见 KPI 报告「数据质量」）。")))
    spans = data.year_to_date_quarters(con, as_of)
    if spans:  # the rules then compare a year to date with a quarter
        gaps.append(("注意：季度产值含本年此前月份", (
            f"以下企业季初前一个月未报送，按“缺失月份计 0”的规定，其季度产值为本年累计，共 {spans}。这些企业的同比增速"
            "及相关奖补（M02、M24）可能明显偏高；请核实该月报送情况，补交后重新测算。")))
    power_days = data.missing_power_days(con, base_quarter_start)
    if power_days:  # the rules then read those days as no consumption
        gaps.append(("注意：日电量缺失", (
            f"以下日期多数户号没有日电量（其间的周报疑未交付），共 {power_days}。这些日期缺读数的户号按无用电计："
            "相关企业的四季度用电量、用电增量（M24）和依据日电量的产值预测偏低。请补交缺失的周报后重新测算。")))
    account_days = data.accounts_with_days_without_a_row(con, base_quarter_start)
    if account_days:  # the rules then read those days of the account as no consumption
        gaps.append(("注意：户号日电量缺行", (
            f"以下户号在其首末读数日之间有若干天没有任何交付行（既无读数，也无“缺失”标志），共 {account_days}。"
            "这些天按无用电计：相关企业的四季度用电量、用电增量（M24）和依据日电量的产值预测偏低。"
            "若为周报漏行，请提供方在下一期周报中补交（重读）这些天后重新测算；若该户号其间曾停用，可不处理。")))
    gone = data.projects_gone_from_the_library(con)
    if gone:  # the rules then read the project's latest month as nothing invested
        gaps.append(("注意：在建项目从项目库中消失", (
            f"以下项目在上一期项目库中在建（无竣工年月）且当月有投资，最新一期项目库却没有列出，共 {gone}。"
            "这些项目最新月份起按无投资计（M15、M20 等相关金额偏低）；若项目并未竣工或退库，请提供方以更正版（_v2）补交后重新测算。")))
    late = data.enterprises_missing_from_the_latest_report(con)
    if late:  # the forecast then takes their latest month as late, forecast from their latest report
        gaps.append(("注意：企业月报缺报", (
            f"以下企业上一期月报有报送、最新一期月报没有列出，且未退库，共 {late}。这些企业最新月份起按迟报处理，"
            "由其最近一期报送预测（M02、M24 等相关金额含预测）；若企业已停产或应退库，相关金额偏高；"
            "若为漏报，请提供方以更正版（_v2）补交后重新测算。")))
    undelivered = data.undelivered_datasets(con, as_of)
    if undelivered:  # the rules then see an empty register or no power at all
        gaps.append(("注意：数据集从未交付", (
            f"截至测算基准日，以下数据集没有任何交付（或已全部撤回），共 {undelivered}。依赖它们的方案按无数据测算："
            "贷款、活动申报、认定、首次供需登记表缺失时相关奖补为 0；两高名单缺失时不排除任何企业（M24 可能偏高）；"
            "电力数据缺失时 M24 为 0。请确认接收目录是否完整（如 registers/、power/ 文件夹），补交后重新测算。")))
    refused = data.refused_files(con)
    if refused:  # the rules then see nothing of those files
        gaps.append(("注意：交付文件被拒收", (
            f"接收目录中以下文件被整体拒收或未读取，其数据未计入测算，共 {refused}。若其中有应交付的数据（如登记表、"
            "日电量、月报），相关方案按未交付测算，金额可能偏低；两高名单未交付时其排除不生效，相关奖补可能偏高；"
            "被拒收的是更正版（_v2 等）时，更正前的版本继续计入，相关金额可能偏高，也可能偏低。"
            "请按原因更正后重新放入接收目录，再重新测算（明细见 KPI 报告「数据质量」）。")))
    extra = data.files_with_extra_columns(con, as_of)
    if extra:  # kept as delivered and read by no rule: what the defined columns mean may have changed
        gaps.append(("注意：交付文件含未定义的列", (
            f"以下交付文件含接口规范（FEEDS.md）未定义的列，共 {extra}。这些列已原样保留，但不参与测算；"
            "若新列改变了其他列的含义（如币制列表明部分金额不是美元、单位列表明金额不是千元），相关金额可能有误。"
            "请向提供方核实，必要时以更正版（_v2）按规范格式补交，再重新测算。")))
    broad = data.broadly_rejected_files(con, as_of)
    if broad:  # the rules then see those files' rows as not delivered
        gaps.append(("注意：交付文件大量行被拒收", (
            f"以下交付文件超过一成的行被拒收，未计入测算，共 {broad}。被拒收的行按未报送计：所缺的日电量、月度数据由预测补足，"
            "出口、税额等明细按未发生计，相关金额可能偏离，数据截止日也可能早于所示。请提供方更正后以更正版（_v2）补交，"
            "再重新测算（拒收明细见 KPI 报告「数据质量」）。")))
    suspect = data.suspect_rows(con, as_of)
    if suspect:  # loaded as delivered: the amounts depending on them may be off by orders of magnitude
        gaps.append(("注意：数据疑似有误", (
            f"以下数据行疑为单位、数位或录入错误（与同一来源此前的数值相差数十倍以上，人民币与美元金额、年利率不合常理，"
            f"投产、入统年月或项目的开工年月、标签、建设性质、计划总投资与上期不同，代码或贷款产品名称疑似录错），"
            f"已按原值计入测算，共 {suspect}。"
            "若确有错误，相关企业、项目的金额及其所在行业的预测会严重偏离；"
            "请向报送方核实，更正后以更正版（_v2）补交，再重新测算。")))
    return gaps


def _write_headline(ws, st: Styles, head: data.Headline, total_row: int, subtotal_rows: list[int],
                    figures: dict[tuple[str, str], data.Figure], params: Parameters, labels: tuple[str, str],
                    phase: str | None, city: str | None) -> None:
    """The first thing on 汇总: the total's median (live), its range, the change since the previous
    run, the awards and beneficiaries, and the flag that low/high are stale after an edit."""
    r = HEADLINE_ROW
    w = SUMMARY_PRINTED
    ws.merge_range(r, 0, r, w, "测算结果摘要" + (f"（{city}）" if city else ""), st.section)
    label = st.get(bold=True, bg_color="#F2F2F2", border=1, border_color="#BFBFBF", valign="vcenter")
    big = st.get(bold=True, font_size=14, num_format=MONEY, border=1, border_color="#BFBFBF", font_color=HEADER_FILL)
    value = st.get(num_format=MONEY, border=1, border_color="#BFBFBF", bold=True)
    signed = st.get(num_format=SIGNED_MONEY, border=1, border_color="#BFBFBF", bold=True)
    text = st.get(border=1, border_color="#BFBFBF", bold=True, align="right")
    note = st.get(font_size=NOTE_PT, font_color="#404040", text_wrap=True, valign="vcenter", border=1,
                  border_color="#BFBFBF")
    unit = st.get(border=1, border_color="#BFBFBF", align="center")
    count = st.get(num_format=COUNT, border=1, border_color="#BFBFBF", bold=True)
    low, high = labels

    def line(row: int, caption: str, fmt, comment: str = "", height: float = 20) -> None:
        ws.merge_range(row, 0, row, 2, caption, label)
        ws.merge_range(row, 3, row, 4, None, fmt)
        ws.merge_range(row, 6, row, w, comment, note)
        lines = lines_needed(comment, room_at(sum(SUMMARY_WIDTHS[6:w + 1]), NOTE_PT))
        ws.set_row(row, max(height, 12 * lines + 4))

    line(r + 1, "奖补资金测算总额（基准情景）", big, "", 26)
    put_formula(ws, r + 1, 3, f"={cell(total_row, C_BASE)}", wan(head.base_yuan), big)  # the total row's value
    put(ws, r + 1, 5, "万元", unit)
    put_formula(ws, r + 1, 6, stale_flag_formula(params), "", st.get(
        bold=True, font_color="#C00000", font_size=9, text_wrap=True, valign="vcenter", border=1,
        border_color="#BFBFBF"))
    if phase is None:
        scope = "四季度已结束，三种情景均为实际数。"
    else:
        scope = (f"{phase}：基准为总额模拟结果的中位数，{low}、{high} 为其第 {low[1:]}、第 {high[1:]} 百分位"
                 f"（实际结果约有 {int(high[1:]) - int(low[1:])}% 的可能落在其间）；见「预测方法」「预测区间」。")
    line(r + 2, f"可能区间（{low} – {high}）", text, scope)
    put(ws, r + 2, 3, f"{wan_text(head.low_yuan)} – {wan_text(head.high_yuan)}", text)
    put(ws, r + 2, 5, "万元", unit)
    replaced = ""
    if head.replaces is not None:
        earlier = head.replaces
        why = "参数相同，数据或程序有变" if earlier.same_parameters else "参数不同"
        replaced = (f"同一测算基准日已于 {earlier.finished_at:%Y-%m-%d %H:%M} 测算过，基准 {wan_text(earlier.total_yuan)} "
                    f"万元，本次重算（{why}）取代之。")
    if head.previous is None:
        line(r + 3, "较上次测算", text, ("分市分册不与上次测算比较。" if city else "无更早测算基准日的测算可比。") + replaced)
        put(ws, r + 3, 3, "—", text)
    else:
        prev = head.previous
        share = f"（{head.change_yuan / prev.total_yuan:+.1%}）" if prev.total_yuan else ""
        line(r + 3, "较上次测算", signed,
             f"上次：测算基准日 {prev.as_of}，基准 {wan_text(prev.total_yuan)} 万元{share}，运行于 "
             f"{prev.finished_at:%Y-%m-%d %H:%M}；各方案的变化见下表「较上次」列。" + replaced)
        put(ws, r + 3, 3, wan(head.change_yuan), signed)
    put(ws, r + 3, 5, "万元", unit)
    median = "" if phase is None else "取模拟结果的中位数。"
    line(r + 4, "奖补笔数（基准）", count, "一个对象在一个方案下计入预算记一笔；同一企业可在多个方案下各记一笔。" + median)
    put(ws, r + 4, 3, head.awards, count)
    put(ws, r + 4, 5, "笔", unit)
    line(r + 5, "受益对象（不重复计）", count, "企业按统一社会信用代码、项目按项目代码去重"
         + ("。" if phase is None else "；含预计季末前新增的对象。" + median))
    put(ws, r + 5, 3, head.beneficiaries, count)
    put(ws, r + 5, 5, "个", unit)
    grant = figures.get(("funding", "grant"), data.ZERO)
    revolving = figures.get(("funding", "revolving_fund"), data.ZERO)
    which = "、".join(s.id for s in params.catalogue.schemes.values() if s.funding == "revolving_fund")
    line(r + 6, "其中：无偿补助（基准）", value)
    put_formula(ws, r + 6, 3, f"={cell(subtotal_rows[0], C_BASE)}", wan(grant.base), value)
    put(ws, r + 6, 5, "万元", unit)
    put_formula(ws, r + 6, 6, f'="另有周转资金（有偿使用，{which}）"&TEXT({cell(subtotal_rows[1], C_BASE)},"#,##0.00")'
                f'&" 万元，与无偿补助分列合计。"',
                f"另有周转资金（有偿使用，{which}）{wan_text(revolving.base)} 万元，与无偿补助分列合计。", note)


def _write_signoff(ws, st: Styles, top: int) -> None:
    """A box finance signs: prepared, reviewed, approved, each with a date."""
    w = SUMMARY_PRINTED
    ws.merge_range(top, 0, top, w, "审核签字", st.section)
    label = st.get(bold=True, bg_color="#F2F2F2", border=1, border_color="#808080", align="center")
    blank = st.get(border=1, border_color="#808080")
    for i, role in enumerate(("编制", "审核", "批准")):
        r = top + 1 + i
        ws.set_row(r, 26)
        ws.merge_range(r, 0, r, 1, f"{role}人（签字）", label)
        ws.merge_range(r, 2, r, 5, None, blank)
        ws.merge_range(r, 6, r, 7, "日期", label)
        ws.merge_range(r, 8, r, w, None, blank)


def _notes(catalogue: Catalogue, phase: str | None, city: str | None, labels: tuple[str, str],
           draws: int | None) -> list[str]:
    quarter_closed = phase is None
    low, high = labels
    exclusive = sorted({s.exclusive_group for s in catalogue.schemes.values() if s.exclusive_group})
    groups = [m for m in catalogue.measures if any(s.exclusive_group for s in m.schemes)]
    notes = [
        ("四季度已结束：基准、低、高三种情景相同，均为实际数。" if quarter_closed else
         f"{phase}：对尚未报送的月份、日电量及季末前可能新增的登记和对象模拟了 {draws or '多'} 种可能结果，"
         f"每种都按政策规则完整测算；基准为其中位数，低情景、高情景为第 {low[1:]}、第 {high[1:]} 百分位"
         "（方法与回测精度见「预测方法」，逐周变化见「预测区间」）。"),
        "每一行（方案、措施、资金性质、城市、行业组、总计）都取其自身模拟结果的中位数和百分位：各方案不会同时偏高或偏低，"
        "所以合计的中位数不等于各行中位数之和，低情景、高情景亦然。" if not quarter_closed else
        "各行及合计均为实际数，合计等于各行之和。",
        f"基准金额 = 测算引擎的{'实际数' if quarter_closed else '中位数'} + 表内调整。表内调整是措施表所列对象"
        f"（{'' if quarter_closed else '各自中位情景、'}计入基准预算的行）按「参数」表"
        "黄色单元格的费率、上限重算的金额与按引擎费率计算的金额之差：未修改参数时为 0，修改后所有基准合计在 Excel / "
        "LibreOffice 中随之变动。缓存值为测算引擎结果，不重算的查看器也显示正确数字。",
        "低、高情景金额、固定金额方案（如 M02 新建投产、小升规奖励，M15 新开工补助）及 M23 逐笔贴息为测算引擎的固定值，不随参数变化。",
        "是否符合条件由门槛类参数决定，表内不重算；调整门槛请用参数覆盖文件重新测算（gxindustry refresh --params）。",
    ]
    if exclusive:
        names = "、".join(f"{m.id} {m.title}" for m in groups)
        notes.append(f"{names} 的各方案互斥：每个项目按引擎选择的一项计入（金额最高者，并列按目录顺序）；"
                     "表内修改费率不会改变已选方案，三项评估结果均列在措施表中。")
    if city:
        notes.append(f"本册仅含 {city} 的受益对象：合计为本市合计自身分布的中位数和百分位；各方案、措施、资金性质行为本市"
                     "所列对象各自情景下金额之和（未单独模拟）。全区合计见全区测算表。")
    return notes


def _write_summary(ws, st: Styles, catalogue: Catalogue, sheets: list[MeasureSheet],
                   figures: dict[tuple[str, str], data.Figure], previous: data.PreviousRun | None,
                   start: int, notes_row: int | None) -> tuple[tuple[int, int], int, list[int]]:
    """The table by measure and scheme, the totals and the table by measure, each on a page of its
    own (and the notes, where `notes_row` is given: `_write_info`); returns the latter's (header,
    last) rows, the total row and the two subtotal rows."""
    sheet_of = {s.measure.id: s for s in sheets}
    subsidy = [m for m in catalogue.measures if m.kind == "subsidy"]
    scheme_list = [(m, s) for m in subsidy for s in m.schemes]
    headers = ["措施", "措施名称", "方案编号", "方案名称", "资金性质", "奖补笔数\n（基准）", "基准\n（万元）",
               "低情景\n（万元）", "高情景\n（万元）", "较上次\n（万元）", "基准金额\n计算方式", ENGINE_HEADER,
               ADJUST_HEADER]

    def fmt(num_format: str | None = None):
        props = {"bottom": 1, "bottom_color": "#D9D9D9", "text_wrap": num_format is None}
        return st.get(num_format=num_format, **props) if num_format else st.get(**props)
    side = st.get(num_format=MONEY, font_color="#595959", bottom=1, bottom_color="#D9D9D9")
    ws.merge_range(start, 0, start, SUMMARY_PRINTED, "按措施和方案", st.section)
    header_row = start + 1
    for c, h in enumerate(headers):
        ws.write_string(header_row, c, h, st.header)
    ws.set_row(header_row, 30)
    first = header_row + 1
    last = first + len(scheme_list) - 1
    subtotal_rows = [last + 1, last + 2]
    total_row = last + 3

    for i, (m, s) in enumerate(scheme_list):
        r = first + i
        f = figures.get(("scheme", s.id), data.ZERO)
        for c, value in enumerate((m.id, m.title, s.id, s.title, FUNDING[s.funding])):
            put(ws, r, c, value, fmt())
        put(ws, r, C_AWARDS, f.awards, fmt(COUNT))
        adjustment = _sumifs([sheet_of[m.id]], [("scheme", f'"{s.id}"')]) if s.id in LIVE else None
        _live_base(ws, r, C_BASE, C_ENGINE, C_ADJUST, f, adjustment, fmt(MONEY), side)
        put(ws, r, C_LOW, wan(f.low), fmt(MONEY))
        put(ws, r, C_HIGH, wan(f.high), fmt(MONEY))
        if previous is None or s.id not in previous.schemes:
            put(ws, r, C_CHANGE, "—", st.get(align="right", bottom=1, bottom_color="#D9D9D9"))
        else:
            put(ws, r, C_CHANGE, wan(f.base - previous.schemes[s.id]), fmt(SIGNED_MONEY))
        put(ws, r, C_HOW, "公式联动" if s.id in LIVE else "固定值", fmt())
        fit_height(ws, r, [(m.title, SUMMARY_WIDTHS[1]), (s.title, SUMMARY_WIDTHS[3])])

    funding_range = abs_range(SUMMARY, first, 4, last)
    adjust_range = abs_range(SUMMARY, first, C_ADJUST, last)
    for r, (key, label) in zip(subtotal_rows, FUNDING.items()):
        f = figures.get(("funding", key), data.ZERO)
        ws.merge_range(r, 0, r, 4, f"{label}合计", st.total())
        put(ws, r, C_AWARDS, f.awards, st.total(COUNT))
        _live_base(ws, r, C_BASE, C_ENGINE, C_ADJUST, f, f'=SUMIFS({adjust_range},{funding_range},"{label}")',
                   st.total(MONEY), st.total(MONEY))
        put(ws, r, C_LOW, wan(f.low), st.total(MONEY))
        put(ws, r, C_HIGH, wan(f.high), st.total(MONEY))
        for c in (C_CHANGE, C_HOW):
            ws.write_blank(r, c, None, st.total())
    total = figures.get(("total", data.TOTAL), data.ZERO)
    ws.merge_range(total_row, 0, total_row, 4, "总计（无偿补助 + 周转资金）", st.total())
    put(ws, total_row, C_AWARDS, total.awards, st.total(COUNT))
    _live_base(ws, total_row, C_BASE, C_ENGINE, C_ADJUST, total,
               f"={cell(subtotal_rows[0], C_ADJUST)}+{cell(subtotal_rows[1], C_ADJUST)}", st.total(MONEY),
               st.total(MONEY))
    put(ws, total_row, C_LOW, wan(total.low), st.total(MONEY))
    put(ws, total_row, C_HIGH, wan(total.high), st.total(MONEY))
    if previous is None:
        ws.write_blank(total_row, C_CHANGE, None, st.total())
    else:
        put(ws, total_row, C_CHANGE, wan(total.base - previous.total_yuan), st.total(SIGNED_MONEY))
    ws.write_blank(total_row, C_HOW, None, st.total())

    _write_signoff(ws, st, total_row + 2)
    # by measure (columns A-E), the chart to its right, on a page of their own
    r0 = total_row + 2 + SIGNOFF_ROWS + 1
    ws.set_h_pagebreaks(([notes_row - 1] if notes_row is not None else []) + [start - 1, r0])
    ws.merge_range(r0, 0, r0, SUMMARY_PRINTED, "按措施（各措施自身分布；图中基准为公式，低/高为引擎固定值）", st.section)
    mh = r0 + 1
    for c, h in enumerate(("措施", "措施名称", "基准\n（万元）", "低情景\n（万元）", "高情景\n（万元）")):
        ws.write_string(mh, c, h, st.header)
    for c, h in ((C_ENGINE, ENGINE_HEADER), (C_ADJUST, ADJUST_HEADER)):
        ws.write_string(mh, c, h, st.header)
    ws.set_row(mh, 30)
    measure_range = abs_range(SUMMARY, first, 0, last)
    for i, m in enumerate(subsidy):
        r = mh + 1 + i
        f = figures.get(("measure", m.id), data.ZERO)
        put(ws, r, 0, m.id, fmt())
        put(ws, r, 1, m.title, fmt())
        _live_base(ws, r, 2, C_ENGINE, C_ADJUST, f, f"=SUMIFS({adjust_range},{measure_range},{cell(r, 0)})",
                   fmt(MONEY), side)
        put(ws, r, 3, wan(f.low), fmt(MONEY))
        put(ws, r, 4, wan(f.high), fmt(MONEY))
        fit_height(ws, r, [(m.title, SUMMARY_WIDTHS[1])])
    return (mh, mh + len(subsidy)), total_row, subtotal_rows


def _write_components(ws, st: Styles, catalogue: Catalogue, components: dict[str, dict[str, data.Component]],
                      figures: dict[tuple[str, str], data.Figure], labels: tuple[str, str], top: int) -> None:
    """Per scheme with beneficiaries still to come: the part already known (registered, reporting)
    and the part expected by the quarter's end, each its own distribution."""
    low, high = labels
    ws.merge_range(top, 0, top, SUMMARY_PRINTED, "已知对象与预计季末前新增（各部分自身分布）", st.section)
    shown = [s for s in catalogue.schemes.values()
             if components.get(s.id, {}).get("forecast_new") and components[s.id]["forecast_new"].high > 0]
    if not shown:
        ws.merge_range(top + 1, 0, top + 1, SUMMARY_PRINTED, "截至测算基准日，各方案均无预计季末前新增的对象。", st.note)
        return
    note = ("已知对象（登记在册）：截至测算基准日已登记（认定、贷款、申报、供需对接）或已报送统计的企业、项目，其未报月份仍为预测；"
            "预计季末前新增：按上年同期此后新增的数量和本年进度模拟的、尚未登记或报送的对象（不在措施表中列出）。"
            "方案合计的中位数不等于两部分中位数之和。")
    ws.merge_range(top + 1, 0, top + 1, SUMMARY_PRINTED, note, st.note)
    fit_height(ws, top + 1, [(note, sum(SUMMARY_WIDTHS[:SUMMARY_PRINTED + 1]))], line_height=12)
    header = top + 2
    spanned_headers(ws, header, [("方案编号", 0, 1), ("方案名称", 2, 3), ("已知对象\n笔数", 4, 5),
                                 ("已知对象\n中位数\n（万元）", 6, 6), (f"新增 {low}\n（万元）", 7, 7),
                                 ("新增中位数\n（万元）", 8, 8), (f"新增 {high}\n（万元）", 9, 9),
                                 ("方案合计\n中位数\n（万元）", 10, 10)], st.header, height=44)  # 3 lines in the narrow columns
    line = {"bottom": 1, "bottom_color": "#D9D9D9"}
    money = st.get(num_format=MONEY, **line)
    for i, s in enumerate(shown):
        r = header + 1 + i
        known = components[s.id].get("reported", data.Component(Decimal(0), Decimal(0), Decimal(0), 0))
        new = components[s.id]["forecast_new"]
        ws.merge_range(r, 0, r, 1, s.id, st.get(**line))
        ws.merge_range(r, 2, r, 3, s.title, st.get(text_wrap=True, **line))
        ws.merge_range(r, 4, r, 5, known.beneficiaries, st.get(num_format=COUNT, **line))
        for c, value in ((6, known.base), (7, new.low), (8, new.base), (9, new.high),
                         (10, figures.get(("scheme", s.id), data.ZERO).base)):
            put(ws, r, c, wan(value), money)
        fit_height(ws, r, [(s.title, SUMMARY_WIDTHS[2] + SUMMARY_WIDTHS[3])])


def _measure_chart(wb, ws, rows: tuple[int, int], city: str | None, labels: tuple[str, str]) -> None:
    """Bars by measure (基准, 低, 高) to the right of the 按措施 table."""
    header, last = rows
    first = header + 1
    low, high = labels
    chart = wb.add_chart({"type": "bar"})
    for col, label, colour in ((3, f"低情景（{low}）", "#A9C4EB"), (2, "基准（中位数）", "#1F4E78"),
                               (4, f"高情景（{high}）", "#F4B183")):
        chart.add_series({
            "name": label,
            "categories": [SUMMARY, first, 1, last, 1],
            "values": [SUMMARY, first, col, last, col],
            "fill": {"color": colour}, "gap": 40,
        })
    chart.set_title({"name": "各措施资金测算（万元）" + (f"——{city}" if city else ""),
                     "name_font": {"size": 10, "name": FONT}})
    chart.set_x_axis({"name": "金额（万元）", "name_font": {"name": FONT, "size": 9, "bold": False},
                      "num_format": "#,##0", "num_font": {"name": FONT, "size": 9},
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_y_axis({"name": "措施", "name_font": {"name": FONT, "size": 9, "bold": False},
                      "reverse": True, "crossing": "max", "num_font": {"name": FONT, "size": 9}})
    chart.set_legend({"position": "right", "font": {"name": FONT, "size": 9}})
    chart.set_plotarea({"layout": {"x": 0.36, "y": 0.12, "width": 0.40, "height": 0.72}})
    width_px = sum(int(w * 7 + 5) for w in SUMMARY_WIDTHS[5:SUMMARY_PRINTED + 1]) - 8
    chart.set_size({"width": width_px, "height": 290})
    ws.insert_chart(header, 5, chart, {"x_offset": 6, "y_offset": 0})


def _write_breakdown(wb, ws, st: Styles, title: str, subtitle: str, key_header: str, keys: list[tuple[str, str]],
                     level: str, criterion: str, sheets: list[MeasureSheet],
                     figures: dict[tuple[str, str], data.Figure], labels: tuple[str, str],
                     code_header: str | None) -> None:
    """按城市 / 按行业: per key its own low/base/high (the base = engine median + adjustment over the
    measure tables), the total's own, a chart of the base with the low–high range."""
    name = ws.get_name()
    low, high = labels
    headers = ([code_header] if code_header else []) + [
        key_header, "奖补笔数\n（基准）", "基准\n（万元）", f"低情景 {low}\n（万元）", f"高情景 {high}\n（万元）",
        "占合计基准", ENGINE_HEADER, ADJUST_HEADER, f"图：{high}−基准", f"图：基准−{low}"]

    def fmt(num_format: str | None = None):
        props = {"bottom": 1, "bottom_color": "#D9D9D9"}
        return st.get(num_format=num_format, **props) if num_format else st.get(**props)
    off = 1 if code_header else 0
    c_awards, c_base, c_low, c_high, c_share, c_engine, c_adjust, c_plus, c_minus = range(off + 1, off + 10)
    printed = c_share
    ws.merge_range(0, 0, 0, printed, title, st.title)
    ws.set_row(0, 24)
    widths = ([9] if code_header else []) + [16, 10, 14, 14, 14, 10, 12, 12, 11, 11]
    # wrapped within the printed columns: on one line its 单位：万元 printed cut to 单位：万
    ws.merge_range(1, 0, 1, printed, subtitle, st.wrapped_subtitle)
    fit_height(ws, 1, [(subtitle, sum(widths[:printed + 1]))], line_height=13)
    header_row = 3
    for c, h in enumerate(headers):
        ws.write_string(header_row, c, h, st.header)
    ws.set_row(header_row, 30)
    first = header_row + 1
    last = first + len(keys) - 1
    total_row = last + 1
    total = figures.get(("total", data.TOTAL), data.ZERO)
    grand_ref = cell(total_row, c_base, True, True)
    side = st.get(num_format=MONEY, font_color="#595959", bottom=1, bottom_color="#D9D9D9")
    for i, (code, label) in enumerate(keys):
        r = first + i
        f = figures.get((level, code), data.ZERO)
        if code_header:
            put(ws, r, 0, code, fmt())
        put(ws, r, off, label, fmt())
        put(ws, r, c_awards, f.awards, fmt(COUNT))
        _live_base(ws, r, c_base, c_engine, c_adjust, f, _sumifs(sheets, [(criterion, cell(r, off, False, True))]),
                   fmt(MONEY), side)
        put(ws, r, c_low, wan(f.low), fmt(MONEY))
        put(ws, r, c_high, wan(f.high), fmt(MONEY))
        put_formula(ws, r, c_share, f"=IF({grand_ref}=0,0,{cell(r, c_base)}/{grand_ref})",
                    float(f.base / total.base) if total.base else 0, fmt(SHARE))
        put(ws, r, c_plus, wan(f.high - f.base), side)
        put(ws, r, c_minus, wan(f.base - f.low), side)
    if code_header:
        ws.write_blank(total_row, 0, None, st.total())
    put(ws, total_row, off, "合计", st.total())
    put(ws, total_row, c_awards, total.awards, st.total(COUNT))
    _live_base(ws, total_row, c_base, c_engine, c_adjust, total,
               f"=SUM({cell(first, c_adjust)}:{cell(last, c_adjust)})", st.total(MONEY), st.total(MONEY))
    put(ws, total_row, c_low, wan(total.low), st.total(MONEY))
    put(ws, total_row, c_high, wan(total.high), st.total(MONEY))
    put_formula(ws, total_row, c_share, f"=IF({cell(total_row, c_base)}=0,0,1)", 1 if total.base else 0,
                st.total(SHARE))
    note = (f"每行取其自身模拟分布的中位数（基准）和 {low}/{high}；合计为全部奖补总额自身的分布，不等于各行之和，"
            "占比之和因此不必恰为 100%。基准 = 引擎中位数 + 表内调整（「参数」表修改费率、上限后所列对象金额的变化）。"
            + ("城市待定：季末前预计新增的登记事项和出口，企业未定。"
               if any(code == UNASSIGNED_CITY for code, _ in keys) else ""))
    ws.merge_range(total_row + 1, 0, total_row + 1, printed, note, st.note)
    fit_height(ws, total_row + 1, [(note, sum(widths[:printed + 1]))], line_height=12)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.freeze_panes(header_row + 1, off + 1)

    chart = wb.add_chart({"type": "column"})
    chart.add_series({
        "name": f"基准（中位数），误差线为 {low}–{high}", "categories": [name, first, off, last, off],
        "values": [name, first, c_base, last, c_base], "fill": {"color": "#1F4E78"}, "gap": 60,
        "y_error_bars": {"type": "custom", "plus_values": f"={abs_range(name, first, c_plus, last)}",
                         "minus_values": f"={abs_range(name, first, c_minus, last)}", "end_style": 1,
                         "line": {"color": "#C55A11", "width": 1.25}},
    })
    chart.set_title({"name": f"{key_header}分布：基准及 {low}–{high} 区间（万元）", "name_font": {"size": 11, "name": FONT}})
    chart.set_x_axis({"name": key_header, "name_font": {"name": FONT, "size": 9, "bold": False},
                      "num_font": {"name": FONT, "size": 9, "rotation": -45}})
    # The axis reaches the highest P90: left to itself, Excel and LibreOffice scale to the bars (the
    # medians) and cut the error bars above them.
    top = max((wan(figures.get((level, code), data.ZERO).high) for code, _ in keys), default=Decimal(0))
    chart.set_y_axis({"name": "万元", "name_font": {"name": FONT, "size": 9, "bold": False},
                      "num_format": "#,##0", "num_font": {"name": FONT, "size": 9}, "min": 0,
                      **({"max": _axis_ceiling(float(top))} if top > 0 else {}),
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom", "font": {"name": FONT, "size": 9}})
    chart_rows = 16
    chart.set_size({"width": sum(int(w * 7 + 5) for w in widths[:printed + 1]) - 8, "height": chart_rows * 20 - 8})
    ws.insert_chart(total_row + 3, 0, chart, {"x_offset": 4, "y_offset": 4})
    print_setup(ws, fit_height=1, columns=(0, printed), widths=widths)
    ws.print_area(0, 0, total_row + 3 + chart_rows, printed)  # the chart below the table prints too


def _axis_ceiling(value: float) -> float:
    """The next round number at or above `value` in half steps of its magnitude (6,303.74 -> 6,500)."""
    magnitude = 10 ** math.floor(math.log10(value))
    return math.ceil(value / magnitude * 2) / 2 * magnitude


# ----------------------------------------------------------------------------- entry point


def quantile_labels(params: Parameters) -> tuple[str, str]:
    """("P10", "P90") from the catalogue's forecast.quantile_low / quantile_high (in %)."""
    low, high = (f"P{Decimal(params.get(pid).value).normalize():f}"
                 for pid in ("forecast.quantile_low", "forecast.quantile_high"))
    return low, high


def write_budget_workbook(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, params: Parameters,
                          reports_dir: Path, as_of: date, city_code: str | None = None,
                          backtest_csv: Path | None = None) -> Path:
    """Write `<reports>/<as_of>/budget_forecast_<as_of>.xlsx`, or with `city_code` one prefecture's pack
    `<reports>/<as_of>/cities/budget_forecast_<as_of>_<city_code>.xlsx`; returns its path. The 预测方法
    sheet cites the backtest's scores in `backtest_csv` (default: the repository's docs/backtest/backtest.csv)."""
    data.check_as_of(con, as_of)
    found = data.latest_fingerprint(con, as_of)
    if found is not None and found != params.fingerprint():
        raise data.StaleWarehouse(
            f"the measure tables were computed with parameter set {found}, not {params.fingerprint()}: "
            "the workbook's parameter cells would not match its cached amounts; run the measures again")
    city = data.city_name(con, city_code) if city_code else None
    rows = _rows(con, catalogue, as_of, city_code)
    schemes = catalogue.schemes
    figures = _figures(con, as_of, rows, schemes, city_code)
    components = data.budget_components(con, as_of) if city_code is None else None
    head = data.headline(con, as_of, city_code)
    run = data.forecast_run(con, as_of)
    labels = quantile_labels(params)
    cutoffs = data.data_cutoff(con, as_of)
    quarter_closed = data.quarter_reported(catalogue, as_of, con)
    phase = None if quarter_closed else data.quarter_phase(catalogue, as_of)
    subsidy = [m for m in catalogue.measures if m.kind == "subsidy"]
    title = f"{catalogue.document.title}·奖补资金测算" + (f"（{city}）" if city else "")
    path = budget_path(reports_dir, as_of, city_code)
    with atomic_path(path) as tmp:
        wb = new_workbook(tmp)
        st = Styles(wb)
        wb.set_properties({
            "title": title, "subject": f"奖补资金测算，截至 {as_of}", "author": "gxindustry",
            "category": "budget_forecast",
            "keywords": f"as_of={as_of}; parameter_set={params.fingerprint()}; version={project_version()}",
            "comments": "基准 = 测算引擎的中位数 + 表内调整（随「参数」表中的费率、上限重算）；低/高情景为测算引擎固定值。",
        })
        wb.set_custom_property("as_of", as_of.isoformat())
        wb.set_custom_property("parameter_set", params.fingerprint())
        wb.set_custom_property("gxindustry_version", project_version())
        if city_code:
            wb.set_custom_property("city_code", city_code)

        # sheets appear in creation order; they are filled once the measure tables' ranges are known
        summary = add_sheet(wb, SUMMARY)
        by_city = None if city_code else add_sheet(wb, BY_CITY)
        by_group = add_sheet(wb, BY_GROUP)
        if city_code is None:
            forecast_sheets.write_fans(wb, st, con, catalogue, as_of, params, labels)
        forecast_sheets.write_method(wb, st, catalogue, as_of, cutoffs, run, labels, quarter_closed, city,
                                     backtest_csv)
        measure_rows: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            measure_rows[row.measure_id].append(row)
        parameter_names = {pid: entry.parameter.description for pid, entry in
                           ((e.parameter.id, e) for e in params)}
        ctx = SheetContext(params, parameter_names, figures, components, labels, quarter_closed,
                           {SUMMARY, BY_CITY, BY_GROUP, PARAMETERS, *forecast_sheets.SHEETS})
        sheets = [_write_measure_sheet(wb, st, m, measure_rows[m.id], ctx) for m in subsidy]
        _write_parameters(wb, st, catalogue, params, parameter_names)

        start, notes_row = _write_info(summary, st, SUMMARY_PRINTED, title, as_of, params, cutoffs,
                            _notes(catalogue, phase, city, labels, run.draws if run else None), phase,
                            _data_gaps(con, as_of, catalogue.document.base_quarter.start))
        measure_table, total_row, subtotal_rows = _write_summary(summary, st, catalogue, sheets, figures, head.previous,
                                                                 start, notes_row)
        _write_headline(summary, st, head, total_row, subtotal_rows, figures, params, labels, phase, city)
        _measure_chart(wb, summary, measure_table, city, labels)
        if components is not None:
            _write_components(summary, st, catalogue, components, figures, labels, measure_table[1] + 2)
        for c, width in enumerate(SUMMARY_WIDTHS):
            summary.set_column(c, c, width)
        print_setup(summary, columns=(0, SUMMARY_PRINTED), widths=list(SUMMARY_WIDTHS))
        summary.activate()

        scope = f"{city}，" if city else ""
        subtitle = (f"测算基准日 {as_of}｜{scope}基准 = 引擎中位数 + 表内调整（随「参数」表重算），低/高情景为引擎固定值｜单位：万元")
        if by_city is not None:
            known = data.cities(con)
            names = {code for code, _ in known}
            extra = sorted({(r.city_code, r.city) for r in rows if r.city_code not in names})
            if ("city", UNASSIGNED_CITY) in figures:  # register rows and exports still to come: no enterprise yet
                extra.append((UNASSIGNED_CITY, "城市待定"))
            _write_breakdown(wb, by_city, st, "按城市（设区市）", subtitle, "城市", [*known, *extra], "city", "city",
                             sheets, figures, labels, code_header="城市代码")
        groups = data.industry_groups(catalogue)
        groups += sorted({r.group for r in rows} - set(groups))
        _write_breakdown(wb, by_group, st, "按行业组", subtitle, "行业组", [(g, g) for g in groups], "industry_group",
                         "group", sheets, figures, labels, code_header=None)
        wb.close()
    return path
