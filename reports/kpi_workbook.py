"""`kpi_report_<as_of>.xlsx`: every measure's KPI status, the industry-group growth table, the
monitoring lists and a data-quality sheet.

Sheets: 指标总览 (all 34 measures: kind, indicator, target, actual/forecast, progress, status
colour), 行业增速 (growth of the industry groups against their targets, with a chart), one
sheet per monitoring list (measure 1's four lists, measure 33's 退库风险 list), 数据质量 (per feed:
files, rows accepted and rejected, top rejection reasons; refused files; checks that failed;
rejected rows).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb

from dagster_project.lib.ingest.spec import REGISTERS_AVAILABLE_ON
from dagster_project.lib.ingest.withdrawals import WITHDRAWN, deliveries_in_use
from dagster_project.lib.measures.catalogue import Catalogue, Kpi
from dagster_project.lib.quality.suites import load_suites
from dagster_project.lib.quality.warehouse import LATEST_VIEW, standing_failures, table_exists

from . import data, wording
from .wording import plain, thousands, with_values
from .safe_write import as_of_dir, atomic_path
from .styles import (
    COUNT, FONT, MONEY, PERCENT_POINTS, SHARE, TABLE_STYLE, Styles, add_sheet, fit_height, fit_widths, new_workbook,
    print_setup, project_version, put, sheet_name, spanned_headers, wan,
)

OVERVIEW = "指标总览"
GROWTH = "行业增速"
QUALITY = "数据质量"
KINDS = {"subsidy": "奖补资金", "kpi_target": "量化目标", "monitoring_list": "监测清单", "qualitative": "定性措施"}
STATUSES = ("达标", "进度正常", "滞后", "无量化指标")
REJECTED_ROWS_SHOWN = 500
# 最近到达日 of a register read as it stands on every day (no arrival rule in FEEDS.md; its rows
# are cut by their own dates), instead of a blank cell
REGISTER_ARRIVAL = "随时更新"
# how a list's `value` column reads: (header, kind) with kind "share" (a fraction), "yuan" (元 -> 万元)
LIST_VALUES = {
    "M01.list_positive": ("本年累计产值增速", "share"),
    "M01.list_negative": ("本年累计产值增速", "share"),
    "M01.list_near_above_size": ("近12个月营业收入（万元）", "yuan"),
    "M33.exit_risk": ("1—9月产值、营业收入中较小者（万元）", "yuan"),
}


@dataclass(frozen=True)
class CheckOutcome:
    """A data-quality check evaluated in the run (dbt test, expectation suite, ...)."""

    asset: str
    check: str
    passed: bool
    severity: str  # "ERROR" / "WARN"
    failed_rows: int | None = None
    description: str = ""


def parameter_names(catalogue: Catalogue) -> dict[str, str]:
    """Parameter id -> what it is, for notes that cite parameters."""
    return {pid: p.description for pid, p in catalogue.parameters.items()}


def parameter_values(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, str]:
    """Parameter id -> the value the run used, with its unit (`80%`, `2000万元`), for definitions that cite it."""
    return {pid: f"{value}{unit}" for pid, value, unit in con.execute(
        "select parameter_id, value, unit from marts.policy_parameters where as_of = ? and value is not null",
        [as_of]).fetchall()}


def kpi_path(reports_dir: Path, as_of: date, city_code: str | None = None) -> Path:
    folder = as_of_dir(reports_dir, as_of)
    if city_code:
        return folder / "cities" / f"kpi_report_{as_of.isoformat()}_{city_code}.xlsx"
    return folder / f"kpi_report_{as_of.isoformat()}.xlsx"


def _target_text(kpi: Kpi, target: float | None, unit: str | None) -> str:
    unit = unit or ""
    if kpi.target_op in (">=", ">", "≈"):
        op = {">=": "≥", ">": ">", "≈": "≈"}[kpi.target_op]
        return f"{op} {float(kpi.target_value):g}{unit}"
    if kpi.target_op == "narrows":
        base = f"{target:.2f}%" if target is not None else "—"
        return f"降幅收窄：全年增速 > 1—9月增速（{base}）"
    if kpi.target_op == "positive":
        return "扭负为正：全年增速 > 0"
    return "不设目标"


def _progress(kpi: Kpi | None, target: float | None, actual: float | None) -> float | None:
    if kpi is None or kpi.target_op not in (">=", ">", "≈") or not target or actual is None or target <= 0:
        return None
    return actual / target


def _value_format(unit: str | None) -> str:
    if unit == "%":
        return PERCENT_POINTS
    if unit in ("亿元", "万元"):
        return MONEY
    return COUNT


def _write_title(ws, st: Styles, width: int, title: str, subtitle: str) -> None:
    ws.merge_range(0, 0, 0, width, title, st.title)
    ws.set_row(0, 24)
    ws.merge_range(1, 0, 1, width, subtitle, st.subtitle)


def _overview(wb, st: Styles, con, catalogue: Catalogue, as_of: date, city: str | None, city_code: str | None,
              title: str) -> None:
    ws = add_sheet(wb, OVERVIEW)
    kpis = defaultdict(list)
    for row in con.execute(
        "select measure_id, kpi_id, indicator, unit, target_value, actual_value, status from marts.policy_kpis"
        " where as_of = ?", [as_of]
    ).fetchall():
        kpis[row[0]].append(row)
    budget = data.measure_budgets(con, as_of, city_code)
    sections = {s.number: s.title for s in catalogue.sections}
    kpi_defs = {k.id: k for _, k in catalogue.kpis}
    quarter_closed = data.quarter_reported(catalogue, as_of, con)
    names = parameter_names(catalogue)
    in_force = parameter_values(con, as_of)

    actual_header = "实际" if quarter_closed else "实际/预测"
    # (header, width); the first PRINTED columns are what a printed page shows
    columns = [("序号", 4), ("措施", 5), ("措施名称", 14), ("类型", 7), ("指标", 26), ("单位", 5), ("目标口径", 16),
               (actual_header, 10), ("完成进度", 7), ("实际−目标", 9), ("状态", 9), ("说明", 44),
               ("指标编号", 22), ("目标值", 10), ("所属部分", 22)]
    printed = 11  # 序号 … 状态; 说明 and the codes are for Excel users
    headers = [h for h, _ in columns]
    rows: list[list] = []
    for m in catalogue.measures:
        order = [k.id for k in m.kpis]
        found = sorted(kpis.get(m.id, []), key=lambda r: order.index(r[1]) if r[1] in order else len(order))
        note = plain(m.note or "", names)
        head = [m.number, m.id, m.title, KINDS[m.kind]]
        tail = [f"{m.section}. {sections[m.section]}"]
        if m.kind == "subsidy":
            f = budget.get(m.id, data.ZERO)
            scope = "本市所列对象基准情景之和" if city_code else "模拟结果的中位数"
            rows.append(head + ["奖补资金测算（基准情景）", "万元", "不设目标", wan(f.base), None, None, "无量化指标",
                                f"{f.awards} 笔奖补，{f.beneficiaries} 个受益对象（不重复计；{scope}）；"
                                "明细见奖补资金测算表。", "—", None] + tail)
        for _, kpi_id, indicator, unit, target, actual, status in found:
            kpi = kpi_defs.get(kpi_id)
            if kpi is None and kpi_id == m.id:  # qualitative: the measure itself stands in for a KPI
                rows.append(head + ["无数据驱动指标", None, "不设目标", None, None, None, status, note, "—", None] + tail)
                continue
            if kpi is None:  # a monitored count without a target (e.g. the 退库风险 list)
                rows.append(head + [indicator, unit, "不设目标（监测）", actual, None, None, status,
                                    with_values("；".join(lst.definition for lst in m.lists), in_force) or note,
                                    kpi_id, None]
                            + tail)
                continue
            gap = actual - target if actual is not None and target is not None else None
            scope = "（全区口径）" if city_code else ""
            rows.append(head + [indicator + scope, unit, _target_text(kpi, target, unit), actual,
                                _progress(kpi, target, actual), gap, status,
                                plain(kpi.source or kpi.assumption_note or "", names), kpi_id, target] + tail)
        if not found and m.kind != "subsidy":
            rows.append(head + ["无数据驱动指标", None, "不设目标", None, None, None, "无量化指标", note, "—", None] + tail)

    width = len(headers) - 1
    scope = f"｜{city}：指标为全区口径，奖补资金为本市" if city else ""
    state = "四季度已结束，实际数" if quarter_closed else f"{data.quarter_phase(catalogue, as_of)}：实际/预测栏为预测数"
    _write_title(ws, st, printed - 1, title,
                 f"截至 {as_of}（{state}）"
                 f"｜{len(catalogue.measures)} 条措施｜gxindustry {project_version()}{scope}")
    counts = Counter(r[10] for r in rows)
    ws.merge_range(3, 0, 3, 1, "状态", st.label)
    ws.merge_range(3, 2, 3, 4, "含义", st.label)
    ws.write_string(3, 5, "指标数", st.label)
    meanings = {"达标": "已达到目标（季度已结束）", "进度正常": "预测可达到目标", "滞后": "预测达不到目标",
                "无量化指标": "政策未设量化目标（奖补、定性、监测清单）"}
    for i, status in enumerate(STATUSES):
        ws.merge_range(4 + i, 0, 4 + i, 1, status, st.status(status))
        ws.merge_range(4 + i, 2, 4 + i, 4, meanings[status], st.info)
        ws.write_number(4 + i, 5, counts.get(status, 0), st.get(num_format=COUNT, border=1, border_color="#BFBFBF"))
    header_row = 9
    first = header_row + 1
    top = {"valign": "top", "bottom": 1, "bottom_color": "#D9D9D9"}
    text_fmt = st.get(text_wrap=True, **top)
    small = st.get(font_size=9, font_color="#404040", **top)  # 说明: one line on screen, not printed
    widths = [w for _, w in columns]
    for i, values in enumerate(rows):
        r = first + i
        unit = values[5]
        for c, value in enumerate(values):
            if c in (7, 9, 13):
                fmt = st.get(num_format=_value_format(unit), **top)
            elif c == 8:
                fmt = st.get(num_format=SHARE, **top)
            elif c == 10:
                fmt = st.status(value)
            elif c == 11:
                fmt = small
            elif c == 0:
                fmt = st.get(num_format=COUNT, **top)
            else:
                fmt = text_fmt
            put(ws, r, c, value, fmt)
        fit_height(ws, r, [(values[c], widths[c]) for c in (2, 4, 6)], line_height=15)  # 10 pt CJK text needs ~15 pt a line (13 clipped third lines)
    ws.add_table(header_row, 0, first + len(rows) - 1, width, {
        "name": "T_overview", "style": TABLE_STYLE, "columns": [{"header": h} for h in headers]})
    for c, h in enumerate(headers):
        ws.write_string(header_row, c, h, st.header)
    ws.set_row(header_row, 30)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(header_row + 1, 3)
    print_setup(ws, repeat_rows=(header_row, header_row))
    ws.print_area(0, 0, first + len(rows) - 1, printed - 1)
    ws.activate()


def _growth(wb, st: Styles, con, catalogue: Catalogue, as_of: date, city: str | None) -> None:
    ws = add_sheet(wb, GROWTH)
    found = {r[0]: r[1:] for r in con.execute(
        "select kpi_id, target_value, actual_value, status from marts.policy_kpis where as_of = ?", [as_of]
    ).fetchall()}
    headers = ["行业组", "措施", "指标编号", "目标口径", "目标\n（%）", "全年增速\n（%）", "差距\n（百分点）", "状态"]
    _write_title(ws, st, len(headers) - 1, "重点行业全年产值增速与目标",
                 f"截至 {as_of}｜全年增速 = 2024年与2023年均有报表企业的可比口径；四季度未结束时为预测数"
                 + (f"｜全区口径（{city}分册同）" if city else ""))
    header_row = 3
    rows = []
    for m, k in catalogue.kpis:
        if not k.industry_group or k.id not in found:
            continue
        target, actual, status = found[k.id]
        gap = actual - target if actual is not None and target is not None else None
        rows.append([k.industry_group, m.id, k.id, _target_text(k, target, "%"), target, actual, gap, status])
    first = header_row + 1
    last = first + len(rows) - 1
    for i, values in enumerate(rows):
        for c, value in enumerate(values):
            fmt = st.get(num_format=PERCENT_POINTS) if c in (4, 5, 6) else (st.status(value) if c == 7 else None)
            put(ws, first + i, c, value, fmt)
    if rows:
        ws.add_table(header_row, 0, last, len(headers) - 1, {
            "name": "T_growth", "style": TABLE_STYLE, "columns": [{"header": h} for h in headers]})
    for c, h in enumerate(headers):
        ws.write_string(header_row, c, h, st.header)
    ws.set_row(header_row, 30)
    fit_widths(ws, headers, rows, minimum=9, maximum=40)
    ws.freeze_panes(header_row + 1, 1)
    if rows:
        chart = wb.add_chart({"type": "column"})
        for col, label, colour in ((4, "目标（降幅收窄类为1—9月增速）", "#A6A6A6"), (5, "全年增速（预测）", "#1F4E78")):
            chart.add_series({"name": label, "categories": [GROWTH, first, 0, last, 0],
                              "values": [GROWTH, first, col, last, col], "fill": {"color": colour}, "gap": 80})
        chart.set_title({"name": "重点行业全年产值增速：预测与目标（%）", "name_font": {"size": 11, "name": FONT}})
        chart.set_x_axis({"num_font": {"name": FONT, "size": 9, "rotation": -45}, "label_position": "low"})
        chart.set_y_axis({"num_format": "0", "num_font": {"name": FONT, "size": 9},
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_legend({"position": "bottom", "font": {"name": FONT, "size": 9}})
        chart.set_size({"width": 900, "height": 360})
        ws.insert_chart(last + 2, 0, chart, {"x_offset": 4, "y_offset": 4})
    print_setup(ws, fit_height=1)


def _lists(wb, st: Styles, con, catalogue: Catalogue, as_of: date, city_code: str | None, used: set[str]) -> None:
    regions = dict(data.cities(con))
    in_force = parameter_values(con, as_of)
    for m in catalogue.measures:
        for lst in m.lists:
            rows = con.execute(
                """select uscc, enterprise_name, city_code, industry_group, value, detail from marts.policy_lists
                   where as_of = $as_of and list_id = $list and ($city::varchar is null or city_code = $city::varchar)
                   order by city_code, industry_group, uscc""",
                {"as_of": as_of, "list": lst.id, "city": city_code},
            ).fetchall()
            name = sheet_name(lst.title)
            while name in used:
                name = sheet_name(name[:28] + f"_{len(used)}")
            used.add(name)
            ws = add_sheet(wb, name)
            value = LIST_VALUES.get(lst.id)
            headers = ["序号", "统一社会信用代码", "企业名称", "城市", "行业组"] + ([value[0]] if value else []) + ["说明"]
            _write_title(ws, st, len(headers) - 1, f"{m.id} {lst.title}（{len(rows)} 家）",
                         f"截至 {as_of}｜口径：{with_values(lst.definition, in_force)}")
            header_row = 3
            out = []
            for i, (uscc, name_, city, group, v, detail) in enumerate(rows, 1):
                shown = None if value is None else (v if value[1] == "share" else wan(v))
                out.append([i, uscc, name_, regions.get(city, city), group] + ([shown] if value else [])
                           + [thousands(detail) if detail else detail])
            value_fmt = None if value is None else st.get(num_format="0.00%" if value[1] == "share" else MONEY)
            number_fmt = st.get(num_format="0", align="center")  # right-aligned, 序号 ran into the USCC beside it
            for i, values in enumerate(out):
                for c, v in enumerate(values):
                    fmt = value_fmt if (value and c == 5) else (number_fmt if c == 0 else None)
                    put(ws, header_row + 1 + i, c, v, fmt)
            if out:
                ws.add_table(header_row, 0, header_row + len(out), len(headers) - 1, {
                    "name": f"T_{lst.id.replace('.', '_')}", "style": TABLE_STYLE,
                    "columns": [{"header": h} for h in headers]})
            else:
                ws.merge_range(header_row + 1, 0, header_row + 1, len(headers) - 1, "清单为空。", st.note)
            for c, h in enumerate(headers):
                ws.write_string(header_row, c, h, st.header)
            ws.set_row(header_row, 30)
            fit_widths(ws, headers, out, maximum=32)
            ws.freeze_panes(header_row + 1, 3)
            print_setup(ws, repeat_rows=(header_row, header_row))


def _table(ws, st: Styles, top: int, title: str, headers: list[str], rows: list[list], name: str,
           formats: dict[int, object] | None = None, empty: str = "无。") -> int:
    """A titled, filterable table at `top`; returns the next free row."""
    ws.merge_range(top, 0, top, max(len(headers) - 1, 6), title, st.section)
    header_row = top + 1
    formats = formats or {}
    for i, values in enumerate(rows):
        for c, v in enumerate(values):
            put(ws, header_row + 1 + i, c, v, formats.get(c))
    if rows:
        ws.add_table(header_row, 0, header_row + len(rows), len(headers) - 1, {
            "name": name, "style": TABLE_STYLE, "columns": [{"header": h} for h in headers]})
    for c, h in enumerate(headers):
        ws.write_string(header_row, c, h, st.header)
    ws.set_row(header_row, 30)
    if not rows:
        ws.merge_range(header_row + 1, 0, header_row + 1, len(headers) - 1, empty, st.note)
        return header_row + 3
    return header_row + len(rows) + 2


# A..J, shared by the blocks of 数据质量; A holds a delivery's name whole up to a `_vN` correction
# ("stats_industry_202409_v2.csv"; at 20 the ".csv" of "customs_export_202305.csv" wrapped alone),
# B a dataset's label on one line ("活动申报（applications）": at 25 a second, empty line was kept for it)
QUALITY_WIDTHS = (32, 27, 7, 9, 9, 8, 7, 9, 9, 15)


def _block(ws, st: Styles, top: int, title: str, columns: list[tuple[str, int, int]], rows: list[list],
           formats: dict[int, object] | None = None, empty: str = "无。") -> int:
    """A titled block of rows on 数据质量 where each column spans sheet columns (first, last) and
    long texts get merged cells and rows tall enough to show them; returns the next free row."""
    last_col = len(QUALITY_WIDTHS) - 1
    ws.merge_range(top, 0, top, last_col, title, st.section)
    header_row = top + 1
    spanned_headers(ws, header_row, columns, st.header)
    if not rows:
        ws.merge_range(header_row + 1, 0, header_row + 1, last_col, empty, st.note)
        return header_row + 3
    formats = formats or {}
    base = {"valign": "top", "text_wrap": True, "bottom": 1, "bottom_color": "#D9D9D9"}
    text_fmt = st.get(**base)
    for i, values in enumerate(rows):
        r = header_row + 1 + i
        cells = []
        for c, ((_, first, last), value) in enumerate(zip(columns, values)):
            fmt = formats.get(c, text_fmt)
            if first == last:
                put(ws, r, first, value, fmt)
            else:
                ws.merge_range(r, first, r, last, None, fmt)
                put(ws, r, first, value, fmt)
            if isinstance(value, str):
                cells.append((value, sum(QUALITY_WIDTHS[first:last + 1])))
        # 14 pt a line: at 13 the fourth line of a label mixing CJK and Latin was cut off in print
        fit_height(ws, r, cells, line_height=14, max_lines=12)
    return header_row + len(rows) + 2


def _quality(wb, st: Styles, con, as_of: date, checks: list[CheckOutcome] | None) -> None:
    ws = add_sheet(wb, QUALITY)
    width = len(QUALITY_WIDTHS) - 1
    _write_title(ws, st, width, "数据质量", f"截至 {as_of} 已到达的文件（到达日不晚于测算基准日）｜拒收行不进入仓库，"
                                         "原文件保留在接收目录")
    # Counted from the deliveries in use: a withdrawn file's rows are not in the marts (listed below).
    deliveries = deliveries_in_use(con)
    feeds = con.execute(
        f"""
        select feed, dataset, count(*) as files, sum(rows_read), sum(rows_accepted), sum(rows_rejected),
               max(period) filter (where period is not null and period <> ''), max(available_on)
        from {deliveries} where available_on <= ? group by feed, dataset order by feed, dataset
        """, [as_of]).fetchall()
    reasons: dict[tuple, Counter] = defaultdict(Counter)
    for feed, dataset, reason, n in con.execute(
        f"""
        select m.feed, m.dataset, r.reason, count(*) as n
        from raw._rejected_rows r join {deliveries} m using (file_name)
        where m.available_on <= ? group by all
        """, [as_of]).fetchall():
        reasons[(feed, dataset)][wording.reason_kind(reason)] += n
    rows = []
    for feed, dataset, files, read, accepted, rejected, period, arrived in feeds:
        rate = (rejected / read) if read else None
        top = sorted(reasons[(feed, dataset)].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        rows.append([data.FEED_LABELS.get(feed, feed).split("（")[0] + f"（{feed}）",
                     f"{data.DATASET_LABELS.get(dataset, dataset)}（{dataset}）", files, read, accepted, rejected, rate,
                     (data.latest_reading(con) if (feed, dataset) == ("power", "daily") else None) or data.period_end(period),
                     arrived if arrived and arrived != REGISTERS_AVAILABLE_ON else REGISTER_ARRIVAL,
                     "；".join(f"{kind}（{n:,} 行）" for kind, n in top) or "—"])
    date_fmt = st.get(num_format="yyyy-mm-dd", valign="top")
    count_fmt = st.get(num_format=COUNT, valign="top")
    next_row = _table(ws, st, 3, "各数据源接收情况", [
        "数据源", "数据集", "文件数", "读取行数", "接受行数", "拒收行数", "拒收率", "数据截至\n（日期）", "最近到达日",
        "主要拒收原因\n（行数）"],
        rows, "T_feeds", {0: st.get(valign="top"), 1: st.get(valign="top"), 2: count_fmt, 3: count_fmt, 4: count_fmt, 5: count_fmt,
                          6: st.get(num_format="0.00%", valign="top"), 7: date_fmt, 8: date_fmt,
                          9: st.get(text_wrap=True, valign="top")})
    for i, values in enumerate(rows):
        fit_height(ws, 5 + i, [(values[0], QUALITY_WIDTHS[0]), (values[1], QUALITY_WIDTHS[1]),
                               (values[9], QUALITY_WIDTHS[9])])

    # ruled below like the text cells of a block (_block)
    stamp = st.get(num_format="yyyy-mm-dd hh:mm", valign="top", text_wrap=True, bottom=1, bottom_color="#D9D9D9")
    withdrawn = con.execute(
        f"""select w.file_name, w.feed, w.source, w.reason, w.withdrawn_at
            from {WITHDRAWN} w join raw._manifest m using (file_name)
            where m.available_on <= ? order by w.feed, w.file_name, w.source""", [as_of]).fetchall()
    next_row = _block(ws, st, next_row, f"已撤回的文件（{len(withdrawn)} 个；其数据保留在原始层，不进入测算）",
                      [("文件名", 0, 0), ("撤回原因", 1, 6), ("数据源", 7, 7), ("撤回方", 8, 8), ("撤回时间", 9, 9)],
                      [[name, wording.withdrawal_reason(source, reason), feed, wording.WITHDRAWN_BY.get(source, source),
                        at] for name, feed, source, reason, at in withdrawn],
                      {4: stamp}, empty="无撤回的文件。")

    refusals = con.execute(
        "select file_name, reason, feed, first_seen_at, last_seen_at from raw._file_refusals order by feed, file_name"
    ).fetchall()
    next_row = _block(ws, st, next_row, f"整文件拒收（{len(refusals)} 个文件）",
                      [("文件名", 0, 0), ("原因", 1, 6), ("数据源", 7, 7), ("首次发现", 8, 8), ("最近发现", 9, 9)],
                      [[name, wording.reason(reason), feed, first, last] for name, reason, feed, first, last in refusals],
                      {3: stamp, 4: stamp}, empty="无整文件拒收。")

    if checks is None:
        # Written outside a run (reports.render_check, a test): the run's checks are unknown, the
        # expectations below are read from the warehouse and still hold.
        ws.merge_range(next_row, 0, next_row, width, "流水线检查（dbt 测试、资产检查）的通过情况只在流水线运行中附上；本表在流水线之外"
                       "生成，未附。下文各文件的数据期望取自仓库，不受影响。", st.note)
        next_row += 2
    else:
        checks_start = next_row
        checks = _checks_as_of(con, as_of, checks)
        suite_labels = {s.name: s.label for s in load_suites()}
        failed = sorted((c for c in checks if not c.passed), key=lambda c: (c.severity.upper() != "ERROR", c.asset,
                                                                            c.check))
        title = f"未通过的数据检查（共 {len(checks)} 项检查，未通过 {len(failed)} 项；同一数据每次运行结果相同）"
        next_row = _block(ws, st, next_row, title,
                          [("对象", 0, 0), ("检查", 1, 3), ("级别", 4, 4), ("问题行数", 5, 5), ("说明", 6, 9)],
                          [[c.asset, f"{wording.check_name(c.check, c.asset, suite_labels)}\n（{c.check}）",
                            wording.SEVERITY.get(c.severity.upper(), c.severity), c.failed_rows,
                            wording.check_description(c.description)] for c in failed],
                          # centred: right-aligned, the count ran into the 说明 beside it ("1 1,396 行中…" read 11,396)
                          {3: st.get(num_format=COUNT, valign="top", align="center", bottom=1, bottom_color="#D9D9D9")},
                          empty="全部检查通过。")

    # The run's checks and the two long blocks start on a page of their own: a block's title and
    # header printed alone at the foot of a page, its rows on the next without them, could not be read.
    page_breaks = [] if checks is None else [checks_start]
    page_breaks.append(next_row)
    next_row = _expectations_not_met(ws, st, con, as_of, next_row)
    page_breaks.append(next_row)

    total = con.execute(
        f"select count(*) from raw._rejected_rows r join {deliveries} m using (file_name) where m.available_on <= ?",
        [as_of]).fetchone()[0]
    detail = con.execute(
        f"""select r.file_name, r.reason, r.field, r.line, r.header, r.value
           from raw._rejected_rows r join {deliveries} m using (file_name)
           where m.available_on <= ? order by r.file_name, r.line, r.field limit ?""",
        [as_of, REJECTED_ROWS_SHOWN]).fetchall()
    shown = f"前 {REJECTED_ROWS_SHOWN} 行，" if total > REJECTED_ROWS_SHOWN else ""
    _block(ws, st, next_row, f"拒收行明细（{shown}共 {total:,} 行；全部见仓库 raw._rejected_rows）",
           [("文件名", 0, 0), ("原因", 1, 2), ("字段", 3, 4), ("行号", 5, 5), ("表头", 6, 7), ("原值", 8, 9)],
           [[name, wording.reason(reason), field, line, header, value]
            for name, reason, field, line, header, value in detail],
           {3: st.get(num_format=COUNT, valign="top", bottom=1, bottom_color="#D9D9D9")}, empty="无拒收行。")
    for c, w in enumerate(QUALITY_WIDTHS):
        ws.set_column(c, c, w)
    ws.freeze_panes(3, 0)
    ws.set_h_pagebreaks(page_breaks)
    print_setup(ws, columns=(0, width), widths=list(QUALITY_WIDTHS))


def _checks_as_of(con, as_of: date, checks: list[CheckOutcome]) -> list[CheckOutcome]:
    """The run's checks, with each expectation-suite check judged on the latest validation of every
    file delivered by the as-of date (and of each mart), not on what this run happened to validate:
    a rerun that finds no new file reports the same failures as the run that validated them."""
    if not table_exists(con, LATEST_VIEW):
        return checks
    failing = {check: (expectations, len(files), rows)
               for check, (expectations, files, rows) in standing_failures(con, as_of).items()}
    suites = {s.check_name(sev) for s in load_suites() for sev in s.severities}
    out = []
    for c in checks:
        if c.check not in suites:
            out.append(c)
            continue
        found = failing.get(c.check)
        severity = "阻断" if c.check.endswith("_blocking") else "警告"
        if found is None:
            out.append(replace(c, passed=True, failed_rows=None, description=f"{severity}期望全部满足"))
        else:
            expectations, files, rows = found
            where = f"{files} 个文件" if files else "最新一次校验"
            out.append(replace(c, passed=False, failed_rows=rows,
                               description=f"{where}中有 {expectations} 项{severity}期望未满足（各文件最新一次校验）"))
    return out


def _expectations_not_met(ws, st: Styles, con, as_of: date, first_row: int) -> int:
    """The GX expectations not met in the latest validation of each delivered file (arrived by the
    as-of date) and of each mart suite: the state of the data, whichever run validated it (a file is
    validated once, in the run that first sees it, and again only while a blocking check fails).
    Only suites the code still has: a suite removed or renamed judges nothing any more, though its
    last results stay in the warehouse's history."""
    suites = {s.name for s in load_suites()}
    rows = con.execute(
        f"""
        select coalesce(q.file_name, q.asset), q.suite, q.label, q.severity, q.unexpected_count, q.observed_value,
               q.unexpected_examples
        from {LATEST_VIEW} q left join raw._manifest m using (file_name)
        where q.outcome <> 'pass' and (q.file_name is null or m.available_on <= ?)
        order by q.severity, q.suite, coalesce(q.file_name, q.asset), q.expectation
        """, [as_of]).fetchall() if table_exists(con, LATEST_VIEW) else []
    rows = [r for r in rows if r[1] in suites]
    blocking = sum(r[3] == "blocking" for r in rows)
    return _block(ws, st, first_row, f"未满足的数据期望（各文件最新一次校验；阻断 {blocking} 项，警告 {len(rows) - blocking} 项；"
                  "全部见仓库 marts.dq_check_results_latest）",
                  [("文件或数据表", 0, 0), ("期望（套件）", 1, 1), ("级别", 2, 2), ("问题行数", 3, 3), ("观察值", 4, 6),
                   ("示例", 7, 9)],
                  [[where, f"{label}\n（{suite}）", wording.SEVERITY.get(severity, severity), count,
                    wording.observed(observed), wording.examples(examples)]
                   for where, suite, label, severity, count, observed, examples in rows],
                  # centred like 问题行数 above: right-aligned, "1" ran into the "1,422 行中…" beside it
                  {3: st.get(num_format=COUNT, valign="top", align="center", bottom=1, bottom_color="#D9D9D9")},
                  empty="全部数据期望均已满足。")


def write_kpi_workbook(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, reports_dir: Path, as_of: date,
                       city_code: str | None = None, checks: list[CheckOutcome] | None = None) -> Path:
    """Write `<reports>/<as_of>/kpi_report_<as_of>.xlsx` (or a prefecture's pack under `cities/`).

    `checks`: the data-quality checks evaluated in the run, listed on 数据质量 when given.
    With `city_code` the monitoring lists and the subsidy amounts are the prefecture's; KPI targets
    are province-wide and stay so."""
    data.check_as_of(con, as_of)
    city = data.city_name(con, city_code) if city_code else None
    title = f"{catalogue.document.title}·指标进度" + (f"（{city}）" if city else "")
    path = kpi_path(reports_dir, as_of, city_code)
    with atomic_path(path) as tmp:
        wb = new_workbook(tmp)
        st = Styles(wb)
        wb.set_properties({"title": title, "subject": f"指标进度，截至 {as_of}", "author": "gxindustry",
                           "category": "kpi_report", "keywords": f"as_of={as_of}; version={project_version()}"})
        wb.set_custom_property("as_of", as_of.isoformat())
        wb.set_custom_property("gxindustry_version", project_version())
        if city_code:
            wb.set_custom_property("city_code", city_code)
        _overview(wb, st, con, catalogue, as_of, city, city_code, title)
        _growth(wb, st, con, catalogue, as_of, city)
        _lists(wb, st, con, catalogue, as_of, city_code, {OVERVIEW, GROWTH, QUALITY})
        _quality(wb, st, con, as_of, checks)
        wb.close()
    return path
