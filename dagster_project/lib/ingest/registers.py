"""registers feed: the department's hand-kept workbooks (.xlsx)."""

from .spec import Column, Dataset, Kind, PeriodKind


def _register(dataset: str, sheet: str, key: tuple[str, ...], columns: tuple[Column, ...], description: str,
              several_rows_per_key: bool = False) -> Dataset:
    return Dataset(
        feed="registers",
        dataset=dataset,
        period=PeriodKind.NONE,
        extension="xlsx",
        sheet=sheet,
        key=key,
        columns=columns,
        description=description,
        several_rows_per_key=several_rows_per_key,
    )


RECOGNITIONS = _register(
    "recognitions",
    "认定名单",
    key=("list_category", "level", "uscc", "name", "recognition_type", "recognised_on"),
    description="recognition lists (专精特新, 单项冠军, 绿色工厂/园区, ...)",
    several_rows_per_key=True,  # the scenarios of one enterprise: the supersession key has no name
    columns=(
        Column(
            "名单类别",
            "list_category",
            Kind.ENUM,
            values=("专精特新中小企业", "制造业单项冠军", "绿色工厂", "绿色园区", "数字化转型典型场景", "龙头企业"),
        ),
        Column("级别", "level", Kind.ENUM, values=("国家级", "自治区级", "市级")),
        Column("统一社会信用代码", "uscc", Kind.USCC, required=False),  # blank for parks
        Column("名称", "name"),
        Column("认定日期", "recognised_on", Kind.DATE),
        Column("认定类型", "recognition_type", Kind.ENUM, values=("新认定", "复核")),
    ),
)

LOANS = _register(
    "loans",
    "桂惠贷",
    key=("uscc", "lender", "disbursed_on"),
    description="桂惠贷 loans",
    several_rows_per_key=True,  # MEASURES.md pays M23 per loan; a bank may lend twice on one day
    columns=(
        Column("统一社会信用代码", "uscc", Kind.USCC),
        Column("贷款银行", "lender"),
        Column("产品", "product"),
        Column("放款日期", "disbursed_on", Kind.DATE),
        Column("到期日期", "matures_on", Kind.DATE),
        Column("贷款金额_万元", "principal_10k_yuan", Kind.DECIMAL, factor=10_000),
        Column("年利率_百分比", "annual_rate_pct", Kind.DECIMAL, stored=(9, 4)),
    ),
)

APPLICATIONS = _register(
    "applications",
    "申报",
    key=("application_id",),
    description="applications for event and fair subsidies",
    columns=(
        Column("申报编号", "application_id", code=True),
        Column("统一社会信用代码", "uscc", Kind.USCC),
        Column("活动类型", "activity_type", Kind.ENUM, values=("新品发布会", "产品订货会", "展会")),
        Column("活动名称", "activity_name", required=False),
        Column("举办日期", "held_on", Kind.DATE),
        Column("申报费用_元", "claimed_cost_yuan", Kind.DECIMAL),
    ),
)

TWO_HIGH = _register(
    "two_high",
    "两高名单",
    key=("uscc",),
    description="两高 (high energy use, high emission) enterprises",
    columns=(
        Column("统一社会信用代码", "uscc", Kind.USCC),
        Column("工序或产品", "process_or_product", required=False),
    ),
)

SUPPLY_LINKS = _register(
    "supply_links",
    "首次供需",
    key=("uscc", "buyer_name"),
    description="first-time supply relationships of key electronics enterprises",
    columns=(
        Column("统一社会信用代码", "uscc", Kind.USCC),
        Column("采购方名称", "buyer_name"),
        Column("首次供货日期", "first_supply_on", Kind.DATE),
        Column("合同金额_万元", "contract_10k_yuan", Kind.DECIMAL, required=False, factor=10_000),
    ),
)

DATASETS = (RECOGNITIONS, LOANS, APPLICATIONS, TWO_HIGH, SUPPLY_LINKS)
