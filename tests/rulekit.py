"""Test helpers: put hand-made rows straight into the marts and run the engine on them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from dagster_project.lib.measures.weekly import forecast_and_evaluate
from dagster_project.lib.measures.catalogue import load_catalogue
from dagster_project.lib.measures.parameters import Parameters
from dagster_project.lib.uscc import make_uscc

AFTER_Q4 = date(2025, 2, 1)  # December's stats arrived on 2025-01-15: nothing left to forecast
WAN = Decimal(10_000)


def _yuan(wan) -> Decimal | None:
    return None if wan is None else Decimal(str(wan)) * WAN


def uscc(n: int, county: str = "450102") -> str:
    return make_uscc(county, f"MA{n:06d}")


class Warehouse:
    def __init__(self, path) -> None:
        self.con = duckdb.connect(str(path))
        self.catalogue = load_catalogue()

    def insert(self, table: str, **values) -> None:
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        self.con.execute(f"insert into {table} ({cols}) values ({marks})", list(values.values()))

    def enterprise(self, n: int, *, q4_wan=None, q4b_wan=None, group="机械", difficult=False, scale="规上",
                   production_start=None, above_size_since=None, fy_wan=None, fy_base_wan=None, two_high=False,
                   city="450100", q3_wan=None, ytd9_wan=None, ytd9_base_wan=None) -> str:
        code = uscc(n)
        self.insert("marts.dim_enterprise", uscc=code, enterprise_name=f"企业{n}", county_code="450102",
                    city_code=city, industry_code="3411", industry_group=group, is_difficult_industry=difficult,
                    scale_flag=scale, is_above_size=scale == "规上", production_start=production_start,
                    above_size_since=above_size_since, is_two_high=two_high)
        q4 = None if q4_wan is None else Decimal(str(q4_wan)) * WAN
        q4b = None if q4b_wan is None else Decimal(str(q4b_wan)) * WAN
        fy = None if fy_wan is None else Decimal(str(fy_wan)) * WAN
        fy_base = None if fy_base_wan is None else Decimal(str(fy_base_wan)) * WAN
        if q4b is not None:
            self.insert("marts.fct_enterprise_quarter", uscc=code, quarter_start=date(2023, 10, 1), year=2023, quarter=4,
                        output_yuan=q4b, output_ytd_yuan=fy_base, months_reported=3, is_complete=True,
                        last_reported_month=date(2023, 12, 1), serves_as_base=q4b > 0)
            self.insert("marts.fct_enterprise_month", uscc=code, month=date(2023, 12, 1), output_ytd_yuan=fy_base)
        if q3_wan is not None or ytd9_wan is not None:
            self.insert("marts.fct_enterprise_quarter", uscc=code, quarter_start=date(2024, 7, 1), year=2024, quarter=3,
                        output_yuan=_yuan(q3_wan), output_ytd_yuan=_yuan(ytd9_wan),
                        base_output_ytd_yuan=_yuan(ytd9_base_wan), months_reported=3, is_complete=True,
                        last_reported_month=date(2024, 9, 1), serves_as_base=(_yuan(q3_wan) or 0) > 0)
            self.insert("marts.fct_enterprise_month", uscc=code, month=date(2024, 9, 1), output_ytd_yuan=_yuan(ytd9_wan))
        if ytd9_base_wan is not None:
            self.insert("marts.fct_enterprise_month", uscc=code, month=date(2023, 9, 1), output_ytd_yuan=_yuan(ytd9_base_wan))
        if q4 is not None:
            self.insert("marts.fct_enterprise_quarter", uscc=code, quarter_start=date(2024, 10, 1), year=2024, quarter=4,
                        output_yuan=q4, output_ytd_yuan=fy, months_reported=3, is_complete=True,
                        last_reported_month=date(2024, 12, 1), base_output_yuan=q4b, base_output_ytd_yuan=fy_base,
                        base_last_reported_month=None if q4b is None else date(2023, 12, 1), serves_as_base=q4 > 0,
                        has_base=(q4b or 0) > 0)
            self.insert("marts.fct_enterprise_month", uscc=code, month=date(2024, 12, 1), output_ytd_yuan=fy)
        return code

    def run(self, overrides: dict | None = None, as_of: date = AFTER_Q4):
        params = Parameters(self.catalogue, overrides, "test") if overrides else Parameters(self.catalogue)
        return forecast_and_evaluate(self.con, self.catalogue, params, as_of)

    def award(self, scheme_id: str, key: str, scenario: str = "base") -> tuple[bool, bool, Decimal, str]:
        row = self.con.execute(
            "select eligible, chosen, amount_yuan, reason from marts.policy_awards "
            "where scheme_id = ? and coalesce(project_code, uscc) = ? and scenario = ?",
            [scheme_id, key, scenario],
        ).fetchone()
        assert row is not None, f"no {scheme_id} evaluation for {key}"
        return row


def add_project(wh: Warehouse, code: str, owner: str, *, q4_wan=0, q4b_wan=0, kind="新建", tags="", planned_wan=1000,
                start=None, entry=date(2024, 1, 1), equipment_2024_wan=0, equipment_before_wan=0) -> str:
    """A project with its Q4 investment in December 2024, equipment split across 2023/2024."""
    wh.insert("marts.dim_project", project_code=code, uscc=owner, city_code="450100", industry_group="机械",
              construction_type=kind, start_month=start,
              planned_investment_yuan=None if planned_wan is None else Decimal(str(planned_wan)) * WAN,
              library_entry_month=entry, tags=tags or None)
    before, in_2024 = Decimal(str(equipment_before_wan)) * WAN, Decimal(str(equipment_2024_wan)) * WAN
    q4, q4b = Decimal(str(q4_wan)) * WAN, Decimal(str(q4b_wan)) * WAN
    wh.insert("marts.fct_project_month", project_code=code, month=date(2023, 12, 1), uscc=owner,
              investment_yuan=q4b, equipment_yuan=before)
    wh.insert("marts.fct_project_month", project_code=code, month=date(2024, 12, 1), uscc=owner,
              investment_yuan=q4, equipment_yuan=in_2024)
    # The quarters as fct_project_quarter adds them up: equipment since the start counts from 开工年月.
    started_by_2023 = start is not None and start <= date(2023, 12, 1)
    wh.insert("marts.fct_project_quarter", project_code=code, quarter_start=date(2023, 10, 1), year=2023, quarter=4,
              investment_yuan=q4b, equipment_yuan=before, months_reported=1,
              equipment_since_start_yuan=before if started_by_2023 else None, equipment_ytd_yuan=before)
    wh.insert("marts.fct_project_quarter", project_code=code, quarter_start=date(2024, 10, 1), year=2024, quarter=4,
              investment_yuan=q4, equipment_yuan=in_2024, months_reported=1, base_investment_yuan=q4b,
              equipment_since_start_yuan=(in_2024 + (before if started_by_2023 else 0)) if start is not None else None,
              equipment_ytd_yuan=in_2024)
    return code
