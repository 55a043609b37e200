"""What a dbt build must rebuild: everything, or only the models below the sources with new rows.

`dbt build` rebuilds and re-tests every model. A model's table can only come out different from
the last build's if
- the project changed: its SQL, macros, seeds, tests, vars or dbt's version (the fingerprint), or
- one of its sources has rows the last build could not see and this one can: loaded after it, or
  arrived (`_available_on`) after its as-of date and by this one. The staging views read only rows
  arrived by the as-of date, and raw tables only ever grow, so nothing else changes what a model reads.
A weekly build with an unchanged project therefore builds the models downstream of the sources
with such rows and the tests that touch them, and nothing at all when there are none. The models
it leaves alone keep the tables, and the test results, of the build that made them (a staging view
left alone keeps the as-of date it was built with: no row arrived between that date and this one).

Every complete build leaves one record in `BUILDS_TABLE` (its Dagster run, as-of date, newest
load and fingerprint). A build takes the record away before it starts, so one that fails or is
killed leaves none, and the next build rebuilds everything. So does a build for an earlier as-of
date than the record's (rows it saw would have to disappear), or one without a record.
"""

from __future__ import annotations

import graphlib
import hashlib
import importlib.metadata
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

BUILDS_TABLE = "raw._dbt_builds"
# Registers are standing lists whose rows the staging models cut by their own dates (a row dated
# after the as-of date is not seen): a later as-of date can show rows of a register that did not
# change. The date column of each, as its staging model cuts it.
ROW_DATED_SOURCES = {
    "registers_loans": "disbursed_on",
    "registers_applications": "held_on",
    "registers_recognitions": "recognised_on",
    "registers_supply_links": "first_supply_on",
}
GENERATED = ("target", "logs", "dbt_packages")  # what dbt writes inside the project
BUILT_TYPES = ("model", "seed", "snapshot")


@dataclass(frozen=True)
class LastBuild:
    run_id: str
    as_of: date
    loaded_to: datetime | None
    fingerprint: str


@dataclass(frozen=True)
class BuildPlan:
    """`sources`: None to build everything, else the raw tables whose downstream models to build
    (empty: nothing to build). `reason` says why, for the run's log."""

    sources: tuple[str, ...] | None
    reason: str
    last: LastBuild | None
    loaded_to: datetime | None  # the newest load this build sees, for the next build's record

    @property
    def everything(self) -> bool:
        return self.sources is None

    def select_args(self, manifest: dict) -> list[str]:
        """dbt arguments for this plan (on top of dagster-dbt's `--select fqn:*`, which selects
        every node directly): exclude the models, seeds and tests it does not build, by name (one
        argument, space-separated, as dagster-dbt passes it on).
        Indirect selection is `cautious` so that excluding a model does not also exclude the tests
        of rebuilt models that refer to it (relationships)."""
        if self.sources is None:
            return []
        skipped = not_rebuilt(manifest, self.sources)
        return ["--indirect-selection", "cautious", "--exclude", " ".join(skipped)] if skipped else []

    def rebuild_everything(self, reason: str) -> BuildPlan:
        return BuildPlan(None, reason, self.last, self.loaded_to)


def raw_sources(manifest: dict) -> list[str]:
    return sorted(s["name"] for s in manifest["sources"].values() if s["source_name"] == "raw")


def rebuilt_and_tested(manifest: dict, changed_sources: Iterable[str]) -> tuple[set[str], set[str]]:
    """Unique ids of the models and seeds downstream of `changed_sources` (raw table names), and of
    the tests with at least one parent among them or those sources."""
    nodes, children = manifest["nodes"], manifest["child_map"]
    sources = {uid for uid, s in manifest["sources"].items()
               if s["source_name"] == "raw" and s["name"] in set(changed_sources)}
    rebuilt: set[str] = set()
    todo = [child for uid in sources for child in children.get(uid, [])]
    while todo:
        uid = todo.pop()
        if uid in rebuilt or uid not in nodes or nodes[uid]["resource_type"] not in BUILT_TYPES:
            continue
        rebuilt.add(uid)
        todo += children.get(uid, [])
    tested = {uid for uid, n in nodes.items()
              if n["resource_type"] == "test" and set(n["depends_on"].get("nodes", [])) & (rebuilt | sources)}
    return rebuilt, tested


def not_rebuilt(manifest: dict, changed_sources: Iterable[str]) -> list[str]:
    """Names of the models, seeds and tests a build of what lies below `changed_sources` leaves alone."""
    rebuilt, tested = rebuilt_and_tested(manifest, changed_sources)
    return sorted(n["name"] for uid, n in manifest["nodes"].items()
                  if n["resource_type"] in (*BUILT_TYPES, "test") and uid not in rebuilt | tested)


def unchanged_in_build_order(manifest: dict, changed_sources: Iterable[str]) -> list[dict]:
    """The models and seeds a build of what lies below `changed_sources` leaves alone, parents
    before children. None of them depends on a rebuilt one (that would be rebuilt too)."""
    rebuilt, _ = rebuilt_and_tested(manifest, changed_sources)
    nodes = manifest["nodes"]
    unchanged = {uid for uid, n in nodes.items() if n["resource_type"] in BUILT_TYPES and uid not in rebuilt}
    order = graphlib.TopologicalSorter(
        {uid: [p for p in nodes[uid]["depends_on"].get("nodes", []) if p in unchanged] for uid in sorted(unchanged)})
    return [nodes[uid] for uid in order.static_order()]


def project_files(project_dir: Path) -> list[Path]:
    """Every file of the dbt project that dbt reads (not what it writes)."""
    generated = {project_dir / name for name in GENERATED}
    tops = [p for p in project_dir.iterdir() if p not in generated]
    return sorted(f for p in tops for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file())


def project_fingerprint(project_dir: Path, dbt_vars: dict) -> str:
    digest = hashlib.sha256()
    digest.update(importlib.metadata.version("dbt-core").encode())
    digest.update(json.dumps(dbt_vars, sort_keys=True).encode())
    for path in project_files(project_dir):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""create table if not exists {BUILDS_TABLE} (
        run_id varchar, as_of date, loaded_to timestamp, fingerprint varchar, finished_at timestamp)""")


def take_last_build(con: duckdb.DuckDBPyConnection) -> LastBuild | None:
    """The record of the last complete build, removed: until this build completes, there is none."""
    _ensure_table(con)
    con.execute("begin")
    rows = con.execute(f"select run_id, as_of, loaded_to, fingerprint from {BUILDS_TABLE}").fetchall()
    con.execute(f"delete from {BUILDS_TABLE}")
    con.execute("commit")
    return LastBuild(*rows[0]) if len(rows) == 1 else None


def record_build(con: duckdb.DuckDBPyConnection, run_id: str, as_of: date, loaded_to: datetime | None,
                 fingerprint: str) -> None:
    _ensure_table(con)
    con.execute("begin")
    con.execute(f"delete from {BUILDS_TABLE}")
    con.execute(f"insert into {BUILDS_TABLE} values (?, ?, ?, ?, now())", [run_id, as_of, loaded_to, fingerprint])
    con.execute("commit")


def _dated_since(source: str) -> str:
    """For a register cut by its rows' dates: also a row dated after the last build's as-of date."""
    column = ROW_DATED_SOURCES.get(source)
    return f" or try_cast({column} as date) between $last_as_of + 1 and $as_of" if column else ""


def plan_build(con: duckdb.DuckDBPyConnection, as_of: date, fingerprint: str, sources: Iterable[str],
               full_refresh_reason: str | None = None) -> BuildPlan:
    """Take the last build's record and decide what this build rebuilds."""
    sources = sorted(sources)
    existing = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    present = [s for s in sources if s in existing]
    loaded_to = con.execute(
        "select max(t) from (" + " union all ".join(f"select max(_loaded_at) as t from raw.{s}" for s in present) + ")"
    ).fetchone()[0] if present else None
    last = take_last_build(con)
    if last is None:
        return BuildPlan(None, "no record of a complete build", None, loaded_to)
    if full_refresh_reason:
        return BuildPlan(None, full_refresh_reason, last, loaded_to)
    if last.fingerprint != fingerprint:
        return BuildPlan(None, "the dbt project, its vars or dbt changed since the last build", last, loaded_to)
    if as_of < last.as_of:
        return BuildPlan(None, f"as of {as_of}, earlier than the last build's {last.as_of}", last, loaded_to)
    if len(present) < len(sources):
        return BuildPlan(None, "a raw table is missing", last, loaded_to)
    changed = tuple(s for s in present if con.execute(
        f"""select count(*) from (select 1 from raw.{s}
            where _available_on <= $as_of
              and (_available_on > $last_as_of or _loaded_at > $loaded_to{_dated_since(s)})
            limit 1)""",
        {"as_of": as_of, "last_as_of": last.as_of, "loaded_to": last.loaded_to or datetime.min},
    ).fetchone()[0])
    if not changed:
        return BuildPlan((), f"no new rows in any source since the build of run {last.run_id}", last, loaded_to)
    return BuildPlan(changed, f"new rows in {', '.join(changed)} since the build of run {last.run_id}", last, loaded_to)
