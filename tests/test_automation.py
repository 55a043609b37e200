"""Schedule tags, the landing sensor and the failure alert."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from dagster_project.lib.alerts import Alert, raise_alert


def test_schedule_runs_as_of_its_monday(dbt_manifest):
    from dagster_project.definitions import weekly_schedule

    context = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 11, 25, 7, tzinfo=ZoneInfo("Asia/Shanghai")))
    request = weekly_schedule.evaluate_tick(context).run_requests[0]
    assert request.tags["gxindustry/as_of"] == "2024-11-25"


def test_landing_sensor_waits_for_a_settled_set_of_new_files(tmp_path, monkeypatch, dbt_manifest):
    from dagster_project.definitions import defs

    monkeypatch.setenv("GXINDUSTRY_LANDING", str(tmp_path / "landing"))
    monkeypatch.setenv("GXINDUSTRY_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    sensor = defs.resolve_sensor_def("landing_sensor")
    (tmp_path / "landing" / "power").mkdir(parents=True)
    assert sensor.evaluate_tick(dg.build_sensor_context()).skip_message == "no new deliveries"
    (tmp_path / "landing" / "power" / "power_daily_20241125.csv").write_text("用电户号,日期,用电量_千瓦时,数据标志\n")
    (tmp_path / "landing" / "power" / "power_daily_20241202.csv").write_text("x")  # refused: no as-of from it
    (tmp_path / "landing" / "power" / "notes.txt").write_text("not a delivery")
    first = sensor.evaluate_tick(dg.build_sensor_context())
    assert "waiting one tick" in first.skip_message
    second = sensor.evaluate_tick(dg.build_sensor_context(cursor=first.cursor))
    [request] = second.run_requests
    assert request.tags["gxindustry/as_of"] == "2024-11-25"


def test_alert_is_logged_and_sent_to_the_hook(tmp_path, monkeypatch):
    sink = tmp_path / "sent.txt"
    monkeypatch.setenv("GXINDUSTRY_ALERT_COMMAND", f"cat > {sink}")
    alert = Alert("r1", "weekly_refresh", "2024-11-25", ["gx_raw_checks"], ["raw/stats_industry:raw_stats_industry_blocking"])
    path = raise_alert(alert, tmp_path / "logs")
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    assert record["failed_checks"] == ["raw/stats_industry:raw_stats_industry_blocking"]
    assert "failed blocking checks: raw/stats_industry:raw_stats_industry_blocking" in sink.read_text(encoding="utf-8")


def test_stale_feed_is_a_visible_warning(tmp_path, monkeypatch, dbt_manifest):
    import duckdb

    from dagster_project.defs.automation import FRESHNESS_CHECKS
    from dagster_project.defs.resources import GxSettings
    from dagster_project.lib.ingest import DATASETS
    from dagster_project.lib.ingest.loader import ensure_raw_tables

    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_tables(con, DATASETS)
        con.execute("insert into raw._manifest (file_name, feed, period) values ('tax_vat_202409.csv', 'tax', '202409')")
    monkeypatch.setenv("GXINDUSTRY_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("GXINDUSTRY_AS_OF", "2024-11-25")
    check = next(c for c in FRESHNESS_CHECKS if "tax_feed_fresh" in str(c.check_keys))
    result = check(dg.build_asset_check_context(resources={"settings": GxSettings()}))
    assert result.passed is False and result.severity == dg.AssetCheckSeverity.WARN
    assert "expected the month 2024-10" in result.metadata["note"].value
    assert result.description == result.metadata["note"].value  # what the 数据质量 sheet shows, in Chinese:
    from reports import wording

    assert wording.check_description(result.description) == "数据至 2024-09；截至 2024-11-25 应已交付 2024-10 的数据"
    assert wording.check_name("tax_feed_fresh", "raw/tax_vat") == "按时交付：税务（增值税）"


def test_alert_of_a_failed_run_names_the_cause_and_the_launchpad_as_of(tmp_path, monkeypatch, dbt_manifest):
    """A run started from the launchpad with as_of "2024/11/25" fails in its steps: the alert says
    why (the step's own message) and for which day, not only "Steps failed" and as_of null."""
    from dagster_project.defs.automation import run_failure_alert

    monkeypatch.setenv("GXINDUSTRY_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    monkeypatch.delenv("GXINDUSTRY_ALERT_COMMAND", raising=False)

    class Settings(dg.ConfigurableResource):
        as_of: str = ""

    @dg.op
    def ingest(settings: Settings):
        raise dg.Failure(f"as_of {settings.as_of!r} is not a date YYYY-MM-DD")

    @dg.job(resource_defs={"settings": Settings()})
    def weekly_refresh():
        ingest()

    instance = dg.DagsterInstance.ephemeral()
    result = weekly_refresh.execute_in_process(
        run_config={"resources": {"settings": {"config": {"as_of": "2024/11/25"}}}}, instance=instance,
        raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(sensor_name="run_failure_alert", dagster_event=failure,
                                                 dagster_instance=instance, dagster_run=run).for_run_failure()
    run_failure_alert(context)
    record = json.loads((tmp_path / "logs" / "alerts.log").read_text(encoding="utf-8").splitlines()[-1])
    assert record["as_of"] == "2024/11/25" and record["failed_steps"] == ["ingest"]
    assert record["error"] == "as_of '2024/11/25' is not a date YYYY-MM-DD"
