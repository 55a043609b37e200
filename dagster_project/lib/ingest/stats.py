"""stats feed: the provincial statistics bureau (GB18030)."""

from .spec import Column, Dataset, Kind, PeriodKind

ENCODING = "gb18030"
ARRIVAL_DAY = 15  # docs/contract/OUTPUTS.md: stats for month M arrive around the 15th of M+1

SCALE_FLAGS = ("规上", "临规")
CONSTRUCTION_TYPES = ("新建", "扩建", "改建", "技术改造")
PROJECT_TAGS = ("双百双新", "千企技改", "重大产业标志性工程", "招商引资", "设备更新重点方向")
PROJECT_TAG_SEPARATOR = ";"  # 项目标签 holds several tags; stored trimmed, without blanks (loader.py)

ENTERPRISE = Dataset(
    feed="stats",
    dataset="enterprise",
    period=PeriodKind.MONTH,
    extension="csv",
    encoding=ENCODING,
    arrival_day=ARRIVAL_DAY,
    description="industrial enterprise directory, monthly snapshot",
    key=("uscc",),
    columns=(
        Column("统一社会信用代码", "uscc", Kind.USCC),
        Column("企业名称", "enterprise_name"),
        Column("行政区划代码", "county_code", Kind.COUNTY),
        Column("行业代码", "industry_code", Kind.INDUSTRY),
        Column("规模标志", "scale_flag", Kind.ENUM, values=SCALE_FLAGS),
        Column("入统年月", "above_size_since", Kind.MONTH, required=False),
        Column("投产年月", "production_start", Kind.MONTH, required=False),
        Column("退库年月", "above_size_exit", Kind.MONTH, required=False),
    ),
)

INDUSTRY = Dataset(
    feed="stats",
    dataset="industry",
    period=PeriodKind.MONTH,
    extension="csv",
    encoding=ENCODING,
    arrival_day=ARRIVAL_DAY,
    description="monthly industrial report",
    key=("report_month", "uscc"),
    columns=(
        Column("统一社会信用代码", "uscc", Kind.USCC),
        Column("报告期", "report_month", Kind.MONTH),
        Column("工业总产值_本月_千元", "output_month_k_yuan", Kind.DECIMAL, factor=1000),
        Column("工业总产值_累计_千元", "output_ytd_k_yuan", Kind.DECIMAL, factor=1000),
        Column("营业收入_本月_千元", "revenue_month_k_yuan", Kind.DECIMAL, factor=1000),
        Column("营业收入_累计_千元", "revenue_ytd_k_yuan", Kind.DECIMAL, factor=1000),
        Column("利润总额_累计_千元", "profit_ytd_k_yuan", Kind.DECIMAL, factor=1000),
        Column("从业人员期末人数", "employees_end", Kind.INTEGER),
    ),
)

PROJECTS = Dataset(
    feed="stats",
    dataset="projects",
    period=PeriodKind.MONTH,
    extension="csv",
    encoding=ENCODING,
    arrival_day=ARRIVAL_DAY,
    description="industrial fixed-asset investment project library",
    key=("project_code",),
    columns=(
        Column("项目代码", "project_code", code=True),
        Column("项目名称", "project_name"),
        Column("统一社会信用代码", "uscc", Kind.USCC),
        Column("行政区划代码", "county_code", Kind.COUNTY),
        Column("行业代码", "industry_code", Kind.INDUSTRY),
        Column("建设性质", "construction_type", Kind.ENUM, values=CONSTRUCTION_TYPES),
        # May be blank: a project's months of investment count without a plan; M11 needs one.
        Column("计划总投资_万元", "planned_investment_10k_yuan", Kind.DECIMAL, required=False, factor=10_000,
               positive=True),
        Column("开工年月", "start_month", Kind.MONTH, required=False),
        Column("入库年月", "library_entry_month", Kind.MONTH),
        Column("本月完成投资_万元", "investment_month_10k_yuan", Kind.DECIMAL, factor=10_000),
        Column("本月设备购置_万元", "equipment_month_10k_yuan", Kind.DECIMAL, factor=10_000),
        Column("项目标签", "tags", Kind.ENUM, required=False, values=PROJECT_TAGS, list_separator=PROJECT_TAG_SEPARATOR),
        Column("竣工年月", "completion_month", Kind.MONTH, required=False),
    ),
)

DATASETS = (ENTERPRISE, INDUSTRY, PROJECTS)
