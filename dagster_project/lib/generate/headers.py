"""File headers exactly as docs/contract/FEEDS.md lists them, and the alternative column orders some deliveries use.

The contract says to match columns by header, so a few deliveries change the
order (a provider's export template changed); each alternative is a
permutation of the contract's list.
"""

from __future__ import annotations

STATS_ENTERPRISE = ["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "规模标志", "入统年月", "投产年月", "退库年月"]
STATS_INDUSTRY = [
    "统一社会信用代码", "报告期", "工业总产值_本月_千元", "工业总产值_累计_千元", "营业收入_本月_千元",
    "营业收入_累计_千元", "利润总额_累计_千元", "从业人员期末人数",
]
STATS_PROJECTS = [
    "项目代码", "项目名称", "统一社会信用代码", "行政区划代码", "行业代码", "建设性质", "计划总投资_万元",
    "开工年月", "入库年月", "本月完成投资_万元", "本月设备购置_万元", "项目标签", "竣工年月",
]
POWER_ACCOUNTS = ["用电户号", "户名", "统一社会信用代码", "行政区划代码", "独立计量", "电压等级", "立户日期"]
POWER_DAILY = ["用电户号", "日期", "用电量_千瓦时", "数据标志"]
TAX_VAT = ["纳税人识别号", "所属期", "开票销售额_元", "应纳增值税额_元", "申报日期"]
CUSTOMS_EXPORT = [
    "报关单号", "项号", "出口日期", "经营单位编码", "统一社会信用代码", "商品编码", "贸易方式", "运抵国",
    "美元金额", "人民币金额_元",
]
RECOGNITIONS = ["名单类别", "级别", "统一社会信用代码", "名称", "认定日期", "认定类型"]
LOANS = ["统一社会信用代码", "贷款银行", "产品", "放款日期", "到期日期", "贷款金额_万元", "年利率_百分比"]
APPLICATIONS = ["申报编号", "统一社会信用代码", "活动类型", "活动名称", "举办日期", "申报费用_元"]
TWO_HIGH = ["统一社会信用代码", "工序或产品"]
SUPPLY_LINKS = ["统一社会信用代码", "采购方名称", "首次供货日期", "合同金额_万元"]

# Alternative orders (same headers, other template).
STATS_INDUSTRY_ALT = [
    "报告期", "统一社会信用代码", "工业总产值_累计_千元", "工业总产值_本月_千元", "营业收入_累计_千元",
    "营业收入_本月_千元", "利润总额_累计_千元", "从业人员期末人数",
]
TAX_VAT_ALT = ["所属期", "纳税人识别号", "申报日期", "开票销售额_元", "应纳增值税额_元"]
CUSTOMS_EXPORT_ALT = [
    "出口日期", "报关单号", "项号", "统一社会信用代码", "经营单位编码", "运抵国", "贸易方式", "商品编码",
    "人民币金额_元", "美元金额",
]
POWER_ACCOUNTS_ALT = ["用电户号", "户名", "统一社会信用代码", "行政区划代码", "电压等级", "独立计量", "立户日期"]
