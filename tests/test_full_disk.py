"""A full disk or an unwritable folder: a clear message, nothing half-written, nothing left behind."""

from __future__ import annotations

import errno
from datetime import date

import pandas as pd
import pytest

from dagster_project.cli import _run_as_of
from dagster_project.lib.ingest.spec import DeliveredFile
from dagster_project.lib.ingest.stats import INDUSTRY
from dagster_project.lib.quality.run import run_values
from dagster_project.lib.quality.suites import load_suites


def test_a_data_docs_build_that_fills_the_disk_leaves_the_site_as_it_was(tmp_path):
    from dagster_project.lib.quality.gx_runner import GxSession

    suite = next(s for s in load_suites() if s.name == "mart_dim_enterprise")
    frame = pd.DataFrame({"uscc": ["x"], "county_code": ["450102"], "industry_code": ["3411"], "scale_flag": ["规上"],
                          "above_size_since": [pd.NaT]})
    site = tmp_path / "data_docs"
    session = GxSession("run-1", site)
    session.validate(suite, frame, run_values(date(2024, 11, 25)), "first")
    index = session.build_docs()
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert index in before

    def full_disk(**_):
        (site / "validations" / "half").mkdir(parents=True)
        (site / "validations" / "half" / "page.html").write_bytes(b"")  # created, nothing written
        index.write_bytes(b"<html><bo")  # cut short
        raise OSError(errno.ENOSPC, "No space left on device")

    session.validate(suite, frame, run_values(date(2024, 11, 25)), "second")
    session.ctx.build_data_docs = full_disk
    with pytest.raises(OSError, match="No space left on device"):
        session.build_docs()
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert not (site / "validations" / "half").exists()


def test_a_first_data_docs_build_that_fails_leaves_no_folder(tmp_path):
    from dagster_project.lib.quality.gx_runner import GxSession

    suite = next(s for s in load_suites() if s.name == "mart_dim_enterprise")
    site = tmp_path / "reports" / "data_docs"
    session = GxSession("run-1", site)
    session.validate(suite, pd.DataFrame({"uscc": ["x"]}), run_values(date(2024, 11, 25)), "first")

    def full_disk(**_):
        (site / "index.html").write_bytes(b"")
        raise OSError(errno.ENOSPC, "No space left on device")

    session.ctx.build_data_docs = full_disk
    with pytest.raises(OSError):
        session.build_docs()
    assert not site.exists()  # (the validation results stored before, in data_docs_results/, stay: history)


def _delivered(name: str) -> DeliveredFile:
    return DeliveredFile(name, INDUSTRY, name.split("_")[2][:6], 1)


def test_an_as_of_date_long_after_the_latest_delivery_runs_with_a_warning(capsys):
    first, last = _delivered("stats_industry_202301.csv"), _delivered("stats_industry_202410.csv")
    assert _run_as_of(None, first, last) == (date(2024, 11, 15), None)
    assert _run_as_of(date(2024, 11, 22), first, last) == (date(2024, 11, 22), None)
    assert capsys.readouterr().err == ""
    assert _run_as_of(date(2024, 12, 2), first, last) == (date(2024, 12, 2), None)
    assert capsys.readouterr().err == (
        "gxindustry refresh: warning: as-of date 2024-12-02 is 17 days after the latest delivery "
        "(stats/stats_industry_202410.csv, 2024-11-15): the run uses what had arrived by then and reports the feeds "
        "as stale\n")
    refused = _run_as_of(date(2023, 2, 14), first, last)
    assert refused == (None, "as-of date 2023-02-14 (--as-of / GXINDUSTRY_AS_OF) is before any delivery had arrived: "
                             "the first, stats/stats_industry_202301.csv, counts from 2023-02-15")
