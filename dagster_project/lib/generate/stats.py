"""stats feed: enterprise directory, monthly industrial report, investment project library (GB18030)."""

from __future__ import annotations

from datetime import date

import numpy as np

from . import headers
from .defects import STATS_V2_MONTH, StatsDefects, corrupt_uscc, v2_arrival, v2_due
from .enterprises import Population
from .projects import Projects
from .schedule import STATS_DAY, delivery_date
from .writers import Landing, fixed, months_text

# The bureau exports from Windows: GB18030 with CRLF line ends.
FORMAT = {"encoding": "gb18030", "crlf": True}


def year_to_date(values: np.ndarray, reported: np.ndarray, months: list[int]) -> np.ndarray:
    """Cumulative sums from January (or the first report of the year) to each month."""
    cum = np.zeros_like(values)
    years = np.array(months) // 100
    for year in np.unique(years):
        cols = np.flatnonzero(years == year)
        cum[:, cols] = np.cumsum(np.where(reported[:, cols], values[:, cols], 0), axis=1)
    return cum


def write_stats(landing: Landing, pop: Population, projects: Projects, defects: StatsDefects) -> None:
    window = pop.window
    cum_output = year_to_date(pop.output, pop.reported, window.months)
    cum_revenue = year_to_date(pop.revenue, pop.reported, window.months)
    cum_profit = year_to_date(pop.profit, pop.reported, window.months)
    cumulative = (cum_output, cum_revenue, cum_profit)
    codes = pop.table["uscc"].to_numpy()
    for month in window.delivered_months(STATS_DAY):
        t = window.index(month)
        name = f"stats_industry_{month}.csv"
        _directory(landing, pop, t, month)
        rows = np.flatnonzero(pop.reported[:, t])
        published = codes[rows].copy()
        for i in np.flatnonzero(defects.bad_code[rows, t]).tolist():
            published[i] = corrupt_uscc(published[i])
            landing.note(f"stats/{name}: mistyped 统一社会信用代码 {published[i]} (is {codes[rows[i]]})")
        for e, revised_t in defects.revised:
            if revised_t == t:
                landing.note(f"stats/{name}: 累计 of {codes[e]} includes a quiet revision of the previous "
                             f"month (+{defects.misreport[e, t - 1] / 10:.1f} 千元)")
        order = headers.STATS_INDUSTRY_ALT if month % 100 % 4 == 0 else headers.STATS_INDUSTRY
        _industry(landing, name, pop, cumulative, rows, published, defects.misreport[rows, t], t, month, order,
                  delivery_date(month, STATS_DAY))
        _projects(landing, projects, t, month)
    base = delivery_date(STATS_V2_MONTH, STATS_DAY)
    if STATS_V2_MONTH in window.delivered_months(STATS_DAY) and v2_due(base, window.as_of):
        t = window.index(STATS_V2_MONTH)
        rows = defects.v2_rows
        name = f"stats_industry_{STATS_V2_MONTH}_v2.csv"
        _industry(landing, name, pop, cumulative, rows, codes[rows], np.zeros(len(rows), dtype=np.int64), t,
                  STATS_V2_MONTH, headers.STATS_INDUSTRY, v2_arrival(base))
        for e in rows.tolist():
            landing.note(f"stats/{name}: corrects 工业总产值 of {codes[e]} "
                         f"(+{defects.misreport[e, t] / 10:.1f} 千元 against stats_industry_{STATS_V2_MONTH}.csv)")


def _directory(landing: Landing, pop: Population, t: int, month: int) -> None:
    ent = pop.table.loc[pop.listed[:, t]]
    entered = ent["entered"].to_numpy()
    exited = ent["exited"].to_numpy()
    above = (entered > 0) & (entered <= month)
    columns = {
        "统一社会信用代码": ent["uscc"].tolist(),
        "企业名称": ent["name"].tolist(),
        "行政区划代码": ent["county"].tolist(),
        "行业代码": ent["industry"].tolist(),
        "规模标志": np.where(above, "规上", "临规").tolist(),
        "入统年月": months_text(entered, blank=~above),
        "投产年月": months_text(ent["started"].to_numpy()),
        "退库年月": months_text(exited, blank=~((exited > 0) & (exited <= month))),
    }
    landing.write_csv("stats", f"stats_enterprise_{month}.csv", columns, headers.STATS_ENTERPRISE,
                      arrival=delivery_date(month, STATS_DAY), **FORMAT)


def _industry(
    landing: Landing,
    name: str,
    pop: Population,
    cumulative: tuple[np.ndarray, np.ndarray, np.ndarray],
    rows: np.ndarray,
    codes: np.ndarray,
    shortfall: np.ndarray,
    t: int,
    month: int,
    order: list[str],
    arrival: date,
) -> None:
    """One monthly report; `shortfall` is missing from the published output (see StatsDefects)."""
    cum_output, cum_revenue, cum_profit = cumulative
    columns = {
        "统一社会信用代码": codes.tolist(),
        "报告期": [str(month)] * len(rows),
        "工业总产值_本月_千元": fixed(pop.output[rows, t] - shortfall, 1),
        "工业总产值_累计_千元": fixed(cum_output[rows, t] - shortfall, 1),
        "营业收入_本月_千元": fixed(pop.revenue[rows, t], 1),
        "营业收入_累计_千元": fixed(cum_revenue[rows, t], 1),
        "利润总额_累计_千元": fixed(cum_profit[rows, t], 1),
        "从业人员期末人数": pop.employees[rows, t].astype(str).tolist(),
    }
    landing.write_csv("stats", name, columns, order, arrival=arrival, **FORMAT)


def _projects(landing: Landing, projects: Projects, t: int, month: int) -> None:
    rows = np.flatnonzero(projects.in_library[:, t])
    p = projects.table.iloc[rows]
    started = p["started"].to_numpy()
    completed = p["completed"].to_numpy()
    columns = {
        "项目代码": p["code"].tolist(),
        "项目名称": p["name"].tolist(),
        "统一社会信用代码": p["uscc"].tolist(),
        "行政区划代码": p["county"].tolist(),
        "行业代码": p["industry"].tolist(),
        "建设性质": p["nature"].tolist(),
        "计划总投资_万元": fixed(p["plan"].to_numpy(), 2),
        "开工年月": months_text(started, blank=~((started > 0) & (started <= month))),
        "入库年月": months_text(p["entered"].to_numpy()),
        "本月完成投资_万元": fixed(projects.invest[rows, t], 2),
        "本月设备购置_万元": fixed(projects.equipment[rows, t], 2),
        "项目标签": p["tags"].tolist(),
        "竣工年月": months_text(completed, blank=~((completed > 0) & (completed <= month))),
    }
    landing.write_csv("stats", f"stats_projects_{month}.csv", columns, headers.STATS_PROJECTS,
                      arrival=delivery_date(month, STATS_DAY), **FORMAT)
