"""The Dagster instance of deploy/dagster.yaml: its event log keeps connections open, and what
depended on Dagster's per-event reconnect still works — another process (the UI) reads every event
while the writer's connections are open, is woken as a run writes, and wipe() starts afresh."""

import shutil
import threading

import dagster as dg
import pytest

from dagster_project.lib.run_history import OPEN_SHARDS, PooledSqliteEventLogStorage
from dagster_project.paths import PROJECT_ROOT

CHECKS = 5


@dg.asset(check_specs=[dg.AssetCheckSpec(f"check_{i}", asset="numbers") for i in range(CHECKS)])
def numbers(context: dg.AssetExecutionContext):
    context.log.info("counting")
    yield dg.MaterializeResult(metadata={"count": 3})
    for i in range(CHECKS):
        yield dg.AssetCheckResult(check_name=f"check_{i}", passed=i % 2 == 0)


JOB = dg.Definitions(assets=[numbers], jobs=[dg.define_asset_job("count")]).resolve_job_def("count")


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_the_deployed_instance_uses_it_in_dagsters_default_place(home):
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        result = JOB.execute_in_process(instance=instance)
    assert (home / "history" / "runs" / f"{result.run_id}.db").exists()


def test_the_deployed_instance_sends_nothing_and_asks_nothing(home):
    with dg.DagsterInstance.get() as instance:
        assert not instance.telemetry_enabled
        assert not instance.nux_enabled


def test_another_instance_reads_every_event_while_the_writer_keeps_its_connections(home):
    writer = dg.DagsterInstance.get()
    result = JOB.execute_in_process(instance=writer)
    assert writer.event_log_storage._engines  # connections still open
    with dg.DagsterInstance.get() as reader:
        logs = reader.all_logs(result.run_id)
        assert [e.message for e in logs if e.user_message == "counting"] == ["counting"]
        assert reader.get_latest_materialization_event(dg.AssetKey("numbers")).run_id == result.run_id
        checks = [e for e in logs if e.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
        assert sorted(e.dagster_event.event_specific_data.passed for e in checks) == [False, False, True, True, True]
    assert len(writer.all_logs(result.run_id)) == len(logs)
    writer.dispose()
    assert not writer.event_log_storage._engines


def test_a_watcher_in_another_instance_is_woken_by_each_commit(home):
    writer = dg.DagsterInstance.get()
    run = writer.create_run_for_job(JOB)
    seen, woken = [], threading.Event()

    def callback(entry, cursor):
        seen.append(entry.dagster_event.message)
        if entry.dagster_event.message == "second":
            woken.set()

    with dg.DagsterInstance.get() as reader:
        reader.watch_event_logs(run.run_id, None, callback)
        for message in ("first", "second"):
            writer.report_engine_event(message, run)
        assert woken.wait(timeout=20), f"watcher saw only {seen}"
        assert seen[-2:] == ["first", "second"] and seen.count("first") == 1  # the run's planned steps come first
    writer.dispose()


def test_wipe_closes_the_connections_and_the_history_starts_afresh(home):
    with dg.DagsterInstance.get() as instance:
        first = JOB.execute_in_process(instance=instance).run_id
        instance.event_log_storage.wipe()
        assert not (home / "history" / "runs" / f"{first}.db").exists()
        second = JOB.execute_in_process(instance=instance).run_id
        assert instance.all_logs(first) == []
        assert any(e.user_message == "counting" for e in instance.all_logs(second))


def test_only_the_most_recently_used_files_stay_open(home):
    with dg.DagsterInstance.get() as instance:
        runs = [JOB.execute_in_process(instance=instance).run_id for _ in range(OPEN_SHARDS)]
        engines = instance.event_log_storage._engines
        assert len(engines) == OPEN_SHARDS
        assert runs[0] not in engines and runs[-1] in engines
        assert all(instance.all_logs(run) for run in runs)


def test_commits_are_flushed_to_disk_at_checkpoints_only(home):
    """synchronous=NORMAL (1) on every open connection, the WAL journal kept."""
    with dg.DagsterInstance.get() as instance:
        result = JOB.execute_in_process(instance=instance)
        engine = instance.event_log_storage._engines[result.run_id]
        with engine.connect() as conn:
            assert conn.exec_driver_sql("pragma synchronous").scalar() == 1
            assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
