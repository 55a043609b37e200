"""Industry reference for the sample: GB/T 4754-2017 classes, policy groups, city mixes.

Only real GB/T 4754-2017 4-digit classes are listed (checked against the
standard's table; `tests/test_generate.py` also checks them against the
project's seed `ref_gbt4754_classes.csv`). Each class carries what the
generator needs to make its enterprises plausible: a product word for names,
an electricity intensity, a typical export commodity and, for energy-heavy
processes, the 两高 catalogue entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IndustryClass:
    code: str
    name: str
    product: str  # short product word used in enterprise and project names
    kwh_per_kyuan: float  # electricity used per 千元 of output
    hs_code: str | None  # typical 10-digit export commodity code; None: not exported
    two_high: str | None = None  # process or product in the 两高 catalogue
    season: str = "standard"  # monthly output profile, see SEASONS


CLASSES: tuple[IndustryClass, ...] = (
    # 食品 (13, 14, 15)
    IndustryClass("1311", "稻谷加工", "米业", 25, "1006309000"),
    IndustryClass("1331", "食用植物油加工", "粮油", 20, "1507900000"),
    IndustryClass("1340", "制糖业", "糖业", 60, "1701991000", season="sugar"),
    IndustryClass("1361", "水产品冷冻加工", "水产", 40, "0304870000"),
    IndustryClass("1373", "水果和坚果加工", "果业", 20, "2008999000"),
    IndustryClass("1431", "米、面制品制造", "米粉", 15, "1902303000"),
    IndustryClass("1511", "酒精制造", "酒精", 80, "2207100000", season="sugar"),
    IndustryClass("1530", "精制茶加工", "茶业", 20, "0902301000"),
    # 其他: tobacco, printing, metal products, ships, instruments, recycling, mining, hydro power
    IndustryClass("0916", "铝矿采选", "矿业", 30, None),
    IndustryClass("1011", "石灰石、石膏开采", "石灰石", 40, None),
    IndustryClass("1620", "卷烟制造", "卷烟", 5, None),
    IndustryClass("2311", "书、报刊印刷", "印务", 15, None),
    IndustryClass("3311", "金属结构制造", "钢结构", 25, "7308900000"),
    IndustryClass("3391", "黑色金属铸造", "铸造", 120, "7325999000"),
    IndustryClass("3731", "金属船舶制造", "船舶", 20, "8901909000"),
    IndustryClass("4011", "工业自动控制系统装置制造", "自动化", 8, "9032899000"),
    IndustryClass("4190", "其他未列明制造业", "制品", 15, None),
    IndustryClass("4210", "金属废料和碎屑加工处理", "再生资源", 40, None),
    IndustryClass("4413", "水力发电", "水电", 10, None, season="hydro"),
    # 纺织服装与皮革 (17, 18, 19); 175x is the policy's 坯绸 (difficult industry)
    IndustryClass("1741", "缫丝加工", "茧丝", 50, "5002001100"),
    IndustryClass("1742", "绢纺和丝织加工", "丝绸", 45, "5007209000"),
    IndustryClass("1751", "化纤织造加工", "坯绸", 45, "5407520000"),
    IndustryClass("1819", "其他机织服装制造", "服饰", 12, "6203429000"),
    IndustryClass("1952", "皮鞋制造", "鞋业", 10, "6403990000"),
    # 木材加工 (20, 21)
    IndustryClass("2021", "胶合板制造", "木业", 60, "4412330000"),
    IndustryClass("2022", "纤维板制造", "板业", 90, "4411141900"),
    IndustryClass("2031", "建筑用木料及木材组件加工", "木构件", 40, "4418999000"),
    IndustryClass("2110", "木质家具制造", "家具", 20, "9403600000"),
    # 造纸 (22)
    IndustryClass("2211", "木竹浆制造", "浆业", 200, "4703290000", two_high="化学木浆"),
    IndustryClass("2221", "机制纸及纸板制造", "纸业", 150, "4810199000", two_high="机制纸"),
    IndustryClass("2231", "纸和纸板容器制造", "包装", 30, "4819100000"),
    # 日用消费品 (24, 385, 3770)
    IndustryClass("2411", "文具制造", "文具", 10, "9608100000"),
    IndustryClass("2438", "珠宝首饰及有关物品制造", "宝石", 15, "7104910000"),
    IndustryClass("3851", "家用制冷电器具制造", "电器", 15, "8418211000"),
    IndustryClass("3854", "家用厨房电器具制造", "厨电", 12, "8516603000"),
    IndustryClass("3770", "助动车制造", "电动车", 10, "8711600090"),
    # 石油化工 (25, 26, 28, 29)
    IndustryClass("2511", "原油加工及石油制品制造", "石化", 40, "2710121000", two_high="原油加工"),
    IndustryClass("2521", "炼焦", "焦化", 60, "2704001000", two_high="焦炭"),
    IndustryClass("2612", "无机碱制造", "氯碱", 900, "2815120000", two_high="烧碱"),
    IndustryClass("2614", "有机化学原料制造", "化工", 150, "2902500000", two_high="有机化学原料"),
    IndustryClass("2624", "复混肥料制造", "肥业", 40, "3105200000"),
    IndustryClass("2651", "初级形态塑料及合成树脂制造", "新材料", 120, "3901100000"),
    IndustryClass("2812", "人造纤维（纤维素纤维）制造", "化纤", 200, "5504100000"),
    IndustryClass("2911", "轮胎制造", "轮胎", 60, "4011100000"),
    IndustryClass("2921", "塑料薄膜制造", "塑业", 50, "3920109000"),
    # 医药 (27)
    IndustryClass("2710", "化学药品原料药制造", "药业", 60, "2941909000"),
    IndustryClass("2720", "化学药品制剂制造", "制药", 20, "3004909000"),
    IndustryClass("2730", "中药饮片加工", "中药", 15, "1211903900"),
    IndustryClass("2740", "中成药生产", "药业", 15, "3004905900"),
    # 建材 (30)
    IndustryClass("3011", "水泥制造", "水泥", 330, "2523290000", two_high="水泥熟料"),
    IndustryClass("3021", "水泥制品制造", "建材", 50, "6810919000"),
    IndustryClass("3032", "建筑用石加工", "石材", 80, "6802939000"),
    IndustryClass("3041", "平板玻璃制造", "玻璃", 250, "7005290000", two_high="平板玻璃"),
    IndustryClass("3071", "建筑陶瓷制品制造", "陶瓷", 150, "6907210000", two_high="建筑陶瓷"),
    IndustryClass("3099", "其他非金属矿物制品制造", "碳酸钙", 120, "2836500000"),
    # 钢铁 (31); 3120 is the policy's 短流程钢铁 (difficult industry)
    IndustryClass("3110", "炼铁", "钢铁", 150, "7201100000", two_high="高炉炼铁"),
    IndustryClass("3120", "炼钢", "特钢", 350, "7207110000", two_high="电炉炼钢"),
    IndustryClass("3130", "钢压延加工", "钢材", 80, "7208510000"),
    IndustryClass("3140", "铁合金冶炼", "铁合金", 800, "7202300000", two_high="铁合金"),
    # 有色金属 (32)
    IndustryClass("3211", "铜冶炼", "铜业", 40, "7403111000", two_high="铜冶炼"),
    IndustryClass("3212", "铅锌冶炼", "锌业", 300, "7901110000", two_high="锌冶炼"),
    IndustryClass("3214", "锡冶炼", "锡业", 50, "8001100000"),
    IndustryClass("3216", "铝冶炼", "铝业", 700, "7601100000", two_high="电解铝"),
    IndustryClass("3232", "稀土金属冶炼", "稀土", 60, "2846909000"),
    IndustryClass("3251", "铜压延加工", "铜材", 30, "7409110000"),
    IndustryClass("3252", "铝压延加工", "铝材", 60, "7606123000"),
    # 汽车 (36)
    IndustryClass("3611", "汽柴油车整车制造", "汽车", 8, "8703234110"),
    IndustryClass("3612", "新能源车整车制造", "新能源汽车", 10, "8703800090"),
    IndustryClass("3620", "汽车用发动机制造", "动力", 15, "8407342000"),
    IndustryClass("3670", "汽车零部件及配件制造", "汽车零部件", 20, "8708299000"),
    # 机械 (34, 35, 38 except 385)
    IndustryClass("3412", "内燃机及配件制造", "动力机械", 15, "8408209000"),
    IndustryClass("3421", "金属切削机床制造", "机床", 15, "8458110000"),
    IndustryClass("3435", "电梯、自动扶梯及升降机制造", "电梯", 10, "8428109000"),
    IndustryClass("3511", "矿山机械制造", "矿山机械", 15, "8430499000"),
    IndustryClass("3514", "建筑工程用机械制造", "工程机械", 12, "8429519000"),
    IndustryClass("3572", "机械化农业及园艺机具制造", "农机", 12, "8433599000"),
    IndustryClass("3812", "电动机制造", "电机", 15, "8501520000"),
    IndustryClass("3821", "变压器、整流器和电感器制造", "电气", 15, "8504230000"),
    IndustryClass("3831", "电线、电缆制造", "线缆", 20, "8544492100"),
    IndustryClass("3841", "锂离子电池制造", "新能源", 40, "8507600090"),
    IndustryClass("3872", "照明灯具制造", "照明", 10, "9405119000"),
    # 电子信息 (39)
    IndustryClass("3911", "计算机整机制造", "计算机", 6, "8471300000"),
    IndustryClass("3922", "通信终端设备制造", "通信", 6, "8517130000"),
    IndustryClass("3974", "显示器件制造", "光电", 40, "8524110000"),
    IndustryClass("3976", "光电子器件制造", "光电子", 30, "8541430000"),
    IndustryClass("3981", "电阻电容电感元件制造", "电子元件", 25, "8532241000"),
    IndustryClass("3982", "电子电路制造", "电路", 40, "8534009000"),
    IndustryClass("3985", "电子专用材料制造", "电子材料", 60, "3818001900"),
)

BY_CODE: dict[str, IndustryClass] = {c.code: c for c in CLASSES}


def policy_group(code: str) -> str:
    """Industry group of docs/contract/MEASURES.md; 385 and 3770 are checked before divisions 38/37."""
    if code.startswith("385") or code == "3770":
        return "日用消费品"
    division = code[:2]
    for group, divisions in _GROUP_DIVISIONS:
        if division in divisions:
            return group
    return "其他"


_GROUP_DIVISIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("钢铁", ("31",)),
    ("有色金属", ("32",)),
    ("汽车", ("36",)),
    ("机械", ("34", "35", "38")),
    ("建材", ("30",)),
    ("石油化工", ("25", "26", "28", "29")),
    ("纺织服装与皮革", ("17", "18", "19")),
    ("医药", ("27",)),
    ("食品", ("13", "14", "15")),
    ("电子信息", ("39",)),
    ("造纸", ("22",)),
    ("木材加工", ("20", "21")),
    ("日用消费品", ("24",)),
)


@dataclass(frozen=True)
class GroupTrend:
    """How a policy group moves in 2024 and how big and export-minded its enterprises are."""

    yoy_jan_sep: float  # mean output growth Jan–Sep 2024 vs 2023
    yoy_q4: float  # mean growth Q4 2024 vs Q4 2023
    size_factor: float  # scales the enterprise output distribution
    export_share: float  # share of enterprises that export


# Means sit around the docs/contract/MEASURES.md full-year targets so that some groups reach
# them and some do not; the "decline narrows" groups fall less in Q4 than in Jan–Sep.
GROUP_TRENDS: dict[str, GroupTrend] = {
    "钢铁": GroupTrend(0.07, 0.11, 3.0, 0.10),
    "有色金属": GroupTrend(0.16, 0.22, 2.5, 0.18),
    "汽车": GroupTrend(0.00, 0.08, 2.0, 0.25),
    "机械": GroupTrend(0.07, 0.12, 1.0, 0.22),
    "建材": GroupTrend(-0.08, -0.02, 0.8, 0.05),
    "石油化工": GroupTrend(0.02, 0.06, 2.5, 0.12),
    "纺织服装与皮革": GroupTrend(0.09, 0.14, 0.6, 0.35),
    "医药": GroupTrend(-0.03, 0.08, 1.0, 0.15),
    "食品": GroupTrend(0.04, 0.07, 0.9, 0.12),
    "电子信息": GroupTrend(-0.05, 0.03, 1.5, 0.40),
    "造纸": GroupTrend(0.18, 0.24, 1.5, 0.10),
    "木材加工": GroupTrend(-0.06, -0.01, 0.7, 0.25),
    "日用消费品": GroupTrend(-0.04, 0.02, 0.7, 0.35),
    "其他": GroupTrend(0.03, 0.06, 0.8, 0.06),
}


def _normalised(profile: tuple[float, ...]) -> tuple[float, ...]:
    mean = sum(profile) / len(profile)
    return tuple(v / mean for v in profile)


# Monthly output profiles (mean 1). Standard: Spring Festival dip in February
# and the year-end push in December. Sugar and molasses alcohol follow the cane
# crushing season (November to April); hydro power follows the rainy season.
SEASONS: dict[str, tuple[float, ...]] = {
    "standard": _normalised((0.90, 0.68, 0.98, 0.98, 1.00, 1.04, 0.98, 1.00, 1.04, 1.02, 1.08, 1.30)),
    "sugar": _normalised((1.90, 1.70, 1.60, 1.00, 0.30, 0.10, 0.10, 0.10, 0.10, 0.40, 1.60, 2.10)),
    "hydro": _normalised((0.70, 0.60, 0.70, 0.90, 1.10, 1.40, 1.50, 1.40, 1.20, 1.00, 0.80, 0.70)),
}
SEASON_NAMES: tuple[str, ...] = tuple(SEASONS)


# Share of enterprises per prefecture city (GB/T 2260 city code).
CITY_WEIGHTS: dict[str, float] = {
    "450100": 0.14,  # 南宁
    "450200": 0.12,  # 柳州
    "450300": 0.09,  # 桂林
    "450400": 0.07,  # 梧州
    "450500": 0.05,  # 北海
    "450600": 0.04,  # 防城港
    "450700": 0.06,  # 钦州
    "450800": 0.08,  # 贵港
    "450900": 0.10,  # 玉林
    "451000": 0.06,  # 百色
    "451100": 0.05,  # 贺州
    "451200": 0.04,  # 河池
    "451300": 0.04,  # 来宾
    "451400": 0.06,  # 崇左
}

# Every city has some food, building-material, wood and metal-working firms ...
GENERIC_MIX: dict[str, float] = {
    "1311": 2, "1431": 1, "1373": 1, "3011": 1, "3021": 2, "3032": 1, "2021": 2, "2031": 1,
    "2110": 1, "3311": 2, "3391": 1, "3670": 1, "3821": 1, "3831": 1, "2921": 2, "2624": 1,
    "2740": 1, "1819": 1, "4190": 1, "2231": 1, "3099": 1, "2311": 1, "4011": 1, "2411": 1,
    "3872": 1,
}
# ... and its own specialities (weights added on top of the generic mix, see CITY_SPECIALITY_SHARE).
CITY_MIX: dict[str, dict[str, float]] = {
    "450100": {"3922": 4, "3974": 2, "3982": 3, "3911": 2, "3981": 2, "1340": 2, "1431": 2, "1620": 1,
               "2720": 2, "2740": 2, "3252": 2, "3821": 2, "3831": 2, "2110": 2, "2021": 2, "3854": 1},
    "450200": {"3611": 2, "3612": 3, "3670": 8, "3620": 1, "3514": 3, "3435": 2, "3412": 1, "3110": 1,
               "3120": 1, "3130": 2, "1431": 4, "2911": 1, "2614": 1, "3311": 2, "1620": 1, "3851": 1},
    "450300": {"2740": 4, "2720": 2, "2730": 2, "2911": 2, "3421": 2, "3831": 2, "3812": 2, "3922": 2,
               "3976": 1, "1530": 1, "1373": 2, "3572": 1, "3851": 1},
    "450400": {"3211": 3, "3251": 3, "4210": 4, "2438": 5, "1530": 3, "2021": 2, "2110": 2, "2651": 1,
               "3041": 1, "3854": 1},
    "450500": {"3922": 4, "3911": 4, "3974": 4, "3982": 2, "3985": 1, "3130": 3, "2511": 1, "2221": 2,
               "1361": 3, "3731": 1},
    "450600": {"3110": 3, "3120": 2, "3130": 4, "3211": 3, "3252": 1, "1331": 4, "1340": 1, "2624": 1,
               "3140": 1},
    "450700": {"2511": 3, "2614": 4, "2651": 3, "2612": 1, "2211": 3, "2221": 3, "2812": 1, "3841": 2,
               "1331": 1, "3731": 2, "2521": 1},
    "450800": {"3770": 8, "3612": 2, "2021": 6, "2022": 2, "1340": 3, "3011": 2, "3841": 1, "1819": 1},
    "450900": {"3412": 6, "3620": 1, "3514": 2, "3572": 2, "2740": 2, "1952": 2, "1819": 2, "3021": 1,
               "3071": 1, "3311": 2, "2021": 2},
    "451000": {"3216": 6, "3252": 5, "0916": 2, "2612": 1, "3011": 2, "1373": 3, "4413": 1, "2614": 1,
               "3140": 1},
    "451100": {"3032": 6, "3099": 5, "3011": 3, "3071": 2, "3041": 1, "2110": 1, "1530": 1, "3216": 1,
               "1011": 1},
    "451200": {"3214": 4, "3212": 4, "1741": 4, "1742": 3, "1751": 2, "3011": 2, "4413": 2, "1340": 2,
               "3140": 1, "3232": 1},
    "451300": {"1340": 8, "1511": 2, "3216": 3, "3011": 2, "3110": 1, "2221": 1, "1751": 1, "4413": 1,
               "1011": 1},
    "451400": {"1340": 8, "1511": 2, "3232": 3, "3212": 2, "2021": 3, "3011": 2, "2211": 1, "1751": 1},
}
CITY_SPECIALITY_SHARE = 0.6  # share of a city's enterprises drawn from its speciality mix
