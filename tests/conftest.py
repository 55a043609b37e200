"""Shared fixtures: an empty warehouse built by the real dbt project (for rule tests),
the dbt manifest that Dagster needs (parsed once per session, never at import), and the check that
every reason ingestion writes reads in Chinese where finance sees it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.dbt_invocation import AS_OF_ENV
from dagster_project.lib.ingest import DATASETS
from dagster_project.lib.ingest.loader import ensure_raw_tables
from dagster_project.paths import DBT_PROJECT_DIR
from reports import wording

DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(args: list[str], warehouse: Path, as_of: date | None = None) -> None:
    """Run dbt on `warehouse` as the pipeline does (`as_of`: the run's as-of date, default: everything)."""
    env = dict(os.environ, GXINDUSTRY_WAREHOUSE=str(warehouse))
    env.pop(AS_OF_ENV, None)
    if as_of:
        env[AS_OF_ENV] = as_of.isoformat()
    result = subprocess.run(
        [DBT, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    from dagster_project.cli import prepare_dbt

    prepare_dbt()
    return DBT_PROJECT_DIR / "target" / "manifest.json"


@pytest.fixture(scope="session")
def empty_warehouse_template(tmp_path_factory, dbt_manifest) -> Path:
    """Every raw, staging and mart table, empty: built once by `dbt build`."""
    path = tmp_path_factory.mktemp("template") / "empty.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_raw_tables(con, DATASETS)
    dbt(["build", "--quiet"], path, as_of=date(2025, 2, 1))
    return path


@pytest.fixture
def empty_warehouse(empty_warehouse_template, tmp_path) -> Path:
    path = tmp_path / "wh.duckdb"
    shutil.copy(empty_warehouse_template, path)
    return path


# What may stay in Latin letters in a reason finance reads: file names, paths and identifiers (with
# `/` or `_`), quoted values, hexadecimal digests, the feeds', datasets' and columns' codes, and the
# names of formats and programs.
_CODES = {d.feed for d in DATASETS} | {d.dataset for d in DATASETS} | {c.name for d in DATASETS for c in d.columns}
_NOT_WORDS = re.compile(r"\S*[_/]\S*|“[^”]*”|'[^']*'|[0-9a-f]{12}…|\b(?:YYYYMM(?:DD)?|YYYY-MM-DD|CRLF|CSV|csv|xlsx|xls|zip|gzip|sha256|"
                        r"Excel|LibreOffice|GB18030|UTF-8|USCC|GB/T|ISO)\b")


def english_left(text: str) -> list[str]:
    """The words of `text` in Latin letters that are no code, name or value."""
    return [w for w in re.findall(r"[A-Za-z]{3,}", _NOT_WORDS.sub(" ", text)) if w not in _CODES]


@pytest.fixture
def reasons_read_in_chinese(con):
    """After the test: every rejection and refusal reason it made ingestion write reads in Chinese
    through `reports.wording.reason`, as the 数据质量 sheet and the red rows of 汇总 show it."""
    yield
    reasons = [r for table in ("_rejected_rows", "_file_refusals")
               if con.execute("select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = ?",
                              [table]).fetchone()[0]
               for (r,) in con.execute(f"select distinct reason from raw.{table}").fetchall()]
    untranslated = {r: wording.reason(r) for r in reasons if english_left(wording.reason(r))}
    assert not untranslated, untranslated
