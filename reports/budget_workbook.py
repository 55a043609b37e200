"""`budget_forecast_<as_of>.xlsx`: the subsidy budget for finance, with live formulas.

Sheets: 汇总 (per measure and scheme, base/low/high in 万元, totals, chart, as-of, data cut-off,
notes), 按城市, 按行业 (with charts), one sheet per subsidy measure (the beneficiaries with
their quantities, amount and reason trace), 参数 (every catalogue parameter; rates and caps of
the live schemes are unlocked input cells with defined names).

Live formulas. For a scheme in `schemes.LIVE` every row eligible in the base scenario holds
`=ROUND(MIN(<rate> × basis, IF(<cap>="", 9.99E+307, <cap>)), 2) / 10000` (万元), the rate and
cap being the defined names of the 参数 cells, converted from the unit shown (`% ÷ 100`,
`万元 × 10000`). The base amounts on 汇总, 按城市 and 按行业 are SUMIFS over the rows counted in
the budget (基准计入预算 = 是), so changing a rate recalculates every base total. Cached results
are the engine's values, so viewers that do not recalculate show the same numbers.
Static: low/high amounts (the engine's scenario figures), fixed-amount schemes, M23's per-loan
interest, which scheme an M15 project claims, and eligibility itself (thresholds are not live).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from xlsxwriter.utility import xl_col_to_name

from dagster_project.lib.measures.catalogue import UNIT_FACTORS, Catalogue, Measure, Scheme
from dagster_project.lib.measures.parameters import Parameters
from dagster_project.lib.measures.rules import LiveFormula, bind_name
from dagster_project.lib.measures.schemes import LIVE
from dagster_project.lib.money import wan_text

from . import data
from .safe_write import as_of_dir, atomic_path
from .styles import (
    COUNT, FONT, HEADER_FILL, INPUT_FILL, MONEY, OVERRIDE_FILL, SHARE, TABLE_STYLE, Styles, abs_range, add_sheet, cell,
    fit_height, lines_needed, new_workbook, print_setup, project_version, put, put_formula, sheet_name, wan,
)
from .wording import plain

SUMMARY = "汇总"
BY_CITY = "按城市"
BY_GROUP = "按行业"
PARAMETERS = "参数"
FUNDING = {"grant": "无偿补助", "revolving_fund": "周转资金"}
YES, NO = "是", "否"
NO_CAP = "9.99E+307"
SUMMARY_WIDTHS = (6, 22, 14, 16, 9, 8, 11, 11, 11, 7, 15)
HEADLINE_ROW = 3  # 汇总: the headline block's first row, under the title
HEADLINE_ROWS = 7
SIGNOFF_ROWS = 4  # 审核签字: its title and three lines
PARAMETER_WIDTHS = (20, 26, 8, 7, 46, 6, 24, 14, 24, 8)
PARAMETERS_PRINTED = 6  # 参数编号 … 工作假设; the columns to their right are for Excel users


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
    """One (scheme, beneficiary) eligible in at least one scenario."""

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


def _rows(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, as_of: date, city_code: str | None) -> list[Row]:
    q4_start = catalogue.document.policy_quarter.start
    result = con.execute(
        """
        with a as (
            select * from marts.policy_awards
            where as_of = $as_of and ($city::varchar is null or city_code = $city::varchar)
        ),
        per_key as (
            select scheme_id, any_value(measure_id) as measure_id, uscc, project_code,
                   any_value(city_code) as city_code, any_value(industry_group) as industry_group,
                   coalesce(bool_or(eligible) filter (where scenario = 'base'), false) as base_eligible,
                   coalesce(bool_or(chosen) filter (where scenario = 'base'), false) as base_chosen,
                   coalesce(sum(amount_yuan) filter (where scenario = 'base'), 0) as base_amount,
                   coalesce(sum(amount_yuan) filter (where scenario = 'low' and chosen), 0) as low_counted,
                   coalesce(sum(amount_yuan) filter (where scenario = 'high' and chosen), 0) as high_counted,
                   any_value(reason) filter (where scenario = 'base') as reason
            from a group by scheme_id, uscc, project_code
            having bool_or(eligible)
        ),
        regions as (select city_code, any_value(city_name) as city_name from marts.dim_region group by city_code)
        select k.scheme_id, k.measure_id, k.uscc, k.project_code, e.enterprise_name, p.project_name,
               p.construction_type, p.planned_investment_yuan, k.city_code, coalesce(r.city_name, k.city_code),
               coalesce(k.industry_group, $ungrouped), k.base_eligible, k.base_chosen, k.base_amount,
               k.low_counted, k.high_counted, b.basis, q.base_output_yuan, q.output_yuan, q.months_reported, k.reason
        from per_key k
        left join marts.policy_award_basis b
               on b.scenario = 'base' and b.scheme_id = k.scheme_id and b.uscc = k.uscc
              and b.project_code is not distinct from k.project_code
        left join marts.dim_enterprise e on e.uscc = k.uscc
        left join marts.dim_project p on p.project_code = k.project_code
        left join regions r on r.city_code = k.city_code
        left join marts.fct_enterprise_quarter q on q.uscc = k.uscc and q.quarter_start = $q4_start
        """,
        {"as_of": as_of, "city": city_code, "ungrouped": data.UNGROUPED, "q4_start": q4_start},
    ).fetchall()
    rows = [Row(*r) for r in result]
    order = {sid: i for i, sid in enumerate(catalogue.schemes)}
    rows.sort(key=lambda r: (order[r.scheme_id], not r.base_chosen, -r.base_amount, -r.high_counted, r.uscc,
                             r.project_code or ""))
    return rows


@dataclass
class Totals:
    beneficiaries: int = 0
    base: Decimal = Decimal(0)
    low: Decimal = Decimal(0)
    high: Decimal = Decimal(0)
    grant_base: Decimal = Decimal(0)
    revolving_base: Decimal = Decimal(0)

    def add(self, row: Row, funding: str) -> None:
        if row.base_chosen:
            self.beneficiaries += 1
            self.base += row.base_amount
            if funding == "revolving_fund":
                self.revolving_base += row.base_amount
            else:
                self.grant_base += row.base_amount
        self.low += row.low_counted
        self.high += row.high_counted


def _totals_by(rows: list[Row], schemes: dict[str, Scheme], key) -> dict[str, Totals]:
    out: dict[str, Totals] = defaultdict(Totals)
    for row in rows:
        out[key(row)].add(row, schemes[row.scheme_id].funding)
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


def _basis_unit(measure: Measure) -> str | None:
    """The unit of the measure's calculation basis (`四季度产值增量（元）` -> 元), None when mixed or none."""
    units = {LIVE[s.id].basis_label.rsplit("（", 1)[-1].rstrip("）") for s in measure.schemes if s.id in LIVE}
    return units.pop() if len(units) == 1 else None


_EXACT_YUAN = re.compile(r"（[\d,]+\.\d\d元）$")


def _calculation(reason: str | None) -> str | None:
    """What prints of the engine's trace `conditions → calculation`: the calculation, without the
    exact 元 the amount column already shows (the whole trace stays in the 测算依据 column)."""
    if not reason or " → " not in reason:
        return reason
    return _EXACT_YUAN.sub("", reason.rsplit(" → ", 1)[1])


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


STALE_TEXT = ("注意：「参数」表中的费率或上限已在表内修改。基准金额已按新参数重算；低情景、高情景仍是修改前"
              "测算引擎的结果，未随之变化，需用参数覆盖文件重新测算（gxindustry refresh --params）后才一致。")


def _write_measure_sheet(wb, st: Styles, measure: Measure, rows: list[Row], params: Parameters,
                         used_names: set[str], parameter_names: dict[str, str]) -> MeasureSheet:
    name = sheet_name(f"{measure.id} {measure.title}")
    while name in used_names:
        name = sheet_name(name[:28] + f"_{len(used_names)}")
    used_names.add(name)
    ws = add_sheet(wb, name)
    schemes = {s.id: s for s in measure.schemes}
    per_project = any(s.beneficiary == "project" for s in measure.schemes)
    unit = _basis_unit(measure)

    # (key, header, number format, width); the printed columns come first, the others to their right
    columns: list[tuple[str, str, str | None, float]] = [("scheme", "方案编号", None, 11)]
    if per_project:
        columns += [("project_name", "项目名称", None, 16), ("enterprise", "企业名称", None, 14)]
    else:
        columns += [("enterprise", "企业名称", None, 23)]
    columns += [("city", "城市", None, 7), ("basis", f"计算基数（{unit}）" if unit else "计算基数", COUNT, 13),
                ("amount", "基准金额（万元）", MONEY, 10), ("low", "低情景计入（万元）", MONEY, 10),
                ("high", "高情景计入（万元）", MONEY, 10), ("chosen", "计入基准预算", None, 6),
                ("calculation", "计算式（基准情景）", None, 33 if per_project else 36)]
    printed = len(columns)
    columns += [("scheme_title", "方案名称", None, 16)]
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
    notes = ["政策原文：" + "；".join(measure.clauses),
             "测算口径：" + (plain(measure.note, parameter_names) or "—"),
             _live_note(measure, params)]
    for r, text in enumerate(notes, 1):
        ws.merge_range(r, 0, r, last_printed, text, st.note)
        fit_height(ws, r, [(text, page_width)], line_height=12)
    layout = ("金额单位：万元；计算基数的单位见其列标题。绿色底纹的基准金额为公式。先列计入基准预算的对象（打印范围），"
              "其后为仅在低/高情景符合条件或未计入基准的对象。")
    ws.merge_range(4, 0, 4, last_printed, layout,
                   st.get(font_size=9, bold=True, font_color="#1F4E78", text_wrap=True, valign="top"))
    fit_height(ws, 4, [(layout, page_width)], line_height=12)
    ws.merge_range(5, 0, 5, last_printed, "", st.stale)
    put_formula(ws, 5, 0, stale_flag_formula(params), "", st.stale)
    header_row = 6

    rows = sorted(rows, key=lambda r: not r.base_chosen)  # stable: the engine's order within each part
    out_rows = []
    for row in rows:
        scheme = schemes[row.scheme_id]
        live = LIVE.get(row.scheme_id)
        reason = plain(row.reason)
        values = {
            "scheme": row.scheme_id, "scheme_title": scheme.title, "project_name": row.project_name,
            "project_code": row.project_code, "enterprise": row.enterprise_name, "uscc": row.uscc,
            "city": row.city, "group": row.group, "funding": FUNDING[scheme.funding],
            "construction": row.construction_type, "planned": wan(row.planned_investment),
            "q4b": wan(row.q4b_output), "q4": wan(row.q4_output_reported), "months": row.months_reported,
            "basis": None if row.basis is None else float(row.basis),
            "basis_label": live.basis_label if live else ("逐笔贴息（固定值）" if row.scheme_id == "M23" else "固定金额"),
            "eligible": YES if row.base_eligible else NO, "chosen": YES if row.base_chosen else NO,
            "amount": wan(row.base_amount), "low": wan(row.low_counted), "high": wan(row.high_counted),
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
    live_fmt = st.get(num_format=MONEY, bg_color="#EAF1DD", valign="top")
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
            formula = amount_formula(live, params, cell(r, col["basis"]))
            put_formula(ws, r, col["amount"], formula, wan(row.base_amount), live_fmt)
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
        "其他参数（门槛、时间窗口等）决定是否符合条件，表内修改不生效，需以 `gxindustry refresh --params 文件` 重新测算。"
        "本表已保护（无密码），仅输入单元格可编辑。",
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
        fmt = (override_fmt if overridden else input_fmt) if live else (override_locked if overridden else
                                                                          (date_fmt if p.type == "date" else top))
        origin = "覆盖文件：" + entry.origin.split(":", 1)[1].strip() if overridden else "目录默认值"
        values = [p.id, p.description, entry.value, p.unit, plain(p.source or p.assumption_note, parameter_names),
                  YES if p.assumption else NO, owners[p.id.split(".")[0]], origin, defined_name(p.id),
                  YES if live else NO]
        for c, value in enumerate(values):
            put(ws, r, c, value, fmt if c == value_col else (small if c == 4 else (wrap if c in (1, 6) else top)))
        fit_height(ws, r, [(values[1], PARAMETER_WIDTHS[1]), (values[4], PARAMETER_WIDTHS[4] * 1.1),
                           (values[6], PARAMETER_WIDTHS[6])])
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
    """Σ over every measure table of the base amounts counted in the budget, with extra criteria."""
    terms = []
    for s in sheets:
        if s.first is None:
            continue
        args = [s.range("amount"), s.range("chosen"), f'"{YES}"']
        for key, value in criteria:
            args += [s.range(key), value]
        terms.append(f"SUMIFS({','.join(args)})")
    return "=" + ("+".join(terms) if terms else "0")


def _write_info(ws, st: Styles, width: int, title: str, as_of: date, params: Parameters,
                cutoffs: list[data.FeedCutoff], notes: list[str], quarter_closed: bool) -> int:
    overrides = [p for p in params if p.origin.startswith("override")]
    params_text = "目录默认值" if not overrides else \
        f"含覆盖文件 {overrides[0].origin.split(':', 1)[1].strip()} 的 {len(overrides)} 项取值"
    ws.merge_range(0, 0, 0, width, title, st.title)
    ws.set_row(0, 24)
    ws.merge_range(1, 0, 1, width, (
        f"测算基准日 {as_of}（{'四季度已结束，实际数' if quarter_closed else '四季度进行中，预测数'}）｜参数集 "
        f"{params.fingerprint()}（{params_text}）｜gxindustry {project_version()}｜生成于 "
        f"{datetime.now():%Y-%m-%d %H:%M}｜单位：万元"), st.subtitle)
    r = HEADLINE_ROW + HEADLINE_ROWS + 1
    ws.merge_range(r, 0, r, width, "数据截止（截至测算基准日已到达的数据）", st.section)
    for c in cutoffs:
        r += 1
        ws.merge_range(r, 0, r, 2, c.label, st.label)
        ws.merge_range(r, 3, r, width, c.text, st.info)
    r += 2
    ws.merge_range(r, 0, r, width, "情景与口径说明", st.section)
    for i, text in enumerate(notes, 1):
        r += 1
        ws.merge_range(r, 0, r, width, f"{i}. {text}", st.note)
        fit_height(ws, r, [(f"{i}. {text}", sum(SUMMARY_WIDTHS))], line_height=12.5)
    return r + 2


def _write_headline(ws, st: Styles, head: data.Headline, total_row: int, subtotal_rows: list[int],
                    grand: Totals, params: Parameters, quarter_closed: bool, city: str | None) -> None:
    """The first thing on 汇总: the base total (live), its range, the change since the previous run,
    the beneficiaries counted two ways, and the flag that low/high are stale after an edit."""
    r = HEADLINE_ROW
    w = len(SUMMARY_WIDTHS) - 1
    ws.merge_range(r, 0, r, w, "测算结果摘要" + (f"（{city}）" if city else ""), st.section)
    label = st.get(bold=True, bg_color="#F2F2F2", border=1, border_color="#BFBFBF", valign="vcenter")
    big = st.get(bold=True, font_size=14, num_format=MONEY, border=1, border_color="#BFBFBF", font_color=HEADER_FILL)
    value = st.get(num_format=MONEY, border=1, border_color="#BFBFBF", bold=True)
    signed = st.get(num_format="+#,##0.00;-#,##0.00;0.00", border=1, border_color="#BFBFBF", bold=True)
    text = st.get(border=1, border_color="#BFBFBF", bold=True, align="right")
    note = st.get(font_size=9, font_color="#404040", text_wrap=True, valign="vcenter", border=1, border_color="#BFBFBF")
    unit = st.get(border=1, border_color="#BFBFBF", align="center")

    def line(row: int, caption: str, fmt, comment: str = "", height: float = 20) -> None:
        ws.merge_range(row, 0, row, 2, caption, label)
        ws.merge_range(row, 3, row, 4, None, fmt)
        ws.merge_range(row, 6, row, w, comment, note)
        lines = lines_needed(comment, sum(SUMMARY_WIDTHS[6:]) / 1.1)  # 9 pt text
        ws.set_row(row, max(height, 12 * lines + 4))

    scope = "四季度已结束，三种情景均为实际数" if quarter_closed else "四季度进行中：基准为预测中值"
    line(r + 1, "奖补资金测算总额（基准情景）", big, "", 26)
    put_formula(ws, r + 1, 3, f"={cell(total_row, 6)}", wan(grand.base), big)  # the total row's value
    put(ws, r + 1, 5, "万元", unit)
    put_formula(ws, r + 1, 6, stale_flag_formula(params), "", st.get(
        bold=True, font_color="#C00000", font_size=9, text_wrap=True, valign="vcenter", border=1,
        border_color="#BFBFBF"))
    line(r + 2, "可能区间（P10 – P90）", text,
         f"{scope}；低情景为第 10 百分位、高情景为第 90 百分位（由本表的低/高情景合计）。")
    put(ws, r + 2, 3, f"{wan_text(head.low_yuan)} – {wan_text(head.high_yuan)}", text)
    put(ws, r + 2, 5, "万元", unit)
    if head.previous is None:
        line(r + 3, "较上次测算", text, "无可比的上次测算（首次测算，或分市分册）。")
        put(ws, r + 3, 3, "—", text)
    else:
        prev = head.previous
        share = f"（{head.change_yuan / prev.base_yuan:+.1%}）" if prev.base_yuan else ""
        line(r + 3, "较上次测算", signed,
             f"上次：测算基准日 {prev.as_of}，基准 {wan_text(prev.base_yuan)} 万元{share}，运行于 "
             f"{prev.finished_at:%Y-%m-%d %H:%M}。")
        put(ws, r + 3, 3, wan(head.change_yuan), signed)
    put(ws, r + 3, 5, "万元", unit)
    line(r + 4, "奖补笔数（基准）", st.get(num_format=COUNT, border=1, border_color="#BFBFBF", bold=True),
         "一个对象在一个方案下计入预算记一笔；同一企业可在多个方案下各记一笔。")
    put(ws, r + 4, 3, head.awards, st.get(num_format=COUNT, border=1, border_color="#BFBFBF", bold=True))
    put(ws, r + 4, 5, "笔", unit)
    line(r + 5, "受益企业（不重复计）", st.get(num_format=COUNT, border=1, border_color="#BFBFBF", bold=True),
         "按统一社会信用代码去重：项目类方案计入项目单位。")
    put(ws, r + 5, 3, head.enterprises, st.get(num_format=COUNT, border=1, border_color="#BFBFBF", bold=True))
    put(ws, r + 5, 5, "家", unit)
    line(r + 6, "其中：无偿补助（基准）", value)
    put_formula(ws, r + 6, 3, f"={cell(subtotal_rows[0], 6)}", wan(grand.grant_base), value)
    put(ws, r + 6, 5, "万元", unit)
    put_formula(ws, r + 6, 6, f'="另有周转资金（有偿使用）"&TEXT({cell(subtotal_rows[1], 6)},"#,##0.00")&" 万元，'
                f'与无偿补助分列。"', f"另有周转资金（有偿使用）{wan_text(grand.revolving_base)} 万元，与无偿补助分列。",
                note)


def _write_signoff(ws, st: Styles, top: int) -> None:
    """A box finance signs: prepared, reviewed, approved, each with a date."""
    w = len(SUMMARY_WIDTHS) - 1
    ws.merge_range(top, 0, top, w, "审核签字", st.section)
    label = st.get(bold=True, bg_color="#F2F2F2", border=1, border_color="#808080", align="center")
    blank = st.get(border=1, border_color="#808080")
    for i, role in enumerate(("编制", "审核", "批准")):
        r = top + 1 + i
        ws.set_row(r, 32)
        ws.merge_range(r, 0, r, 1, f"{role}人（签字）", label)
        ws.merge_range(r, 2, r, 5, None, blank)
        ws.merge_range(r, 6, r, 7, "日期", label)
        ws.merge_range(r, 8, r, w, None, blank)


def _notes(catalogue: Catalogue, quarter_closed: bool, city: str | None) -> list[str]:
    exclusive = sorted({s.exclusive_group for s in catalogue.schemes.values() if s.exclusive_group})
    groups = [m for m in catalogue.measures if any(s.exclusive_group for s in m.schemes)]
    notes = [
        ("四季度已结束：基准、低、高三种情景相同，均为实际数。" if quarter_closed else
         "四季度尚未结束：基准为按已到达数据（月报、日电量、税务等先行指标及上年季节性）的预测；低、高为预测区间的两端。"),
        "基准金额为公式：费率、上限取自「参数」表黄色单元格，修改后所有基准合计在 Excel / LibreOffice 中自动重算；"
        "缓存值为测算引擎结果，不重算的查看器也显示正确数字。",
        "低、高情景金额、固定金额方案（如 M02 新建投产、小升规奖励，M15 新开工补助）及 M23 逐笔贴息为测算引擎的固定值，不随参数变化。",
        "是否符合条件由门槛类参数决定，表内不重算；调整门槛请用参数覆盖文件重新测算（gxindustry refresh --params）。",
    ]
    if exclusive:
        names = "、".join(f"{m.id} {m.title}" for m in groups)
        notes.append(f"{names} 的各方案互斥：每个项目按引擎选择的一项计入（金额最高者，并列按目录顺序）；"
                     "表内修改费率不会改变已选方案，三项评估结果均列在措施表中。")
    revolving = [s.id for s in catalogue.schemes.values() if s.funding == "revolving_fund"]
    if revolving:
        notes.append(f"{'、'.join(revolving)} 为周转资金（有偿使用），与无偿补助分列合计。")
    if city:
        notes.append(f"本册仅含 {city} 的受益对象；全区合计见全区测算表。")
    return notes


def _write_summary(ws, st: Styles, catalogue: Catalogue, sheets: list[MeasureSheet], rows: list[Row],
                   start: int) -> tuple[tuple[int, int], int, list[int]]:
    """The table by measure and scheme, the totals and the table by measure; returns the latter's
    (header, last) rows, the total row and the two subtotal rows."""
    schemes = catalogue.schemes
    by_scheme = _totals_by(rows, schemes, lambda r: r.scheme_id)
    sheet_of = {s.measure.id: s for s in sheets}
    subsidy = [m for m in catalogue.measures if m.kind == "subsidy"]
    scheme_list = [(m, s) for m in subsidy for s in m.schemes]
    grand = Totals()
    for t in by_scheme.values():
        for f in ("beneficiaries", "base", "low", "high", "grant_base", "revolving_base"):
            setattr(grand, f, getattr(grand, f) + getattr(t, f))

    headers = ["措施", "措施名称", "方案编号", "方案名称", "资金性质", "奖补笔数\n（基准）", "基准\n（万元）",
               "低情景\n（万元）", "高情景\n（万元）", "占基准\n合计", "基准金额计算方式"]

    def fmt(num_format: str | None = None):
        props = {"bottom": 1, "bottom_color": "#D9D9D9", "text_wrap": num_format is None}
        return st.get(num_format=num_format, **props) if num_format else st.get(**props)
    ws.merge_range(start, 0, start, len(headers) - 1, "按措施和方案", st.section)
    header_row = start + 1
    for c, h in enumerate(headers):
        ws.write_string(header_row, c, h, st.header)
    ws.set_row(header_row, 30)
    first = header_row + 1
    last = first + len(scheme_list) - 1
    subtotal_rows = [last + 1, last + 2]
    total_row = last + 3
    grand_ref = cell(total_row, 6, True, True)

    def share(r: int, value: Decimal, fmt) -> None:
        put_formula(ws, r, 9, f"=IF({grand_ref}=0,0,{cell(r, 6)}/{grand_ref})",
                    float(value / grand.base) if grand.base else 0, fmt)

    for i, (m, s) in enumerate(scheme_list):
        r = first + i
        t = by_scheme.get(s.id, Totals())
        for c, value in enumerate((m.id, m.title, s.id, s.title, FUNDING[s.funding])):
            put(ws, r, c, value, fmt())
        put(ws, r, 5, t.beneficiaries, fmt(COUNT))
        put_formula(ws, r, 6, _sumifs([sheet_of[m.id]], [("scheme", f'"{s.id}"')]), wan(t.base), fmt(MONEY))
        put(ws, r, 7, wan(t.low), fmt(MONEY))
        put(ws, r, 8, wan(t.high), fmt(MONEY))
        share(r, t.base, fmt(SHARE))
        put(ws, r, 10, "公式联动（费率/上限）" if s.id in LIVE else "固定值（引擎测算）", fmt())
        fit_height(ws, r, [(m.title, SUMMARY_WIDTHS[1]), (s.title, SUMMARY_WIDTHS[3])])

    funding_range = abs_range(SUMMARY, first, 4, last)
    columns = ((5, "beneficiaries", COUNT), (6, "base", MONEY), (7, "low", MONEY), (8, "high", MONEY))
    for r, (key, label) in zip(subtotal_rows, FUNDING.items()):
        parts = [t for sid, t in by_scheme.items() if schemes[sid].funding == key]
        ws.merge_range(r, 0, r, 4, f"{label}合计", st.total())
        for c, attr, num_format in columns:
            value = sum((getattr(t, attr) for t in parts), 0)
            put_formula(ws, r, c, f'=SUMIFS({abs_range(SUMMARY, first, c, last)},{funding_range},"{label}")',
                        value if attr == "beneficiaries" else wan(value), st.total(num_format))
        share(r, sum((t.base for t in parts), Decimal(0)), st.total(SHARE))
        ws.write_blank(r, 10, None, st.total())
    ws.merge_range(total_row, 0, total_row, 4, "总计（无偿补助 + 周转资金）", st.total())
    for c, attr, num_format in columns:
        value = getattr(grand, attr)
        put_formula(ws, total_row, c, f"={cell(subtotal_rows[0], c)}+{cell(subtotal_rows[1], c)}",
                    value if attr == "beneficiaries" else wan(value), st.total(num_format))
    put_formula(ws, total_row, 9, f"=IF({cell(total_row, 6)}=0,0,1)", 1 if grand.base else 0, st.total(SHARE))
    ws.write_blank(total_row, 10, None, st.total())

    _write_signoff(ws, st, total_row + 2)
    # by measure (columns A-E), the chart to its right, on a page of their own
    r0 = total_row + 2 + SIGNOFF_ROWS + 1
    ws.set_h_pagebreaks([start - 1, r0])
    ws.merge_range(r0, 0, r0, 10, "按措施（图中基准条为公式合计，低/高为引擎固定值）", st.section)
    mh = r0 + 1
    for c, h in enumerate(("措施", "措施名称", "基准（万元）", "低情景（万元）", "高情景（万元）")):
        ws.write_string(mh, c, h, st.header)
    ws.set_row(mh, 20)
    by_measure = _totals_by(rows, schemes, lambda r: r.measure_id)
    measure_range = abs_range(SUMMARY, first, 0, last)
    for i, m in enumerate(subsidy):
        r = mh + 1 + i
        t = by_measure.get(m.id, Totals())
        put(ws, r, 0, m.id, fmt())
        put(ws, r, 1, m.title, fmt())
        for c, source, value in ((2, 6, t.base), (3, 7, t.low), (4, 8, t.high)):
            put_formula(ws, r, c, f"=SUMIFS({abs_range(SUMMARY, first, source, last)},{measure_range},{cell(r, 0)})",
                        wan(value), fmt(MONEY))
        fit_height(ws, r, [(m.title, SUMMARY_WIDTHS[1])])
    return (mh, mh + len(subsidy)), total_row, subtotal_rows


def _measure_chart(wb, ws, rows: tuple[int, int], city: str | None) -> None:
    """Bars by measure (基准, 低, 高) to the right of the 按措施 table."""
    header, last = rows
    first = header + 1
    chart = wb.add_chart({"type": "bar"})
    for col, label, colour in ((3, "低情景", "#A9C4EB"), (2, "基准", "#1F4E78"), (4, "高情景", "#F4B183")):
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
    chart.set_plotarea({"layout": {"x": 0.36, "y": 0.12, "width": 0.46, "height": 0.72}})
    width_px = sum(int(w * 7 + 5) for w in SUMMARY_WIDTHS[5:]) - 8
    chart.set_size({"width": width_px, "height": 290})
    ws.insert_chart(header, 5, chart, {"x_offset": 6, "y_offset": 0})


def _write_breakdown(wb, ws, st: Styles, title: str, subtitle: str, key_header: str, keys: list[tuple[str, str]],
                     criterion: str, sheets: list[MeasureSheet], totals: dict[str, Totals],
                     code_header: str | None) -> None:
    """按城市 / 按行业: base amounts as SUMIFS over the measure tables, low/high static, a stacked chart."""
    name = ws.get_name()
    headers = ([code_header] if code_header else []) + [
        key_header, "奖补笔数\n（基准）", "无偿补助·基准\n（万元）", "周转资金·基准\n（万元）", "基准合计\n（万元）",
        "低情景\n（万元）", "高情景\n（万元）", "占基准\n合计"]

    def fmt(num_format: str | None = None):
        props = {"bottom": 1, "bottom_color": "#D9D9D9"}
        return st.get(num_format=num_format, **props) if num_format else st.get(**props)
    w = len(headers) - 1
    ws.merge_range(0, 0, 0, w, title, st.title)
    ws.set_row(0, 24)
    ws.merge_range(1, 0, 1, w, subtitle, st.subtitle)
    header_row = 3
    for c, h in enumerate(headers):
        ws.write_string(header_row, c, h, st.header)
    ws.set_row(header_row, 30)
    off = 1 if code_header else 0
    first = header_row + 1
    last = first + len(keys) - 1
    total_row = last + 1
    grand = sum((t.base for t in totals.values()), Decimal(0))
    grand_ref = cell(total_row, off + 4, True, True)
    for i, (code, label) in enumerate(keys):
        r = first + i
        t = totals.get(label, Totals())
        if code_header:
            put(ws, r, 0, code, fmt())
        put(ws, r, off, label, fmt())
        put(ws, r, off + 1, t.beneficiaries, fmt(COUNT))
        key_cell = cell(r, off, False, True)
        for c, funding, value in ((off + 2, "grant", t.grant_base), (off + 3, "revolving_fund", t.revolving_base)):
            put_formula(ws, r, c, _sumifs(sheets, [(criterion, key_cell), ("funding", f'"{FUNDING[funding]}"')]),
                        wan(value), fmt(MONEY))
        put_formula(ws, r, off + 4, f"={cell(r, off + 2)}+{cell(r, off + 3)}", wan(t.base), fmt(MONEY))
        put(ws, r, off + 5, wan(t.low), fmt(MONEY))
        put(ws, r, off + 6, wan(t.high), fmt(MONEY))
        put_formula(ws, r, off + 7, f"=IF({grand_ref}=0,0,{cell(r, off + 4)}/{grand_ref})",
                    float(t.base / grand) if grand else 0, fmt(SHARE))
    if code_header:
        ws.write_blank(total_row, 0, None, st.total())
    put(ws, total_row, off, "合计", st.total())
    for c, fmt, attr in ((off + 1, COUNT, "beneficiaries"), (off + 2, MONEY, "grant_base"),
                         (off + 3, MONEY, "revolving_base"), (off + 4, MONEY, "base"), (off + 5, MONEY, "low"),
                         (off + 6, MONEY, "high")):
        value = sum((getattr(t, attr) for t in totals.values()), 0)
        put_formula(ws, total_row, c, f"=SUM({cell(first, c)}:{cell(last, c)})",
                    value if attr == "beneficiaries" else wan(value), st.total(fmt))
    put_formula(ws, total_row, off + 7, f"=IF({cell(total_row, off + 4)}=0,0,1)", 1 if grand else 0,
                st.total(SHARE))
    widths = ([9] if code_header else []) + [16, 10, 15, 15, 15, 15, 15, 10]
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.freeze_panes(header_row + 1, off + 1)

    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    for c, label, colour in ((off + 2, "无偿补助", "#1F4E78"), (off + 3, "周转资金", "#F4B183")):
        chart.add_series({"name": label, "categories": [name, first, off, last, off],
                          "values": [name, first, c, last, c], "fill": {"color": colour}, "gap": 50})
    chart.set_title({"name": f"{key_header}分布（基准，万元）", "name_font": {"size": 11, "name": FONT}})
    chart.set_x_axis({"name": key_header, "name_font": {"name": FONT, "size": 9, "bold": False},
                      "num_font": {"name": FONT, "size": 9, "rotation": -45}})
    chart.set_y_axis({"name": "基准金额（万元）", "name_font": {"name": FONT, "size": 9, "bold": False},
                      "num_format": "#,##0", "num_font": {"name": FONT, "size": 9},
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom", "font": {"name": FONT, "size": 9}})
    chart.set_size({"width": 900, "height": 360})
    ws.insert_chart(total_row + 2, 0, chart, {"x_offset": 4, "y_offset": 4})
    print_setup(ws, fit_height=1)


# ----------------------------------------------------------------------------- entry point


def write_budget_workbook(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, params: Parameters,
                          reports_dir: Path, as_of: date, city_code: str | None = None) -> Path:
    """Write `<reports>/<as_of>/budget_forecast_<as_of>.xlsx`, or with `city_code` one prefecture's pack
    `<reports>/<as_of>/cities/budget_forecast_<as_of>_<city_code>.xlsx`; returns its path."""
    data.check_as_of(con, as_of)
    found = data.latest_fingerprint(con, as_of)
    if found is not None and found != params.fingerprint():
        raise data.StaleWarehouse(
            f"the measure tables were computed with parameter set {found}, not {params.fingerprint()}: "
            "the workbook's parameter cells would not match its cached amounts; run the measures again")
    city = data.city_name(con, city_code) if city_code else None
    rows = _rows(con, catalogue, as_of, city_code)
    schemes = catalogue.schemes
    cutoffs = data.data_cutoff(con, as_of)
    quarter_closed = as_of > catalogue.document.policy_quarter.end
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
            "comments": "基准金额为公式，随「参数」表中的费率、上限重算；低/高情景为测算引擎固定值。",
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
        used = {SUMMARY, BY_CITY, BY_GROUP, PARAMETERS}
        measure_rows: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            measure_rows[row.measure_id].append(row)
        parameter_names = {pid: entry.parameter.description for pid, entry in
                           ((e.parameter.id, e) for e in params)}
        sheets = [_write_measure_sheet(wb, st, m, measure_rows[m.id], params, used, parameter_names) for m in subsidy]
        _write_parameters(wb, st, catalogue, params, parameter_names)

        start = _write_info(summary, st, 10, title, as_of, params, cutoffs, _notes(catalogue, quarter_closed, city),
                            quarter_closed)
        measure_table, total_row, subtotal_rows = _write_summary(summary, st, catalogue, sheets, rows, start)
        grand = Totals()
        for row in rows:
            grand.add(row, schemes[row.scheme_id].funding)
        _write_headline(summary, st, data.headline(con, as_of, city_code), total_row, subtotal_rows, grand, params,
                        quarter_closed, city)
        _measure_chart(wb, summary, measure_table, city)
        for c, width in enumerate(SUMMARY_WIDTHS):
            summary.set_column(c, c, width)
        print_setup(summary, columns=(0, len(SUMMARY_WIDTHS) - 1), widths=list(SUMMARY_WIDTHS))
        summary.activate()

        scope = f"{city}，" if city else ""
        subtitle = (f"测算基准日 {as_of}｜{scope}基准合计为公式（随「参数」表重算），低/高情景为引擎固定值｜单位：万元")
        if by_city is not None:
            known = data.cities(con)
            names = {code for code, _ in known}
            extra = sorted({(r.city_code, r.city) for r in rows if r.city_code not in names})
            _write_breakdown(wb, by_city, st, "按城市（设区市）", subtitle, "城市", [*known, *extra], "city",
                             sheets, _totals_by(rows, schemes, lambda r: r.city), code_header="城市代码")
        groups = data.industry_groups(catalogue)
        groups += sorted({r.group for r in rows} - set(groups))
        _write_breakdown(wb, by_group, st, "按行业组", subtitle, "行业组", [(g, g) for g in groups], "group", sheets,
                         _totals_by(rows, schemes, lambda r: r.group), code_header=None)
        wb.close()
    return path
