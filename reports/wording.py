"""Plain Chinese for what finance reads: the workbooks turn developer text into it at the last moment.

The pipeline's own messages (ingest rejection reasons, Great Expectations summaries, dbt test names,
the catalogue's notes citing the contract or parameter ids) are written for operators and stay as
they are in the warehouse and the logs. A workbook shows them through these functions; a text no
rule here recognises is shown as it is, so nothing is hidden.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from dagster_project.lib.ingest.withdrawals import GONE_FROM_LANDING, LANDING, OPERATOR

# --- rejection reasons (dagster_project/lib/ingest/loader.py, lib/uscc.py) ---------------------------

# What kind of thing a stray entry of the landing dir is (lib/ingest/landing.py `_kind`).
_KINDS = {"symbolic link": "符号链接", "symbolic link pointing nowhere": "失效的符号链接",
          "FIFO (named pipe)": "命名管道", "socket": "套接字", "device file": "设备文件", "file": "文件",
          "folder": "文件夹"}
_RESEND = "文件似乎被截断，请提供方重新发送"


def _undecodable(m: re.Match) -> str:
    name, line, encoding, feed, guessed = m.group(1, 2, 3, 4, 6)
    hint = f"；按 {guessed} 可以解码：是否用错了编码？" if guessed else ""
    return f"{name}：第 {line} 行不是有效的 {encoding} 编码（{feed} 数据源按 {encoding} 发送）{hint}"


def _byte_order_mark(m: re.Match) -> str:
    name, feed, encoding, cause = m.group(1, 2, 3, 4)
    if cause.startswith("the text after the mark is neither"):
        what = f"标记之后的内容既不是 UTF-8 也不是 {encoding}；请提供方按 {encoding} 重新发送"
    elif cause.startswith("the text after the mark"):
        what = f"标记之后的内容是 {encoding} 编码；请提供方去掉该标记后重新保存"
    else:
        what = f"文件按 UTF-8 保存；请提供方按 {encoding} 发送"
    return f"{name}：文件以 UTF-8 字节顺序标记（EF BB BF）开头，但 {feed} 数据源按 {encoding} 发送：{what}"


def _missing_columns(m: re.Match) -> str:
    unknown = f"；另有未知列 {m.group(4)}" if m.group(4) else ""
    return f"{m.group(1)}：缺少必需列 {m.group(2)}{unknown}"


def _same_key(m: re.Match) -> str:
    lines = re.sub(r" \(\+(\d+) more\)", r" 等（另 \1 行）", m.group(2))
    return f"同一文件中键重复且取值不同：与第 {lines} 行的 {m.group(1)} 相同而其他值不同，无法确定以哪一行为准，均不加载"


_REASONS: list[tuple[re.Pattern, str | Callable[[re.Match], str]]] = [
    # a row's field (loader.py `_check_sql`, `_rejections`; readers.py `_cell_problem`)
    (re.compile(r"^invalid USCC: check character '(.)', expected '(.)'$"),
     r"统一社会信用代码校验码错误：末位为 \1，应为 \2"),
    (re.compile(r"^invalid USCC: organisation-code check digit '(.)', expected '(.)'$"),
     r"统一社会信用代码错误：组织机构代码校验位为 \1，应为 \2"),
    (re.compile(r"^invalid USCC: length (\d+), expected 18$"), r"统一社会信用代码位数错误：\1 位，应为 18 位"),
    (re.compile(r"^invalid USCC: characters outside GB 32100-2015 charset or non-digit division code$"),
     "统一社会信用代码无效：含 GB 32100-2015 字符集以外的字符（如小写字母、I、O、Z、S、V），或登记管理部门代码不是数字"),
    (re.compile(r"^invalid USCC: (.*)$"), r"统一社会信用代码无效（\1）"),
    (re.compile(r"^required value missing$"), "必填项为空"),
    (re.compile(r"^invisible character (U\+[0-9A-F]+) in a key: .*$"),
     r"代码中含不可见字符“\1”（如字节顺序标记、零宽空格）：看上去与原代码相同，却与任何其他行都对不上，请删除该字符"),
    (re.compile(r"^look-alike character (.) \((U\+[0-9A-F]+)\) in a key: .*$"),
     r"代码中含形似半角字符的“\1”（\2，如全角字符、长破折号）：看上去与原代码相同，却与任何其他行都对不上，请改用半角字符"),
    (re.compile(r"^a quote opened on line (\d+) closes inside a value on line (\d+): .*$"),
     r"第 \1 行开始的引号在第 \2 行的值中间才结束：第 \1—\2 行被读成一条记录，整条不加载（请检查名称中的半角引号）"),
    (re.compile(r"^a hidden row: .*$"), "隐藏行：打开登记表的人看不到这一行；若是记录请取消隐藏，若不是请删除"),
    (re.compile(r"^every value of the row is struck through: .*$"),
     "整行加了删除线：登记表显示该行已作废；若已作废请删除该行，若是有效记录请去掉删除线"),
    (re.compile(r"^a struck-through value: .*$"), "该值加了删除线：登记表显示其已作废；请填写有效的值，不加删除线"),
    (re.compile(r"^a row hidden by the sheet's filter: .*$"),
     "被筛选隐藏的行：登记表保存时开着筛选，这一行看不到；请清除筛选，使全部记录可见后重新报送"),
    (re.compile(r"^a space or line break inside a key: .*$"),
     "代码中含空格或换行：看上去与原代码相同，却与任何其他行都对不上，请删除"),
    (re.compile(r"^a special space (U\+[0-9A-F]+) in a key .*$"),
     r"代码或名称中含特殊空格“\1”（如不间断空格、窄空格）：看上去像普通空格或没有空格，却与任何其他行都对不上，请改为普通空格或删除"),
    (re.compile(r"^Excel's text guard .* around a key: .*$"),
     "代码带有 Excel 文本保护（=\"…\"）或引号：与任何其他行都对不上，请只填代码本身"),
    (re.compile(r"^invisible character (U\+[0-9A-F]+) in the value: .*$"),
     r"值中含不可见字符“\1”（如字节顺序标记）：看上去是有效的日期或数值，却无法读取，请删除该字符"),
    (re.compile(r"^a number \((\d+)\), not a date: .*$"),
     r"日期单元格中是数字 \1（Excel 日期序列号？）：请把单元格设为日期格式，或填写 YYYY-MM-DD"),
    (re.compile(r"^not a month YYYYMM$"), "不是有效年月（应为 YYYYMM）"),
    (re.compile(r"^not a date YYYY-MM-DD$"), "不是有效日期（应为 YYYY-MM-DD）"),
    (re.compile(r"^not a number$"), "不是数值"),
    (re.compile(r"^not a whole number$"), "不是整数"),
    (re.compile(r"^not above 0 \(leave it blank when there is none\)$"), "须大于 0（没有时留空）"),
    (re.compile(r"^unknown value \(allowed: (.*)\)$"), r"取值不在允许范围内（允许：\1）"),
    (re.compile(r"^unknown county code.*$"), "行政区划代码不是广西县级代码（GB/T 2260）"),
    (re.compile(r"^unknown GB/T 4754-2017 class$"), "行业代码不是 GB/T 4754-2017 小类"),
    (re.compile(r"^unknown ISO 3166-1 alpha-3 country$"), "国别代码不是 ISO 3166-1 三字母代码"),
    (re.compile(r"^outside (\S+) \.\. (\S+) \(the dates the checks can hold\)$"), r"超出可处理的日期范围（\1 至 \2）"),
    (re.compile(r"^out of range: must be below ([\d,]+) in absolute value .*$"), r"超出范围：绝对值须小于 \1"),
    (re.compile(r"^more than (\d+) decimal places: .*$"), r"小数超过 \1 位（仓库保留 \1 位）"),
    (re.compile(r"^text of ([\d,]+) characters: longer than a workbook cell holds \(([\d,]+)\), it would be cut$"),
     r"文本过长：\1 个字符，超过工作簿单元格的上限（\2 个字符），会被截断"),
    (re.compile(r"^(\d+) fields where the header has (\d+): .*$"),
     r"字段数与表头不符：本行有 \1 个字段，表头有 \2 个，未加引号的逗号或缺少的分隔符使各值错位，本行不加载"),
    (re.compile(r"^repeats line (\d+) exactly \(same (.+)\): loaded once, from line \d+$"),
     r"同一文件中整行重复：与第 \1 行完全相同（\2 相同），只加载一次（第 \1 行）"),
    (re.compile(r"^same (.+) as line\(s\) (.+) with other values: which one holds is unknown, none is loaded$"), _same_key),
    (re.compile(r"^the cell holds the Excel error (.+)$"), r"单元格为 Excel 错误值：\1"),
    (re.compile(r"^a percentage cell: it shows (.+?)% and holds (.+?); enter the number of per cent \((.+?)\) in a "
                r"plain number cell$"), r"百分比格式单元格：显示 \1%，实际值为 \2；请在普通数值单元格中填写百分数（\3）"),
    (re.compile(r"^a cell formatted to show another number than it holds \((.+); it holds (.+?)\): .*$"),
     r"单元格格式显示的数与实际值不同（格式 \1，实际值 \2）：请在普通数值单元格中按该列的单位填写"),
    (re.compile(r"^part of the merged cell (\S+): the sheet shows (.+) here, the file holds it only in its first cell; .*$"),
     r"属于合并单元格 \1：表中此处显示 \2，但文件只在合并区域的第一个单元格中保存该值；请取消合并并在每一行填写"),
    (re.compile(r"^a totals row: .*$"), "合计行：上方各行之和，不是一条记录，不加载"),
    (re.compile(r"^a number cell \((.+?)\): Excel keeps only (\d+) digits of a number, .*$"),
     r"代码填在数值单元格中（\1）：Excel 只保留数值的 \2 位有效数字，代码已不是所填的代码；请改填在文本格式单元格中（或在前面加 '）"),
    (re.compile(r"^a formula without a saved result \((.*)\): open .*$"),
     r"公式没有保存计算结果（\1）：请用 Excel 或 LibreOffice 打开工作簿并保存，使结果存入文件"),
    # a whole file (readers.py, loader.py `_read`, `_map_headers`; filenames.py; landing.py)
    (re.compile(r"^(.+?): empty file$"), r"\1：空文件"),
    (re.compile(r"^(.+?): header '(.*)' appears twice$"), r"\1：表头“\2”重复"),
    (re.compile(r"^(.+?): ends in ([\d,]+) zero bytes \(NUL\), .*$"),
     r"\1：文件末尾有 \2 个零字节（磁盘或传输留下的填充），不是文本：请提供方重新发送该文件"),
    (re.compile(r"^(.+?): truncated: the last line \(line (\d+)\) ends inside a quoted field; .*$"),
     rf"\1：文件不完整：末行（第 \2 行）在引号内中断，{_RESEND}"),
    (re.compile(r"^(.+?): truncated: the last line \(line (\d+)\) has no line end, while the others end with CRLF; .*$"),
     rf"\1：文件不完整：末行（第 \2 行）没有换行符，其他行均以 CRLF 结尾，{_RESEND}"),
    (re.compile(r"^(.+?): truncated: the last line \(line (\d+)\) has no line end and only (\d+) of (\d+) fields; .*$"),
     rf"\1：文件不完整：末行（第 \2 行）没有换行符，只有 \3 个字段（应为 \4 个），{_RESEND}"),
    (re.compile(r"^(.+?): line (\d+): a quote opened there is never closed, so lines \d+–(\d+) would be read as one "
                r"value; .*$"), r"\1：第 \2 行的引号没有闭合，第 \2 至 \3 行会被读成一个值，整个文件未加载：请提供方更正后重新发送"),
    (re.compile(r"^(.+?): line (\d+): malformed CSV.*$"), r"\1：第 \2 行 CSV 格式错误"),
    (re.compile(r"^(.+?): line (\d+): bytes not valid (\S+) \(the (\w+) provider sends \S+\)"
                r"(; it decodes as (\S+): was it sent in the wrong encoding\?)?$"), _undecodable),
    (re.compile(r"^(.+?): starts with a UTF-8 byte-order mark \(EF BB BF\), but the (\w+) provider sends (\S+): (.*)$"),
     _byte_order_mark),
    (re.compile(r"^(.+?): gzip-compressed, .*$"), r"\1：是 gzip 压缩文件，不是逗号分隔的文本：请提供方发送未压缩的 CSV 文件"),
    (re.compile(r"^(.+?): a zip archive .*$"), r"\1：是 zip 压缩包（.xlsx 工作簿改名为 .csv？），不是逗号分隔的文本：请提供方发送 CSV 文件"),
    (re.compile(r"^(.+?): an Excel 97-2003 workbook \(\.xls\) named \.xlsx: .*$"),
     r"\1：是 Excel 97-2003 工作簿（.xls）改名为 .xlsx：请在 Excel 中另存为 Excel 工作簿（.xlsx）后重新交付"),
    (re.compile(r"^(.+?): not a readable \.xlsx workbook .*; its bytes are no zip archive .*$"),
     r"\1：不是 .xlsx 工作簿（文件内容不是 zip 格式，疑为改名为 .xlsx 的 CSV 或文本文件）"),
    (re.compile(r"^(.+?): not a readable \.xlsx workbook.*$"), r"\1：不是可读取的 .xlsx 工作簿"),
    (re.compile(r"^(.+?): sheet '(.*)' not found \(sheets: (.*)\)$"), r"\1：找不到工作表“\2”（现有工作表：\3）"),
    (re.compile(r"^(.+?): sheet '(.*)' is hidden \(visible sheets: (.*)\); .*$"),
     r"\1：工作表“\2”被隐藏（可见的工作表：\3）；请取消隐藏存放登记表的工作表“\2”，并隐藏或删除其他工作表"),
    (re.compile(r"^(.+?): sheet '(.*)': no header row with the expected columns \((.*)\) in the first 20 rows$"),
     r"\1：工作表“\2”的前 20 行中没有含所需列（\3）的表头行"),
    (re.compile(r"^(.+?): none of the (\S+) headers in its first line: not a \S+ file$"),
     r"\1：首行没有 \2 的任何表头：不是 \2 文件"),
    (re.compile(r"^(.+?): missing required column\(s\) (.*?)(; unknown column\(s\) (.*))?$"), _missing_columns),
    (re.compile(r"^(.+?): a file of this name was already loaded with different bytes \(sha256 (\S+) then, (\S+) now\); "
                r"delivered files are never edited in place — send the correction as (\S+)$"),
     r"\1：同名文件已按不同内容接收过（当时 sha256 \2，现在 \3）；已交付的文件不应原地修改，更正请以 \4 发送"),
    (re.compile(r"^(.+?): name does not match .*$"),
     r"\1：文件名不符合 <数据源>_<数据集>_<期别>[_v<N>].<扩展名> 的格式（小写英文字母、半角数字）"),
    (re.compile(r"^(.+?): feed prefix '(.*)' does not match its folder '(.*)'$"), r"\1：文件名前缀“\2”与所在文件夹“\3”不符"),
    (re.compile(r"^(.+?): unknown dataset '(.*)' \(known: (.*)\)$"), r"\1：未知数据集“\2”（已知：\3）"),
    (re.compile(r"^(.+?): extension \.(\S*), expected \.(\S+)$"), r"\1：扩展名为 .\2，应为 .\3"),
    (re.compile(r"^(.+?): (\S+) files carry a YYYYMM period$"), r"\1：\2 文件名须带 YYYYMM 期别"),
    (re.compile(r"^(.+?): (\S+) files carry a YYYYMMDD delivery date$"), r"\1：\2 文件名须带 YYYYMMDD 交付日期"),
    (re.compile(r"^(.+?): (\S+) files carry no period$"), r"\1：\2 文件名不带期别"),
    (re.compile(r"^(.+?): period (\S+) is not a real month/date$"), r"\1：期别 \2 不是有效的年月或日期"),
    (re.compile(r"^(.+?): period (\S+) is after today \((\S+)\): no delivery can carry it yet$"),
     r"\1：期别 \2 晚于今天（\3）：尚不可能有这样的交付"),
    (re.compile(r"^(.+?): period (\S+) is before the policy's history, which starts in (\S+)$"),
     r"\1：期别 \2 早于政策数据的起始月份（\3）"),
    (re.compile(r"^(.+?): re-delivery suffix must be _v2 to _v(\d+)$"), r"\1：更正版本后缀须为 _v2 至 _v\2"),
    (re.compile(r"^(.+?): re-delivery suffix _v(\S+) has a leading zero: write _v(\d+)$"),
     r"\1：更正版本后缀 _v\2 带前导零：应写作 _v\3"),
    (re.compile(r"^(.+?): a symbolic link \(not read\)$"), r"\1：符号链接（未读取）"),
    (re.compile(r"^(.+?): not a regular file \(not read\)$"), r"\1：不是普通文件（未读取）"),
    (re.compile(r"^(.+?): cannot be read \((.*)\)$"), r"\1：无法读取（\2）"),
    # an entry of the landing dir that is no delivery (landing.py `scan_landing`, `scan_feed_folder`)
    (re.compile(r"^hidden file \(not read: .*\)$"), "隐藏文件（未读取：以“.”开头的名称不是交付文件）"),
    (re.compile(r"^hidden (file|folder) at the landing root \(not read\)$"),
     lambda m: f"接收目录根下的隐藏{_KINDS[m.group(1)]}（未读取）"),
    (re.compile(r"^unknown folder \(not read: the feed folders are (.*)\)$"), r"未知文件夹（未读取：数据源文件夹为 \1）"),
    (re.compile(r"^file at the landing root \(not read: .*, feeds (.*)\)$"),
     r"接收目录根下的文件（未读取：交付文件应放在 <接收目录>/<数据源>/ 中，数据源为 \1）"),
    (re.compile(rf"^({'|'.join(map(re.escape, _KINDS))}) at the landing root \(not read\)$"),
     lambda m: f"接收目录根下的{_KINDS[m.group(1)]}（未读取）"),
    (re.compile(r"^folder inside (\S+)/ \(not read: .*\)$"), r"\1/ 下的子文件夹（未读取：交付文件直接放在 \1/ 中）"),
    (re.compile(r"^(symbolic link(?: pointing nowhere)?) \(not read: .*\)$"),
     lambda m: f"{_KINDS[m.group(1)]}（未读取：交付文件须是接收目录中的普通文件，链接可能指向任何位置）"),
    (re.compile(rf"^({'|'.join(map(re.escape, _KINDS))}) \(not read: only regular files are deliveries\)$"),
     lambda m: f"{_KINDS[m.group(1)]}（未读取：只有普通文件才是交付文件）"),
]


def reason(text: str | None) -> str | None:
    """A rejection or refusal reason in Chinese (the original when no rule knows it)."""
    if text is None:
        return None
    for pattern, replacement in _REASONS:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return text


def reason_kind(text: str) -> str:
    """The kind of a rejection reason, for counting (`invalid USCC: …` -> 统一社会信用代码…)."""
    translated = reason(text) or ""
    return re.split(r"[：（]", translated, maxsplit=1)[0]


# --- withdrawn deliveries (dagster_project/lib/ingest/withdrawals.py) -----------------------------------

WITHDRAWN_BY = {OPERATOR: "操作员", LANDING: "接收目录"}


def withdrawal_reason(source: str, text: str) -> str:
    """Why a delivery is withdrawn: the landing dir's own reason in Chinese, an operator's as typed."""
    if source == LANDING and text == GONE_FROM_LANDING:
        return "接收目录中已无此文件（已删除、移走或不再作为交付文件）"
    return text


# --- check outcomes (Great Expectations suites, dbt tests) -------------------------------------------

_DBT_TESTS = [
    (re.compile(r"^relationships_(\w+?)_(\w+?)__(\w+?)__ref_(\w+?)_$"), "关联：{0}.{1} 应在 {3} 中"),
    (re.compile(r"^not_null_(\w+?)_(\w+)$"), "非空：{0}.{1}"),
    (re.compile(r"^unique_(\w+?)_(\w+)$"), "唯一：{0}.{1}"),
    (re.compile(r"^accepted_values_(\w+?)_(\w+?)__.*$"), "取值范围：{0}.{1}"),
]
SEVERITY = {"ERROR": "错误（阻断）", "WARN": "警告", "blocking": "阻断", "warning": "警告"}


def check_name(check: str, asset: str = "", suite_labels: Mapping[str, str] | None = None) -> str:
    """`relationships_fct_power_month_uscc__uscc__ref_dim_enterprise_` -> 关联：fct_power_month.uscc 应在 dim_enterprise 中;
    `raw_tax_vat_warning` -> 数据期望警告项：增值税申报 (the suite's label from `suite_labels`, else its
    name). The code stays beside it in the workbook."""
    for suffix, label in (("_blocking", "阻断项"), ("_warning", "警告项")):
        if check.endswith(suffix):
            suite = check[: -len(suffix)]
            title = (suite_labels or {}).get(suite)
            return f"数据期望{label}：{title or suite}"
    m = _FRESH_CHECK.match(check)
    if m:
        from .data import FEED_LABELS

        return f"按时交付：{FEED_LABELS.get(m.group(1), m.group(1))}"
    model = asset.split("/")[-1]
    m = re.match(r"^mostly_related_.*__(\w+?)__ref_(\w+?)_$", check)
    if m:
        return f"关联（多数）：{model or '该表'}.{m.group(1)} 多数应在 {m.group(2)} 中"
    for pattern, template in _DBT_TESTS:
        m = pattern.match(check)
        if m:
            groups = list(m.groups())
            if model and check.startswith(("relationships_", "not_null_", "unique_", "accepted_values_")) \
                    and f"_{model}_" in f"_{check}_":
                # the model name may contain underscores: take it from the asset, the column is what follows
                rest = check.split(f"{model}_", 1)[1]
                groups[0] = model
                groups[1] = rest.split("__", 1)[0] if "__" in rest else rest
            return template.format(*groups)
    return check


_FRESH_CHECK = re.compile(r"^(\w+)_feed_fresh$")  # dagster_project/defs/automation.py
# lib/status.py's notes on a feed's freshness
_FRESH = re.compile(r"^up to (\S+)(?:; expected (the month|a delivery since) (\S+) by (\S+))?(?: for (.*))?$")
_FRESH_AD_HOC = re.compile(r"^ad hoc \(registers\)(?:; nothing delivered for (.*))?$")
_BEHIND = re.compile(r"(\w+) \((?:up to (\S+)|nothing delivered)\)")
_SUMMARY = re.compile(r"^(\d+) (blocking|warning) expectation\(s\) not met in (\d+) (file\(s\)|batch)$")
_ALL_MET = re.compile(r"^all (blocking|warning) expectations met in (\d+) (file\(s\)|batch)$")
_CARRIED = re.compile(r"^carried over from run (\S+) \(model and sources unchanged\)(?:: (.*))?$")


def check_description(text: str | None) -> str:
    """A check's description in Chinese: GX summaries, dbt's carried-over results."""
    if not text:
        return ""
    m = _SUMMARY.match(text)
    if m:
        n, severity, batches, unit = m.groups()
        where = f"{batches} 个文件" if unit.startswith("file") else "1 个批次"
        return f"{where}中有 {n} 项{SEVERITY[severity]}期望未满足"
    m = _ALL_MET.match(text)
    if m:
        severity, batches, unit = m.groups()
        return f"{batches} 个{'文件' if unit.startswith('file') else '批次'}的{SEVERITY[severity]}期望全部满足"
    m = _FRESH.match(text)
    if m:
        latest, what, expected, by, behind = m.groups()
        out = "尚无交付" if latest == "nothing" else f"数据至 {latest}"
        if expected:
            out += (f"；截至 {by} 应已交付 {expected} 的数据" if what == "the month"
                    else f"；截至 {by} 应有 {expected} 以来的交付")
        if behind:
            out += "，未到：" + "、".join(f"{name}（{'仅至 ' + got if got else '尚无交付'}）"
                                         for name, got in _BEHIND.findall(behind))
        return out
    m = _FRESH_AD_HOC.match(text)
    if m:
        return "按文件整体更新" + (f"；尚无交付：{'、'.join(m.group(1).split(', '))}" if m.group(1) else "")
    m = _CARRIED.match(text)
    if m:
        run, said = m.groups()
        return f"沿用运行 {run[:8]} 的检查结果（模型及其来源数据未变）" + (f"：{check_description(said)}" if said else "")
    return text


_OBSERVED = re.compile(r"^(\d+) of (\d+) rows \(([\d.]+)%\)(?:; at most (\d+)% allowed)?$")
_STATISTIC = {"rows": "行数", "median": "中位数", "observed": "观察值"}
_BOUND = {"at least": "下限", "at most": "上限"}


def observed(text: str | None) -> str:
    """`4 of 23627 rows (0.02%); at most 5% allowed` -> 23,627 行中 4 行（0.02%），允许至多 5%."""
    if not text:
        return ""
    m = _OBSERVED.match(text)
    if m:
        bad, total, pct, allowed = m.groups()
        out = f"{int(total):,} 行中 {int(bad):,} 行（{pct}%）"
        return out + (f"，允许至多 {allowed}%" if allowed else "")
    if text.startswith("error: "):
        return "检查出错：" + text[len("error: "):]
    head, _, rest = text.partition(" ")
    if head in _STATISTIC and rest:
        value, *bounds = rest.split("; ")  # `rows 78; at least 111`: the statistic, then its bounds
        said = f"{_STATISTIC[head]} {value}" if head != "observed" else value
        for bound in bounds:
            word, _, number = bound.rpartition(" ")
            said += f"，{_BOUND[word]} {number}" if word in _BOUND else f"；{bound}"
        return said
    if head.endswith(":") and head[:-1] in _STATISTIC:
        return f"{_STATISTIC[head[:-1]]}：无数值（批次为空或全部为空值）"
    return text


_FEED_NAMES = {"stats_industry": "统计月报", "stats_projects": "项目库月报", "power_daily": "日用电量",
               "customs_export": "海关出口"}
_EXAMPLE_KEYS = {"_line": "行", "line": "行", "uscc": "代码", "month": "月份", "period": "期别", "feed": "数据",
                 "account_no": "户号", "file_name": "文件", "declaration_no": "报关单号", "line_no": "项号",
                 "report_month": "报告月份", "date": "日期", "project_code": "项目代码", "scheme_id": "方案",
                 "scenario": "情景"}
_PROBLEM_TEXTS = [
    (re.compile(r"^(\w+): check character '(.)', expected '(.)'$"), r"\1 校验码为 \2，应为 \3"),
    (re.compile(r"^(\w+): organisation-code check digit '(.)', expected '(.)'$"), r"\1 组织机构代码校验位为 \2，应为 \3"),
    (re.compile(r"^(\w+): length (\d+), expected 18$"), r"\1 为 \2 位，应为 18 位"),
    (re.compile(r"^规上 enterprise (\w+) without a report for (\d{6})$"), r"规上企业 \1 未报送 \2 月报"),
    (re.compile(r"^(\w+) not in the enterprise directory$"), r"\1 不在企业名录中"),
    (re.compile(r"^the same rows as (\S+): that period's file sent again under this name\?$"),
     r"与早期交付 \1 的数据行完全相同：是否为该期文件以本期名称重发？"),
    (re.compile(r"^account (\S+) in no account snapshot$"), r"户号 \1 不在任何户号清单中"),
    (re.compile(r"^account (\S+) is account (\S+) with a letter for a digit$"), r"户号 \1 疑为已知户号 \2 误录（字母代替了数字）"),
    (re.compile(r"^account (\S+) is account (\S+) with its leading zeros changed$"), r"户号 \1 疑为已知户号 \2 误录（前导0丢失或多出）"),
    (re.compile(r"^到期日期 (\S+) not after 放款日期 (\S+)$"), r"到期日期 \1 不晚于放款日期 \2"),
    (re.compile(r"^出口日期 (\S+) outside (\d{6})$"), r"出口日期 \1 不在文件月份 \2 内"),
    (re.compile(r"^出口日期 (\S+) more than (\d+) month\(s\) from (\d{6})$"),
     r"出口日期 \1 与文件月份 \3 相差超过 \2 个月（年份是否输错？）"),
    (re.compile(r"^flagged 缺失 but kWh (.*)$"), r"标为缺失但有电量 \1"),
    (re.compile(r"^flagged (\S+) but kWh blank$"), r"标为\1但电量为空"),
    (re.compile(r"^(\w+): nothing delivered for (\d{4})-(\d{2})$"),
     lambda m: f"{_FEED_NAMES.get(m[1], m[1])} {m[2]}年{int(m[3])}月无任何交付数据"),
    (re.compile(r"^(.*) vs Δ累计 (.*?)(?:\): gap (.*))?$"), r"\1，累计差额 \2)，相差 \3"),
]


def problem(text: str) -> str:
    """A check's own message about a row (a derived `*_problem` value) in Chinese."""
    for pattern, replacement in _PROBLEM_TEXTS:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return text


def _is_problem(key: str) -> bool:
    """A column that says what is wrong (the rest of an example locates it)."""
    return key.endswith("_problem") or key in ("missing_report", "missing_period")


def _named_in(value: str, problems: str) -> bool:
    """Whether the problem text already names this value (a month date by its YYYY-MM): the cell
    then says it once, and the example keeps to the lines its row height allows."""
    return bool(value) and (value in problems or (re.fullmatch(r"\d{4}-\d{2}-01", value) is not None
                                                   and value[:7] in problems))


def examples(raw: str | None, limit: int = 3) -> str:
    """The examples a GX check kept (JSON), as short Chinese lines: `第186行：9145… 校验码为 L，应为 K`."""
    if not raw:
        return ""
    try:
        items = json.loads(raw)
    except (TypeError, ValueError):
        return raw[:300]
    if not isinstance(items, list):
        items = [items]
    lines = []
    for item in items[:limit]:
        if isinstance(item, dict):
            line = item.get("_line", item.get("line"))
            problems = " ".join(str(v) for k, v in item.items() if _is_problem(k) and v is not None)
            parts = []
            for key, value in item.items():
                if key in ("_line", "line") or value is None:
                    continue
                text = problem(str(value)) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if _is_problem(key):
                    parts.insert(0, text)
                elif not _named_in(str(value), problems):
                    parts.append(f"{_EXAMPLE_KEYS.get(key, key)} {text}")
            lines.append((f"第{line}行：" if line is not None else "") + "；".join(parts))
        else:
            lines.append(str(item))
    more = f"（另有 {len(items) - limit} 例）" if len(items) > limit else ""
    return "\n".join(lines) + more


# --- catalogue notes and the engine's reason trace -----------------------------------------------------

_CONTRACT = [
    (re.compile(r"（?MEASURES\.md\s*默认值）?"), "（测算规则默认值）"),
    (re.compile(r"按\s*MEASURES\.md\s*"), "按测算规则"),
    (re.compile(r"[，,]?\s*MEASURES\.md\s*所用数值"), "，测算规则所用数值"),
    (re.compile(r"（MEASURES\.md）"), "（测算规则）"),
    (re.compile(r"MEASURES\.md\s*"), "测算规则"),
    (re.compile(r"(?:docs/contract/|shared/contract/)?(?:FEEDS|OUTPUTS)\.md"), "数据接口约定"),
    (re.compile(r"见\s*docs/forecast\.md"), "见「预测方法」"),
    (re.compile(r"（?docs/forecast\.md）?"), "（见「预测方法」）"),
    # the contract's English, quoted as sources of parameters, in Chinese for finance
    (re.compile(r"拟上规 \(临规 with trailing-12-month revenue ≥"), "拟上规（近12个月营业收入达到规上收入门槛一定比例的临规企业）"),
    (re.compile(r"newly recognised (\d{4})-07\.\.12"), r"\1年7—12月新认定"),
    (re.compile(r"newly recognised in (\d{4})"), r"\1年新认定"),
    (re.compile(r"low and high are the 10th and 90th percentiles of the simulated outcome"),
     "低、高情景为模拟结果的第10、第90百分位数"),
]
# a number of 4+ integer digits directly before a unit gets thousands separators
_AMOUNT = re.compile(r"(?<![\d.,])(\d{4,})(\.\d+)?(?=\s*(?:万元|元|千瓦时|千瓦|户|吨|美元|家|个))")


def thousands(text: str) -> str:
    """`597765.22万元` -> `597,765.22万元`; periods (202410) and years are left alone."""
    return _AMOUNT.sub(lambda m: f"{int(m.group(1)):,}{m.group(2) or ''}", text)


def with_values(definition: str, values: Mapping[str, str]) -> str:
    """A definition that cites parameters, for finance: each id replaced by the value in force with its
    unit (`M01.near_threshold_share × M01.above_size_revenue（默认80% × 2000万元）` -> `80% × 2,000万元`);
    the catalogue's 「（默认…）」 goes, the value in force is there instead."""
    return thousands(_replace_ids(re.sub(r"（默认[^）]*）", "", definition), values))


def _replace_ids(text: str, replacements: Mapping[str, str]) -> str:
    """Every parameter id in `text` replaced (the longest first: M02.min_output_new is not M02.min_output)."""
    if not replacements:
        return text
    ids = sorted(replacements, key=len, reverse=True)
    return re.sub(r"\b(" + "|".join(map(re.escape, ids)) + r")\b", lambda m: replacements[m.group(1)], text)


def plain(text: str | None, parameter_names: Mapping[str, str] | None = None) -> str | None:
    """A catalogue note or reason trace for finance: the contract named in words, parameter ids
    replaced by what they are (`M01.near_threshold_share` -> 拟上规营业收入比例), amounts with separators."""
    if text is None:
        return None
    for pattern, replacement in _CONTRACT:
        text = pattern.sub(replacement, text)
    text = text.replace("（（", "（").replace("））", "）")
    return thousands(_replace_ids(text, parameter_names or {}))
