"""Planted cases: enterprises, projects and register rows that sit on both sides of every rule.

The random population (enterprises.py) makes the sample look like an
industry; these cases make sure that even the tiny sample exercises each
condition of docs/contract/MEASURES.md with a qualifying and a non-qualifying example.
Targets are for the full quarter (Q4 2024 = 202410..202412), computed without
noise, so `q4_wan=5200, yoy_q4=0.12` means Q4 2024 output 5200万 against
about 4643万 in Q4 2023. Amounts are in 万元 unless the field says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

YES_HYPERLINK = '=HYPERLINK("http://x","y")'


@dataclass(frozen=True)
class PlantedEnterprise:
    key: str
    rule: str  # what it exercises
    county: str
    industry: str
    started: int  # 投产年月
    entered: int | None  # 入统年月; None: stays 临规
    # Exactly one size target: Q4 2024 output, Jan–Sep 2024 output, or 2023 annual output.
    q4_wan: float | None = None
    jan_sep_wan: float | None = None
    annual_wan: float | None = None
    yoy_q4: float | None = 0.0  # None: no base (new plant), level is the running level
    yoy_jan_sep: float | None = None  # defaults to yoy_q4
    tracked_from: int | None = None  # first report as 临规 before 入统
    exited: int | None = None  # 退库年月
    revenue_ratio: float = 0.97
    kwh_efficiency_2024: float = 1.0  # < 1: the plant uses less power per unit of output in 2024
    accounts: tuple[str, ...] | None = None  # 独立计量 flags of its power accounts; None: one 是
    two_high: bool = False
    name: str | None = None


ENTERPRISES: tuple[PlantedEnterprise, ...] = (
    # M02.growth: ≥ 5000万 and ≥ 10% (difficult industries ≥ 3000万 and ≥ 6%)
    PlantedEnterprise("growth_yes", "M02.growth yes; M24 yes; M21 launch capped at 30万; M23 long loan",
                      "450206", "3670", 201105, 201201, q4_wan=5200, yoy_q4=0.12, yoy_jan_sep=0.09,
                      accounts=("是", "是")),
    PlantedEnterprise("growth_low_output", "M02.growth no (Q4 < 5000万); M22 new market yes; M22 fair capped",
                      "450902", "3412", 200806, 201001, q4_wan=4800, yoy_q4=0.13, yoy_jan_sep=0.10,
                      accounts=("是",), name='玉林市"宏达"动力机械有限公司,玉州分公司'),
    PlantedEnterprise("growth_low_yoy", "M02.growth no (YoY < 10%); M21 no; M22 new market < 100万",
                      "450107", "3821", 201304, 201401, q4_wan=6000, yoy_q4=0.08, yoy_jan_sep=0.05),
    PlantedEnterprise("growth_difficult_yes", "M02.growth yes as 粮油 (131x) at ≥ 3000万 / ≥ 6%",
                      "450105", "1311", 200903, 201001, q4_wan=3150, yoy_q4=0.07, yoy_jan_sep=0.05),
    PlantedEnterprise("growth_difficult_no", "M02.growth no as 医药: Q4 < 3000万",
                      "450312", "2740", 200511, 200701, q4_wan=2900, yoy_q4=0.09),
    PlantedEnterprise("growth_not_difficult", "M02.growth no: difficult-industry figures, 钢压延 is not difficult",
                      "450602", "3130", 201206, 201301, q4_wan=3150, yoy_q4=0.07),
    PlantedEnterprise("growth_short_steel", "M02.growth yes as 短流程钢铁 (3120); 两高",
                      "450204", "3120", 201409, 201501, q4_wan=3300, yoy_q4=0.065, two_high=True),
    PlantedEnterprise("growth_cap", "M02.growth cap binds; M23 loans above the 150万 cap; electronics buyer",
                      "450512", "3974", 201706, 201801, q4_wan=600_000, yoy_q4=0.15, yoy_jan_sep=0.10,
                      accounts=("是", "是", "是")),
    PlantedEnterprise("growth_decline", "负增长 turning round (Q4 YoY > Jan–Sep YoY); 两高; M21 event in September",
                      "451103", "3011", 200604, 200701, q4_wan=8000, yoy_q4=-0.06, yoy_jan_sep=-0.10,
                      two_high=True),
    # M24: not 两高, all accounts independently metered, Q4 ≥ 1000万, YoY ≥ 10%, more kWh
    PlantedEnterprise("m24_two_high", "M24 no: 两高 although output and power grow; M02.growth yes",
                      "451082", "3216", 200710, 200801, q4_wan=90_000, yoy_q4=0.14, yoy_jan_sep=0.12,
                      two_high=True, accounts=("是", "是")),
    PlantedEnterprise("m24_mixed_metering", "M24 no: one account not independently metered",
                      "450702", "2221", 201009, 201101, q4_wan=12_000, yoy_q4=0.22, accounts=("是", "否")),
    PlantedEnterprise("m24_no_account", "M24 no: no power account",
                      "450305", "2911", 199806, 200101, q4_wan=7000, yoy_q4=0.11, accounts=()),
    PlantedEnterprise("m24_power_down", "M24 no: output grows, power falls; M08 no (not electronics)",
                      "450405", "3251", 201203, 201301, q4_wan=6500, yoy_q4=0.12, kwh_efficiency_2024=0.85,
                      accounts=("是",)),
    PlantedEnterprise("m24_small_yes", "M24 yes at Q4 ≥ 1000万; M23 rate below 2%; M22 fair; formula-like name",
                      "450821", "3770", 201805, 201901, q4_wan=1200, yoy_q4=0.15, accounts=("是",),
                      name=YES_HYPERLINK),
    PlantedEnterprise("m24_small_no", "M24 no: Q4 < 1000万; M22 destination last served 13 months before Q4",
                      "450981", "1952", 201604, 201701, q4_wan=950, yoy_q4=0.15, accounts=("是",)),
    # M02.new: no base, 投产 ≥ 202310, Q4 ≥ 2500万 (difficult ≥ 1500万)
    PlantedEnterprise("new_yes", "M02.new yes; M21 no (no base); M23 loan on 2024-10-01",
                      "450205", "3612", 202401, 202402, q4_wan=2800, yoy_q4=None),
    PlantedEnterprise("new_low", "M02.new no: Q4 < 2500万",
                      "450903", "3514", 202403, 202404, q4_wan=2300, yoy_q4=None),
    PlantedEnterprise("new_boundary", "M02.new yes: 投产 202310 exactly, first report 2024",
                      "450703", "2651", 202310, 202403, q4_wan=3000, yoy_q4=None),
    PlantedEnterprise("new_too_early", "M02.new no: no base but 投产 202309",
                      "450602", "1331", 202309, 202402, q4_wan=3500, yoy_q4=None),
    PlantedEnterprise("new_difficult", "M02.new yes as 电子信息 at ≥ 1500万; M08 three Q4 links (cap binds)",
                      "450503", "3982", 202402, 202403, q4_wan=1650, yoy_q4=None),
    PlantedEnterprise("new_with_base", "reports from 202311: has a base, so M02.new does not apply",
                      "451421", "3232", 202311, 202311, q4_wan=3000, yoy_q4=None),
    # M02.small_to_large: 入统 in 2024, full-year growth ≥ 10%, 2023 reports as 临规
    PlantedEnterprise("s2l_yes", "M02.small_to_large yes; M23 six-month loan",
                      "450406", "2438", 201003, 202401, annual_wan=2300, yoy_q4=0.12, tracked_from=202301),
    PlantedEnterprise("s2l_no", "M02.small_to_large no: growth 7%",
                      "451103", "3032", 201207, 202401, annual_wan=2200, yoy_q4=0.07, tracked_from=202301),
    PlantedEnterprise("s2l_q4", "入统 202410 with 投产 before 2023 (M32); small_to_large yes; "
                      "M22 destination served 11 months before Q4 (not new)",
                      "451203", "1742", 201606, 202410, annual_wan=2100, yoy_q4=0.15, tracked_from=202301),
    PlantedEnterprise("s2l_and_growth", "small_to_large and M02.growth together; M21 order event",
                      "450108", "3252", 201505, 202401, q4_wan=5600, yoy_q4=0.14, tracked_from=202301),
    PlantedEnterprise("newbuild_q4", "入统 202410 with 投产 2024 (M32 newly built); M02.new yes",
                      "450802", "3612", 202403, 202410, q4_wan=2600, yoy_q4=None),
    PlantedEnterprise("newbuild_q4_late", "入统 202411: first appears in the November directory",
                      "450702", "3841", 202405, 202411, q4_wan=1800, yoy_q4=None),
    # Measure 33 退库风险: Jan–Sep 2024 output or revenue < 1500万; 退库
    PlantedEnterprise("exit_risk_output", "退库风险 by output",
                      "451421", "2021", 201403, 201501, jan_sep_wan=1400, yoy_q4=0.03),
    PlantedEnterprise("exit_risk_revenue", "退库风险 by revenue only (output ≥ 1500万)",
                      "451203", "1741", 201108, 201201, jan_sep_wan=1600, yoy_q4=0.02, revenue_ratio=0.90),
    PlantedEnterprise("exit_safe", "no 退库风险: output and revenue ≥ 1500万; M23 loan in Q4 2023",
                      "450481", "1530", 201210, 201301, jan_sep_wan=1700, yoy_q4=0.04, revenue_ratio=1.0),
    PlantedEnterprise("exited", "退库 202407: stops reporting, listed with 退库年月 for the rest of the year",
                      "451302", "1340", 200411, 200601, annual_wan=3000, yoy_q4=-0.05, exited=202407),
    # 拟上规: 临规 with trailing-12-month revenue ≥ 1600万
    PlantedEnterprise("near_yes", "拟上规 yes", "451002", "1373", 201506, None, annual_wan=1780, yoy_q4=0.03,
                      revenue_ratio=1.0, tracked_from=202301),
    PlantedEnterprise("near_no", "拟上规 no", "451103", "2110", 201709, None, annual_wan=1450, yoy_q4=0.02,
                      tracked_from=202301),
    PlantedEnterprise("near_small", "临规 with Q4 < 500万: M22 fair and new market refused on output",
                      "450103", "2411", 201901, None, annual_wan=900, yoy_q4=0.05, tracked_from=202301),
    # M08 electronics supplier
    PlantedEnterprise("elec_supplier", "M08: one Q4 link and one in September; name starts with +",
                      "450107", "3981", 201610, 201701, q4_wan=2000, yoy_q4=0.05,
                      name="+86智联电子（南宁）有限公司"),
)


@dataclass(frozen=True)
class PlantedProject:
    key: str
    rule: str
    owner: str  # PlantedEnterprise key
    nature: str  # 建设性质
    tags: tuple[str, ...]
    plan_wan: float
    started: int | None  # 开工年月; None: not started
    entered: int  # 入库年月
    monthly_wan: float = 0.0  # completed investment in months outside Q4b/Q4
    q4b_wan: float | None = None  # Q4 2023 total (default 3 × monthly)
    q4_wan: float | None = None  # Q4 2024 total (default 3 × monthly)
    equipment_share: float = 0.3
    completed: int | None = None


PROJECTS: tuple[PlantedProject, ...] = (
    # M11: 双百双新, plan > 5亿, not started
    PlantedProject("m11_yes", "M11 yes", "growth_cap", "新建", ("双百双新", "重大产业标志性工程"), 60_000, None, 202405),
    PlantedProject("m11_equal", "M11 no: plan exactly 5亿", "m24_two_high", "扩建", ("双百双新",), 50_000, None, 202408),
    PlantedProject("m11_started", "M11 no: started; M15 major and increment", "new_yes", "新建", ("双百双新",),
                   80_000, 202406, 202406, monthly_wan=3000, q4_wan=21_000, equipment_share=0.4),
    PlantedProject("m11_no_tag", "M11 no: not 双百双新", "growth_low_yoy", "新建", ("招商引资",), 70_000, None, 202407),
    # M15.increment: Q4 ≥ 1000万 and > Q4b
    PlantedProject("inc_yes", "M15.increment yes", "growth_yes", "扩建", ("招商引资",), 8_000, 202306, 202306,
                   monthly_wan=250, q4b_wan=600, q4_wan=1050),
    PlantedProject("inc_low", "M15.increment no: Q4 < 1000万", "growth_low_output", "改建", (), 5_000, 202309, 202309,
                   monthly_wan=200, q4b_wan=500, q4_wan=980),
    PlantedProject("inc_not_more", "M15.increment no: Q4 ≤ Q4b", "s2l_and_growth", "扩建", (), 9_000, 202305, 202305,
                   monthly_wan=300, q4b_wan=1500, q4_wan=1200),
    # M15.major: Q4 ≥ 2亿
    PlantedProject("major_yes", "M15.major yes", "m24_mixed_metering", "新建", ("重大产业标志性工程", "双百双新"),
                   450_000, 202303, 202303, monthly_wan=5000, q4b_wan=15_000, q4_wan=21_000, equipment_share=0.35),
    PlantedProject("major_no", "M15.major no: Q4 < 2亿 and below Q4b", "growth_short_steel", "技术改造", ("千企技改",),
                   120_000, 202302, 202302, monthly_wan=5000, q4b_wan=22_000, q4_wan=19_500, equipment_share=0.5),
    # M15.new_start: 开工 and 入库 in Q4; 新建 ≥ 1000万, 技术改造 ≥ 500万
    PlantedProject("start_new_yes", "M15.new_start 新建 yes", "newbuild_q4", "新建", ("双百双新",), 30_000, 202410, 202410,
                   monthly_wan=400, q4_wan=1100),
    PlantedProject("start_new_no", "M15.new_start 新建 no: Q4 < 1000万", "m24_small_yes", "新建", (), 6_000, 202411, 202411,
                   monthly_wan=300, q4_wan=900),
    PlantedProject("start_reno_yes", "M15.new_start 技术改造 yes; M20 no (< 500万 equipment)", "m24_no_account", "技术改造",
                   ("千企技改", "设备更新重点方向"), 3_000, 202410, 202410, monthly_wan=150, q4_wan=550, equipment_share=0.7),
    PlantedProject("start_reno_no", "M15.new_start 技术改造 no: Q4 < 500万", "growth_decline", "技术改造", ("千企技改",),
                   2_000, 202410, 202410, monthly_wan=120, q4_wan=450),
    PlantedProject("start_expand", "M15.new_start no: 扩建 (increment yes)", "s2l_yes", "扩建", (), 8_000, 202410, 202410,
                   monthly_wan=500, q4_wan=1500),
    PlantedProject("start_rebuild", "M15.new_start no: 改建", "exit_safe", "改建", (), 3_000, 202411, 202411,
                   monthly_wan=300, q4_wan=700),
    PlantedProject("start_before_q4", "M15.new_start no: 开工 202409", "new_low", "新建", (), 9_000, 202409, 202409,
                   monthly_wan=400, q4_wan=1200),
    # M20: 技术改造 + 设备更新重点方向, equipment since 开工 ≥ 500万
    PlantedProject("m20_yes", "M20 yes", "m24_power_down", "技术改造", ("设备更新重点方向", "千企技改"), 4_000, 202403, 202403,
                   monthly_wan=150, equipment_share=0.6),
    PlantedProject("m20_low", "M20 no: equipment < 500万", "growth_difficult_yes", "技术改造", ("设备更新重点方向",),
                   1_500, 202404, 202404, monthly_wan=60, equipment_share=0.5),
    PlantedProject("m20_cap", "M20 cap binds (8% of 2024 equipment > 1000万)", "m24_two_high", "技术改造",
                   ("设备更新重点方向", "重大产业标志性工程"), 300_000, 202311, 202311, monthly_wan=2500, equipment_share=0.65),
    PlantedProject("m20_not_renovation", "M20 no: 改建", "growth_not_difficult", "改建", ("设备更新重点方向",), 5_000,
                   202402, 202402, monthly_wan=200, equipment_share=0.7),
    PlantedProject("m20_no_tag", "M20 no: no 设备更新重点方向 tag", "growth_difficult_no", "技术改造", ("千企技改",), 3_000,
                   202401, 202401, monthly_wan=120, equipment_share=0.6),
    # Completion months
    PlantedProject("done_2024", "completed 202406: leaves the library", "growth_low_yoy", "扩建", (), 4_000, 202301, 202301,
                   monthly_wan=220, completed=202406),
    PlantedProject("done_2023", "completed 202309", "exit_risk_revenue", "技术改造", ("千企技改",), 1_200, 202210, 202211,
                   monthly_wan=90, completed=202309),
)


@dataclass(frozen=True)
class PlantedExport:
    """One declaration of one line, for the M22 new-market cases."""

    exporter: str
    country: str
    month: int
    day: int
    cny_wan: float


EXPORTS: tuple[PlantedExport, ...] = (
    PlantedExport("growth_low_output", "NGA", 202410, 14, 90),  # new destination, 150万 in Q4: yes
    PlantedExport("growth_low_output", "NGA", 202411, 12, 60),
    PlantedExport("growth_low_yoy", "MEX", 202410, 22, 80),  # new but < 100万: no
    PlantedExport("m24_small_no", "BRA", 202309, 18, 30),  # last served 13 months before Q4 ...
    PlantedExport("m24_small_no", "BRA", 202410, 9, 120),  # ... so BRA counts as new: yes
    PlantedExport("s2l_q4", "TUR", 202311, 20, 25),  # last served 11 months before Q4 ...
    PlantedExport("s2l_q4", "TUR", 202410, 16, 130),  # ... so TUR is not new: no
    PlantedExport("near_small", "ARE", 202410, 25, 200),  # new, ≥ 100万, but Q4 output < 500万: no
)


@dataclass(frozen=True)
class PlantedApplication:
    applicant: str
    activity: str  # 活动类型
    held: date
    cost_yuan: int
    event: str | None = None  # default: named after the applicant


APPLICATIONS: tuple[PlantedApplication, ...] = (
    PlantedApplication("growth_yes", "新品发布会", date(2024, 10, 18), 800_000),  # 50% = 40万 > 30万 cap
    PlantedApplication("s2l_and_growth", "产品订货会", date(2024, 11, 8), 400_000),
    PlantedApplication("growth_low_yoy", "新品发布会", date(2024, 10, 22), 500_000),  # YoY < 10%
    PlantedApplication("growth_decline", "产品订货会", date(2024, 9, 20), 300_000),  # outside Q4
    PlantedApplication("new_yes", "新品发布会", date(2024, 10, 25), 350_000),  # no base
    PlantedApplication("growth_low_output", "展会", date(2024, 10, 15), 150_000, "第136届中国进出口商品交易会"),  # cap 5万
    PlantedApplication("m24_small_yes", "展会", date(2024, 10, 15), 60_000, "第136届中国进出口商品交易会"),
    PlantedApplication("near_small", "展会", date(2024, 10, 15), 80_000, "第136届中国进出口商品交易会"),  # Q4 < 500万
    PlantedApplication("growth_not_difficult", "展会", date(2024, 9, 24), 90_000, "第21届中国—东盟博览会"),  # outside Q4
)


@dataclass(frozen=True)
class PlantedLoan:
    borrower: str
    bank: str
    product: str
    disbursed: date
    months: int
    amount_wan: float
    rate: float  # annual rate in percent


LOANS: tuple[PlantedLoan, ...] = (
    # Three Q4 loans of 4000万: 3 × 80万 interest subsidy > the 150万 cap
    PlantedLoan("growth_cap", "国家开发银行广西分行", "工业流动资金贷", date(2024, 10, 12), 12, 4000, 3.45),
    PlantedLoan("growth_cap", "中国工商银行广西区分行", "工业流动资金贷", date(2024, 10, 28), 12, 4000, 3.60),
    PlantedLoan("growth_cap", "广西北部湾银行", "工业流动资金贷", date(2024, 11, 6), 12, 4000, 2.95),
    PlantedLoan("m24_small_yes", "桂林银行", "工业流动资金贷", date(2024, 10, 15), 12, 800, 1.85),  # rate < 2 points
    PlantedLoan("s2l_yes", "中国农业银行广西区分行", "工业流动资金贷", date(2024, 11, 1), 6, 500, 3.20),  # < 365 days
    PlantedLoan("growth_yes", "中国建设银行广西区分行", "工业流动资金贷", date(2024, 10, 9), 36, 2000, 3.50),  # > 365 days
    PlantedLoan("growth_low_yoy", "交通银行广西区分行", "科技创新贷", date(2024, 10, 20), 12, 1500, 3.10),  # other product
    PlantedLoan("growth_low_output", "中国银行广西区分行", "工业流动资金贷", date(2024, 9, 30), 12, 1000, 3.30),  # before Q4
    PlantedLoan("new_yes", "广西农村信用社联合社", "工业流动资金贷", date(2024, 10, 1), 12, 600, 3.65),  # first day of Q4
    PlantedLoan("exit_safe", "柳州银行", "工业流动资金贷", date(2023, 11, 15), 12, 300, 3.80),  # base quarter
)
# The loan `registers_loans_v2.xlsx` corrects: v1 carries the principal with an extra zero.
CORRECTED_LOAN = ("growth_yes", date(2024, 10, 9))
CORRECTION_DELAY_DAYS = 14  # the corrected register arrives two weeks after the loan


@dataclass(frozen=True)
class PlantedLink:
    supplier: str
    buyer: str  # PlantedEnterprise key or a literal buyer name
    first_supply: date
    amount_wan: float


LINKS: tuple[PlantedLink, ...] = (
    PlantedLink("new_difficult", "growth_cap", date(2024, 10, 10), 800),  # three Q4 links: 60万 > 50万 cap
    PlantedLink("new_difficult", "elec_supplier", date(2024, 10, 25), 300),
    PlantedLink("new_difficult", "北海华宇光电科技有限公司", date(2024, 11, 12), 450),
    PlantedLink("elec_supplier", "growth_cap", date(2024, 11, 3), 200),  # one Q4 link
    PlantedLink("elec_supplier", "北海华宇光电科技有限公司", date(2024, 9, 15), 150),  # September: outside
    PlantedLink("m24_power_down", "growth_cap", date(2024, 10, 16), 600),  # supplier not in 电子信息
)


@dataclass(frozen=True)
class PlantedRecognition:
    enterprise: str
    category: str
    level: str
    recognised: date
    kind: str


RECOGNITIONS: tuple[PlantedRecognition, ...] = (
    # Odd names must reach the registers too.
    PlantedRecognition("m24_small_yes", "专精特新中小企业", "自治区级", date(2024, 6, 18), "新认定"),
    PlantedRecognition("growth_low_output", "龙头企业", "市级", date(2024, 4, 10), "新认定"),
    PlantedRecognition("elec_supplier", "专精特新中小企业", "市级", date(2023, 9, 12), "新认定"),
)
