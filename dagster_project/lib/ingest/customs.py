"""customs feed: the customs district (UTF-8, sometimes with a BOM)."""

from .spec import Column, Dataset, Kind, PeriodKind

EXPORT = Dataset(
    feed="customs",
    dataset="export",
    period=PeriodKind.MONTH,
    extension="csv",
    encoding="utf-8-sig",
    arrival_day=10,  # docs/contract/OUTPUTS.md: customs for month M arrives around the 10th of M+1
    description="export declaration lines",
    key=("declaration_no", "line_no"),
    columns=(
        Column("报关单号", "declaration_no", code=True),
        Column("项号", "line_no", Kind.INTEGER),
        Column("出口日期", "export_date", Kind.DATE),
        Column("经营单位编码", "customs_code"),
        Column("统一社会信用代码", "uscc", Kind.USCC),
        Column("商品编码", "hs_code"),
        Column("贸易方式", "trade_mode"),
        Column("运抵国", "destination", Kind.COUNTRY),
        Column("美元金额", "value_usd", Kind.DECIMAL),
        Column("人民币金额_元", "value_cny_yuan", Kind.DECIMAL),
    ),
)

DATASETS = (EXPORT,)
