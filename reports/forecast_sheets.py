"""The budget workbook's forecast sheets: 预测区间 (a fan chart per scheme) and 预测方法 (the method in
plain words, with the backtest's measured accuracy).

预测区间: for the total and every subsidy scheme, one block: a table of the runs up to this one
(P10, median, P90 of each as-of date in marts.policy_budget_history, the total's in
marts.policy_runs; this run's quartiles too, from marts.policy_budget_draws) and a native chart —
per run a floating column from P10 to P90 (this run: its P25–P75 darker) and the medians as a line,
so that finance sees the range narrow as the quarter is reported.

预测方法: what is reported and what is forecast as of the run, how the draws are made, what
base/low/high and a beneficiary's probability mean, the naive forecast the method is compared with,
and the backtest's accuracy per week of the quarter (docs/backtest/backtest.csv when present).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project import paths
from dagster_project.lib.measures.catalogue import Catalogue
from dagster_project.lib.measures.parameters import Parameters

from . import data
from .styles import (
    COUNT, FONT, MONEY, SIGNED_MONEY, Styles, add_sheet, fit_height, lines_needed, print_setup, put, wan,
)

FANS = "预测区间"
METHOD = "预测方法"
SHEETS = (FANS, METHOD)
# The darker band of this run's column: its quartiles (a display choice; low/high come from the catalogue).
INNER_BAND = (0.25, 0.75)
INNER_LABELS = tuple(f"P{round(q * 100)}" for q in INNER_BAND)
FAN_TABLE = ("测算基准日", "{low}\n（万元）", "{q1}\n（万元）", "中位数\n（万元）", "{q3}\n（万元）", "{high}\n（万元）",
             "中位数较上次\n（万元）")
FAN_WIDTHS = (17, 9, 9, 9, 9, 9, 10.5, 8.5, 8.5, 8.5, 8.5, 8.5, 8.5)  # the table, then the chart's columns (printed)
FAN_HELPER = len(FAN_WIDTHS) + 1  # the chart's data, to the right of the printed columns
# A scheme whose P90 is 0 in every run: at least nine draws in ten pay nothing (a few may pay).
ALL_ZERO_NOTE = "各次测算的低、基准、高情景均为 0 万元：至少九成的模拟中没有符合条件的对象。"
CHART_ROWS = 13
ROW_PT = 15  # default row height
# Rows' height planned per printed page, with room to spare: LibreOffice wraps some paragraphs onto
# more lines than lines_needed counts (at 560 the end of a section spilled onto a page of its own).
PAGE_PT = 480
LIGHT, DARK, MEDIAN = "#BDD7EE", "#2E75B6", "#C00000"
PCT = "0.0%"


# ----------------------------------------------------------------------------- 预测区间


def _segments(week: data.FanWeek) -> list[Decimal]:
    """The stacked column of one run: P10 (invisible), then the light and dark bands up to P90."""
    if week.quartiles is None:
        return [week.low, week.base - week.low, Decimal(0), Decimal(0), week.high - week.base]
    q1, q3 = week.quartiles
    return [week.low, q1 - week.low, week.base - q1, q3 - week.base, week.high - q3]


def _axis_floor(weeks: list[data.FanWeek]) -> float:
    """Where the value axis starts: below the lowest P10 by a round step (0 when it is near 0), so
    that the bands are not squeezed against a long empty column from 0."""
    lowest = min(wan(w.low) for w in weeks)
    spread = max(wan(w.high) for w in weeks) - lowest
    if spread == 0 or lowest <= spread:
        return 0
    step = 10 ** math.floor(math.log10(spread))
    return math.floor((lowest - spread * 0.25) / step) * step


def _fan_chart(wb, sheet: str, title: str, first: int, last: int, labels: tuple[str, str], floor: float):
    low, high = labels
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    outer, inner = f"{low}–{high} 区间", f"{INNER_LABELS[0]}–{INNER_LABELS[1]} 区间（本次）"
    names = (f"0 至 {low}（透明）", outer, inner, inner, outer)  # the legend shows the 2nd and 3rd only
    colours = (None, LIGHT, DARK, DARK, LIGHT)
    for k, (name, colour) in enumerate(zip(names, colours)):
        series = {"name": name, "categories": [sheet, first, FAN_HELPER, last, FAN_HELPER],
                  "values": [sheet, first, FAN_HELPER + 1 + k, last, FAN_HELPER + 1 + k], "gap": 90}
        if colour is None:
            series.update(fill={"none": True}, border={"none": True})
        else:
            series.update(fill={"color": colour}, border={"color": colour})
        chart.add_series(series)
    line = wb.add_chart({"type": "line"})
    line.add_series({"name": "中位数（基准）", "categories": [sheet, first, FAN_HELPER, last, FAN_HELPER],
                     "values": [sheet, first, FAN_HELPER + 6, last, FAN_HELPER + 6],
                     "line": {"color": MEDIAN, "width": 1.75},
                     "marker": {"type": "diamond", "size": 6, "fill": {"color": MEDIAN}, "border": {"color": MEDIAN}}})
    chart.combine(line)
    chart.set_title({"name": title, "name_font": {"size": 9, "name": FONT}, "overlay": False})
    chart.set_x_axis({"name": "测算基准日", "name_font": {"name": FONT, "size": 9, "bold": False},
                      "num_font": {"name": FONT, "size": 9}})
    chart.set_y_axis({"name": "万元", "name_font": {"name": FONT, "size": 9, "bold": False}, "num_format": "#,##0",
                      "num_font": {"name": FONT, "size": 9}, "min": floor,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "top", "font": {"name": FONT, "size": 9}, "delete_series": [0, 3, 4]})
    chart.set_size({"width": sum(int(w * 7 + 5) for w in FAN_WIDTHS[7:]) - 6, "height": CHART_ROWS * 20})
    return chart


def write_fans(wb, st: Styles, con: duckdb.DuckDBPyConnection, catalogue: Catalogue, as_of: date,
               params: Parameters, labels: tuple[str, str]) -> None:
    """预测区间: the total's and every subsidy scheme's range, run by run."""
    ws = add_sheet(wb, FANS)
    quantiles = tuple(float(params.base(pid)) for pid in ("forecast.quantile_low", "forecast.quantile_high"))
    fans = data.fans(con, as_of, quantiles, INNER_BAND)
    low, high = labels
    last_col = len(FAN_WIDTHS) - 1
    ws.merge_range(0, 0, 0, last_col, "预测区间：各次测算的中位数与区间", st.title)
    ws.set_row(0, 24)
    intro = (f"每列为一次测算（测算基准日）：浅色柱为 {low}–{high} 区间（按模型约 {int(high[1:]) - int(low[1:])}% "
             f"的可能落在其间），本次测算另以深色标出 {INNER_LABELS[0]}–{INNER_LABELS[1]} 区间，红线为各次的中位数（基准）。随着四季度数据陆续报送，"
             "区间逐周收窄；季度结束后三者重合为实际数。单位：万元。各次测算的方法见「预测方法」。")
    ws.merge_range(1, 0, 1, last_col, intro, st.note)
    fit_height(ws, 1, [(intro, sum(FAN_WIDTHS))], line_height=12)
    for c, width in enumerate(FAN_WIDTHS):
        ws.set_column(c, c, width)
    ws.set_column(FAN_HELPER, FAN_HELPER + 6, 10)
    put(ws, 2, FAN_HELPER, "图表数据：测算基准日、P10、各区间段、中位数（万元）", st.note)

    subsidy = [m for m in catalogue.measures if m.kind == "subsidy"]
    blocks = [(data.TOTAL, "奖补资金总额（全部方案）")]
    blocks += [(s.id, f"{s.id} {s.title}（{m.id} {m.title}）") for m in subsidy for s in m.schemes]
    header_fmt = st.get(bold=True, font_color="#FFFFFF", bg_color="#1F4E78", text_wrap=True, align="center",
                        border=1, border_color="#FFFFFF")
    line = {"bottom": 1, "bottom_color": "#D9D9D9"}
    money = st.get(num_format=MONEY, **line)
    signed = st.get(num_format=SIGNED_MONEY, **line)
    this_run = {"bold": True, "bg_color": "#FFF2CC", **line}
    r = 3
    used = ROW_PT * 3
    breaks = []
    for key, title in blocks:
        weeks = fans.get(key, [])
        height = 1 + (1 if not any(w.high for w in weeks) else max(1 + len(weeks), CHART_ROWS)) + 1
        if used + height * ROW_PT > PAGE_PT:
            breaks.append(r)
            used = 0
        used += height * ROW_PT
        ws.merge_range(r, 0, r, last_col, title, st.section)
        if not any(w.high for w in weeks):
            ws.merge_range(r + 1, 0, r + 1, last_col, ALL_ZERO_NOTE, st.note)
            r += height
            continue
        for c, h in enumerate(FAN_TABLE):
            ws.write_string(r + 1, c, h.format(low=low, high=high, q1=INNER_LABELS[0], q3=INNER_LABELS[1]),
                            header_fmt)
        ws.set_row(r + 1, 28)
        first = r + 2
        previous = None
        for i, week in enumerate(weeks):
            row = first + i
            current = week.as_of == as_of
            fmt = st.get(num_format=MONEY, **this_run) if current else money
            put(ws, row, 0, week.as_of.isoformat() + ("（本次）" if current else ""),
                st.get(**this_run) if current else st.get(**line))
            quartiles = week.quartiles or (None, None)
            for c, value in enumerate((week.low, quartiles[0], week.base, quartiles[1], week.high), start=1):
                put(ws, row, c, wan(value), fmt)
            if previous is None:
                put(ws, row, 6, "—", st.get(align="right", **line))
            else:
                put(ws, row, 6, wan(week.base - previous.base),
                    st.get(num_format=SIGNED_MONEY, **this_run) if current else signed)
            previous = week
            put(ws, row, FAN_HELPER, f"{week.as_of.month}月{week.as_of.day}日")
            for k, segment in enumerate(_segments(week)):
                put(ws, row, FAN_HELPER + 1 + k, wan(segment))
            put(ws, row, FAN_HELPER + 6, wan(week.base))
        last = first + len(weeks) - 1
        ws.insert_chart(r + 1, 7, _fan_chart(wb, FANS, f"{title.split('（')[0]}（万元）", first, last, labels,
                                                      _axis_floor(weeks)),
                        {"x_offset": 4, "y_offset": 2})
        r += height
    ws.set_row(r - 1, ROW_PT)  # the print area reaches the end of the last chart, not of its table
    ws.set_h_pagebreaks(breaks)
    ws.freeze_panes(3, 0)
    print_setup(ws, columns=(0, last_col), widths=[*FAN_WIDTHS, 1, *(10,) * 7])


# ----------------------------------------------------------------------------- 预测方法


METHOD_WIDTHS = (12, 10, 14, 14, 14, 14, 16)


def _month_text(d: date) -> str:
    return f"{d.year}年{d.month}月"


def _reported(catalogue: Catalogue, cutoffs: list[data.FeedCutoff], quarter_closed: bool) -> list[str]:
    """Per feed: how far it is reported as of the run, and what of the policy quarter is forecast."""
    quarter = catalogue.document.policy_quarter
    months = [date(quarter.start.year, m, 1) for m in range(quarter.start.month, quarter.end.month + 1)]
    out = []
    for c in cutoffs:
        end = c.end
        if c.files == 0:  # nothing to forecast from: the rules read no rows (汇总 names the datasets in red)
            out.append(f"{c.label}：尚无到达文件，没有可据以预测的数据，依赖它的方案按无数据测算（见汇总红字说明）。")
        elif c.period is None and quarter_closed:
            out.append(f"{c.label}：截至测算基准日登记的记录为已知（登记在册）；四季度已结束，没有需要预测的新增登记。")
        elif c.period is None:
            days = "、".join(f"{label} {day}" for label, day in c.registered)
            out.append(f"{c.label}：已登记的记录为已知（登记在册）；"
                       + (f"各登记表最新一条记录的日期（{days}）之后至 {quarter.end} 可能新增的登记为预测（预计季末前新增）："
                          "登记表由人工整理后交付，最新记录之后、测算基准日之前发生的事项可能尚未录入。" if days else
                          f"此后至 {quarter.end} 可能新增的登记为预测（预计季末前新增）。"))
        elif len(c.period) == 8:
            rest = "四季度已全部读到。" if end >= quarter.end else \
                f"{end + timedelta(days=1)} 至 {quarter.end} 为预测。"
            out.append(f"{c.label}：已读至 {end}；{rest}")
        else:
            missing = [m for m in months if data.period_end(f"{m.year}{m.month:02d}") > end]
            rest = "四季度已全部报送。" if not missing else \
                f"四季度尚缺 {'、'.join(_month_text(m) for m in missing)}，为预测。"
            out.append(f"{c.label}：已报至 {_month_text(end)}；{rest}")
    return out


class Page:
    """Rows written down a text sheet, with a page break before a section that would not fit."""

    def __init__(self, ws, st: Styles, widths: tuple[float, ...], row: int) -> None:
        self.ws, self.st, self.widths, self.row = ws, st, widths, row
        self.used = row * ROW_PT
        self.breaks: list[int] = []

    @property
    def last_col(self) -> int:
        return len(self.widths) - 1

    def height(self, text: str, line_height: float) -> float:
        return max(ROW_PT, line_height * lines_needed(text, sum(self.widths)) + 2)

    def section(self, title: str, texts: list[str], line_height: float = 14, extra: float = 0) -> None:
        """A section title and its paragraphs (and `extra` points of rows the caller adds below), on a
        new page when they would not fit on this one."""
        height = 20 + sum(self.height(t, line_height) for t in texts) + ROW_PT + extra
        if self.used + min(height, PAGE_PT / 2) > PAGE_PT:
            self.breaks.append(self.row)
            self.used = 0
        self.ws.merge_range(self.row, 0, self.row, self.last_col, title, self.st.section)
        self.ws.set_row(self.row, 20)
        self.used += height
        for text in texts:
            self.row += 1
            self.paragraph(text, self.st.get(text_wrap=True, valign="top"), line_height)
        self.row += 2

    def paragraph(self, text: str, fmt, line_height: float) -> None:
        self.ws.merge_range(self.row, 0, self.row, self.last_col, text, fmt)
        fit_height(self.ws, self.row, [(text, sum(self.widths))], line_height=line_height)


def _span(counts: tuple[int, ...]) -> str:
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low}—{high}"


def _source(path: Path) -> str:
    return str(path.relative_to(paths.PROJECT_ROOT)) if path.is_relative_to(paths.PROJECT_ROOT) else str(path)


def _accuracy(page: Page, title: str, backtest: data.Backtest | None, week: int, labels: tuple[str, str]) -> None:
    """The backtest's accuracy of the total per week of the quarter, this run's week marked."""
    low, high = labels
    band = int(high[1:]) - int(low[1:])
    if backtest is None or not backtest.weeks:
        page.section(title, ["尚无回测结果。"])
        return
    findings = []
    this_week = next((w for w in backtest.weeks if w.week == week), None)
    if this_week is not None:
        error = "—" if this_week.model_error is None else f"{this_week.model_error:.1%}"
        worst = "" if this_week.model_max_error is None else \
            f"最不利的一次误差为 {this_week.model_max_error:.1%}，"
        findings.append(f"本次测算为季度第 {week} 周：回测中这一周总额的误差中位数为 {error}，{worst}{band}% 区间覆盖实际的"
                        f"比例为 {this_week.model_covered:.0%}（{this_week.cases} 次回测）；"
                        f"区间之外的结果仍会出现，预算安排宜按区间而非单一数字考虑。")
    if backtest.scheme_covered is not None:
        findings.append(f"各方案：{backtest.scheme_forecasts} 个（回测×周×方案）实际不为 0 的模型预测中，实际落在 {band}% "
                        f"区间内的占 {backtest.scheme_covered:.0%}。")
    notes = ["误差 = |基准 − 实际| ÷ 实际，取各次回测的中位数；覆盖实际 = 实际结果落在区间内的比例（按设计应约为 "
             f"{band}%）；区间评分综合区间宽度与未覆盖时的偏离，越小越好，「优于朴素」为模型区间评分较小的回测所占比例。",
             f"来源：{_source(backtest.path)}（gxindustry backtest 生成；{backtest.cases} 组数据×年份，"
             "每周一按当日可得的数据重放一次）。示例数据的历史从首个回放年份前两年的1月开始：较晚年份的回放可用的"
             "历史更长，误差通常更小；仓库只有两年历史时宜参照较早年份（见 docs/forecast.md）。"]
    page.section(title, findings, extra=(len(backtest.weeks) + 2) * ROW_PT + sum(page.height(t, 12) for t in notes))
    ws, st = page.ws, page.st
    r = page.row - 1
    headers = ("季度第几周", "回测次数", "模型：误差\n（中位数）", f"模型：{band}%区间\n覆盖实际", "朴素：误差\n（中位数）",
               f"朴素：{band}%区间\n覆盖实际", "区间评分\n优于朴素")
    for c, h in enumerate(headers):
        ws.write_string(r, c, h, st.header)
    ws.set_row(r, 30)
    line = {"bottom": 1, "bottom_color": "#D9D9D9"}
    for w in backtest.weeks:
        r += 1
        props = {"bold": True, "bg_color": "#FFF2CC", **line} if w.week == week else line
        put(ws, r, 0, f"第 {w.week} 周" + ("（本次）" if w.week == week else ""), st.get(**props))
        put(ws, r, 1, w.cases, st.get(num_format=COUNT, **props))
        for c, value in enumerate((w.model_error, w.model_covered, w.naive_error, w.naive_covered, w.better), start=2):
            put(ws, r, c, "—" if value is None else value, st.get(num_format=PCT, align="right", **props))
    page.row = r + 1
    for text in notes:
        page.row += 1
        page.paragraph(text, st.note, 12)


def _dormant_note(dormant: tuple[tuple[str, int, int, int, bool], ...]) -> str:
    """The sentence on entities reporting 0 in their latest months (series.PointForecast.dormant_level)."""
    parts = [f"{label}：{count} 个对象最近的月份为 0（此前不为 0）；往年各时点同样停滞的 {paths} 例中 {restarted} 例此后恢复，"
             + ("模拟中按此比例和幅度恢复" if drawn else "例数太少，无法估计恢复的可能，按 0 预测（若恢复则预测偏低）")
             for label, count, paths, restarted, drawn in dormant]
    return "停滞：" + "；".join(parts) + "。点预测按 0 计。"


def write_method(wb, st: Styles, catalogue: Catalogue, as_of: date, cutoffs: list[data.FeedCutoff],
                 run: data.ForecastRun | None, labels: tuple[str, str], quarter_closed: bool, city: str | None,
                 backtest_csv: Path | None = None) -> None:
    """预测方法: the method in plain Chinese and the backtest's accuracy (`backtest_csv`, by default
    docs/backtest/backtest.csv of the repository; "尚无回测结果" when absent)."""
    ws = add_sheet(wb, METHOD)
    low, high = labels
    band = int(high[1:]) - int(low[1:])
    draws = run.draws if run else None
    last_col = len(METHOD_WIDTHS) - 1
    ws.merge_range(0, 0, 0, last_col, "预测方法与精度", st.title)
    ws.set_row(0, 24)
    ws.merge_range(1, 0, 1, last_col, f"测算基准日 {as_of}" + (f"｜{city}分册：方法与精度为全区口径" if city else ""),
                   st.subtitle)
    page = Page(ws, st, METHOD_WIDTHS, 3)
    page.section(f"一、截至 {as_of} 已报送什么、预测什么",
                 (["四季度数据已全部报送：测算结果为实际数，不含预测（只有一种结果，基准、低、高三种情景相同）。"]
                  if quarter_closed else []) + _reported(catalogue, cutoffs, quarter_closed))
    if not quarter_closed:
        page.section("二、怎样预测：模拟多种可能的结果", [
            "点预测：企业未报送的月份 = 上年同月 × 近几个月的同比增长；项目和没有上年同期数据的企业 = "
            "最近几个月的平均值 × 同类对象往年同期的变化（数据有几年取几年的平均；其间完工停报的按零计；项目与往年剩余工期"
            "相近的项目比（按近几个月的投资进度，完成计划总投资还需几个月：收尾、中期、建设期分别比较）；项目的预测到累计完成投资达到计划总投资的一定比例为止——"
            "该比例取已竣工项目实际完成比例的高分位（假设参数，见「参数」表），收尾项目不会被预测为超出计划继续全速投资）。已有当月部分日电量的，按上年同期同日期、同星期几的用电结构"
            "折算成整月（国庆假期、周末不按平均日计），用电量走势修正当月产值，其后月份延续多少按历史数据估计。",
            "误差：在往年各个时点重做同样的预测"
            + (f"（本次 {_span(run.origins)} 个时点）" if run and run.origins else "")
            + "，与后来报送的实际比较，得到误差分布：同组共同的误差（企业按行业组，项目按是否新开，同组一起偏高或偏低）"
            "和各企业、项目自身的误差（取规模、剩余工期相近的往年对象）。从未检验过的月份（如两年数据中的12月项目集中投资）"
            "只见过一次，加大其不确定性。",
            *([f"注意：{'、'.join(run.unmeasured)}的历史数据太短（需上年同期及其前几个月），误差无法实测，其区间按默认离散度"
               "（假设参数，见「参数」表）模拟，可信度低于下文回测所示。"] if run and run.unmeasured else []),
            *([f"迟报：{run.late_enterprises} 家企业尚未报送最新一期月报（此前按月报送、未退库），视为迟报而非停报：其未报月份"
               "从最近一期报送起预测，计入模拟；补报到达后按实际数计。"] if run and run.late_enterprises else []),
            *([_dormant_note(run.dormant)] if run and run.dormant else []),
            *(["补录：登记表由人工整理、整本重新交付，最新记录之前几周已发生的事项常在其后才录入。按以往各版登记表对其最新记录"
               "之前相应天数的完整程度推算，尚未录入的约有 " + "、".join(f"{label} {rows:.1f} 笔" for label, rows in run.unregistered)
               + "，与此后可能新增的登记一起计入模拟（预计季末前新增）。"] if run and run.unregistered else []),
            "新增对象：季末前还会新增的登记（贷款、活动申报、供需对接、认定名单）和首次报送的企业和项目，按“上年同期此后新增的数量 × "
            "本年进度”估计数量，并从上年同期的记录中抽样；临规企业入统按本年每家临规企业每月的入统率（本年入统数 ÷ 临规企业月数）"
            "乘以现有临规企业数和剩余月数估计，入统企业按规模从现有临规企业中抽取；尚未开工的项目按历史上的"
            "月开工率（开工数 ÷ 等待的项目月数）在部分模拟中开工，不再符合M11“尚未开工”的条件。KPI 报告中的计数指标"
            "（新入库项目、新认定企业、新入统企业等）同样为“已登记或已报送的 + 模拟中季末前新增的”，取模拟结果的中位数。",
            "模拟：每次模拟同时抽取一组共同误差（开工不久的项目投资逐月爬升，往年各时点的预测对其普遍偏低，故单列一组；"
            "各项数据取同一往年时点）、各企业自身误差（企业的产值与用电、项目的投资与"
            "设备取同一往年对象的误差）和新增对象，加到已报送的数据上，按政策规则完整计算"
            f"一遍各方案的奖补；共模拟 {draws or '若干'} 次"
            + (f"（随机种子 {run.seed}：同样的数据和参数总得到同样的结果）" if run else "") + "。",
        ])
        page.section("三、基准、低情景、高情景", [
            f"基准 = 全部模拟结果的中位数（一半模拟高于它，一半低于它）；低情景 = 第 {low[1:]} 百分位，高情景 = 第 {high[1:]} "
            f"百分位。按模型，实际结果约有 {band}% 的可能落在低、高之间，高于高情景、低于低情景的可能各约 "
            f"{(100 - band) // 2}%。",
            "每个数字取其自身的分布：方案、措施、城市、行业组和总计各自计算中位数和百分位，"
            "所以总计的中位数不等于各方案中位数之和，低、高情景亦然。",
            "表内修改费率、上限后，基准按所列对象的金额变化调整，低、高情景不随之变化（表中以红字提示），"
            "需用参数覆盖文件重新测算。",
        ])
        page.section("四、单个企业、项目的“概率”", [
            "措施表中每一行显示该对象在其自身中位情景下的评估：是否符合条件、金额和计算依据。",
            "符合条件概率 = 全部模拟中该对象符合条件的比例（接近门槛的介于 0 与 100% 之间，已确定的为 100%）；"
            "期望金额 = 各次模拟中计入预算金额的平均值（不符合条件时计 0）。",
            "预计季末前新增的对象尚未登记或报送，无法列出名称：它们计入方案合计（见「汇总」中已知对象与预计新增的拆分），"
            "不在措施表中。",
        ])
        page.section("五、与朴素预测比较", [
            "朴素预测：缺失月份 = 上年同月 × 本年累计增长率，误差模拟和政策规则与模型相同。回测在往年数据上逐周重放"
            "两种方法，与后来的实际比较，见下表。",
        ])
    week = data.week_of_quarter(catalogue.document.policy_quarter.start, as_of)
    _accuracy(page, ("二" if quarter_closed else "六") + "、回测精度：往年数据逐周重放，预测与实际的比较（总额）",
              data.backtest(backtest_csv or paths.BACKTEST_CSV), week, labels)
    for c, width in enumerate(METHOD_WIDTHS):
        ws.set_column(c, c, width)
    ws.set_h_pagebreaks(page.breaks)
    print_setup(ws, columns=(0, last_col), widths=list(METHOD_WIDTHS))
