"""Incremental dbt models: when a build must start from scratch, and that the incremental path
is really taken (the week-N+1 build re-decides only the days its deliveries carry)."""

from datetime import date

import duckdb

from dagster_project.lib.incremental import full_refresh_reason


def test_full_refresh_only_when_going_back_in_time_or_upgrading():
    with duckdb.connect() as con:
        assert full_refresh_reason(con, date(2024, 11, 18)) is None  # not built yet
        con.execute("create schema staging")
        con.execute("create table staging.stg_power__daily (account_no varchar, reading_date date)")
        assert "before it became incremental" in full_refresh_reason(con, date(2024, 11, 18))
        con.execute("alter table staging.stg_power__daily add column built_as_of date")
        con.execute("insert into staging.stg_power__daily values ('A', '2024-11-10', '2024-11-11'), "
                    "('A', '2024-11-17', '2024-11-18')")
        assert full_refresh_reason(con, date(2024, 11, 18)) is None
        assert full_refresh_reason(con, date(2024, 11, 25)) is None
        assert "later than 2024-11-11" in full_refresh_reason(con, date(2024, 11, 11))


def test_a_month_table_built_for_a_later_week_is_rebuilt_too():
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_power_month (month date, built_as_of date)")
        con.execute("insert into marts.fct_power_month values ('2024-11-01', '2024-11-25')")
        assert full_refresh_reason(con, date(2024, 11, 25)) is None
        assert "marts.fct_power_month was last built as of 2024-11-25" in full_refresh_reason(con, date(2024, 11, 18))
