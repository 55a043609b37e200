"""What a dbt build rebuilds (lib/dbt_selection.py): the decision, on a tiny warehouse, and the
nodes it leaves alone, on a small manifest and on the project's own."""

import json
from datetime import date, datetime

import duckdb
import pytest

from dagster_project.lib import dbt_selection as sel

AS_OF, NEXT = date(2024, 11, 18), date(2024, 11, 25)
LOADED = datetime(2024, 11, 18, 9, 0)


def node(kind: str, name: str, *parents: str) -> tuple[str, dict]:
    return f"{kind}.p.{name}", {"resource_type": kind, "name": name, "schema": "s",
                                "depends_on": {"nodes": list(parents)} if kind != "seed" else {"macros": []}}


def manifest() -> dict:
    """power -> stg_power -> fct_power <- stg_stats <- stats; a seed -> dim; tests on each."""
    nodes = dict([
        node("model", "stg_power", "source.p.raw.power"),
        node("model", "stg_stats", "source.p.raw.stats"),
        node("model", "fct_power", "model.p.stg_power", "model.p.stg_stats", "model.p.dim"),
        node("seed", "ref_codes"),
        node("model", "dim", "seed.p.ref_codes"),
        node("test", "not_null_stg_stats", "model.p.stg_stats"),
        node("test", "not_null_fct_power", "model.p.fct_power"),
        node("test", "relationships_fct_power_dim", "model.p.fct_power", "model.p.dim"),
        node("test", "unique_dim", "model.p.dim"),
        node("test", "source_not_null_power", "source.p.raw.power"),
    ])
    children: dict[str, list[str]] = {}
    for uid, n in nodes.items():
        for parent in n["depends_on"].get("nodes", []):
            children.setdefault(parent, []).append(uid)
    sources = {f"source.p.raw.{t}": {"source_name": "raw", "name": t} for t in ("power", "stats")}
    return {"nodes": nodes, "sources": sources, "child_map": children}


def test_a_power_delivery_rebuilds_what_lies_below_it_and_the_tests_touching_that():
    rebuilt, tested = sel.rebuilt_and_tested(manifest(), ["power"])
    assert rebuilt == {"model.p.stg_power", "model.p.fct_power"}
    assert tested == {"test.p.not_null_fct_power", "test.p.relationships_fct_power_dim", "test.p.source_not_null_power"}
    assert sel.not_rebuilt(manifest(), ["power"]) == ["dim", "not_null_stg_stats", "ref_codes", "stg_stats", "unique_dim"]
    order = [n["name"] for n in sel.unchanged_in_build_order(manifest(), ["power"])]
    assert sorted(order) == ["dim", "ref_codes", "stg_stats"] and order.index("ref_codes") < order.index("dim")
    everything = [n["name"] for n in sel.unchanged_in_build_order(manifest(), [])]
    assert sorted(everything) == ["dim", "fct_power", "ref_codes", "stg_power", "stg_stats"]
    assert everything[-1] == "fct_power"  # after all three of its parents
    assert sel.not_rebuilt(manifest(), ["power", "stats"]) == ["dim", "ref_codes", "unique_dim"]


def test_the_projects_own_manifest_a_power_week(dbt_manifest):
    m = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    assert sel.raw_sources(m) == sorted(["customs_export", "power_accounts", "power_daily", "registers_applications",
                                         "registers_loans", "registers_recognitions", "registers_supply_links",
                                         "registers_two_high", "stats_enterprise", "stats_industry",
                                         "stats_projects", "tax_vat"])
    rebuilt, tested = sel.rebuilt_and_tested(m, ["power_daily"])
    assert {m["nodes"][u]["name"] for u in rebuilt} == {"stg_power__daily", "fct_power_month", "fct_power_quarter",
                                                       "fct_power_month_to_date", "dim_power_account"}
    names = {m["nodes"][u]["name"] for u in tested}
    assert any(n.startswith("mostly_related_fct_power_month_") for n in names)  # dim_enterprise is not rebuilt
    assert not any("stg_stats" in n for n in names)
    args = sel.BuildPlan(("power_daily",), "", None, None).select_args(m)
    assert args[:3] == ["--indirect-selection", "cautious", "--exclude"] and len(args) == 4
    assert "dim_enterprise" in args[3].split() and "fct_power_month" not in args[3].split()


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("create schema raw")
    for table in ("power", "stats"):
        con.execute(f"create table raw.{table} (v int, _available_on date, _loaded_at timestamp)")
    con.execute("insert into raw.power values (1, ?, ?)", [AS_OF, LOADED])
    con.execute("insert into raw.stats values (1, ?, ?)", [date(2024, 11, 15), LOADED])
    yield con
    con.close()


def plan(con, as_of=NEXT, fingerprint="f1", reason=None) -> sel.BuildPlan:
    return sel.plan_build(con, as_of, fingerprint, ["power", "stats"], reason)


def test_without_a_record_everything_is_built_and_a_complete_build_leaves_one(con):
    first = plan(con, AS_OF)
    assert first.everything and first.reason == "no record of a complete build" and first.loaded_to == LOADED
    sel.record_build(con, "run-1", AS_OF, first.loaded_to, "f1")
    assert plan(con).sources == ()  # nothing new: nothing to build
    assert plan(con).everything, "the record is taken by the build that reads it: a failed build leaves none"


@pytest.mark.parametrize("change, expected", [
    ("nothing", ()),
    ("a power file loaded after the build", ("power",)),
    ("a stats row arriving after the last as-of, by this one", ("stats",)),
    ("a stats row arriving after this as-of", ()),
    ("a stats row on the last as-of date, loaded before", ()),
])
def test_sources_with_rows_the_last_build_could_not_see(con, change, expected):
    sel.record_build(con, "run-1", AS_OF, LOADED, "f1")
    if change == "a power file loaded after the build":
        con.execute("insert into raw.power values (2, ?, ?)", [NEXT, datetime(2024, 11, 25, 8)])
    elif change == "a stats row arriving after the last as-of, by this one":
        con.execute("insert into raw.stats values (2, ?, ?)", [date(2024, 11, 20), LOADED])
    elif change == "a stats row arriving after this as-of":
        con.execute("insert into raw.stats values (2, ?, ?)", [date(2024, 11, 26), LOADED])
    elif change == "a stats row on the last as-of date, loaded before":
        con.execute("insert into raw.stats values (2, ?, ?)", [AS_OF, LOADED])
    assert plan(con).sources == expected


@pytest.mark.parametrize("why, kwargs, message", [
    ("project changed", {"fingerprint": "f2"}, "the dbt project, its vars or dbt changed since the last build"),
    ("earlier as-of", {"as_of": date(2024, 11, 11)}, "as of 2024-11-11, earlier than the last build's 2024-11-18"),
    ("incremental models", {"reason": "stg was built before it became incremental"},
     "stg was built before it became incremental"),
])
def test_everything_is_rebuilt_when(con, why, kwargs, message):
    sel.record_build(con, "run-1", AS_OF, LOADED, "f1")
    decided = plan(con, **kwargs)
    assert decided.everything and decided.reason == message and decided.last.run_id == "run-1"


def test_the_fingerprint_follows_project_files_and_vars_not_what_dbt_writes(tmp_path):
    project = tmp_path / "dbt"
    (project / "models").mkdir(parents=True)
    (project / "models" / "a.sql").write_text("select 1")
    (project / "target").mkdir()
    base = sel.project_fingerprint(project, {"x": 1})
    (project / "target" / "manifest.json").write_text("{}")
    assert sel.project_fingerprint(project, {"x": 1}) == base
    assert sel.project_fingerprint(project, {"x": 2}) != base
    (project / "models" / "a.sql").write_text("select 2")
    assert sel.project_fingerprint(project, {"x": 1}) != base


def test_a_dbt_build_run_by_hand_makes_the_next_pipeline_build_rebuild_everything(empty_warehouse):
    from conftest import dbt

    with duckdb.connect(str(empty_warehouse)) as con:
        sel.record_build(con, "run-1", AS_OF, LOADED, "f1")
    dbt(["build", "--select", "dim_region", "--quiet"], empty_warehouse, NEXT)
    with duckdb.connect(str(empty_warehouse)) as con:
        assert con.execute(f"select count(*) from {sel.BUILDS_TABLE}").fetchone()[0] == 0
        assert sel.take_last_build(con) is None


def test_a_run_of_some_models_leaves_no_record_and_the_next_builds_everything(empty_warehouse, tmp_path, monkeypatch):
    """Materializing a few models (from the UI) builds just those: it must not pass for a complete
    build, or the next weekly run would skip models whose sources changed."""
    import dagster as dg

    from dagster_project.definitions import defs

    monkeypatch.setenv("GXINDUSTRY_WAREHOUSE", str(empty_warehouse))
    monkeypatch.setenv("GXINDUSTRY_LANDING", str(tmp_path / "landing"))
    monkeypatch.setenv("GXINDUSTRY_REPORTS", str(tmp_path / "reports"))
    with duckdb.connect(str(empty_warehouse)) as con:
        sel.record_build(con, "run-1", AS_OF, LOADED, "f1")
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), tags={"gxindustry/as_of": NEXT.isoformat()},
                                    asset_selection=[dg.AssetKey(["marts", "dim_region"])])
    assert result.success
    built = {e.asset_key.to_user_string() for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert built == {"marts/dim_region"}
    with duckdb.connect(str(empty_warehouse)) as con:
        assert sel.take_last_build(con) is None


def test_a_test_result_carried_again_still_names_the_run_that_ran_the_test():
    from types import SimpleNamespace

    import dagster as dg

    from dagster_project.defs.dbt import _carried_over

    key = dg.AssetCheckKey(dg.AssetKey(["marts", "dim_project"]), "relationships_dim_project_uscc")
    ran = SimpleNamespace(passed=False, severity=dg.AssetCheckSeverity.WARN, description="3 rows", metadata={})
    once = next(_carried_over({key}, {key: ran}, "run-1"))
    assert not once.passed and once.severity == dg.AssetCheckSeverity.WARN
    assert once.description == "carried over from run run-1 (model and sources unchanged): 3 rows"
    metadata = {k: v if isinstance(v, dg.MetadataValue) else dg.MetadataValue.text(v) for k, v in once.metadata.items()}
    again = next(_carried_over({key}, {key: SimpleNamespace(passed=once.passed, severity=once.severity,
                                                            description=once.description, metadata=metadata)}, "run-2"))
    assert again.description == once.description
    assert getattr(again.metadata["carried_from_run"], "value", again.metadata["carried_from_run"]) == "run-1"


@pytest.mark.parametrize("disbursed, rebuilt", [
    (date(2024, 11, 20), ("registers_loans",)),  # dated between the two as-of dates: seen now
    (date(2024, 11, 18), ()),  # seen by the last build already
    (date(2024, 11, 26), ()),  # not yet
])
def test_a_register_row_becomes_visible_on_its_own_date(con, disbursed, rebuilt):
    """A register loaded long ago shows a row once the as-of date passes the row's date."""
    con.execute("create table raw.registers_loans (disbursed_on varchar, _available_on date, _loaded_at timestamp)")
    con.execute("insert into raw.registers_loans values (?, '1970-01-01', ?)", [disbursed.isoformat(), LOADED])
    sel.record_build(con, "run-1", AS_OF, LOADED, "f1")
    assert sel.plan_build(con, NEXT, "f1", ["power", "registers_loans", "stats"]).sources == rebuilt
