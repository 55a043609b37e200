"""Small reference tables the sample draws from: places, countries, banks, events, name parts."""

from __future__ import annotations

from datetime import date
from functools import cache

import pandas as pd

from dagster_project.paths import SEEDS_DIR


@cache
def counties() -> pd.DataFrame:
    """The real Guangxi county codes (county_code, county_name, city_code, city_name)."""
    return pd.read_csv(SEEDS_DIR / "ref_gbt2260_guangxi_counties.csv", dtype=str)


def city_short(city_name: str) -> str:
    """柳州市 -> 柳州 (enterprise names start with the place)."""
    return city_name.removesuffix("市")


# Export destinations (ISO 3166-1 alpha-3) with relative weights: ASEAN first.
DESTINATIONS: dict[str, float] = {
    "VNM": 14, "THA": 6, "MYS": 6, "IDN": 6, "PHL": 4, "SGP": 4, "MMR": 3, "KHM": 3, "LAO": 2,
    "HKG": 6, "USA": 8, "JPN": 4, "KOR": 4, "IND": 4, "DEU": 3, "NLD": 2, "GBR": 2, "FRA": 2,
    "ITA": 1, "AUS": 3, "BRA": 2, "MEX": 2, "ARE": 2, "SAU": 2, "RUS": 3, "TUR": 1, "NGA": 1,
    "ZAF": 1, "PAK": 1, "BGD": 1, "EGY": 1, "CHL": 1, "CAN": 1,
}

# Customs declaration trade modes (贸易方式) with weights: general trade, processing with
# supplied materials, processing with imported materials (对口 / 非对口).
TRADE_MODES: dict[str, float] = {"0110": 0.75, "0214": 0.08, "0615": 0.12, "0715": 0.05}

# Customs office (关区) code used in the declaration numbers of exporters per city.
CUSTOMS_OFFICE: dict[str, str] = {
    "450100": "7201", "450200": "7202", "450300": "7203", "450400": "7204", "450500": "7205",
    "450600": "7206", "450700": "7207", "450800": "7208", "450900": "7209", "451000": "7210",
    "451100": "7211", "451200": "7212", "451300": "7213", "451400": "7214",
}

# USD/CNY rate used by customs per month (1/10000 yuan per dollar), within 7.10–7.30.
_USD_CNY_2023_2024 = (
    71200, 71300, 71500, 71600, 71800, 72000, 72200, 72400, 72500, 72700, 72600, 72400,
    72200, 72000, 71900, 72100, 72300, 72500, 72700, 72400, 71800, 71200, 71400, 71700,
)


# 2022 (history only): monthly averages from about 6.35 in spring to 7.17 in November.
_USD_CNY_2022 = (63600, 63500, 63400, 63800, 66200, 66900, 67300, 67800, 69200, 71000, 71700, 69900)


def usd_cny_1e4(yyyymm: int) -> int:
    """Customs exchange rate of a month in 1/10000 yuan; later years repeat 2024's path."""
    year, month = divmod(yyyymm, 100)
    if year <= 2022:
        return _USD_CNY_2022[month - 1]
    offset = 0 if year == 2023 else 12
    return _USD_CNY_2023_2024[offset + month - 1]


BANKS: tuple[str, ...] = (
    "中国工商银行广西区分行", "中国农业银行广西区分行", "中国银行广西区分行", "中国建设银行广西区分行",
    "交通银行广西区分行", "广西北部湾银行", "桂林银行", "柳州银行", "广西农村信用社联合社",
    "国家开发银行广西分行",
)
INDUSTRY_LOAN = "工业流动资金贷"
OTHER_LOAN_PRODUCTS: tuple[str, ...] = ("小微企业贷", "科技创新贷", "外贸企业贷", "涉农企业贷")

# Fairs enterprises claim booth fees for (name, opening date, relative number of exhibitors).
FAIRS: tuple[tuple[str, date, float], ...] = (
    ("第131届中国进出口商品交易会", date(2022, 4, 15), 1.5),
    ("第19届中国—东盟博览会", date(2022, 9, 16), 1.2),
    ("第132届中国进出口商品交易会", date(2022, 10, 15), 1.5),
    ("第133届中国进出口商品交易会", date(2023, 4, 15), 1.5),
    ("第20届中国—东盟博览会", date(2023, 9, 16), 1.2),
    ("第134届中国进出口商品交易会", date(2023, 10, 15), 1.5),
    ("第135届中国进出口商品交易会", date(2024, 4, 15), 1.5),
    ("2024汉诺威工业博览会", date(2024, 4, 22), 0.4),
    ("第21届中国—东盟博览会", date(2024, 9, 24), 1.2),
    ("2024中国国际工业博览会", date(2024, 9, 24), 0.6),
    ("第136届中国进出口商品交易会", date(2024, 10, 15), 1.5),
)

GREEN_PARKS: tuple[str, ...] = (
    "南宁高新技术产业开发区", "柳州高新技术产业开发区", "桂林高新技术产业开发区", "钦州港经济技术开发区",
    "北海工业园区", "梧州循环经济产业园区", "玉林经济开发区", "贵港产业园区", "百色新山铝产业示范园",
    "防城港经济技术开发区", "来宾工业园区", "崇左中国—东盟青年产业园", "贺州旺高工业区", "河池工业园区",
)
DIGITAL_SCENARIOS: tuple[str, ...] = (
    "智能排产", "设备预测性维护", "质量在线检测", "能耗智能管控", "供应链协同", "数字孪生工厂", "仓储物流智能调度",
)

# Trade-name words of enterprise names and the legal-form endings.
TRADE_WORDS: tuple[str, ...] = (
    "华宇", "鑫源", "桂冠", "东方", "宏达", "金桥", "恒泰", "永盛", "北部湾", "八桂", "壮乡", "红水河",
    "漓江", "西江", "邕江", "南国", "海湾", "天成", "中恒", "瑞丰", "嘉和", "润通", "联发", "博远",
    "昌隆", "信达", "富源", "顺兴", "鼎盛", "新宇", "远航", "汇通", "裕华", "广源", "长城", "凯达",
    "森茂", "银河", "金山", "绿源", "星辰", "盛世", "安泰", "兴业", "祥和", "茂林", "丰泽", "泰和",
    "宏图", "佳美", "振华", "同创", "协力", "晨光", "春晖", "华强", "正大", "明阳", "辉煌", "朝阳",
    "力拓", "迅达", "精诚", "卓越", "凯盛", "旭日", "天宇", "海纳", "鸿运", "骏马", "华夏", "永泰",
    "桂湘", "岭南", "粤桂", "中南", "西南", "金穗", "银杉", "云天",
)
LEGAL_FORMS: tuple[str, ...] = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司")
NON_INDUSTRIAL_TRADES: tuple[str, ...] = ("物流", "商贸", "置业", "仓储", "供应链", "餐饮")
