"""The real deployment: dagster webserver + daemon on a loopback port, a run launched through the
GraphQL API and dequeued by the daemon, the workbooks on disk — then exactly those processes stop."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from dagster_project.lib.generate import generate_feeds
from dagster_project.paths import PROJECT_ROOT

pytestmark = pytest.mark.e2e
AS_OF = date(2025, 2, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_run_launched_through_graphql_under_the_daemon(tmp_path, dbt_manifest):
    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    generate_feeds(tmp_path / "landing", scale="tiny", seed=7, as_of=AS_OF)
    env = dict(os.environ, DAGSTER_HOME=str(home), GXINDUSTRY_LANDING=str(tmp_path / "landing"),
               GXINDUSTRY_WAREHOUSE=str(tmp_path / "wh.duckdb"), GXINDUSTRY_REPORTS=str(tmp_path / "reports"))
    port = free_port()
    dagster = str(Path(sys.executable).with_name("dagster"))
    log = open(tmp_path / "dagster_dev.log", "w")
    # A new session, so that exactly this process group is signalled at the end.
    proc = subprocess.Popen([dagster, "dev", "-m", "dagster_project.definitions", "-h", "127.0.0.1", "-p", str(port)],
                            env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)

        def launched():
            try:
                return client.submit_job_execution("weekly_refresh", tags={"gxindustry/as_of": AS_OF.isoformat()})
            except (DagsterGraphQLClientError, Exception):  # not serving yet
                return None

        run_id = wait_for(launched, 120, "the webserver to accept the run")
        status = wait_for(lambda: (s := client.get_run_status(run_id).value) in ("SUCCESS", "FAILURE", "CANCELED") and s,
                          420, "the daemon to dequeue and finish the run")
        assert status == "SUCCESS", (tmp_path / "dagster_dev.log").read_text()[-3000:]
        folder = tmp_path / "reports" / AS_OF.isoformat()
        assert (folder / f"budget_forecast_{AS_OF}.xlsx").exists() and (folder / f"kpi_report_{AS_OF}.xlsx").exists()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    wait_for(lambda: _group_gone(proc.pid), 60, "the webserver and daemon processes to exit")


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False
