"""tax feed: the tax bureau (GB18030)."""

from .spec import Column, Dataset, Kind, PeriodKind

VAT = Dataset(
    feed="tax",
    dataset="vat",
    period=PeriodKind.MONTH,
    extension="csv",
    encoding="gb18030",
    arrival_day=15,  # docs/contract/OUTPUTS.md: tax for month M arrives around the 15th of M+1
    description="VAT returns per tax period",
    key=("tax_period", "uscc"),
    columns=(
        Column("纳税人识别号", "uscc", Kind.USCC),
        Column("所属期", "tax_period", Kind.MONTH),
        Column("开票销售额_元", "invoiced_sales_yuan", Kind.DECIMAL),
        Column("应纳增值税额_元", "vat_payable_yuan", Kind.DECIMAL),
        Column("申报日期", "filed_on", Kind.DATE, required=False),
    ),
)

DATASETS = (VAT,)
