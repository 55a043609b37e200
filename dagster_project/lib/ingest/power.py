"""power feed: the grid company (UTF-8, sometimes with a BOM)."""

from .spec import Column, Dataset, Kind, PeriodKind

ENCODING = "utf-8-sig"  # decodes both plain UTF-8 and UTF-8 with a BOM

ACCOUNTS = Dataset(
    feed="power",
    dataset="accounts",
    period=PeriodKind.DELIVERY_DATE,
    extension="csv",
    encoding=ENCODING,
    description="metering accounts, snapshot",
    key=("account_no",),
    columns=(
        Column("用电户号", "account_no", code=True),
        Column("户名", "account_name"),
        # Blank where the grid could not match the holder: kept, not rejected.
        Column("统一社会信用代码", "uscc", Kind.USCC, required=False),
        Column("行政区划代码", "county_code", Kind.COUNTY),
        Column("独立计量", "independent_metering", Kind.ENUM, values=("是", "否")),
        Column("电压等级", "voltage_level", required=False),
        Column("立户日期", "opened_on", Kind.DATE, required=False),
    ),
)

DAILY = Dataset(
    feed="power",
    dataset="daily",
    period=PeriodKind.DELIVERY_DATE,
    extension="csv",
    encoding=ENCODING,
    description="daily consumption, delivered weekly; later deliveries may re-read earlier days",
    key=("account_no", "reading_date"),
    columns=(
        Column("用电户号", "account_no", code=True),
        Column("日期", "reading_date", Kind.DATE),
        # Blank when the flag is 缺失 (missing).
        Column("用电量_千瓦时", "kwh", Kind.DECIMAL, required=False, stored=(18, 3)),
        Column("数据标志", "data_flag", Kind.ENUM, values=("正常", "估算", "缺失")),
    ),
)

DATASETS = (ACCOUNTS, DAILY)
